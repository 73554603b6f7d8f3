// Sending many messages without hitting the broker's batch size limit. @platformatic/kafka puts
// every message of one send() that goes to the same partition into a single record batch, and a
// broker rejects a batch larger than its message.max.bytes (about 1 MB by default). So large
// lists are sent as consecutive sends of bounded size; sending them one after the other keeps
// the order of the messages within each partition.
import type { ProduceResult } from '@platformatic/kafka';
import type { BytesSender } from './connection.ts';
import { describeError } from './errors.ts';

export interface OutgoingMessage {
  topic: string;
  key?: Buffer;
  value: Buffer;
  headers?: Map<Buffer, Buffer>;
  /** Explicit partition; otherwise the producer's partitioner hashes the key. */
  partition?: number;
  timestamp?: bigint;
}

/** Kafka's default message.max.bytes is 1048588; stay under it so any cluster accepts a send. */
export const DEFAULT_MAX_SEND_BYTES = 1_000_000;

/** Approximate size of a message in a record batch (payloads plus per-record overhead). */
export function messageSize(m: OutgoingMessage): number {
  let size = 32 + m.value.length + (m.key?.length ?? 0);
  if (m.headers) for (const [k, v] of m.headers) size += 8 + k.length + v.length;
  return size;
}

/**
 * Splits messages, in order, into consecutive groups of at most maxBytes each. A message larger
 * than maxBytes travels alone (the broker decides whether it is too large).
 */
export function splitBySize<T extends OutgoingMessage>(messages: readonly T[], maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const m of messages) {
    const s = messageSize(m);
    if (current.length > 0 && size + s > maxBytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += s;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Sends every message, in order, in sends of at most maxBytes; resolves when all are acknowledged. */
export async function sendAll(
  producer: BytesSender,
  messages: readonly OutgoingMessage[],
  maxBytes: number = DEFAULT_MAX_SEND_BYTES,
): Promise<ProduceResult[]> {
  const results: ProduceResult[] = [];
  let done = 0;
  for (const group of splitBySize(messages, maxBytes)) {
    try {
      results.push(await producer.send({ messages: group }));
    } catch (err) {
      const topics = [...new Set(group.map((m) => m.topic))].join(', ');
      throw new Error(`sending messages ${done}..${done + group.length - 1} of ${messages.length} to ${topics} failed: ${describeError(err)}`, { cause: err });
    }
    done += group.length;
  }
  return results;
}
