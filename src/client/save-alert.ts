// Writing consumed alerts to files, one per alert, named `<objectId>_<sourceId>.avro` (an Avro
// container with the alert's writer schema, readable by readAlertFile and by fink-client's
// AlertReader) or `.json` (64-bit ids as bare digits, cutouts as base64). JSON messages carry
// no Avro schema, so they are always saved as JSON.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeContainer } from '../formats/container.ts';
import { stringifyWithBytes } from '../util/json.ts';
import type { AlertSummary } from './alert-summary.ts';
import type { ConsumedAlertRecord } from './consumer.ts';

export type SaveFormat = 'avro' | 'json';

/** File name stem: object and source ids, else where the alert was in the stream. */
export function alertFileStem(alert: ConsumedAlertRecord, summary: AlertSummary): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (summary.objectId !== null && summary.sourceId !== null) return `${safe(summary.objectId)}_${safe(summary.sourceId)}`;
  const where = `${safe(alert.topic)}_${alert.partition}_${alert.offset}${alert.index > 0 ? `_${alert.index}` : ''}`;
  return summary.objectId !== null ? `${safe(summary.objectId)}_${where}` : where;
}

/** The file's bytes and extension for this alert in this format. */
export function alertFileContents(alert: ConsumedAlertRecord, format: SaveFormat): { extension: 'avro' | 'json'; bytes: Buffer } {
  if (format === 'avro' && alert.schema !== null) {
    return { extension: 'avro', bytes: writeContainer([alert.bytes], { schema: alert.schema }) };
  }
  return { extension: 'json', bytes: Buffer.from(stringifyWithBytes(alert.value) + '\n', 'utf8') };
}

/** Writes the alert into dir (which must exist); returns the file's path. */
export async function saveAlert(dir: string, alert: ConsumedAlertRecord, summary: AlertSummary, format: SaveFormat): Promise<string> {
  const { extension, bytes } = alertFileContents(alert, format);
  const file = path.join(dir, `${alertFileStem(alert, summary)}.${extension}`);
  await writeFile(file, bytes);
  return file;
}
