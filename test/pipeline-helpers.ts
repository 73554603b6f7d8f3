// Helpers of the broker tests: reading a whole topic back, comparing values as they come back
// through JSON, and the test-side (independent) view of what a filter should pass.
import type { Admin } from '@platformatic/kafka';
import type { KafkaSettings } from '../src/kafka/connection.ts';
import { readWholeTopic, type RawMessage } from '../src/kafka/read-topic.ts';

export type { RawMessage };

/**
 * Every committed message now in the topic, in partition then offset order (a fresh group, from
 * the start, read_committed; see src/kafka/read-topic.ts).
 */
export async function readTopic(settings: KafkaSettings, admin: Admin, topic: string, timeoutMs = 30_000): Promise<RawMessage[]> {
  const got: RawMessage[] = [];
  await readWholeTopic(settings, admin, topic, (m) => got.push(m), { timeoutMs, role: 'test-reader' });
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
