// Topic administration: explicit creation with a partition count (never rely on the broker's
// auto-creation), deletion, listing and the offsets at both ends of each partition.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from '@platformatic/kafka';
import { describeError, hasKafkaErrorCode } from './errors.ts';

export interface TopicInfo {
  name: string;
  partitions: number;
  /** False when the topic already existed (its partition count is then the existing one). */
  created: boolean;
}

/** Largest raw alert message (key + value + headers) by default: Rubin and ZTF alerts are 50-250 KB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Bytes of record-batch framing around one record (batch header 61 bytes, record header under 30, headers' lengths). */
export const RECORD_BATCH_FRAMING_BYTES = 1024;

/**
 * Topic config for a raw alert topic whose messages (key + value + headers) may be at most
 * `maxMessageBytes`: Kafka then refuses a larger one at produce time (RecordTooLarge), so it is
 * never stored and never reaches a consumer. Kafka's limit applies to a whole record batch
 * (compressed, as the producer sent it), so producers must send at most this much per
 * partition per request: the Java producer's default batch.size is 16 KB (and it splits a
 * refused batch); Nightjar's own senders use 1 MB (kafka/produce.ts), so a limit below that
 * needs them configured to match.
 */
export function rawTopicConfig(maxMessageBytes: number): Record<string, string> {
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) throw new Error(`maxMessageBytes must be a positive integer, not ${maxMessageBytes}`);
  return { 'max.message.bytes': String(maxMessageBytes + RECORD_BATCH_FRAMING_BYTES) };
}

/** Kafka error codes met here (from the protocol's error table). */
const TOPIC_ALREADY_EXISTS = 36;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/**
 * Creates a topic with this many partitions and these topic configs (e.g. retention.ms), or
 * leaves an existing one as it is. The replication factor is the cluster's default.
 */
export async function createTopic(admin: Admin, name: string, partitions: number, config: Record<string, string | number> = {}): Promise<TopicInfo> {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`topic ${name}: partitions must be a positive integer, got ${partitions}`);
  }
  const existing = await topicPartitions(admin, name);
  if (existing !== undefined) return { name, partitions: existing, created: false };
  try {
    const configs = Object.entries(config).map(([key, value]) => ({ name: key, value: String(value) }));
    const [created] = await admin.createTopics({ topics: [name], partitions, replicas: -1, configs });
    const count = created?.partitions ?? partitions;
    await waitUntilWritable(admin, name, count);
    return { name, partitions: count, created: true };
  } catch (err) {
    // Another process created it between our check and our request: that is success too.
    if (hasKafkaErrorCode(err, TOPIC_ALREADY_EXISTS)) {
      return { name, partitions: (await topicPartitions(admin, name)) ?? partitions, created: false };
    }
    throw new Error(`creating topic ${name} (${partitions} partitions) failed: ${describeError(err)}`, { cause: err });
  }
}

/**
 * Waits until every partition of a new topic accepts requests on its leader. The metadata shows
 * leaders a moment before the broker takes writes (it answers NOT_LEADER_OR_FOLLOWER), and
 * @platformatic/kafka then resends the whole request, duplicating the messages that the other
 * partitions had already accepted (unless the producer is idempotent). ListOffsets needs the
 * same leadership as Produce, so its success on every partition is the signal.
 */
async function waitUntilWritable(admin: Admin, name: string, partitions: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const request = { topics: [{ name, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] };
  for (;;) {
    const listed = await admin.listOffsets(request).catch(() => undefined);
    const answered = listed?.find((t) => t.name === name)?.partitions.length ?? 0;
    if (answered === partitions) return;
    if (Date.now() > deadline) throw new Error(`topic ${name} was created but not all of its ${partitions} partitions accept writes after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Deletes a topic; true when it existed. */
export async function deleteTopic(admin: Admin, name: string): Promise<boolean> {
  // Check first: the client retries "unknown topic" (it is usually transient) for seconds.
  if (!(await admin.listTopics({ includeInternals: true })).includes(name)) return false;
  try {
    await admin.deleteTopics({ topics: [name] });
    return true;
  } catch (err) {
    if (hasKafkaErrorCode(err, UNKNOWN_TOPIC_OR_PARTITION)) return false;
    throw new Error(`deleting topic ${name} failed: ${describeError(err)}`, { cause: err });
  }
}

/** Names of the cluster's topics, sorted; internal topics (__consumer_offsets...) only on request. */
export async function listTopics(admin: Admin, includeInternal = false): Promise<string[]> {
  const names = await admin.listTopics({ includeInternals: includeInternal });
  return [...names].sort();
}

/** The partition count of a topic, or undefined when it does not exist. */
export async function topicPartitions(admin: Admin, name: string): Promise<number | undefined> {
  const names = await admin.listTopics({ includeInternals: true });
  if (!names.includes(name)) return undefined;
  const metadata = await admin.metadata({ topics: [name], forceUpdate: true });
  return metadata.topics.get(name)?.partitionsCount;
}

/** The next offset to be written on each partition (index = partition number). */
export async function endOffsets(admin: Admin, topic: string): Promise<bigint[]> {
  return partitionOffsets(admin, topic, -1n);
}

/** The oldest retained offset on each partition (index = partition number). */
export async function startOffsets(admin: Admin, topic: string): Promise<bigint[]> {
  return partitionOffsets(admin, topic, -2n);
}

/** ListOffsets with Kafka's special timestamps: -1 = latest, -2 = earliest. */
async function partitionOffsets(admin: Admin, topic: string, timestamp: bigint): Promise<bigint[]> {
  const count = await topicPartitions(admin, topic);
  if (count === undefined) throw new Error(`topic ${topic} does not exist`);
  const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
  let listed;
  try {
    listed = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
  } catch (err) {
    throw new Error(`listing the offsets of topic ${topic} failed: ${describeError(err)}`, { cause: err });
  }
  const offsets = new Array<bigint>(count).fill(-1n);
  for (const t of listed) {
    if (t.name !== topic) continue;
    for (const p of t.partitions) offsets[p.partitionIndex] = p.offset;
  }
  const missing = offsets.findIndex((o) => o < 0n);
  if (missing >= 0) throw new Error(`topic ${topic}: the broker returned no offset for partition ${missing}`);
  return offsets;
}
