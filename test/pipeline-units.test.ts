// The pipeline's parts without Kafka: the Prometheus text, dead-letter reasons and headers, the
// batch table (newest alert per object, numbered rows), offsets, and one Pipeline on an
// in-memory store whose batches need no Kafka (filters without a stream): reloading filters
// when they change, skipping one that does not compile, counters, commits of the last offset
// per partition, and the mutex the filter service shares.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from '@platformatic/kafka';
import { catalog } from '../src/features/index.ts';
import { FilterEngine } from '../src/filters/filter-engine.ts';
import { isFilterErrors, parseFilter } from '../src/filters/parse-filter.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { parseSchema } from '../src/formats/avro-schema.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer } from '../src/kafka/connection.ts';
import { BATCH_ROW_COLUMN, batchCatalog, batchObjects, batchQuery } from '../src/pipeline/batch-table.ts';
import { deadLetterMessage } from '../src/pipeline/dead-letters.ts';
import { decodeBatch } from '../src/pipeline/decode-stage.ts';
import { MetricsRegistry, escapeLabelValue } from '../src/pipeline/metrics.ts';
import { lastPerPartition } from '../src/kafka/partition-offsets.ts';
import { commitOffsets, partitionRanges } from '../src/pipeline/offsets.ts';
import { RateWindow } from '../src/pipeline/pipeline-metrics.ts';
import { Pipeline, type ConsumedMessage } from '../src/pipeline/pipeline.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore, utcNight } from '../src/store/index.ts';
import type { Store } from '../src/store/store.ts';
import type { Logger } from '../src/util/log.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

test('metrics render in the Prometheus text format: help, type, labels escaped, cumulative histogram buckets', () => {
  const r = new MetricsRegistry();
  const c = r.counter('nightjar_things_total', 'Things.\nCounted', ['kind']);
  const g = r.gauge('nightjar_level', 'A level.');
  const h = r.histogram('nightjar_seconds', 'Durations.', [0.1, 1]);
  c.inc({ kind: 'a"b\\c\nd' }, 2);
  c.inc({ kind: 'a"b\\c\nd' });
  g.set({}, 2.5);
  for (const v of [0.05, 0.5, 5]) h.observe(v);
  assert.equal(r.render(), [
    '# HELP nightjar_things_total Things.\\nCounted',
    '# TYPE nightjar_things_total counter',
    'nightjar_things_total{kind="a\\"b\\\\c\\nd"} 3',
    '# HELP nightjar_level A level.',
    '# TYPE nightjar_level gauge',
    'nightjar_level 2.5',
    '# HELP nightjar_seconds Durations.',
    '# TYPE nightjar_seconds histogram',
    'nightjar_seconds_bucket{le="0.1"} 1',
    'nightjar_seconds_bucket{le="1"} 2',
    'nightjar_seconds_bucket{le="+Inf"} 3',
    'nightjar_seconds_sum 5.55',
    'nightjar_seconds_count 3',
    '',
  ].join('\n'));
  assert.equal(escapeLabelValue('x'), 'x');
  assert.throws(() => c.inc({ kind: 'a' }, -1), /only go up/);
  assert.throws(() => c.inc({ other: 'a' }), /labels must be \{kind\}/);
  assert.throws(() => r.counter('nightjar_things_total', 'again'), /registered twice/);
});

test('the alert rate is averaged over the window, or over the time since the start when shorter', () => {
  const w = new RateWindow(10_000, 0);
  w.add(100, 1000);
  assert.equal(w.rate(2000), 50);
  w.add(100, 9000);
  assert.equal(w.rate(10_000), 20);
  assert.equal(w.rate(15_000), 10, 'the first batch left the window');
});

function message(value: Buffer | null, offset: number, key: Buffer | null = null, partition = 0): ConsumedMessage & { commits: number; headers: Map<Buffer, Buffer> } {
  const m = { topic: 'raw', partition, offset: BigInt(offset), key, value, headers: new Map<Buffer, Buffer>(), timestamp: BigInt(Date.now()), commits: 0, commit() { m.commits++; } };
  return m;
}

test('bad messages become dead letters with a reason kind; good ones become alerts with their rows', async () => {
  const missing = parseSchema({ type: 'record', name: 'alert', namespace: 'lsst.v99_0', fields: [{ name: 'diaSourceId', type: 'long' }, { name: 'diaSource', type: { type: 'record', name: 'diaSource', fields: [{ name: 'diaSourceId', type: 'long' }, { name: 'ra', type: 'double' }] } }] });
  const other = parseSchema({ type: 'record', name: 'thing', namespace: 'test', fields: [{ name: 'x', type: 'int' }] });
  const notAlert = encodeMessage({ x: 3 }, { encoding: 'schema-in-key', schema: other });
  const [record] = [...generateAlerts({ seed: 1, objects: 10, count: 1, cutouts: false })];
  const good = encodeMessage(record!, { encoding: 'confluent', schema: lsstAlertParsedSchema(), schemaId: LSST_SCHEMA_ID }).value;
  const messages = [
    message(good, 0),
    message(encodeMessage({ diaSourceId: 5n, diaSource: { diaSourceId: 5n, ra: 1 } }, { encoding: 'container', schema: missing }).value, 1),
    message(notAlert.value, 2, notAlert.key),
    message(Buffer.concat([Buffer.from([0, 0, 0, 0x10, 0x92]), good.subarray(5)]), 3),
    message(Buffer.from('{"a": 1}'), 4),
    message(good.subarray(0, 40), 5),
    message(Buffer.alloc(0), 6),
    message(null, 7),
  ];
  const decoded = await decodeBatch(messages, { schemas: builtinSchemas() });
  assert.deepEqual(decoded.accepted.map((a) => a.index), [0]);
  assert.equal(decoded.accepted[0]!.row.alertSourceId, (record!.diaSource as { diaSourceId: bigint }).diaSourceId);
  assert.deepEqual(decoded.accepted[0]!.origin, { topic: 'raw', partition: 0, offset: 0n });
  assert.deepEqual(decoded.deadLetters.map((d) => [d.index, d.kind]), [[1, 'missing-fields'], [2, 'not-an-alert'], [3, 'schema-unknown'], [4, 'undecodable'], [5, 'undecodable'], [6, 'empty'], [7, 'empty']]);
  assert.match(decoded.deadLetters[0]!.reason, /diaSource\.midpointMjdTai/);
  assert.match(decoded.deadLetters[2]!.reason, /schema id 4242/);
  assert.match(decoded.deadLetters[4]!.reason, /raw\/0\/5/);
});

test('a dead letter keeps the message and its headers, and says why and where (replacing an earlier reason)', () => {
  const m = message(Buffer.from('bad'), 42, Buffer.from('k'));
  m.headers.set(Buffer.from('trace'), Buffer.from('t1'));
  m.headers.set(Buffer.from('nightjar-error'), Buffer.from('old reason'));
  const out = deadLetterMessage(m, { index: 0, kind: 'undecodable', reason: 'line one\nline two' }, 'dlq');
  const headers = Object.fromEntries([...(out.headers ?? [])].map(([k, v]) => [k.toString(), v.toString()]));
  assert.deepEqual(headers, { trace: 't1', 'nightjar-error': 'line one line two', 'nightjar-error-kind': 'undecodable', 'nightjar-source': 'raw/0/42' });
  assert.deepEqual(out.value, Buffer.from('bad'));
  assert.deepEqual(out.key, Buffer.from('k'));
  assert.equal(out.topic, 'dlq');
});

test('the batch table has one row per object, from its newest alert, numbered in order of first appearance', async () => {
  const schema = lsstAlertParsedSchema();
  const alerts = [...generateAlerts({ seed: 3, objects: 30, count: 400, cutouts: false })].map((r) => toAlert(r, schema.name));
  const accepted = alerts.map((alert, index) => ({ alert, row: { objectId: String(alert.objectId), alertMjd: alert.mjd }, origin: { topic: 'raw', partition: 0, offset: BigInt(index) }, index }));
  const batch = batchObjects(accepted as never);
  const keys = [...new Set(alerts.map((a) => `${a.survey}:${a.objectKind}:${String(a.objectId)}`))];
  assert.ok(keys.length < alerts.length, 'objects with several alerts');
  assert.deepEqual(batch.alerts.map((a) => `${a.survey}:${a.objectKind}:${String(a.objectId)}`), keys);
  for (const [i, a] of batch.alerts.entries()) {
    const same = alerts.filter((b) => b.objectId === a.objectId && b.objectKind === a.objectKind);
    assert.equal(a.mjd, Math.max(...same.map((b) => b.mjd)));
    assert.equal(batch.tableRows[i]![BATCH_ROW_COLUMN], i);
    assert.equal(batch.objects[i]!.alertMjd, a.mjd);
    assert.equal(BATCH_ROW_COLUMN in batch.objects[i]!, false, 'the store\'s rows have no row number');
  }
});

test('the batch query adds the row number under a name the filter does not use', async () => {
  const compiled = await parseFilter({ id: 'x', select: 'objectId, alertMag AS nightjar_batch_row', where: 'alertMag < 20' }, catalog());
  assert.ok(!isFilterErrors(compiled));
  const q = batchQuery(compiled);
  assert.equal(q.rowColumn, '_nightjar_batch_row');
  assert.deepEqual(q.filter.columns, ['objectId', 'nightjar_batch_row', '_nightjar_batch_row']);
  assert.equal(q.filter.sql, `SELECT ${compiled.parts.select}, "objects"."nightjar_batch_row" AS "_nightjar_batch_row" FROM "objects" WHERE ${compiled.parts.where}`);
  assert.throws(() => batchCatalog(batchCatalog(catalog())), /already has a column/);
});

test('offsets: the range of each partition, and a commit of the last message of each', async () => {
  const messages = [message(null, 5, null, 1), message(null, 7, null, 0), message(null, 6, null, 1), message(null, 8, null, 0), message(null, 9, null, 1)];
  assert.deepEqual(partitionRanges(messages), [{ topic: 'raw', partition: 0, first: 7n, last: 8n, count: 2 }, { topic: 'raw', partition: 1, first: 5n, last: 9n, count: 3 }]);
  assert.deepEqual(lastPerPartition(messages).map((m) => m.offset).sort(), [8n, 9n]);
  assert.equal(await commitOffsets(messages), undefined);
  assert.deepEqual(messages.map((m) => m.commits), [0, 0, 0, 1, 1]);
  const failing = { ...message(null, 3), commit: () => Promise.reject(new Error('rebalanced')) };
  assert.match((await commitOffsets([failing])) ?? '', /raw\/0\/3: rebalanced/);
});

// A Pipeline whose filters deliver nothing to Kafka (silent and email outputs): its Kafka
// clients are created but never connect.
let store: Store;
let engine: FilterEngine;
let producer: BytesProducer;
let admin: Admin;
let pipeline: Pipeline;

before(async () => {
  store = await openStore({ path: ':memory:' });
  engine = await FilterEngine.create(batchCatalog(catalog()));
  producer = createProducer(defaultSettings());
  admin = createAdmin(defaultSettings());
  pipeline = new Pipeline({ store, engine, producer, admin, decode: { schemas: builtinSchemas() }, deadLetterTopic: 'unused', log: quiet });
});

after(async () => {
  await engine.close();
  await store.close();
  await producer.close();
  await admin.close();
});

function syntheticBatch(seed: number, count: number, from = 0): (ConsumedMessage & { commits: number })[] {
  const schema = lsstAlertParsedSchema();
  return [...generateAlerts({ seed, objects: 200, count, cutouts: false })].map((r, i) => message(encodeMessage(r, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value, from + i, null, i % 2));
}

test('a pipeline batch: stored, filtered, counted, committed; filters reloaded when they change; a broken one skipped', async () => {
  const first = await pipeline.processBatch(syntheticBatch(1, 100));
  assert.equal(first.processed, 100);
  assert.equal(first.filters.length, 0);
  assert.equal((await store.counts()).alerts, 100);

  const user = await store.createUser({ email: 'units@nightjar.invalid', name: 'units' });
  const bright = await store.saveFilter({ ownerId: user.id, name: 'bright', select: 'objectId, alertMag', where: 'alertMag < 21', output: 'email' });
  const all = await store.saveFilter({ ownerId: user.id, name: 'all', select: 'objectId', where: '', output: 'none' });
  const broken = await store.saveFilter({ ownerId: user.id, name: 'broken', select: 'objectId', where: 'nosuch > 1', output: 'none' });
  const messages = syntheticBatch(2, 150, 100);
  const second = await pipeline.processBatch(messages);
  assert.equal(second.filtersReloaded, true);
  assert.deepEqual(second.skippedFilters, [broken.id]);
  assert.deepEqual(second.filters.map((f) => f.id), [bright.id, all.id]);
  const allReport = second.filters.find((f) => f.id === all.id)!;
  assert.equal(allReport.matched, second.objects, 'a filter with no condition passes every object of the batch');
  assert.equal(allReport.records, 0, 'silent: nothing delivered');
  assert.deepEqual(messages.map((m) => m.commits).reduce((s, n) => s + n, 0), 2, 'one commit per partition');
  assert.equal(messages.at(-1)!.commits + messages.at(-2)!.commits, 2, 'of the last message of each');
  const counters = await store.filterCounters(all.id);
  assert.deepEqual(counters.map((c) => [c.night, c.matched]), [[utcNight(), second.objects]]);
  const pipelineCounters = await store.pipelineCounters();
  assert.deepEqual(pipelineCounters.map((c) => [c.alertsIn, c.processed, c.batches]), [[250, 250, 2]]);

  const third = await pipeline.processBatch(syntheticBatch(3, 10, 250));
  assert.equal(third.filtersReloaded, false, 'unchanged filters are not reloaded');
});

test('runExclusive runs between batches: after the batch under way, before the next one', async () => {
  const order: string[] = [];
  const batch = pipeline.processBatch(syntheticBatch(4, 200, 1000)).then(() => order.push('batch 1'));
  const exclusive = pipeline.runExclusive(async () => {
    order.push('exclusive start');
    await new Promise((r) => setTimeout(r, 50));
    order.push('exclusive end');
    return 7;
  });
  const next = pipeline.processBatch(syntheticBatch(5, 10, 2000)).then(() => order.push('batch 2'));
  assert.equal(await exclusive, 7);
  await Promise.all([batch, next]);
  assert.deepEqual(order, ['batch 1', 'exclusive start', 'exclusive end', 'batch 2']);
  await assert.rejects(pipeline.runExclusive(() => Promise.reject(new Error('saving failed'))), /saving failed/);
  const after = await pipeline.processBatch(syntheticBatch(6, 5, 3000));
  assert.equal(after.processed, 5, 'a failed exclusive task does not block the pipeline');
});
