// What the workers tests share: a raw stream in which every object has exactly one alert (so a
// filter's records do not depend on how the stream was cut into batches, or by which process),
// a PostgreSQL store prepared with filters, `nightjar broker` worker processes, and filter topics
// read back as comparable records.
import type { Admin } from '@platformatic/kafka';
import { toAlert } from '../../src/formats/adapters/index.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../../src/formats/lsst-schema.ts';
import { decodeMessage, encodeMessage } from '../../src/formats/message.ts';
import { createProducer, type KafkaSettings } from '../../src/kafka/connection.ts';
import { createFilterService } from '../../src/service/filter-service.ts';
import { partitionForKey } from '../../src/simulate/partitioning.ts';
import { generateAlerts } from '../../src/simulate/synthetic.ts';
import { openStore } from '../../src/store/index.ts';
import type { FilterOutput } from '../../src/store/store.ts';
import { parse, stringify } from '../../src/util/json.ts';
import { readTopic } from '../pipeline-helpers.ts';
import { NightjarChild } from './child-broker.ts';

/** One raw message: an alert of an object no other message has, keyed and partitioned by the object. */
export interface RawAlert {
  objectId: bigint;
  sourceId: bigint;
  partition: number;
  key: Buffer;
  value: Buffer;
}

/**
 * `count` synthetic Rubin alerts (Confluent wire format, the built-in lsst schema id), the first
 * alert of each of `count` different objects, in the generator's time order; each keyed by its
 * diaObjectId and put in that key's partition (Kafka's default partitioner rule).
 */
export function uniqueObjectAlerts(seed: number, count: number, partitions: number): RawAlert[] {
  const schema = lsstAlertParsedSchema();
  const seen = new Set<bigint>();
  const out: RawAlert[] = [];
  for (const record of generateAlerts({ seed, objects: count * 2, cutouts: false })) {
    const alert = toAlert(record, schema.name);
    const objectId = BigInt(alert.objectId);
    if (seen.has(objectId)) continue;
    seen.add(objectId);
    const key = Buffer.from(String(objectId));
    out.push({ objectId, sourceId: alert.sourceId, partition: partitionForKey(key, partitions), key, value: encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value });
    if (out.length === count) return out;
  }
  throw new Error(`the synthetic generator (seed ${seed}) gave fewer than ${count} objects`);
}

export interface FilterSpec {
  name: string;
  output: FilterOutput;
  select: string;
  where: string;
}

export interface SavedFilter {
  id: number;
  output: FilterOutput;
  topic: string | null;
}

/** Saves the filters in the store (created and migrated on first open), as `nightjar filter --store` would. */
export async function saveFilters(storeUrl: string, settings: KafkaSettings, admin: Admin, prefix: string, filters: readonly FilterSpec[]): Promise<Map<string, SavedFilter>> {
  const store = await openStore({ path: storeUrl });
  const producer = createProducer(settings);
  const service = createFilterService({ store, admin, producer, topicPrefix: prefix });
  const saved = new Map<string, SavedFilter>();
  try {
    for (const f of filters) {
      const result = await service.add({ owner: 'workers@example.org', name: f.name, select: f.select, where: f.where, output: f.output });
      saved.set(f.name, { id: result.filter.id, output: f.output, topic: result.filter.topic });
    }
  } finally {
    await service.close();
    await producer.close();
    await store.close();
  }
  return saved;
}

/**
 * The committed records of a filter topic, each as canonical JSON without the time it was produced
 * (UTC, which differs between runs), sorted: the multiset two runs are compared by.
 */
export async function recordsOf(settings: KafkaSettings, admin: Admin, topic: string, output: FilterOutput): Promise<string[]> {
  const records: string[] = [];
  for (const message of await readTopic(settings, admin, topic, 60_000)) {
    const record = output === 'kafka-avro' ? ((await decodeMessage(message.value, message.key))[0]?.record as Record<string, unknown>) : (parse(message.value.toString('utf8')) as Record<string, unknown>);
    delete record.UTC;
    records.push(stringify(record));
  }
  return records.sort();
}

/** The (objectId, alertSourceId) of a record as recordsOf gives it. */
export function idOf(record: string): string {
  const r = parse(record) as Record<string, unknown>;
  return `${String(r.objectId)}/${String(r.alertSourceId)}`;
}

/** A `nightjar broker` process with info logs (stderr), for the group membership and filter reload lines. */
export function startWorker(args: readonly string[], env: NodeJS.ProcessEnv = {}): NightjarChild {
  return new NightjarChild(['broker', ...args], { NIGHTJAR_LOG_LEVEL: 'info', ...env });
}

/** The structured log lines of a process's stderr with this message. */
export function logLines(child: NightjarChild, msg: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of child.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = parse(line) as Record<string, unknown>;
      if (entry.msg === msg) lines.push(entry);
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return lines;
}

/** Polls until the condition holds; rejects with the description after timeoutMs. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
