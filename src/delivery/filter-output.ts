// Kafka I/O of filter streams: the topic (created with a retention, 7 days by default), producing
// records under the size limit, emptying a stream when its filter changes, moving it when the
// filter is renamed, and the backfill that puts up to 10 records in a changed stream at once.
//
// Emptying uses DeleteRecords up to each partition's end offset rather than deleting and
// recreating the topic: the topic keeps its configuration and whatever ACLs grant users read
// access, and consumers need not notice. A consumer group whose committed offset is now below
// the start of the log gets Kafka's "offset out of range" and restarts from its
// auto.offset.reset, which for Lasair's consumer (`smallest`) and fink-client (`earliest`) is
// the new start: it reads the new records, none of the old.
import { crc32 } from 'node:zlib';
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes, type Admin } from '@platformatic/kafka';
import type { BytesSender } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import { DEFAULT_MAX_SEND_BYTES, sendAll, type OutgoingMessage } from '../kafka/produce.ts';
import { createTopic, deleteTopic, endOffsets, RECORD_BATCH_FRAMING_BYTES, startOffsets, topicPartitions } from '../kafka/topics.ts';
import { formatUtc, type FilterRow } from './records.ts';
import { applySizeLimit, DEFAULT_MAX_RECORD_BYTES, encodeRows, recordBytes, type AlertLookup, type EncodedRecord, type StreamEncoder } from './stream-encoder.ts';

export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Records a changed filter's stream gets at once (Lasair: "to try and put 10 records in the stream"). */
export const BACKFILL_RECORDS = 10;

export interface FilterTopicOptions {
  /** How long Kafka keeps records, ms (default 7 days). */
  retentionMs?: number;
  /** Partitions of a new topic (default 1; an existing topic keeps its count). */
  partitions?: number;
  /**
   * The largest record (key + value) the stream carries (default 4,000,000 bytes). The topic's
   * max.message.bytes is set to this plus room for the batch framing, so records up to the
   * limit are accepted even where the broker's own default (about 1 MB) is lower.
   */
  maxRecordBytes?: number;
}

export interface FilterTopicInfo {
  topic: string;
  created: boolean;
  partitions: number;
  retentionMs: number;
  maxMessageBytes: number;
}


/** The topic's configuration values for these keys as the broker reports them (own or cluster default). */
export async function topicConfig(admin: Admin, topic: string, keys: readonly string[]): Promise<Map<string, string | null>> {
  let described;
  try {
    described = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [...keys] }] });
  } catch (err) {
    throw new Error(`reading the configuration of topic ${topic} failed: ${describeError(err)}`, { cause: err });
  }
  const configs = described.find((d) => d.resourceName === topic)?.configs ?? [];
  return new Map(configs.map((c) => [c.name, c.value ?? null]));
}

/** The topic's retention.ms, or undefined when the broker does not say. */
export async function topicRetentionMs(admin: Admin, topic: string): Promise<number | undefined> {
  const value = (await topicConfig(admin, topic, ['retention.ms'])).get('retention.ms');
  return value === null || value === undefined ? undefined : Number(value);
}

function positiveInteger(value: number, what: string, topic: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`topic ${topic}: ${what} must be a positive integer, not ${value}`);
  return value;
}

/**
 * Creates the filter's topic with its retention and record size limit, or, when it exists,
 * sets those that differ (a changed setting reaches old topics too).
 */
export async function ensureFilterTopic(admin: Admin, topic: string, options: FilterTopicOptions = {}): Promise<FilterTopicInfo> {
  const retentionMs = positiveInteger(options.retentionMs ?? DEFAULT_RETENTION_MS, 'retentionMs', topic);
  const maxMessageBytes = positiveInteger(options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, 'maxRecordBytes', topic) + RECORD_BATCH_FRAMING_BYTES;
  const wanted: Record<string, string> = { 'retention.ms': String(retentionMs), 'max.message.bytes': String(maxMessageBytes) };
  const info = await createTopic(admin, topic, options.partitions ?? 1, wanted);
  if (!info.created) {
    const current = await topicConfig(admin, topic, Object.keys(wanted));
    const changes = Object.entries(wanted).filter(([name, value]) => current.get(name) !== value);
    if (changes.length > 0) {
      try {
        await admin.incrementalAlterConfigs({
          resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: changes.map(([name, value]) => ({ name, configOperation: IncrementalAlterConfigOperationTypes.SET, value })) }],
        });
      } catch (err) {
        throw new Error(`setting ${changes.map(([n, v]) => `${n}=${v}`).join(', ')} on topic ${topic} failed: ${describeError(err)}`, { cause: err });
      }
      await untilConfigApplied(admin, topic, Object.fromEntries(changes));
    }
  }
  return { topic, created: info.created, partitions: info.partitions, retentionMs, maxMessageBytes };
}

/**
 * A KRaft broker applies a config change when it reads it from the metadata log, a moment
 * after the alter request is answered: wait until it describes the new values, so callers
 * (and producers sized by max.message.bytes) see the settings in force.
 */
async function untilConfigApplied(admin: Admin, topic: string, wanted: Record<string, string>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await topicConfig(admin, topic, Object.keys(wanted));
    const pending = Object.entries(wanted).filter(([name, value]) => current.get(name) !== value);
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`topic ${topic}: ${pending.map(([n, v]) => `${n}=${v}`).join(', ')} not in force ${timeoutMs / 1000} s after it was set`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ProduceCounts {
  /** Records sent and acknowledged. */
  records: number;
  /** Their key + value bytes. */
  bytes: number;
  /** Records over the size limit, not sent. */
  dropped: number;
  droppedBytes: number;
}

export interface ProduceOptions {
  /** Largest key + value sent (default 4,000,000 bytes); larger records are dropped and counted. */
  maxRecordBytes?: number;
  /**
   * The topic's partition count. With more than one, each record goes to the partition of its
   * object (so one object's records stay in order); with one, everything goes to partition 0.
   */
  partitions?: number;
}

/**
 * Sends a filter's records to its topic, in order; records over the size limit are dropped and
 * counted. The topic must accept records of that size (ensureFilterTopic with the same limit).
 */
export async function produceFilterRecords(producer: BytesSender, topic: string, records: readonly EncodedRecord[], options: ProduceOptions = {}): Promise<ProduceCounts> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const { kept, dropped, droppedBytes } = applySizeLimit(records, maxRecordBytes);
  const partitions = options.partitions ?? 1;
  const messages: OutgoingMessage[] = kept.map((r) => ({
    topic,
    value: r.value,
    ...(r.key === null ? {} : { key: r.key }),
    partition: partitions > 1 && r.objectKey !== undefined ? crc32(r.objectKey) % partitions : 0,
  }));
  // The topic's max.message.bytes bounds a whole record batch, not one record: batches stay
  // within the record limit (and within 1 MB, which any broker takes in one request); a larger
  // record goes alone.
  if (messages.length > 0) await sendAll(producer, messages, Math.min(maxRecordBytes, DEFAULT_MAX_SEND_BYTES));
  return { records: kept.length, bytes: kept.reduce((sum, r) => sum + recordBytes(r), 0), dropped, droppedBytes };
}

/** Deletes every record now in the topic (DeleteRecords to the end offsets); returns how many there were. */
export async function resetFilterTopic(admin: Admin, topic: string): Promise<number> {
  const [starts, ends] = [await startOffsets(admin, topic), await endOffsets(admin, topic)];
  const count = ends.reduce((sum, end, partition) => sum + Number(end - (starts[partition] ?? end)), 0);
  if (count === 0) return 0;
  let deleted;
  try {
    deleted = await admin.deleteRecords({ topics: [{ name: topic, partitions: ends.map((offset, partition) => ({ partition, offset })) }] });
  } catch (err) {
    throw new Error(`deleting the records of topic ${topic} failed: ${describeError(err)}`, { cause: err });
  }
  for (const p of deleted.find((t) => t.name === topic)?.partitions ?? []) {
    const end = ends[p.partition];
    if (end !== undefined && p.lowWatermark < end) throw new Error(`topic ${topic} partition ${p.partition}: records were deleted only up to offset ${p.lowWatermark}, not ${end}`);
  }
  return count;
}

/**
 * A renamed filter's stream: the new topic is created (same retention and partition count as
 * asked) and the old one deleted. The old records are not copied: a renamed filter is a
 * changed filter, whose stream starts again with a backfill.
 */
export async function moveFilterTopic(admin: Admin, oldTopic: string, newTopic: string, options: FilterTopicOptions = {}): Promise<FilterTopicInfo> {
  if (oldTopic === newTopic) return ensureFilterTopic(admin, newTopic, options);
  const partitions = options.partitions ?? (await topicPartitions(admin, oldTopic)) ?? 1;
  const info = await ensureFilterTopic(admin, newTopic, { ...options, partitions });
  await deleteTopic(admin, oldTopic);
  return info;
}

export interface BackfillInput {
  /** The filter's rows over the stored objects, in the order to send them (more than needed is fine). */
  rows: readonly FilterRow[];
  encoder: StreamEncoder;
  /** The newest alert of a row's object; needed for lite, full and Avro outputs. */
  alertFor?: AlertLookup;
  /** Records to put in the stream (default 10). */
  limit?: number;
  /** Largest record put in (default 4,000,000 bytes); also sets the topic's limit. */
  maxRecordBytes?: number;
  /** The UTC time written in the records (default now). */
  producedAt?: Date;
  /** Retention and partitions of the topic (its record limit is maxRecordBytes). */
  topic?: Omit<FilterTopicOptions, 'maxRecordBytes'>;
}

export interface BackfillResult extends ProduceCounts {
  topic: string;
  /** Old records deleted from the stream. */
  deleted: number;
  /** Rows whose alert was not found (their lite/full records go without "alert", Avro with nulls). */
  missingAlerts: number;
  /** Rows that could not be encoded (a value that does not fit the Avro schema), with the first reason. */
  failed: number;
  firstFailure?: string;
}

/**
 * What happens to a kafka filter's stream when the filter is saved or changed: the topic is
 * made sure of, its old records are deleted, and up to `limit` records made from the given
 * rows are put in. Rows are taken in order; a record over the size limit or one that cannot
 * be encoded is skipped (and counted) and the next row tried.
 */
export async function backfill(admin: Admin, producer: BytesSender, topic: string, input: BackfillInput): Promise<BackfillResult> {
  const limit = input.limit ?? BACKFILL_RECORDS;
  const maxRecordBytes = input.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`backfill of ${topic}: limit must be a non-negative integer, not ${limit}`);
  const encoded = await encodeRows(input.encoder, input.rows, { alertFor: input.alertFor, utc: formatUtc(input.producedAt ?? new Date()), limit, maxRecordBytes });
  const info = await ensureFilterTopic(admin, topic, { ...input.topic, maxRecordBytes });
  const deleted = await resetFilterTopic(admin, topic);
  const counts = await produceFilterRecords(producer, topic, encoded.records, { maxRecordBytes, partitions: info.partitions });
  return {
    topic,
    deleted,
    records: counts.records,
    bytes: counts.bytes,
    dropped: encoded.dropped + counts.dropped,
    droppedBytes: encoded.droppedBytes + counts.droppedBytes,
    missingAlerts: encoded.missingAlerts,
    failed: encoded.failed,
    ...(encoded.firstFailure === undefined ? {} : { firstFailure: encoded.firstFailure }),
  };
}
