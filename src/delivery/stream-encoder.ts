// One interface over the four Kafka outputs: a matched row (and its object's alert) in, the
// Kafka message out. JSON outputs have no key (as Lasair's); the Avro output's key is its
// schema. Also the size limit: a record over it is dropped and counted, never truncated.
import type { Alert } from '../formats/alert.ts';
import { alertObjectKey } from '../formats/alert.ts';
import type { Catalog } from '../filters/catalog.ts';
import type { CompiledFilter } from '../filters/parse-filter.ts';
import { avroRecord, avroStreamPlan, encodeAvroRecord, type AvroStreamPlan } from './avro-records.ts';
import type { JsonOutput, KafkaOutput } from './output-modes.ts';
import { filterOutputColumns } from './output-columns.ts';
import { stringify } from '../util/json.ts';
import { encodeJsonRecord, fullAlert, jsonRecord, liteLightcurve, plainRecord, type FilterRow } from './records.ts';

/**
 * Largest record (key + value bytes) sent by default. A full-alert JSON record of a Rubin object
 * with a year of history is over a megabyte (measured: 1.0-1.3 MB for five of the seven real
 * Rubin alerts in fink-client's sample, 300-400 detections and forced sources each), so Kafka's
 * default limit of about 1 MB (message.max.bytes 1,048,588) would drop most of them. Filter
 * topics are created with max.message.bytes set to this limit plus framing (a per-topic
 * setting that any default broker accepts), and consumers fetch larger records as they come
 * (librdkafka, Java and @platformatic/kafka all return a batch bigger than their fetch size).
 */
export const DEFAULT_MAX_RECORD_BYTES = 4_000_000;

export interface EncodedRecord {
  key: Buffer | null;
  value: Buffer;
  /** The object's key (survey:kind:id), for choosing a partition; undefined without an alert. */
  objectKey: string | undefined;
}

export interface StreamEncoder {
  readonly output: KafkaOutput;
  /** Whether records carry alert data (lite, full, Avro): callers then look up each row's alert. */
  readonly needsAlert: boolean;
  /** Throws (naming the column) if a value does not fit the Avro schema; JSON never throws. */
  encode(row: FilterRow, alert: Alert | undefined, utc: string): EncodedRecord;
}

// The "alert" part of lite and full records is the same for every filter an alert passes: it is
// written once per alert and output and spliced into each filter's record (measured with
// bench/pipeline.ts on real Rubin alerts, 100 filters: encoding took 16-19% of the broker's CPU
// when every filter wrote its own; a full alert with a year of history is ~100 kB-1 MB of JSON;
// 2-4x less with the cache). Kept on the Alert object weakly, so it goes when the batch does.
const alertJsonCache = new WeakMap<Alert, { lite?: Buffer; full?: Buffer }>();
const CLOSE_BRACE = Buffer.from('}');

/** JSON of the lite lightcurve: numbers, strings and nulls only, so the replacer-free (much faster) JSON.stringify writes it the same. */
function liteJson(alert: Alert): string {
  const lite = liteLightcurve(alert);
  try {
    return JSON.stringify(lite);
  } catch {
    return stringify(lite); // a BigInt got in: the exact writer
  }
}

/** The alert part as UTF-8 bytes (copying bytes is much cheaper than encoding a long string again). */
function alertJson(output: 'kafka-lite' | 'kafka-full', alert: Alert): Buffer {
  let cached = alertJsonCache.get(alert);
  if (cached === undefined) {
    cached = {};
    alertJsonCache.set(alert, cached);
  }
  if (output === 'kafka-lite') return (cached.lite ??= Buffer.from(liteJson(alert), 'utf8'));
  return (cached.full ??= Buffer.from(stringify(fullAlert(alert)), 'utf8'));
}

/** The record's JSON: as encodeJsonRecord(jsonRecord(...)) writes it, byte for byte, with the alert part written once per alert. */
function jsonRecordBytes(output: JsonOutput, row: FilterRow, alert: Alert | undefined, utc: string): Buffer {
  // A selected column named "alert" would hold the alert part's place in the key order: the plain way.
  if (output === 'kafka' || alert === undefined || Object.hasOwn(row, 'alert')) return encodeJsonRecord(jsonRecord(output, row, alert, utc));
  const plain = stringify(plainRecord(row, utc)); // never "{}": it has UTC
  return Buffer.concat([Buffer.from(`${plain.slice(0, -1)},"alert":`, 'utf8'), alertJson(output, alert), CLOSE_BRACE]);
}

export function jsonStreamEncoder(output: JsonOutput): StreamEncoder {
  return {
    output,
    needsAlert: output !== 'kafka',
    encode: (row, alert, utc) => ({ key: null, value: jsonRecordBytes(output, row, alert, utc), objectKey: alert && alertObjectKey(alert) }),
  };
}

export function avroStreamEncoder(plan: AvroStreamPlan): StreamEncoder {
  return {
    output: 'kafka-avro',
    needsAlert: true,
    encode: (row, alert, utc) => ({ ...encodeAvroRecord(plan, avroRecord(plan, row, alert, utc)), objectKey: alert && alertObjectKey(alert) }),
  };
}

/** The encoder of a filter's output; for Avro it describes the filter's columns with DuckDB first. */
export async function createStreamEncoder(output: KafkaOutput, filter: CompiledFilter, catalog: Catalog, filterName: string): Promise<StreamEncoder> {
  if (output !== 'kafka-avro') return jsonStreamEncoder(output);
  return avroStreamEncoder(avroStreamPlan(filterName, await filterOutputColumns(filter, catalog)));
}

/** Bytes a record takes in Kafka's terms: key plus value. */
export function recordBytes(record: { key: Buffer | null; value: Buffer }): number {
  return record.value.length + (record.key?.length ?? 0);
}

export interface SizeLimited<T> {
  kept: T[];
  dropped: number;
  droppedBytes: number;
}

/** Splits records into those within the limit and the count (and bytes) of those over it. */
export function applySizeLimit<T extends { key: Buffer | null; value: Buffer }>(records: readonly T[], maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES): SizeLimited<T> {
  if (!(maxRecordBytes > 0)) throw new Error(`maxRecordBytes must be positive, not ${maxRecordBytes}`);
  const kept: T[] = [];
  let dropped = 0;
  let droppedBytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (size > maxRecordBytes) {
      dropped++;
      droppedBytes += size;
    } else {
      kept.push(record);
    }
  }
  return { kept, dropped, droppedBytes };
}

/** The newest alert of a row's object (undefined when the store has none). */
export type AlertLookup = (row: FilterRow) => Alert | undefined | Promise<Alert | undefined>;

export interface EncodeRowsOptions {
  /** Needed for lite, full and Avro outputs; without it their records carry no alert data. */
  alertFor?: AlertLookup | undefined;
  /** The produced time written in every record. */
  utc: string;
  /** Stop after this many records within the size limit (default: all rows). */
  limit?: number | undefined;
  /** Records over this size are dropped and counted (default DEFAULT_MAX_RECORD_BYTES). */
  maxRecordBytes?: number | undefined;
}

export interface EncodedRows {
  /** Records within the size limit, in row order. */
  records: EncodedRecord[];
  dropped: number;
  droppedBytes: number;
  /** Rows whose alert was not found (lite/full records go without "alert", Avro with nulls). */
  missingAlerts: number;
  /** Rows that could not be encoded (a value that does not fit the Avro schema). */
  failed: number;
  firstFailure?: string;
}

/**
 * Encodes a filter's rows, in order: looks up each row's alert when the output needs it, drops
 * (and counts) records over the size limit and rows that cannot be encoded, and stops once
 * `limit` records are made.
 */
export async function encodeRows(encoder: StreamEncoder, rows: readonly FilterRow[], options: EncodeRowsOptions): Promise<EncodedRows> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const out: EncodedRows = { records: [], dropped: 0, droppedBytes: 0, missingAlerts: 0, failed: 0 };
  for (const row of rows) {
    if (out.records.length >= limit) break;
    let alert: Alert | undefined;
    if (encoder.needsAlert) {
      alert = options.alertFor === undefined ? undefined : await options.alertFor(row);
      if (alert === undefined) out.missingAlerts++;
    }
    let record: EncodedRecord;
    try {
      record = encoder.encode(row, alert, options.utc);
    } catch (err) {
      out.failed++;
      out.firstFailure ??= (err as Error).message;
      continue;
    }
    const size = recordBytes(record);
    if (size > maxRecordBytes) {
      out.dropped++;
      out.droppedBytes += size;
      continue;
    }
    out.records.push(record);
  }
  return out;
}
