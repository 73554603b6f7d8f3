// The simulator through the real local Kafka: real Rubin alerts (Fink's LSSTCam sample, boom's
// wire-format alerts, Fink-distributed v10 alerts) and 20,000 synthetic ones are replayed and
// consumed back: counts, time order in every partition, keys = object ids, ids exact, the
// printed lines in fink-alert-simulator's format, and the cadence.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { combinedSource, registryClient, schemaDirectory, type SchemaSource } from '../src/formats/schema-source.ts';
import { createAdmin, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { registryPreload } from '../src/registry/registry-preload.ts';
import { startRegistryServer, type RunningRegistry } from '../src/registry/registry-server.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';
import { listAlertInputs } from '../src/simulate/alert-sources.ts';
import { partitionForKey } from '../src/simulate/partitioning.ts';
import { runSimulation, type SimulationSpec } from '../src/simulate/simulation.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { consumeTopic, type ConsumedMessage } from './simulate-consume.ts';

const data = path.resolve(repoRoot, '../shared/data');
/** Real Rubin alerts: 40 Fink LSSTCam/rehearsal alerts, 3 boom wire-format alerts (v7.1, v7.3, v9.0), 7 Fink v10 alerts. */
export const REAL_RUBIN = ['fink-broker/datasim', 'boom/alerts/lsst', 'fink-client/datatest/lsst'].map((p) => path.join(data, p));
const SCHEMA_DIR = path.join(data, 'lsst-alert_packet/schema');

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let registry: RunningRegistry;
let schemas: SchemaSource;
const topics: string[] = [];
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  registry = await startRegistryServer({ store: openRegistryStore({ preload: registryPreload().schemas }) });
  schemas = combinedSource([schemaDirectory(SCHEMA_DIR), builtinSchemas()]);
});

after(async () => {
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await admin.close();
  await registry.close();
  await releaseLocalKafka(lease);
});

function topicName(label: string): string {
  const topic = `nightjar-test-simulate-${label}-${run}`;
  topics.push(topic);
  return topic;
}

/** The real alerts as Nightjar reads them, in the order the simulator must send them. */
async function expectedAlerts(paths: string[]): Promise<Alert[]> {
  const alerts: Alert[] = [];
  for (const input of await listAlertInputs(paths)) {
    for (const d of await readAlertFile(input.path, { schemas })) alerts.push(toAlert(d.record, d.schema.name));
  }
  return alerts.sort((a, b) => (a.mjd !== b.mjd ? a.mjd - b.mjd : a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0));
}

function spec(overrides: Partial<SimulationSpec> & Pick<SimulationSpec, 'topic'>, lines: string[], warnings: string[]): SimulationSpec {
  return {
    grouping: { kind: 'exposure' },
    observations: -1,
    intervalSeconds: 0,
    fast: true,
    partitions: 3,
    encoding: 'confluent',
    registryUrl: registry.url,
    kafka: settings,
    decode: { schemas },
    out: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
    ...overrides,
  };
}

/** Checks the seed's line format and returns the observations' counts and display ranges. */
function parseLines(lines: string[], description: string, available: number, planned: number): { count: number; first: string; last: string; start: number }[] {
  assert.equal(lines[0], `Total alert available (${description}): ${available}`);
  assert.equal(lines[1], `Total alert to be sent: ${planned}`);
  assert.match(lines[2]!, /^t0: \d{10}\.\d+$/);
  const observations = [];
  const body = lines.slice(3);
  assert.equal(body.length % 3, 0, `observation lines come in threes:\n${body.join('\n')}`);
  for (let i = 0; i < body.length; i += 3) {
    const start = /^Observation start: t0 \+ : (\d+\.\d\d) seconds$/.exec(body[i]!);
    const sent = /^(\d+) alerts sent \((\S+) to (\S+)\)$/.exec(body[i + 1]!);
    assert.ok(start && sent, `observation lines: ${body.slice(i, i + 3).join(' | ')}`);
    assert.equal(body[i + 2], `Observation ${i / 3 + 1} done...`);
    observations.push({ count: Number(sent[1]), first: sent[2]!, last: sent[3]!, start: Number(start[1]) });
  }
  assert.equal(observations.reduce((n, o) => n + o.count, 0), planned);
  return observations;
}

/** Decodes consumed messages, checks keys/partitions and time order per partition; returns the alerts in consumption order. */
async function checkConsumed(messages: ConsumedMessage[], partitions: number, keyed: 'object-id' | 'schema-in-key', decodeWith: SchemaSource): Promise<Alert[]> {
  const alerts: Alert[] = [];
  const lastInPartition = new Map<number, Alert>();
  for (const m of messages) {
    const [decoded] = await decodeMessage(m.value, m.key, { schemas: decodeWith, source: `partition ${m.partition} offset ${m.offset}` });
    const alert = toAlert(decoded!.record, decoded!.schema.name);
    const objectKey = Buffer.from(String(alert.objectId));
    if (keyed === 'object-id') assert.equal(m.key?.toString(), String(alert.objectId), 'key = object id');
    assert.equal(m.partition, partitionForKey(objectKey, partitions), 'partition from the object id');
    const previous = lastInPartition.get(m.partition);
    if (previous !== undefined) {
      const ordered = previous.mjd < alert.mjd || (previous.mjd === alert.mjd && previous.sourceId <= alert.sourceId);
      assert.ok(ordered, `partition ${m.partition}: ${alert.sourceId} at ${alert.mjd} after ${previous.sourceId} at ${previous.mjd}`);
    }
    lastInPartition.set(m.partition, alert);
    alerts.push(alert);
  }
  return alerts;
}

const sortedIds = (alerts: Alert[]): string[] => alerts.map((a) => String(a.sourceId)).sort();

test('real Rubin alerts: replayed in time order as Confluent wire format with registry ids, consumed back exactly', { timeout: 120_000 }, async () => {
  const topic = topicName('real');
  const lines: string[] = [];
  const warnings: string[] = [];
  const expected = await expectedAlerts(REAL_RUBIN);
  assert.equal(expected.length, 50);
  const result = await runSimulation(spec({ topic, data: REAL_RUBIN, display: ['diaSource', 'midpointMjdTai'] }, lines, warnings));
  assert.deepEqual(warnings, []);
  assert.equal(result.sent, 50);
  assert.deepEqual(result.skipped, []);

  // Printed lines: one observation per visit, first/last display values in time order.
  const observations = parseLines(lines, REAL_RUBIN.join(', '), 50, 50);
  const displays = expected.map((a) => String((a.record.diaSource as { midpointMjdTai: number }).midpointMjdTai));
  let at = 0;
  for (const o of observations) {
    assert.equal(o.first, displays[at]);
    assert.equal(o.last, displays[at + o.count - 1]);
    at += o.count;
  }
  const visits = new Set(expected.map((a) => String((a.record.diaSource as { visit: bigint }).visit)));
  assert.equal(observations.length, visits.size, 'one observation per visit');

  // Registry ids: Rubin's for the schemas named lsst.vX_Y, fresh ones for Fink's Spark schemas.
  const ids = new Map(result.schemas.map((s) => [s.name, s.id]));
  assert.equal(ids.get('lsst.v9_0.alert'), 900);
  assert.equal(ids.get('lsst.v7_1.alert'), 701);
  assert.equal(ids.get('lsst.v7_3.alert'), 703);

  const messages = await consumeTopic(settings, topic, 50);
  assert.equal(messages.length, 50, 'no message lost or duplicated');
  assert.ok(messages.every((m) => m.value[0] === 0 && result.schemas.some((s) => s.id === m.value.readUInt32BE(1))), 'Confluent frames with registered ids');
  const consumed = await checkConsumed(messages, 3, 'object-id', registryClient(registry.url));
  assert.deepEqual(sortedIds(consumed), sortedIds(expected));
  assert.ok(consumed.some((a) => a.sourceId > 2n ** 53n));
});

test('cadence: observations start one interval apart; --observations limits what is sent', { timeout: 60_000 }, async () => {
  const topic = topicName('cadence');
  const lines: string[] = [];
  const paths = [path.join(data, 'fink-broker/datasim')];
  const expected = await expectedAlerts(paths);
  const visitSizes: number[] = [];
  let previousVisit: unknown;
  for (const a of expected) {
    const visit = (a.record.diaSource as { visit: bigint }).visit;
    if (visit === previousVisit) visitSizes[visitSizes.length - 1]!++;
    else visitSizes.push(1);
    previousVisit = visit;
  }
  const planned = visitSizes.slice(0, 3).reduce((a, b) => a + b, 0);
  const began = performance.now();
  const result = await runSimulation(spec({ topic, data: paths, fast: false, intervalSeconds: 0.4, observations: 3, encoding: 'container', registryUrl: undefined }, lines, []));
  const elapsed = (performance.now() - began) / 1000;
  assert.equal(result.sent, planned);
  const observations = parseLines(lines, paths[0]!, 40, planned);
  assert.deepEqual(observations.map((o) => o.count), visitSizes.slice(0, 3));
  observations.forEach((o, k) => assert.ok(Math.abs(o.start - 0.4 * k) < 0.2, `observation ${k + 1} started at ${o.start} s`));
  assert.ok(elapsed >= 0.8, `three observations 0.4 s apart took ${elapsed} s`);
  const consumed = await checkConsumed(await consumeTopic(settings, topic, planned), 3, 'object-id', schemas);
  assert.deepEqual(sortedIds(consumed), sortedIds(expected.slice(0, planned)));
});

test('20,000 synthetic alerts at Rubin\'s 10,000 per visit, as fast as possible: all arrive, in order, ids exact', { timeout: 120_000 }, async () => {
  const topic = topicName('synthetic');
  const lines: string[] = [];
  const count = 20_000;
  const result = await runSimulation(spec({ topic, synthetic: { count, seed: 11, cutouts: false }, grouping: { kind: 'fixed', perObservation: 10_000 }, partitions: 4 }, lines, []));
  assert.equal(result.sent, count);
  const observations = parseLines(lines, 'synthetic, seed 11', count, count);
  assert.deepEqual(observations.map((o) => o.count), [10_000, 10_000]);
  assert.deepEqual(result.schemas, [{ name: 'lsst.v10_0.alert', id: 1000 }]);

  const messages = await consumeTopic(settings, topic, count, { timeoutMs: 90_000 });
  assert.equal(messages.length, count);
  const consumed = await checkConsumed(messages, 4, 'object-id', registryClient(registry.url));
  const generated: string[] = [];
  for (const record of generateAlerts({ seed: 11, objects: 20_000, count, cutouts: false })) generated.push(String((record as { diaSourceId: bigint }).diaSourceId));
  assert.deepEqual(sortedIds(consumed), generated.sort());
  assert.equal(new Set(messages.map((m) => m.partition)).size, 4, 'every partition used');
});

test('the other encodings: container (ZTF style), schema-in-key (Fink), schemaless', { timeout: 120_000 }, async () => {
  const mixed = [path.join(data, 'fink-broker/datasim/rubin_test_data_7_4_avro'), path.join(data, 'fink-client/datatest/ztf'), path.join(data, 'boom/alerts/ztf')];
  const expected = await expectedAlerts(mixed);
  for (const encoding of ['container', 'schema-in-key'] as const) {
    const topic = topicName(encoding);
    const result = await runSimulation(spec({ topic, data: mixed, encoding, registryUrl: undefined, partitions: 2 }, [], []));
    assert.equal(result.sent, expected.length);
    const messages = await consumeTopic(settings, topic, expected.length);
    if (encoding === 'schema-in-key') assert.ok(messages.every((m) => m.key?.toString().startsWith('{')), 'the key is the schema');
    else assert.ok(messages.every((m) => m.value.subarray(0, 4).toString('latin1') === 'Obj\x01'), 'container files');
    const consumed = await checkConsumed(messages, 2, encoding === 'schema-in-key' ? 'schema-in-key' : 'object-id', schemas);
    assert.deepEqual(sortedIds(consumed), sortedIds(expected));
  }

  // Schemaless: one writer schema, named to the user (and published when a registry is given).
  const topic = topicName('schemaless');
  const warnings: string[] = [];
  const result = await runSimulation(spec({ topic, synthetic: { count: 300, seed: 5, cutouts: true }, encoding: 'schemaless' }, [], warnings));
  assert.equal(result.sent, 300);
  assert.deepEqual(warnings, [`schemaless Avro: consumers need writer schema lsst.v10_0.alert, registry id 1000: ${registry.url}/schemas/ids/1000`]);
  const messages = await consumeTopic(settings, topic, 300);
  const consumed = [];
  for (const m of messages) {
    const [d] = await decodeMessage(m.value, m.key, { schema: lsstAlertParsedSchema() });
    consumed.push(toAlert(d!.record, d!.schema.name));
  }
  assert.equal(consumed.length, 300);
  await assert.rejects(runSimulation(spec({ topic, data: mixed, encoding: 'schemaless' }, [], [])), /schemaless encoding needs a single writer schema/);
});
