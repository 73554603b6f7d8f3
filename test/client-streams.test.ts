// The consumer CLI end to end on the local Kafka, on every kind of stream a user meets, each
// consumed with `nightjar consume --save` (stderr piped: no progress line), viewed with
// `nightjar view` (each lightcurve PNG decoded: its size, and pixels of each band's colour in
// the plot area; cutouts written as PNGs) and exported with `nightjar export --format parquet`
// (read back with DuckDB: the row count, and the ids exact as BIGINT):
//   - streams produced by Python (confluent_kafka + fastavro, test/python/produce_alert_streams.py)
//     from real Rubin alerts: Lasair-style JSON (full and lite records), Fink's Avro with the
//     schema in the key, Confluent wire format with the schema in Nightjar's registry;
//     the Fink stream also saved with --format json, which view and export read the same way;
//   - Nightjar's simulator replaying the real Rubin alerts of ../shared/data in wire format;
//   - Nightjar's broker on that simulated stream, with a kafka, kafka-lite, kafka-full and a
//     kafka-avro filter.
// What each stream holds is known independently: from the Python producer's own lines, from
// the alert files, or by reading the filter topic back and decoding it here.
// (A group resuming where it left off and a new group reading from the start are in
// client-consume.test.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Admin } from '@platformatic/kafka';
import { lightcurvePlot, bandColour } from '../src/client/plot-model.ts';
import { parseHexColour } from '../src/client/plot-raster.ts';
import { decodePng } from '../src/client/png.ts';
import { listSavedAlertFiles, readSavedAlerts } from '../src/client/saved-alerts.ts';
import { savedRecordToAlert } from '../src/client/stream-record.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { combinedSource, registryClient, schemaDirectory } from '../src/formats/schema-source.ts';
import { createAdmin, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { startBroker } from '../src/pipeline/broker.ts';
import { registryPreload } from '../src/registry/registry-preload.ts';
import { startRegistryServer, type RunningRegistry } from '../src/registry/registry-server.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';
import { listAlertInputs } from '../src/simulate/alert-sources.ts';
import { runSimulation } from '../src/simulate/simulation.ts';
import { openStore } from '../src/store/index.ts';
import type { FilterOutput } from '../src/store/store.ts';
import { parse } from '../src/util/json.ts';
import type { Logger } from '../src/util/log.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { readTopic } from './pipeline-helpers.ts';

const exec = promisify(execFile);
const data = path.resolve(repoRoot, '../shared/data');
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const topicName = (name: string): string => `nightjar-test-streams-${name}-${run}`;
const groupName = (name: string): string => `nightjar-test-streams-${name}-${run}`;
// Real Rubin alerts: 7 v10.0 ones with long histories (Fink's transfer file) and 5 v9.0 ones.
const FINK_LSST = path.join(data, 'fink-client/datatest/lsst/part-2-918301.avro');
const RUBIN_90 = path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro');
const REAL_RUBIN = ['fink-broker/datasim', 'boom/alerts/lsst', 'fink-client/datatest/lsst'].map((p) => path.join(data, p));
const lsstSchemas = schemaDirectory(path.join(data, 'lsst-alert_packet/schema'));
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let registry: RunningRegistry;
let python: string;
let tmp: string;
const topics: string[] = [];

before(async () => {
  const env = await exec(path.join(repoRoot, 'scripts/python-env.sh'), [], { timeout: 900_000 });
  python = env.stdout.trim().split('\n').at(-1) as string;
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  registry = await startRegistryServer({ store: openRegistryStore({ preload: registryPreload().schemas }) });
  tmp = await mkdtemp(path.join(tmpdir(), 'nightjar-streams-test-'));
});

after(async () => {
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  const groups = [...(await admin.listGroups()).keys()].filter((g) => g.startsWith('nightjar-test-streams-') && g.endsWith(run));
  if (groups.length > 0) await admin.deleteGroups({ groups }).catch(() => undefined);
  await admin?.close();
  await registry?.close();
  await rm(tmp, { recursive: true, force: true });
  if (lease !== undefined) await releaseLocalKafka(lease);
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function nightjar(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot, env: { ...process.env, NIGHTJAR_HOME: path.join(tmp, 'home'), NIGHTJAR_LOG_LEVEL: 'warn' }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** `nightjar consume --save` of n alerts into a new folder; returns the folder. Stderr is a pipe here: no progress line. */
async function consumeSave(topic: string, n: number, name: string, extra: string[] = []): Promise<string> {
  const dir = path.join(tmp, 'saved', name);
  const result = await nightjar(['consume', '--servers', lease.bootstrap, '--topics', topic, '--group-id', groupName(name), '--save', '--outdir', dir, '--limit', String(n), '--timeout', '10', '--registry', registry.url, ...extra]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`received ${n} alerts, saved ${n} in `), result.stderr);
  assert.ok(!result.stderr.includes('\r') && !result.stderr.includes('\x1b'), `no progress line in piped stderr: ${JSON.stringify(result.stderr)}`);
  assert.equal((await readdir(dir)).length, n, `${n} files in ${dir}`);
  return dir;
}

/** Pixels of an RGBA image equal to a colour inside a rectangle. */
function countColour(image: { width: number; pixels: Uint8Array }, rgb: readonly number[], box: { left: number; top: number; right: number; bottom: number }): number {
  let n = 0;
  for (let y = Math.ceil(box.top); y < box.bottom; y++) {
    for (let x = Math.ceil(box.left); x < box.right; x++) {
      const at = (y * image.width + x) * 4;
      if (image.pixels[at] === rgb[0] && image.pixels[at + 1] === rgb[1] && image.pixels[at + 2] === rgb[2]) n++;
    }
  }
  return n;
}

/** The lightcurve PNG of an alert is a real plot: 800x500, every plotted band's colour inside the plot area. */
async function checkPlot(file: string, alert: Alert): Promise<void> {
  const bytes = await readFile(file);
  const image = decodePng(bytes);
  assert.equal(image.width, 800, file);
  assert.equal(image.height, 500, file);
  const model = lightcurvePlot(alert);
  const bands = new Set([...alert.lightcurve.detections, ...alert.lightcurve.forced].filter((p) => p.flux !== null).map((p) => p.band));
  assert.ok(bands.size >= 1, `${file}: nothing plotted`);
  for (const band of bands) assert.ok(countColour(image, parseHexColour(bandColour(band)), model.area) >= 4, `${file}: no ${band} pixels in the plot area`);
  const colours = new Set<number>();
  for (let i = 0; i < image.pixels.length; i += 4) colours.add(((image.pixels[i] as number) << 16) | ((image.pixels[i + 1] as number) << 8) | (image.pixels[i + 2] as number));
  assert.ok(colours.size >= 3, `${file}: background, axes and points`);
}

/**
 * `nightjar view` of a folder: every saved alert gets its lightcurve PNG (checked by checkPlot),
 * and `cutouts` PNG cutouts each; returns the alerts as read back from the saved files.
 */
async function viewAndCheck(dir: string, cutoutsPerAlert: number): Promise<Alert[]> {
  const out = path.join(tmp, 'view', path.basename(dir));
  const result = await nightjar(['view', dir, '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '', 'every alert is viewable');
  const alerts: Alert[] = [];
  for (const file of await listSavedAlertFiles([dir])) for (const saved of await readSavedAlerts(file)) alerts.push(savedRecordToAlert(saved.record, saved.schemaName));
  const plots = result.stdout.split('\n').filter((l) => /^lightcurve\s+\S+\.png \(\d+ points\)$/.test(l));
  assert.equal(plots.length, alerts.length, result.stdout);
  for (const alert of alerts) await checkPlot(path.join(out, `${alert.sourceId}_lightcurve.png`), alert);
  const cutouts = result.stdout.split('\n').filter((l) => /^cutout (science|template|difference)\s+\S+\.png \(\d+x\d+\)$/.test(l));
  assert.equal(cutouts.length, cutoutsPerAlert * alerts.length, result.stdout);
  for (const line of cutouts) {
    const file = /\s(\S+\.png) \(/.exec(line)?.[1] as string;
    const [w, h] = (/\((\d+)x(\d+)\)$/.exec(line) ?? []).slice(1).map(Number);
    const image = decodePng(await readFile(file));
    assert.deepEqual([image.width, image.height], [w, h]);
  }
  return alerts;
}

/** `nightjar export --format parquet`, read back with DuckDB: the row count and one id column, exactly. */
async function exportParquet(dirs: string[], name: string, idColumn: string): Promise<{ rows: bigint; ids: bigint[] }> {
  const file = path.join(tmp, `${name}.parquet`);
  const result = await nightjar(['export', ...dirs, '--format', 'parquet', '--out', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes('\r') && !result.stderr.includes('\x1b'), 'no progress line in piped stderr');
  assert.ok((await stat(file)).size > 0);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const count = await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${file}')`);
    const ids = await connection.runAndReadAll(`SELECT "${idColumn}" AS id, typeof("${idColumn}") AS t FROM read_parquet('${file}') WHERE "${idColumn}" IS NOT NULL`);
    const got = ids.getRowObjects();
    assert.ok(got.every((r) => r.t === 'BIGINT'), `${idColumn} is BIGINT`);
    return { rows: count.getRowObjects()[0]?.n as bigint, ids: got.map((r) => r.id as bigint).sort(compare) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const compare = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const sortedIds = (ids: Iterable<bigint>): bigint[] => [...ids].sort(compare);
const anyId = (v: unknown): bigint => BigInt(v as bigint | number);

test('streams produced by Python (confluent_kafka + fastavro): Lasair JSON, Fink Avro with the schema in the key, Confluent wire format', { timeout: 600_000 }, async () => {
  const jsonTopic = topicName('py-json');
  const finkTopic = topicName('py-fink');
  const wireTopic = topicName('py-wire');
  topics.push(jsonTopic, finkTopic, wireTopic);
  for (const t of [jsonTopic, finkTopic, wireTopic]) await createTopic(admin, t, 2);
  const files = [FINK_LSST, ...(await readdir(RUBIN_90)).sort().slice(0, 5).map((n) => path.join(RUBIN_90, n))];
  const produced = await exec(python, [path.join(repoRoot, 'test/python/produce_alert_streams.py'), lease.bootstrap, registry.url, jsonTopic, finkTopic, wireTopic, ...files], { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
  const lines = produced.stdout.trim().split('\n').map((l) => parse(l) as Record<string, unknown>);
  const end = lines.pop();
  assert.equal(end?.end, 'ok', produced.stderr);
  const n = lines.length;
  assert.equal(n, 12);
  const sourceIds = sortedIds(lines.map((l) => anyId(l.diaSourceId)));
  assert.ok(sourceIds.every((id) => id > 2n ** 53n), 'ids beyond 2^53');

  // Lasair-style JSON: full records are read by the Rubin adapter, lite ones by their points.
  const jsonDir = await consumeSave(jsonTopic, n, 'py-json');
  assert.ok((await readdir(jsonDir)).every((f) => f.endsWith('.json')));
  const jsonAlerts = await viewAndCheck(jsonDir, 0);
  assert.deepEqual(sortedIds(jsonAlerts.map((a) => a.sourceId)), sourceIds);
  assert.ok(jsonAlerts.some((a) => a.lightcurve.detections.length > 100 && a.lightcurve.forced.length > 100), 'a long lightcurve came through JSON');
  const jsonTable = await exportParquet([jsonDir], 'py-json', 'diaSourceId');
  assert.equal(jsonTable.rows, BigInt(n));
  assert.deepEqual(jsonTable.ids, sourceIds);

  // On a terminal (a pseudo-terminal from util-linux script), --limit draws the progress line;
  // --no-progress does not.
  for (const progress of [true, false]) {
    const args = ['consume', '--servers', lease.bootstrap, '--topics', jsonTopic, '--group-id', groupName(`tty-${progress}`), '--limit', String(n), '--timeout', '10', ...(progress ? [] : ['--no-progress'])];
    const command = [path.join(repoRoot, 'nightjar'), ...args].map((a) => `'${a}'`).join(' ');
    const { stdout: shown } = await exec('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, NIGHTJAR_HOME: path.join(tmp, 'home'), NIGHTJAR_LOG_LEVEL: 'warn' }, timeout: 60_000 });
    assert.match(shown, new RegExp(`received ${n} alerts`), shown);
    if (progress) assert.match(shown, new RegExp(`\\r\\[#+\\] 100% {2}${n}/${n} alerts {2}[\\d,]+/s {2}0:\\d\\d`), JSON.stringify(shown));
    else assert.ok(!shown.includes('\r[') && !shown.includes('\x1b[2K'), JSON.stringify(shown));
  }

  // Fink's framing and the wire format: Avro containers with the writer schema, cutouts kept.
  for (const [topic, name] of [[finkTopic, 'py-fink'], [wireTopic, 'py-wire']] as const) {
    const dir = await consumeSave(topic, n, name);
    assert.ok((await readdir(dir)).every((f) => f.endsWith('.avro')));
    const alerts = await viewAndCheck(dir, 3);
    assert.deepEqual(sortedIds(alerts.map((a) => a.sourceId)), sourceIds);
    for (const column of ['diaSourceId', 'diaSource.diaSourceId']) {
      const table = await exportParquet([dir], `${name}-${column}`, column);
      assert.equal(table.rows, BigInt(n));
      assert.deepEqual(table.ids, sourceIds, `${name} ${column}`);
    }
  }

  // Saved as JSON instead (cutouts as base64): view and export read those files the same way.
  const asJson = await consumeSave(finkTopic, n, 'py-fink-json', ['--format', 'json']);
  assert.ok((await readdir(asJson)).every((f) => f.endsWith('.json')));
  const fromJson = await viewAndCheck(asJson, 3);
  assert.deepEqual(sortedIds(fromJson.map((a) => a.sourceId)), sourceIds);
  const table = await exportParquet([asJson], 'py-fink-json', 'diaSource.diaSourceId');
  assert.equal(table.rows, BigInt(n));
  assert.deepEqual(table.ids, sourceIds);
  // Both folders at once: one table of both.
  const both = await exportParquet([asJson, path.join(tmp, 'saved', 'py-fink')], 'py-fink-both', 'diaSource.diaSourceId');
  assert.equal(both.rows, BigInt(2 * n));
});

test('Nightjar\'s simulator (real Rubin alerts, wire format) and broker (kafka, kafka-lite, kafka-full, kafka-avro filters) streams', { timeout: 600_000 }, async () => {
  const raw = topicName('sim');
  topics.push(raw);
  const schemas = combinedSource([lsstSchemas, builtinSchemas()]);
  const simulated = await runSimulation({
    topic: raw,
    data: REAL_RUBIN,
    decode: { schemas },
    grouping: { kind: 'exposure' },
    observations: -1,
    intervalSeconds: 0,
    fast: true,
    partitions: 2,
    encoding: 'confluent',
    registryUrl: registry.url,
    kafka: settings,
    out: () => {},
    warn: (line) => assert.fail(line),
  });
  // What the simulator sent, from the files themselves.
  const sent: Alert[] = [];
  for (const input of await listAlertInputs(REAL_RUBIN)) for (const d of await readAlertFile(input.path, { schemas })) sent.push(toAlert(d.record, d.schema.name));
  assert.equal(simulated.sent, sent.length);
  const sentIds = sortedIds(sent.map((a) => a.sourceId));

  const simDir = await consumeSave(raw, sent.length, 'sim');
  const simAlerts = await viewAndCheck(simDir, 3);
  assert.deepEqual(sortedIds(simAlerts.map((a) => a.sourceId)), sentIds);
  const simTable = await exportParquet([simDir], 'sim', 'diaSource.diaSourceId');
  assert.equal(simTable.rows, BigInt(sent.length));
  assert.deepEqual(simTable.ids, sentIds);

  // The broker on the simulated stream, one filter per Kafka output.
  const prefix = `nightjar-test-streams-${run}`;
  const store = await openStore({ path: ':memory:' });
  const user = await store.createUser({ email: `streams-${run}@nightjar.invalid`, name: 'streams test' });
  const specs: { name: string; output: FilterOutput; select: string }[] = [
    { name: 'plain', output: 'kafka', select: 'diaObjectId, objectId, ra, decl, nSources' },
    { name: 'lite', output: 'kafka-lite', select: 'diaObjectId, objectId, nSources' },
    { name: 'full', output: 'kafka-full', select: 'diaObjectId, objectId, nSources' },
    { name: 'avro', output: 'kafka-avro', select: 'diaObjectId, objectId, ra, decl, alertMag' },
  ];
  const filterTopics = new Map<string, string>();
  for (const s of specs) {
    const f = await store.saveFilter({ ownerId: user.id, name: s.name, select: s.select, where: '', output: s.output, active: true });
    filterTopics.set(s.name, `${prefix}_${f.ownerId}${s.name}`);
  }
  topics.push(...filterTopics.values(), `${prefix}-dlq`);
  const broker = await startBroker({
    kafka: settings,
    topics: [raw],
    groupId: groupName('broker'),
    store,
    httpPort: null,
    topicPrefix: prefix,
    deadLetterTopic: `${prefix}-dlq`,
    batchMs: 500,
    decode: { schemas: combinedSource([registryClient(registry.url), schemas]) },
    log: quiet,
  });
  try {
    const deadline = Date.now() + 120_000;
    while (broker.health().messages < sent.length) {
      assert.ok(Date.now() < deadline, `the broker took ${broker.health().messages} of ${sent.length} messages`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await broker.stop();
    await store.close();
  }

  for (const s of specs) {
    const topic = filterTopics.get(s.name) as string;
    // The topic as it is (committed records; transaction markers take offsets too), decoded here: what the consumer must hand back.
    const messages = await readTopic(settings, admin, topic);
    assert.ok(messages.length >= 10, `${s.name}: ${messages.length} records`);
    const records = s.output === 'kafka-avro'
      ? await Promise.all(messages.map(async (m) => (await decodeMessage(m.value, m.key))[0]?.record as Record<string, unknown>))
      : messages.map((m) => parse(m.value.toString('utf8')) as Record<string, unknown>);
    const objectIds = sortedIds(records.filter((r) => r.diaObjectId !== null).map((r) => anyId(r.diaObjectId)));
    assert.ok(objectIds.some((id) => id > 2n ** 53n), `${s.name}: ids beyond 2^53`);

    const dir = await consumeSave(topic, messages.length, `broker-${s.name}`);
    assert.ok((await readdir(dir)).every((f) => f.endsWith(s.output === 'kafka-avro' ? '.avro' : '.json')));
    if (s.output === 'kafka') {
      // Plain records carry no lightcurve: view says so for each, and writes nothing.
      const viewed = await nightjar(['view', dir, '--out', path.join(tmp, 'view', 'broker-plain')]);
      assert.equal(viewed.code, 0, viewed.stderr);
      assert.equal(viewed.stderr.trim().split('\n').filter((l) => /not viewable/.test(l)).length, messages.length, viewed.stderr);
    } else {
      const alerts = await viewAndCheck(dir, 0);
      assert.equal(alerts.length, messages.length);
      // The viewed alert is about the record's object (solar-system records may name none).
      for (const a of alerts) {
        const named = a.record.diaObjectId;
        if (typeof named === 'bigint' && named > 0n) assert.equal(a.objectId, named, `${s.name}: object of ${a.sourceId}`);
      }
    }
    const table = await exportParquet([dir], `broker-${s.name}`, 'diaObjectId');
    assert.equal(table.rows, BigInt(messages.length));
    assert.deepEqual(table.ids, objectIds, `${s.name}: exported diaObjectIds`);
  }
});
