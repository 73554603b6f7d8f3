// Alert files on disk: .avro (container, Confluent-framed or schemaless), .avro.gz, or any
// file holding one message's bytes.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeMessage, type DecodedRecord, type DecodeOptions } from './message.ts';

export type ReadAlertFileOptions = Omit<DecodeOptions, 'source'>;

/**
 * Reads one file and decodes every record in it, detecting the encoding from the bytes.
 * Confluent-framed files need `schemas` (a schema directory or registry); schemaless files
 * need `schema`. Decoding errors are DecodeErrors naming the file.
 */
export async function readAlertFile(filePath: string, options: ReadAlertFileOptions = {}): Promise<DecodedRecord[]> {
  const bytes = await readFile(filePath);
  return decodeMessage(bytes, null, { ...options, source: filePath });
}

const ALERT_FILE = /\.avro(\.gz)?$/;

/** Every .avro and .avro.gz file under `dir` (recursively), sorted; directories named *.avro are walked, not returned. */
export async function listAlertFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && ALERT_FILE.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}
