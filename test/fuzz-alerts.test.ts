// Bad alerts through the whole broker (issue 9, item 3). More than 10,000 messages — good
// alerts in every encoding mixed with mutated (bit flips, inserted and deleted bytes),
// truncated, oversized and wrong-schema ones, JSON, empty values, unknown schema ids, corrupt
// container blocks and decompression bombs (test/fixtures/fuzz-messages.ts, seeded) — go into
// one raw topic on the local Kafka, and an in-process broker consumes them.
//
// Before sending, the test decides for each message on its own whether it is a good alert, by
// decoding it with the format layer and adapting it (a mutation may well leave a valid alert).
// Then: the broker never fails; every good alert is stored (the store answers for each);
// every bad message is in the dead-letter topic with a reason, exactly once, from the offset
// it was sent to; good + dead = sent; oversized messages are dead-lettered without being
// decoded and without their payload; and the process's memory stays bounded (RSS sampled
// across the run).
//
// Then Kafka's side of the size limit: a raw topic with rawTopicConfig(limit) refuses a
// larger message at produce time, and a consumer cannot refuse one that is already in a topic
// (a fetch returns a record batch whole even when it is over the fetch size limits).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Consumer, type Admin } from '@platformatic/kafka';
import { objectFeatures } from '../src/features/index.ts';
import { isNonAlertSchema, toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { DecodeError } from '../src/formats/errors.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { baseClientOptions, createAdmin, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { describeError } from '../src/kafka/errors.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic, endOffsets, rawTopicConfig } from '../src/kafka/topics.ts';
import { startBroker, type RunningBroker } from '../src/pipeline/broker.ts';
import { DEAD_LETTER_KINDS, ERROR_HEADER, ERROR_KIND_HEADER, ORIGINAL_BYTES_HEADER, SOURCE_HEADER } from '../src/pipeline/dead-letters.ts';
import { DECOMPRESSION_ALLOWANCE } from '../src/pipeline/decode-stage.ts';
import type { BatchReport } from '../src/pipeline/pipeline.ts';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/store.ts';
import { createLogger, type Logger } from '../src/util/log.ts';
import { fuzzCorpus, fuzzSetup, type FuzzMessage, type FuzzSetup } from './fixtures/fuzz-messages.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { headerMap, readTopic, type RawMessage } from './pipeline-helpers.ts';

const data = path.resolve(repoRoot, '../shared/data');
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const RAW = `nightjar-test-fuzz-raw-${run}`;
const DLQ = `nightjar-test-fuzz-dlq-${run}`;
const PREFIX = `nightjar-test-fuzz-${run}`;
const COUNT = 10_400;
const SEED = 20_260_901;
/** The broker's message size limit in this test: above every real alert of the corpus (Roman's is 218 KB). */
const LIMIT = 256 * 1024;
/** Growth of the process's RSS allowed while the broker works through the corpus. */
const RSS_GROWTH_LIMIT = 512 * 1024 * 1024;

/** What the test expects of one message, decided before it is sent. */
type Expected = { good: true; alerts: Alert[] } | { good: false; kind?: 'oversized' | 'empty' };

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let setup: FuzzSetup;
let store: Store;
let storeDir: string;
let broker: RunningBroker | undefined;
let brokerError: unknown;
let corpus: FuzzMessage[] = [];
const expected: Expected[] = [];
const reports: BatchReport[] = [];
const rss: number[] = [];
let rssBefore = 0;
/** Milliseconds taken to make and judge the corpus, to send it, and for the broker to process it. */
const timings: Record<string, number> = {};
let deadLetters: RawMessage[] = [];
const topics: string[] = [RAW, DLQ];
const quiet: Logger = { debug() {}, info() {}, warn() {}, error: (m, f) => createLogger().error(m, f), child() { return quiet; } };

/** The test's own verdict on a message: the format layer decodes it, each record must adapt to an alert with features. */
async function judge(m: FuzzMessage): Promise<Expected> {
  if (m.value.length + (m.key?.length ?? 0) > LIMIT) return { good: false, kind: 'oversized' };
  if (m.value.length === 0) return { good: false, kind: 'empty' };
  let records;
  try {
    records = await decodeMessage(m.value, m.key, { schemas: setup.schemas, schema: setup.forcedSchema, maxDecompressedBytes: LIMIT * DECOMPRESSION_ALLOWANCE });
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`${m.label}: the decoder threw ${describeError(err)}, not a DecodeError`);
    return err.tooLarge ? { good: false, kind: 'oversized' } : { good: false };
  }
  if (records.length === 0) return { good: false };
  const alerts: Alert[] = [];
  for (const r of records) {
    if (isNonAlertSchema(r.schema.name)) return { good: false };
    try {
      const alert = toAlert(r.record, r.schema.name);
      objectFeatures(alert);
      alerts.push(alert);
    } catch {
      return { good: false };
    }
  }
  return { good: true, alerts };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  setup = fuzzSetup(data);
  let t = performance.now();
  corpus = await fuzzCorpus(data, { count: COUNT, seed: SEED, maxMessageBytes: LIMIT });
  for (const m of corpus) expected.push(await judge(m));
  timings.corpus = performance.now() - t;
  t = performance.now();

  // The raw topic takes the oversized messages (up to 1.5 × LIMIT): the broker must deal with them itself.
  await createTopic(admin, RAW, 1, { 'max.message.bytes': String(8 * 1024 * 1024) });
  await sendAll(producer, corpus.map((m): OutgoingMessage => ({ topic: RAW, value: m.value, ...(m.key === null ? {} : { key: m.key }) })));
  assert.deepEqual(await endOffsets(admin, RAW), [BigInt(corpus.length)], 'offsets 0..n-1 in the order made');
  timings.send = performance.now() - t;

  storeDir = await mkdtemp(path.join(tmpdir(), 'nightjar-fuzz-'));
  store = await openStore({ path: path.join(storeDir, 'store.duckdb') });
  const user = await store.createUser({ email: `fuzz-${run}@nightjar.invalid`, name: 'fuzz test' });
  // Filters run on every batch too, on whatever values the mutations left in valid alerts.
  await store.saveFilter({ ownerId: user.id, name: 'every object', select: 'objectId, ra, decl, alertMag', where: '', output: 'kafka' });
  await store.saveFilter({ ownerId: user.id, name: 'bright', select: 'objectId, flux2mag(alertFlux) AS mag', where: 'alertSnr > 5 AND flux2mag(alertFlux) < 21', output: 'kafka' });
  for (const f of await store.listFilters()) topics.push(`${PREFIX}_${f.ownerId}${f.name.replace(/[^A-Za-z0-9_.-]/g, '')}`);

  globalThis.gc?.();
  rssBefore = process.memoryUsage().rss;
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 100);
  t = performance.now();
  try {
    broker = await startBroker({
      kafka: settings,
      topics: [RAW],
      groupId: `nightjar-test-fuzz-${run}`,
      store,
      httpPort: null,
      topicPrefix: PREFIX,
      deadLetterTopic: DLQ,
      batchSize: 500,
      batchMs: 1000,
      decode: { schemas: setup.schemas, schema: setup.forcedSchema, maxMessageBytes: LIMIT },
      log: quiet,
      onBatch: (r) => reports.push(r),
    });
    broker.done.catch((err: unknown) => (brokerError = err));
    await waitFor('the broker to take every message', () => brokerError !== undefined || (broker?.health().messages ?? 0) >= corpus.length, 300_000);
  } finally {
    clearInterval(sampler);
    timings.broker = performance.now() - t;
  }
  assert.equal(brokerError, undefined, `the broker failed: ${describeError(brokerError)}`);
  await broker.stop();
  deadLetters = await readTopic(settings, admin, DLQ, 60_000);
}, { timeout: 600_000 });

after(async () => {
  await broker?.stop().catch(() => undefined);
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await store?.close();
  if (storeDir !== undefined) await rm(storeDir, { recursive: true, force: true });
  await producer?.close();
  await admin?.close();
  if (lease !== undefined) await releaseLocalKafka(lease);
});

test('the corpus is large and mixed: good, mutated, truncated, oversized, wrong-schema, bombs', () => {
  assert.ok(corpus.length >= 10_000);
  const good = expected.filter((e) => e.good).length;
  const label = (l: string): number => corpus.filter((m) => m.label.includes(l)).length;
  assert.ok(good > 1500 && good < corpus.length - 5000, `${good} good messages`);
  for (const l of ['flip', 'insert', 'delete', 'truncate', 'oversized', 'bomb', 'json', 'empty', 'unknown-id', 'corrupt-block', 'ztf-body-schemaless', 'rubin71-as-id-1000', 'classification-schema-in-key', 'random']) {
    assert.ok(label(l) >= 10, `at least 10 messages of kind ${l}, got ${label(l)}`);
  }
  // Mutations leave some alerts good: the verdict is per message, not per label.
  assert.ok(corpus.some((m, i) => m.label.includes('flip') && expected[i]?.good === true));
});

test('the broker never failed and accounted for every message: good + dead = sent', () => {
  assert.equal(brokerError, undefined);
  const sentGood = expected.filter((e) => e.good);
  const alerts = sentGood.reduce((n, e) => n + (e.good ? e.alerts.length : 0), 0);
  assert.equal(reports.reduce((n, r) => n + r.messages, 0), corpus.length);
  assert.equal(reports.reduce((n, r) => n + r.processed, 0), alerts, 'alerts processed');
  assert.equal(reports.reduce((n, r) => n + r.deadLetters, 0), corpus.length - sentGood.length, 'messages dead-lettered');
  for (const r of reports) for (const f of r.filters) assert.equal(f.error, undefined, `filter ${f.name} failed on batch ${r.number}: ${f.error}`);
});

test('every bad message is in the dead-letter topic once, with a reason, its kind and its source', () => {
  const bad = new Set(expected.flatMap((e, i) => (e.good ? [] : [i])));
  assert.equal(deadLetters.length, bad.size);
  const seen = new Set<number>();
  for (const d of deadLetters) {
    const h = headerMap(d);
    const source = h.get(SOURCE_HEADER) ?? '';
    const offset = Number(source.split('/')[2]);
    assert.equal(source, `${RAW}/0/${offset}`);
    assert.ok(bad.has(offset), `offset ${offset} (${corpus[offset]?.label}) was dead-lettered but is a good alert`);
    assert.ok(!seen.has(offset), `offset ${offset} dead-lettered twice`);
    seen.add(offset);
    const m = corpus[offset] as FuzzMessage;
    const e = expected[offset] as Expected & { good: false };
    const kind = h.get(ERROR_KIND_HEADER) ?? '';
    const reason = h.get(ERROR_HEADER) ?? '';
    assert.ok((DEAD_LETTER_KINDS as readonly string[]).includes(kind), `kind ${kind}`);
    assert.ok(reason.length > 10 && !reason.includes('\n'), `${m.label}: a one-line reason, got "${reason}"`);
    if (e.kind !== undefined) assert.equal(kind, e.kind, `${m.label}: ${reason}`);
    else assert.ok(kind !== 'oversized' && kind !== 'empty', `${m.label}: ${kind}: ${reason}`);
    if (kind === 'oversized' && m.value.length + (m.key?.length ?? 0) > LIMIT) {
      // Not copied: no key, no value, the size in a header.
      assert.equal(d.value.length, 0);
      assert.ok(d.key === null || d.key === undefined || d.key.length === 0);
      assert.equal(h.get(ORIGINAL_BYTES_HEADER), String(m.value.length + (m.key?.length ?? 0)));
      assert.match(reason, new RegExp(`over the ${LIMIT}-byte limit; not decoded`));
    } else {
      assert.ok(d.value.equals(m.value), `${m.label}: the dead letter carries the message as it came`);
    }
  }
  assert.equal(seen.size, bad.size);
  const bombs = deadLetters.filter((d) => /bomb/.test(corpus[Number(headerMap(d).get(SOURCE_HEADER)?.split('/')[2])]?.label ?? ''));
  assert.ok(bombs.length > 0 && bombs.every((d) => headerMap(d).get(ERROR_KIND_HEADER) === 'oversized' && /decompresses to more than the \d+-byte limit/.test(headerMap(d).get(ERROR_HEADER) ?? '')));
});

test('every good alert is in the store, traced to the offset it was first sent at', async () => {
  // Per object: its alerts by source id, with the offset of the first message that carried each.
  const objects = new Map<string, { object: Alert; firstOffset: Map<bigint, number> }>();
  expected.forEach((e, offset) => {
    if (!e.good) return;
    for (const a of e.alerts) {
      const key = `${a.survey}:${a.objectKind}:${String(a.objectId)}`;
      const entry = objects.get(key) ?? { object: a, firstOffset: new Map<bigint, number>() };
      objects.set(key, entry);
      if (!entry.firstOffset.has(a.sourceId)) entry.firstOffset.set(a.sourceId, offset);
    }
  });
  let checked = 0;
  for (const [key, { object, firstOffset }] of objects) {
    const stored = new Map((await store.alertsOf(object, 100_000)).map((s) => [s.sourceId, s]));
    for (const [sourceId, offset] of firstOffset) {
      const s = stored.get(sourceId);
      assert.ok(s !== undefined, `alert ${key}/${sourceId} (offset ${offset}, ${corpus[offset]?.label}) is not in the store`);
      assert.deepEqual(s.origin, { topic: RAW, partition: 0, offset: BigInt(offset) }, `alert ${key}/${sourceId}`);
      checked++;
    }
  }
  assert.ok(checked > 500, `${checked} alerts checked`);
  assert.equal((await store.counts()).alerts, checked, 'nothing else was stored');
});

test('memory stays bounded while the broker works through the corpus', () => {
  assert.ok(rss.length > 10, `${rss.length} samples`);
  const peak = Math.max(...rss);
  const growth = peak - rssBefore;
  // The figure, for the record: node --test prints diagnostics of each test.
  const sent = corpus.reduce((n, m) => n + m.value.length + (m.key?.length ?? 0), 0);
  process.stdout.write(`# fuzz: ${corpus.length} messages, ${Math.round(sent / 2 ** 20)} MiB; corpus made and judged in ${Math.round(timings.corpus ?? 0)} ms, sent in ${Math.round(timings.send ?? 0)} ms, processed by the broker in ${Math.round(timings.broker ?? 0)} ms\n`);
  process.stdout.write(`# fuzz: RSS before ${Math.round(rssBefore / 2 ** 20)} MiB, peak ${Math.round(peak / 2 ** 20)} MiB (+${Math.round(growth / 2 ** 20)} MiB) over ${rss.length} samples\n`);
  assert.ok(growth < RSS_GROWTH_LIMIT, `RSS grew by ${Math.round(growth / 2 ** 20)} MiB (limit ${RSS_GROWTH_LIMIT / 2 ** 20})`);
  // And it does not climb batch after batch: the last quarter's peak is not far above the second quarter's.
  const quarter = Math.floor(rss.length / 4);
  const second = Math.max(...rss.slice(quarter, 2 * quarter));
  const last = Math.max(...rss.slice(3 * quarter));
  assert.ok(last - second < 200 * 2 ** 20, `RSS climbed from ${Math.round(second / 2 ** 20)} to ${Math.round(last / 2 ** 20)} MiB`);
});

test('Kafka refuses a message over the raw topic limit at produce time: it never reaches the broker', async () => {
  const topic = `nightjar-test-fuzz-limited-${run}`;
  topics.push(topic);
  await createTopic(admin, topic, 1, rawTopicConfig(LIMIT));
  await assert.rejects(producer.send({ messages: [{ topic, value: Buffer.alloc(LIMIT + 2048, 1) }] }), (err: unknown) => /larger than the max message size/i.test(describeError(err)));
  await producer.send({ messages: [{ topic, value: Buffer.alloc(LIMIT, 1) }] });
  assert.deepEqual(await endOffsets(admin, topic), [1n], 'only the message within the limit is stored');
});

test('a consumer cannot refuse a message already in a topic: a fetch returns a batch over its size limits whole', { timeout: 60_000 }, async () => {
  const topic = `nightjar-test-fuzz-fetch-${run}`;
  topics.push(topic);
  await createTopic(admin, topic, 1, { 'max.message.bytes': String(8 * 1024 * 1024) });
  await producer.send({ messages: [{ topic, value: Buffer.alloc(3_000_000, 7) }] });
  await producer.send({ messages: [{ topic, value: Buffer.from('small') }] });
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({ ...baseClientOptions(settings, 'fuzz-fetch'), groupId: `nightjar-test-fuzz-fetch-${run}`, maxBytes: 100_000, maxBytesPerPartition: 100_000, maxWaitTime: 500 });
  const sizes: number[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
    for await (const m of stream) {
      sizes.push(m.value.length);
      if (sizes.length === 2) break;
    }
  } finally {
    await consumer.close(true);
  }
  assert.deepEqual(sizes, [3_000_000, 5]);
});
