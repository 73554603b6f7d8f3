// The broker end to end on the local Kafka: real Rubin alerts from ../shared/data (Rubin's own
// Confluent wire bytes with the lsst-alert_packet schemas, Fink-distributed v9.0 alerts
// re-encoded in wire format through a schema registry, v7.4 ones as container files), real ZTF
// alerts, a few thousand synthetic Rubin alerts and corrupt messages of every kind go into one
// raw topic; filters in each output mode (plain, lite, full, Avro, email, plus a broken one and
// an inactive one) are saved in the store; an in-process broker consumes it all.
//
// The expectation is computed here, independently of the pipeline: for each batch the broker
// reports (its offset range of the one-partition raw topic), the newest alert of each object in
// that range, its objects row, and each filter's condition written in JavaScript. Each filter
// topic must hold exactly those objects, in batch order, in the seed's JSON shapes (or Avro
// that decodes with the key's schema). Then: the dead letters, counters, /metrics, the committed
// offsets (a restart reads nothing), and Python's seed-001 code and fink-client on the streams.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import { objectFeatures, type ObjectRow } from '../src/features/index.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { alertObjectKey, type Alert } from '../src/formats/alert.ts';
import { parseSchema } from '../src/formats/avro-schema.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { SchemaSourceError } from '../src/formats/errors.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { decodeMessage, encodeMessage } from '../src/formats/message.ts';
import { combinedSource, registryClient, schemaDirectory, type SchemaSource } from '../src/formats/schema-source.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic, endOffsets } from '../src/kafka/topics.ts';
import { startBroker, type RunningBroker } from '../src/pipeline/broker.ts';
import type { BatchReport } from '../src/pipeline/pipeline.ts';
import { registerSchema } from '../src/registry/registry-client.ts';
import { startRegistryServer, type RunningRegistry } from '../src/registry/registry-server.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore } from '../src/store/index.ts';
import type { FilterOutput, Store, StoredFilter } from '../src/store/store.ts';
import { parse } from '../src/util/json.ts';
import { createLogger, type Logger } from '../src/util/log.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { asJson, headerMap, num, parseMetrics, readTopic, type RawMessage } from './pipeline-helpers.ts';

const exec = promisify(execFile);
const data = path.resolve(repoRoot, '../shared/data');
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const RAW = `nightjar-test-broker-raw-${run}`;
const DLQ = `nightjar-test-broker-dlq-${run}`;
const PREFIX = `nightjar-test-broker-${run}`;
const SYNTHETIC = 2500;
const ROW_LIMIT = 400;
const BATCH_SIZE = 1000;
type Rec = Record<string, unknown>;

interface FilterSpec {
  name: string;
  output: FilterOutput;
  select: string;
  where: string;
  active?: boolean;
  /** The condition, in JavaScript over an objects row; undefined for a filter that must not run. */
  passes?: (r: ObjectRow) => boolean;
}

const FILTERS: FilterSpec[] = [
  { name: 'plain bright', output: 'kafka', select: 'objectId, diaObjectId, ra, decl, alertMag, nSources', where: 'alertMag < 22.5', passes: (r) => num(r.alertMag) < 22.5 },
  { name: 'lite snr', output: 'kafka-lite', select: 'diaObjectId, alertSnr, survey', where: "alertSnr > 20 AND survey = 'lsst'", passes: (r) => num(r.alertSnr) > 20 && r.survey === 'lsst' },
  { name: 'full history', output: 'kafka-full', select: 'objectId, diaObjectId, nSources, latestReliability', where: 'nSources >= 3', passes: (r) => num(r.nSources) >= 3 },
  { name: 'avro reliable', output: 'kafka-avro', select: 'diaObjectId, objectId, ra, decl, alertMag', where: 'alertSnr > 40 AND nReliable >= 1', passes: (r) => num(r.alertSnr) > 40 && num(r.nReliable) >= 1 },
  { name: 'email colour', output: 'email', select: 'objectId, g_r', where: 'g_r IS NOT NULL', passes: (r) => r.g_r !== null },
  { name: 'every object', output: 'kafka', select: 'objectId', where: '', passes: () => true },
  { name: 'broken', output: 'kafka', select: 'objectId', where: 'nosuchcolumn > 1' },
  { name: 'inactive', output: 'kafka', select: 'objectId', where: '', active: false },
];

/** One message of the raw topic: its bytes and, for a good one, the alerts it holds. */
interface Sent {
  key: Buffer | null;
  value: Buffer;
  alerts: Alert[];
  /** For a corrupt message: the dead-letter kind it must get. */
  corrupt?: string;
}

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let registry: RunningRegistry;
let schemas: SchemaSource;
let store: Store;
let filters: StoredFilter[];
const sent: Sent[] = [];
const reports: BatchReport[] = [];
let metricsText = '';
let healthBody: Rec = {};
let healthStatus = 0;
const topics: string[] = [RAW, DLQ];
const quiet: Logger = { debug() {}, info() {}, warn() {}, error: (m, f) => createLogger().error(m, f), child() { return quiet; } };

function topicOf(f: StoredFilter): string {
  return `${PREFIX}_${f.ownerId}${f.name.replace(/[^A-Za-z0-9_.-]/g, '')}`;
}

async function realMessages(): Promise<Sent[]> {
  const out: Sent[] = [];
  const lsstDirs = schemaDirectory(path.join(data, 'lsst-alert_packet/schema'));
  // Rubin's own Kafka bytes (Confluent wire, schema ids 701, 703, 900).
  for (const name of ['25409136044802067', '3527242430321524769', '7912941781254298']) {
    const file = path.join(data, 'boom/alerts/lsst', `${name}.avro`);
    const [decoded] = await readAlertFile(file, { schemas: lsstDirs });
    const value = readFileSync(file);
    out.push({ key: Buffer.from(name), value, alerts: [toAlert(decoded!.record, decoded!.schema.name)] });
  }
  // Fink's v9.0 files re-encoded in Confluent wire format, their schema registered in a registry.
  const dir90 = path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro');
  for (const name of (await readdir(dir90)).sort()) {
    const [decoded] = await readAlertFile(path.join(dir90, name));
    const id = await registerSchema(registry.url, `${RAW}-value`, decoded!.schema.text);
    const { value } = encodeMessage(decoded!.record, { encoding: 'confluent', schema: decoded!.schema, schemaId: id });
    const alert = toAlert(decoded!.record, decoded!.schema.name);
    out.push({ key: Buffer.from(String(alert.objectId)), value, alerts: [alert] });
  }
  // Fink's v7.4 files and ZTF's as they are: one Avro container file per message.
  const dir74 = path.join(data, 'fink-broker/datasim/rubin_test_data_7_4_avro');
  const containers = [...(await readdir(dir74)).sort().map((n) => path.join(dir74, n)), ...['2695378462115010012', '3005140370015010009'].map((n) => path.join(data, 'boom/alerts/ztf', `${n}.avro`))];
  for (const file of containers) {
    const decoded = await readAlertFile(file);
    const alerts = decoded.map((d) => toAlert(d.record, d.schema.name));
    out.push({ key: Buffer.from(String(alerts[0]!.objectId)), value: readFileSync(file), alerts });
  }
  return out;
}

function corruptMessages(sample: Buffer): Sent[] {
  const missing = parseSchema({ type: 'record', name: 'alert', namespace: 'lsst.v99_0', fields: [{ name: 'diaSourceId', type: 'long' }, { name: 'diaSource', type: { type: 'record', name: 'diaSource', fields: [{ name: 'diaSourceId', type: 'long' }, { name: 'ra', type: 'double' }] } }] });
  const other = parseSchema({ type: 'record', name: 'thing', namespace: 'test', fields: [{ name: 'x', type: 'int' }] });
  const notAlert = encodeMessage({ x: 3 }, { encoding: 'schema-in-key', schema: other });
  return [
    { key: Buffer.from('truncated'), value: sample.subarray(0, Math.floor(sample.length / 2)), alerts: [], corrupt: 'undecodable' },
    { key: Buffer.from('unknown-id'), value: Buffer.concat([Buffer.from([0, 0, 0, 0x10, 0x92]), sample.subarray(5)]), alerts: [], corrupt: 'schema-unknown' },
    { key: Buffer.from('json'), value: Buffer.from('{"diaObjectId": 1}'), alerts: [], corrupt: 'undecodable' },
    { key: Buffer.from('empty'), value: Buffer.alloc(0), alerts: [], corrupt: 'empty' },
    { key: notAlert.key, value: notAlert.value, alerts: [], corrupt: 'not-an-alert' },
    { key: Buffer.from('missing'), value: encodeMessage({ diaSourceId: 5n, diaSource: { diaSourceId: 5n, ra: 1 } }, { encoding: 'container', schema: missing }).value, alerts: [], corrupt: 'missing-fields' },
  ];
}

async function syntheticMessages(): Promise<Sent[]> {
  const schema = lsstAlertParsedSchema();
  const out: Sent[] = [];
  for (const record of generateAlerts({ seed: 5, objects: 1500, count: SYNTHETIC, cutouts: false })) {
    const { value } = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID });
    // The alert as the broker receives it: Avro floats are single precision.
    const [received] = await decodeMessage(value, null, { schemas: builtinSchemas() });
    const alert = toAlert(received!.record, schema.name);
    out.push({ key: Buffer.from(String(alert.objectId)), value, alerts: [alert] });
  }
  return out;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let broker: RunningBroker;
let brokerError: unknown;
const filterTopics = new Map<string, RawMessage[]>();
let deadLetters: RawMessage[] = [];
let startedAt: Date;

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  registry = await startRegistryServer({ store: openRegistryStore() });
  schemas = combinedSource([registryClient(registry.url), schemaDirectory(path.join(data, 'lsst-alert_packet/schema')), builtinSchemas()]);

  const real = await realMessages();
  const synthetic = await syntheticMessages();
  const corrupt = corruptMessages(synthetic[0]!.value);
  // Corrupt messages among the real ones and in the middle of the synthetic ones.
  sent.push(...real.slice(0, 10), ...corrupt.slice(0, 3), ...real.slice(10), ...synthetic.slice(0, 1200), ...corrupt.slice(3), ...synthetic.slice(1200));

  await createTopic(admin, RAW, 1);
  await sendAll(producer, sent.map((s): OutgoingMessage => ({ topic: RAW, value: s.value, ...(s.key === null ? {} : { key: s.key }) })));
  assert.deepEqual(await endOffsets(admin, RAW), [BigInt(sent.length)], 'offsets 0..n-1 in the order sent');

  store = await openStore({ path: ':memory:' });
  const user = await store.createUser({ email: `broker-test-${run}@nightjar.invalid`, name: 'broker test' });
  filters = [];
  for (const f of FILTERS) filters.push(await store.saveFilter({ ownerId: user.id, name: f.name, select: f.select, where: f.where, output: f.output, active: f.active ?? true }));
  for (const f of filters) if (f.output.startsWith('kafka')) topics.push(topicOf(f));

  startedAt = new Date(Date.now() - 1000);
  broker = await startBroker({
    kafka: settings,
    topics: [RAW],
    groupId: `nightjar-test-broker-${run}`,
    store,
    httpPort: 0,
    topicPrefix: PREFIX,
    deadLetterTopic: DLQ,
    batchSize: BATCH_SIZE,
    batchMs: 2000,
    rowLimit: ROW_LIMIT,
    lagIntervalMs: 300,
    decode: { schemas },
    log: quiet,
    onBatch: (r) => reports.push(r),
  });
  broker.done.catch((err: unknown) => (brokerError = err));
  await waitFor('the broker to take every message', () => brokerError !== undefined || broker.health().messages >= sent.length);
  assert.equal(brokerError, undefined);
  // The lag monitor reads the committed offsets every 300 ms.
  await waitFor('a consumer lag of 0', async () => parseMetrics(await (await fetch(`${broker.http!.url}/metrics`)).text()).get(`nightjar_consumer_lag{topic="${RAW}",partition="0"}`) === 0);
  metricsText = await (await fetch(`${broker.http!.url}/metrics`)).text();
  const health = await fetch(`${broker.http!.url}/health`);
  healthStatus = health.status;
  healthBody = (await health.json()) as Rec;
  await broker.stop();

  for (const f of filters) if (f.output.startsWith('kafka') && f.active) filterTopics.set(f.name, await readTopic(settings, admin, topicOf(f)).catch(() => []));
  deadLetters = await readTopic(settings, admin, DLQ);
}, { timeout: 120_000 });

after(async () => {
  await broker?.stop().catch(() => undefined);
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await store?.close();
  await registry?.close();
  await producer?.close();
  await admin?.close();
  if (lease !== undefined) await releaseLocalKafka(lease);
});

/** The newest alert of each object among these messages, in order of first appearance (the test's own reading). */
function newestPerObject(messages: readonly Sent[]): Alert[] {
  const newest = new Map<string, Alert>();
  for (const m of messages) {
    for (const a of m.alerts) {
      const key = alertObjectKey(a);
      const kept = newest.get(key);
      if (kept === undefined || a.mjd > kept.mjd || (a.mjd === kept.mjd && a.sourceId > kept.sourceId)) newest.set(key, a);
    }
  }
  return [...newest.values()];
}

/** Per batch: the objects each filter should pass, from the batch's offset range. */
function expectedPerBatch(spec: FilterSpec): { alert: Alert; row: ObjectRow }[][] {
  return reports.map((r) => {
    assert.equal(r.partitions.length, 1);
    const range = r.partitions[0]!;
    const messages = sent.slice(Number(range.first), Number(range.last) + 1);
    assert.equal(messages.length, r.messages);
    return newestPerObject(messages).map((alert) => ({ alert, row: objectFeatures(alert) })).filter((o) => spec.passes!(o.row));
  });
}

function selected(spec: FilterSpec): string[] {
  return spec.select.split(',').map((s) => s.trim());
}

/** The records of one filter topic, split per batch in the batches' order (each batch's records carry one UTC). */
function splitByBatch(spec: FilterSpec, records: RawMessage[], expected: unknown[][]): RawMessage[][] {
  const out: RawMessage[][] = [];
  let at = 0;
  for (const batch of expected) {
    const n = spec.name === 'every object' ? Math.min(ROW_LIMIT, batch.length) : batch.length;
    out.push(records.slice(at, at + n));
    at += n;
  }
  assert.equal(at, records.length, `${spec.name}: ${records.length} records, ${at} expected`);
  return out;
}

const utcPattern = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function checkUtc(utc: unknown): void {
  assert.ok(typeof utc === 'string' && utcPattern.test(utc), `UTC ${String(utc)}`);
  const t = Date.parse(`${utc.replace(' ', 'T')}Z`);
  assert.ok(t >= startedAt.getTime() - 1000 && t <= Date.now(), `UTC ${utc} is when the test ran`);
}

/** Detection and forced-source times of a Rubin-layout record, as the survey wrote them. */
function rubinTimes(record: Rec): { detections: number[]; forced: number[] } {
  const time = (s: Rec): number => num(s.midpointMjdTai ?? s.midPointTai);
  const sources = [record.diaSource as Rec, ...((record.prvDiaSources as Rec[] | null) ?? [])];
  const unique = new Map(sources.map((s) => [String(s.diaSourceId), time(s)]));
  return { detections: [...unique.values()].sort((a, b) => a - b), forced: ((record.prvDiaForcedSources as Rec[] | null) ?? []).map(time).sort((a, b) => a - b) };
}

test('every message is accounted for: processed or dead-lettered, in batches of at most the batch size', () => {
  assert.ok(reports.length >= 3, `${reports.length} batches`);
  assert.ok(reports.every((r) => r.messages <= BATCH_SIZE));
  const corrupt = sent.filter((s) => s.corrupt !== undefined).length;
  assert.equal(reports.reduce((s, r) => s + r.messages, 0), sent.length);
  assert.equal(reports.reduce((s, r) => s + r.deadLetters, 0), corrupt);
  assert.equal(reports.reduce((s, r) => s + r.processed, 0), sent.reduce((s, m) => s + m.alerts.length, 0));
  // Consecutive offset ranges, 0 to the end: nothing skipped, nothing twice.
  let next = 0n;
  for (const r of reports) {
    assert.equal(r.partitions[0]!.first, next);
    next = r.partitions[0]!.last + 1n;
  }
  assert.equal(next, BigInt(sent.length));
  const broken = filters.find((f) => f.name === 'broken')!;
  assert.ok(reports.every((r) => r.skippedFilters.includes(broken.id)), 'the filter that does not compile is skipped');
  assert.ok(reports.every((r) => r.filters.length === FILTERS.filter((f) => f.passes !== undefined).length), 'the others run, the inactive one does not');
});

for (const spec of FILTERS.filter((f) => f.output.startsWith('kafka') && f.passes !== undefined && f.name !== 'every object')) {
  test(`the ${spec.output} topic holds exactly the expected objects, batch by batch, in the seed's shape`, async () => {
    const expected = expectedPerBatch(spec);
    const records = filterTopics.get(spec.name) ?? [];
    assert.ok(expected.flat().length > 0, `${spec.name} should match something`);
    assert.ok(expected.flat().some((o) => !o.alert.schema.startsWith('lsst.v10_0')), `${spec.name} matches real alerts too`);
    const batches = splitByBatch(spec, records, expected);
    const columns = selected(spec);
    for (const [b, batch] of batches.entries()) {
      const utcs = new Set<string>();
      for (const [i, message] of batch.entries()) {
        const { alert, row } = expected[b]![i]!;
        const where = `${spec.name}, batch ${b + 1}, record ${i}, object ${String(alert.objectId)}`;
        if (spec.output === 'kafka-avro') {
          assert.ok(message.key.length > 0, 'the key is the schema');
          const [decoded] = await decodeMessage(message.value, message.key);
          const rec = decoded!.record;
          for (const c of columns) assert.deepEqual(rec[c], row[c], `${where}: ${c}`);
          checkUtc(rec.UTC);
          utcs.add(rec.UTC as string);
          assert.equal(rec.diaSourceId, alert.survey === 'lsst' ? alert.sourceId : rec.diaSourceId, `${where}: diaSourceId`);
          assert.equal(rec.candid, alert.sourceId, `${where}: candid`);
          continue;
        }
        assert.ok(message.key === null || message.key === undefined || message.key.length === 0, 'JSON records have no key, as Lasair\'s');
        const text = message.value.toString('utf8');
        const record = parse(text) as Rec;
        assert.deepEqual(Object.keys(record), [...columns, 'UTC', ...(spec.output === 'kafka' ? [] : ['alert'])], `${where}: keys in order`);
        checkUtc(record.UTC);
        utcs.add(record.UTC as string);
        const plain = Object.fromEntries(columns.map((c) => [c, row[c]]));
        assert.deepEqual({ ...record, alert: undefined, UTC: undefined }, asJson({ ...plain, alert: undefined, UTC: undefined }), where);
        // 64-bit ids are bare digits in the JSON text.
        if (typeof row.diaObjectId === 'bigint') assert.ok(text.includes(`"diaObjectId":${row.diaObjectId}`), `${where}: exact diaObjectId`);
        const times = alert.survey === 'ztf' ? undefined : rubinTimes(alert.record);
        if (spec.output === 'kafka-lite') {
          const lite = record.alert as { diaSourcesList: Rec[]; diaForcedSourcesList: Rec[] };
          assert.deepEqual(Object.keys(lite), ['diaSourcesList', 'diaForcedSourcesList']);
          for (const s of lite.diaSourcesList) assert.deepEqual(Object.keys(s), ['psfFlux', 'psfFluxErr', 'midpointMjdTai', 'band', 'reliability']);
          for (const s of lite.diaForcedSourcesList) assert.deepEqual(Object.keys(s), ['psfFlux', 'psfFluxErr', 'midpointMjdTai', 'band']);
          assert.deepEqual(lite.diaSourcesList.map((s) => s.midpointMjdTai), times!.detections, `${where}: detections`);
          assert.deepEqual(lite.diaForcedSourcesList.map((s) => s.midpointMjdTai), times!.forced, `${where}: forced sources`);
        }
        if (spec.output === 'kafka-full') {
          const full = record.alert as { diaObject: Rec | null; diaSourcesList: Rec[]; diaForcedSourcesList: Rec[] };
          assert.deepEqual(Object.keys(full), ['diaObject', 'diaSourcesList', 'diaForcedSourcesList']);
          assert.ok(!/cutout/i.test(text), `${where}: no cutouts`);
          if (alert.survey === 'ztf') {
            assert.equal(full.diaObject?.objectId, alert.objectId);
            assert.deepEqual(new Set(full.diaSourcesList.map((s) => String(s.candid))), new Set(alert.lightcurve.detections.map((p) => String(p.sourceId))));
          } else {
            assert.deepEqual(asJson(full.diaObject?.diaObjectId), asJson((alert.record.diaObject as Rec | null)?.diaObjectId), `${where}: diaObject`);
            const ids = [alert.record.diaSource as Rec, ...((alert.record.prvDiaSources as Rec[] | null) ?? [])].map((s) => String(s.diaSourceId));
            assert.deepEqual(new Set(full.diaSourcesList.map((s) => String(s.diaSourceId))), new Set(ids), `${where}: sources`);
            assert.equal(full.diaForcedSourcesList.length, times!.forced.length);
          }
        }
      }
      assert.ok(utcs.size <= 1, 'one batch, one produced time');
    }
  });
}

test('a filter that passes more than the row limit delivers the limit per batch and counts the rest as dropped', async () => {
  const spec = FILTERS.find((f) => f.name === 'every object')!;
  const expected = expectedPerBatch(spec);
  const records = filterTopics.get(spec.name) ?? [];
  assert.ok(expected.some((b) => b.length > ROW_LIMIT), 'some batch has more objects than the limit');
  const batches = splitByBatch(spec, records, expected);
  for (const [b, batch] of batches.entries()) {
    const objects = new Set(expected[b]!.map((o) => String(o.row.objectId)));
    const got = batch.map((m) => String((parse(m.value.toString()) as Rec).objectId));
    assert.equal(new Set(got).size, got.length, 'each object once');
    for (const id of got) assert.ok(objects.has(id), `batch ${b + 1}: ${id} is an object of the batch`);
    const report = reports[b]!.filters.find((f) => f.name === spec.name)!;
    assert.equal(report.matched, expected[b]!.length, 'matched counts every object, not only those delivered');
    assert.equal(report.truncated, expected[b]!.length > ROW_LIMIT);
    assert.equal(report.dropped, Math.max(0, expected[b]!.length - ROW_LIMIT));
  }
});

test('corrupt messages are in the dead-letter topic, as received, with the reason and where they were read', () => {
  const corrupt = sent.map((s, offset) => ({ ...s, offset })).filter((s) => s.corrupt !== undefined);
  assert.equal(deadLetters.length, corrupt.length);
  for (const [i, d] of deadLetters.entries()) {
    const c = corrupt[i]!;
    const h = headerMap(d);
    assert.equal(h.get('nightjar-source'), `${RAW}/0/${c.offset}`);
    assert.equal(h.get('nightjar-error-kind'), c.corrupt, h.get('nightjar-error'));
    assert.ok((h.get('nightjar-error') ?? '').length > 10, 'a reason');
    assert.deepEqual(d.value ?? Buffer.alloc(0), c.value);
    assert.deepEqual(d.key, c.key);
  }
  assert.match(deadLetters.map((d) => headerMap(d).get('nightjar-error')).join('\n'), /schema id 4242/);
});

test('counters per filter and night, and the pipeline\'s, are in the store and on /metrics', async () => {
  assert.equal(healthStatus, 200);
  assert.equal(healthBody.status, 'running');
  const metrics = parseMetrics(metricsText);
  assert.equal(metrics.get(`nightjar_alerts_in_total{topic="${RAW}"}`), sent.length);
  assert.equal(metrics.get('nightjar_alerts_processed_total'), sent.reduce((s, m) => s + m.alerts.length, 0));
  assert.equal(metrics.get('nightjar_batches_total'), reports.length);
  for (const kind of ['undecodable', 'schema-unknown', 'empty', 'not-an-alert', 'missing-fields']) {
    assert.equal(metrics.get(`nightjar_dead_letters_total{reason="${kind}"}`), sent.filter((s) => s.corrupt === kind).length, kind);
  }
  assert.equal(metrics.get('nightjar_batch_seconds_count'), reports.length);
  assert.equal(metrics.get('nightjar_filters_active'), FILTERS.filter((f) => f.passes !== undefined).length);
  assert.equal(metrics.get('nightjar_filters_skipped'), 1);
  assert.ok(metricsText.includes('# TYPE nightjar_batch_seconds histogram'));

  const nights = await store.pipelineCounters();
  assert.equal(nights.reduce((s, n) => s + n.alertsIn, 0), sent.length);
  assert.equal(nights.reduce((s, n) => s + n.deadLetters, 0), sent.filter((s) => s.corrupt !== undefined).length);
  for (const spec of FILTERS.filter((f) => f.passes !== undefined)) {
    const f = filters.find((x) => x.name === spec.name)!;
    const matched = expectedPerBatch(spec).reduce((s, b) => s + b.length, 0);
    const counters = await store.filterCounters(f.id);
    const total = (k: 'matched' | 'records' | 'bytes' | 'dropped'): number => counters.reduce((s, n) => s + n[k], 0);
    assert.equal(total('matched'), matched, `${spec.name} matched`);
    assert.equal(metrics.get(`nightjar_filter_matches_total{filter="${f.id}"}`), matched);
    const records = (filterTopics.get(spec.name) ?? []).length;
    assert.equal(total('records'), records, `${spec.name} records`);
    assert.equal(metrics.get(`nightjar_filter_records_total{filter="${f.id}"}`), records);
    const bytes = (filterTopics.get(spec.name) ?? []).reduce((s, m) => s + m.value.length + (m.key?.length ?? 0), 0);
    assert.equal(total('bytes'), bytes, `${spec.name} bytes`);
    if (spec.output === 'email') assert.equal(total('records'), 0, 'email matches are counted, not delivered by the pipeline');
  }
});

test('the input offsets are committed: a restart with the same group consumes nothing', async () => {
  const offsets = await admin.listConsumerGroupOffsets({ groups: [{ groupId: broker.groupId, topics: [{ name: RAW, partitionIndexes: [0] }] }] });
  assert.equal(offsets[0]?.topics[0]?.partitions[0]?.committedOffset, BigInt(sent.length));
  const again = await startBroker({ kafka: settings, topics: [RAW], groupId: broker.groupId, store, httpPort: null, topicPrefix: PREFIX, deadLetterTopic: DLQ, idleMs: 3000, decode: { schemas }, log: quiet });
  const result = await again.done;
  await again.stop();
  assert.deepEqual({ batches: result.batches, messages: result.messages, stoppedBy: result.stoppedBy }, { batches: 0, messages: 0, stoppedBy: 'idle' });
});

test('an unreachable schema registry holds the batch back (retried, not dead-lettered) until it answers', async () => {
  const topic = `${RAW}-registry`;
  const dlq = `${DLQ}-registry`;
  topics.push(topic, dlq);
  await createTopic(admin, topic, 1);
  await sendAll(producer, sent.slice(0, 40).filter((s) => s.corrupt === undefined).map((s) => ({ topic, value: s.value })));
  let down = true;
  const flaky: SchemaSource = {
    location: 'flaky registry',
    byId: (id) => (down ? Promise.reject(new SchemaSourceError('unavailable', 'flaky registry', id, 'connection refused')) : schemas.byId(id)),
    list: () => schemas.list(),
  };
  const memory = await openStore({ path: ':memory:' });
  const b = await startBroker({ kafka: settings, topics: [topic], groupId: `${topic}-g`, store: memory, httpPort: null, topicPrefix: PREFIX, deadLetterTopic: dlq, batchMs: 500, decode: { schemas: flaky }, retry: { initialDelayMs: 100, maxDelayMs: 200 }, log: quiet });
  try {
    await waitFor('two retries', () => b.metrics.batchRetries.value({ reason: 'schema-source-unavailable' }) >= 2, 20_000);
    assert.equal(b.health().status, 'retrying');
    assert.equal(b.health().messages, 0);
    down = false;
    await waitFor('the batch', () => b.health().messages > 0, 20_000);
    assert.equal(b.health().status, 'running');
  } finally {
    await b.stop();
  }
  assert.equal((await readTopic(settings, admin, dlq)).length, 0, 'nothing dead-lettered');
  assert.equal((await memory.counts()).alerts, sent.slice(0, 40).filter((s) => s.corrupt === undefined).reduce((s, m) => s + m.alerts.length, 0));
  await memory.close();
});

test('seed 001\'s consumer code (confluent_kafka + json.loads) and fink-client read the broker\'s streams, ids exact', { timeout: 180_000 }, async () => {
  const env = await exec(path.join(repoRoot, 'scripts/python-env.sh'), [], { timeout: 900_000 });
  const python = env.stdout.trim().split('\n').at(-1) as string;
  const runPython = async (script: string, args: string[]): Promise<{ lines: unknown[]; end: string; stderr: string }> => {
    const { stdout, stderr } = await exec(python, [path.join(repoRoot, 'test/python', script), settings.bootstrap.join(','), ...args], { timeout: 150_000, maxBuffer: 256 * 1024 * 1024 });
    const lines = stdout.trim().split('\n').filter((l) => l !== '').map((l) => parse(l));
    const last = lines.pop() as { end?: string };
    return { lines, end: String(last.end), stderr };
  };

  const plainSpec = FILTERS[0]!;
  const plain = filterTopics.get(plainSpec.name)!;
  const lasair = await runPython('delivery_lasair_consumer.py', [`nightjar-test-${run}-lasair`, topicOf(filters[0]!), String(plain.length), '20']);
  assert.equal(lasair.end, 'count');
  assert.deepEqual(lasair.lines, plain.map((m) => parse(m.value.toString())));
  const ids = expectedPerBatch(plainSpec).flat().map((o) => o.row.diaObjectId);
  assert.deepEqual(lasair.lines.map((l) => asJson((l as Rec).diaObjectId)), ids.map(asJson));
  assert.ok(ids.some((id) => typeof id === 'bigint' && id > 2n ** 53n), 'ids beyond 2^53 among them');

  const avroSpec = FILTERS.find((f) => f.output === 'kafka-avro')!;
  const avroFilter = filters.find((f) => f.name === avroSpec.name)!;
  const avro = filterTopics.get(avroSpec.name)!;
  const outdir = await mkdtemp(path.join(tmpdir(), 'nightjar-broker-fink-'));
  try {
    const fink = await runPython('delivery_fink_consumer.py', [`nightjar-test-${run}-fink`, topicOf(avroFilter), String(avro.length), '20', outdir]);
    assert.equal(fink.end, 'count', fink.stderr.slice(-2000));
    assert.equal(fink.lines.length, avro.length);
    for (const [i, line] of fink.lines.entries()) {
      const ours = (await decodeMessage(avro[i]!.value, avro[i]!.key))[0]!.record;
      assert.deepEqual((line as { alert: Rec }).alert, asJson(ours), `Avro record ${i}`);
    }
    assert.equal(fink.stderr.split('Emitted at (UTC)').length - 1, 2 * avro.length, 'fink-client displayed every alert');
    assert.ok((await readdir(outdir)).length >= avro.length, 'and saved them');
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
});
