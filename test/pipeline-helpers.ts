// Helpers of the broker tests: reading a whole topic back, comparing values as they come back
// through JSON, and the test-side (independent) view of what a filter should pass.
import type { Admin, Message } from '@platformatic/kafka';
import { createConsumer, type KafkaSettings } from '../src/kafka/connection.ts';
import { endOffsets, startOffsets } from '../src/kafka/topics.ts';

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * Every committed message now in the topic, in partition then offset order (a fresh group, from
 * the start, read_committed). Reading ends when the consumer's position reaches the end offset
 * of every partition: transaction markers and aborted records take offsets too, so counting
 * messages would not tell when everything is read.
 */
export async function readTopic(settings: KafkaSettings, admin: Admin, topic: string, timeoutMs = 30_000): Promise<RawMessage[]> {
  const [starts, ends] = [await startOffsets(admin, topic), await endOffsets(admin, topic)];
  if (ends.every((end, p) => end <= (starts[p] ?? 0n))) return [];
  const consumer = createConsumer(settings, { groupId: `nightjar-test-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`, fromBeginning: true, role: 'test-reader' });
  const got: RawMessage[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void consumer.close().catch(() => undefined);
  }, timeoutMs);
  try {
    const stream = await consumer.consume([topic]);
    const atEnd = (): boolean => stream.readableLength === 0 && ends.every((end, p) => end <= (starts[p] ?? 0n) || (stream.offsetsToFetch.get(`${topic}:${p}`) ?? 0n) >= end);
    // Checked between messages and after each fetch (a fetch of only markers brings no message).
    const poll = setInterval(() => {
      if (atEnd()) void stream.close().catch(() => undefined);
    }, 50);
    try {
      for await (const m of stream) {
        got.push(m);
        if (atEnd()) break;
      }
    } finally {
      clearInterval(poll);
    }
  } finally {
    clearTimeout(timer);
    await consumer.close().catch(() => undefined);
  }
  if (timedOut) throw new Error(`read ${got.length} messages of ${topic} but not up to its end offsets (${ends.join(', ')}) within ${timeoutMs} ms`);
  return got.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

/** A value as a JSON round trip gives it back: NaN/Infinity as null, integers within 2^53 as numbers. */
export function asJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= -(2n ** 53n) && value <= 2n ** 53n ? Number(value) : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(asJson);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJson(v)]));
  return value;
}

/** SQL comparison semantics in JS: null (unknown) compares false. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN;
}

/** The Prometheus text format as a map "name{labels}" → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

export function headerMap(m: RawMessage): Map<string, string> {
  return new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
}
