// Filter streams read by the Python clients astronomers run, from PyPI (pinned in
// test/python/requirements.txt, installed by scripts/python-env.sh):
//   - seed 001's consumer code with Lasair's own client (lasair_consumer: confluent_kafka,
//     auto.offset.reset smallest, json.loads) reads the plain, lite and full JSON streams, ids
//     exact, and resumes after a reset with only the new records;
//   - fink-client's AlertConsumer reads the Avro stream (schema from the key), its table display
//     runs for both survey settings, and its save handler writes files that decode back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import { avroStreamPlan } from '../src/delivery/avro-records.ts';
import { backfill } from '../src/delivery/filter-output.ts';
import { formatUtc, type FilterRow } from '../src/delivery/records.ts';
import { avroStreamEncoder, jsonStreamEncoder, type StreamEncoder } from '../src/delivery/stream-encoder.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const exec = promisify(execFile);
const data = path.resolve(repoRoot, '../shared/data');
const scripts = path.join(repoRoot, 'test/python');
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const topics: string[] = [];
const newTopic = (label: string): string => {
  const name = `nightjar-test-delivery-py-${label}-${run}`;
  topics.push(name);
  return name;
};
type Rec = Record<string, unknown>;

let python: string;
let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let rubin: Alert[];
let ztf: Alert;

before(async () => {
  // Builds the venv on the first run (about 40 s of PyPI wheels), instant afterwards.
  const env = await exec(path.join(repoRoot, 'scripts/python-env.sh'), [], { timeout: 900_000 });
  python = env.stdout.trim().split('\n').at(-1) as string;
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  rubin = (await readAlertFile(path.join(data, 'fink-client/datatest/lsst/part-2-918301.avro'))).map((d) => toAlert(d.record, d.schema.name));
  const z = (await readAlertFile(path.join(data, 'boom/alerts/ztf/2695378462115010012.avro')))[0];
  assert.ok(z);
  ztf = toAlert(z.record, z.schema.name);
});

after(async () => {
  for (const topic of topics) await deleteTopic(admin, topic).catch(() => false);
  await producer?.close();
  await admin?.close();
  if (lease !== undefined) await releaseLocalKafka(lease);
});

interface PythonRun {
  lines: unknown[];
  end: string;
  stderr: string;
}

async function runPython(script: string, args: string[]): Promise<PythonRun> {
  const { stdout, stderr } = await exec(python, [path.join(scripts, script), settings.bootstrap.join(','), ...args], { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  const lines = stdout.trim().split('\n').filter((l) => l !== '').map((l) => parse(l));
  const last = lines.pop() as { end?: string } | undefined;
  assert.ok(last !== undefined && typeof last.end === 'string', `no end line; stderr: ${stderr.slice(-2000)}`);
  return { lines, end: last.end, stderr };
}

/** Values as a JSON round trip through Python gives them back: NaN as null, ids within 2^53 as numbers. */
function asJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= -(2n ** 53n) && value <= 2n ** 53n ? Number(value) : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(asJson);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJson(v)]));
  return value;
}

function rowOf(alert: Alert): FilterRow {
  return { diaObjectId: alert.objectKind === 'object' ? alert.objectId : null, ra: alert.ra, decl: alert.dec };
}

async function fill(topic: string, encoder: StreamEncoder, alerts: Alert[], producedAt: Date, rows: FilterRow[] = alerts.map(rowOf)): Promise<Buffer[]> {
  const result = await backfill(admin, producer, topic, { rows, encoder, alertFor: (row) => alerts[rows.indexOf(row)], producedAt });
  assert.equal(result.records, Math.min(10, rows.length));
  const utc = formatUtc(producedAt);
  return rows.slice(0, 10).map((row, i) => encoder.encode(row, alerts[i], utc).value);
}

for (const output of ['kafka', 'kafka-lite', 'kafka-full'] as const) {
  test(`seed 001's consumer (lasair_consumer + json.loads) reads the ${output} stream; ids exact`, { timeout: 180_000 }, async () => {
    const topic = newTopic(output);
    const sent = await fill(topic, jsonStreamEncoder(output), rubin, new Date());
    const got = await runPython('delivery_lasair_consumer.py', [`nightjar-test-${run}-${output}`, topic, String(sent.length), '20']);
    assert.equal(got.end, 'count');
    assert.equal(got.lines.length, rubin.length);
    got.lines.forEach((line, i) => {
      assert.deepEqual(line, parse((sent[i] as Buffer).toString()), `record ${i}`);
      const record = line as Rec;
      const alert = rubin[i] as Alert;
      assert.equal(record.diaObjectId, alert.objectKind === 'object' ? alert.objectId : null);
      if (output === 'kafka-full') {
        const sources = (record.alert as { diaSourcesList: Rec[] }).diaSourcesList;
        assert.deepEqual(sources.map((s) => s.diaSourceId).sort(), alert.lightcurve.detections.map((p) => p.sourceId).sort());
        assert.ok(sources.every((s) => typeof s.diaSourceId === 'bigint' && s.diaSourceId > 2n ** 53n));
      }
    });
  });
}

test('after a reset, a group that had read part of the old records gets exactly the new ones', { timeout: 180_000 }, async () => {
  const topic = newTopic('resume');
  const encoder = jsonStreamEncoder('kafka');
  const group = `nightjar-test-${run}-resume`;
  await fill(topic, encoder, rubin.slice(0, 5), new Date(), rubin.slice(0, 5).map((a) => ({ ...rowOf(a), generation: 'old' })));
  const first = await runPython('delivery_lasair_consumer.py', [group, topic, '2', '20']);
  assert.equal(first.lines.length, 2);
  assert.equal(first.end, 'more');
  // The filter changes: old records deleted, three new ones in.
  await fill(topic, encoder, rubin.slice(0, 3), new Date(), rubin.slice(0, 3).map((a) => ({ ...rowOf(a), generation: 'new' })));
  const second = await runPython('delivery_lasair_consumer.py', [group, topic, '3', '20']);
  assert.deepEqual(second.lines.map((l) => (l as Rec).generation), ['new', 'new', 'new']);
  assert.equal(second.end, 'count', 'nothing after the three new records');
});

test('fink-client reads the Avro stream: records exact, its display runs for ZTF and LSST, saved files decode back', { timeout: 180_000 }, async () => {
  const topic = newTopic('avro');
  const alerts = [...rubin, ztf];
  const plan = avroStreamPlan('fink test', [{ name: 'diaObjectId', type: 'BIGINT' }, { name: 'objectId', type: 'VARCHAR' }, { name: 'ra', type: 'DOUBLE' }, { name: 'decl', type: 'DOUBLE' }, { name: 'alertMag', type: 'DOUBLE' }]);
  const rows = alerts.map((a) => ({ diaObjectId: a.objectKind === 'object' && typeof a.objectId === 'bigint' ? a.objectId : null, objectId: String(a.objectId), ra: a.ra, decl: a.dec, alertMag: a.mag }));
  const sent = await fill(topic, avroStreamEncoder(plan), alerts, new Date(), rows);
  const outdir = await mkdtemp(path.join(tmpdir(), 'nightjar-fink-'));
  try {
    const got = await runPython('delivery_fink_consumer.py', [`nightjar-test-${run}-fink`, topic, String(alerts.length), '20', outdir]);
    assert.equal(got.end, 'count');
    assert.equal(got.lines.length, alerts.length);
    const saved = new Set(await readdir(outdir));
    for (const [i, line] of got.lines.entries()) {
      const { topic: gotTopic, alert: record, key_is_schema } = line as { topic: string; alert: Rec; key_is_schema: boolean };
      const alert = alerts[i] as Alert;
      assert.equal(gotTopic, topic);
      assert.equal(key_is_schema, true);
      const key = Buffer.from(plan.schema.text);
      const ours = (await decodeMessage(sent[i] as Buffer, key))[0]?.record;
      assert.deepEqual(record, asJson(ours), `alert ${i}`);
      assert.equal(record.diaSourceId, alert.sourceId, 'the 64-bit id comes back exact');
      assert.equal(record.candid, alert.sourceId);
      // fink-client's file names: <diaSourceId>.avro (LSST), <objectId>_<candid>.avro (ZTF).
      for (const name of [`${alert.sourceId}.avro`, `${String(alert.objectId)}_${alert.sourceId}.avro`]) {
        assert.ok(saved.has(name), `fink-client saved ${name}`);
        const [file] = await readAlertFile(path.join(outdir, name));
        assert.deepEqual(asJson(file?.record), asJson(ours));
      }
    }
    // fink-client's table, once per alert and survey setting, with the ids it shows.
    assert.equal(got.stderr.split('Emitted at (UTC)').length - 1, 2 * alerts.length);
    assert.ok(got.stderr.includes('Simbad') && got.stderr.includes('Magnitude'));
    for (const alert of rubin) assert.ok(got.stderr.includes(String(alert.objectKind === 'object' ? alert.objectId : '')), `display shows ${alert.objectId}`);
    assert.ok(got.stderr.includes('2004 JQ12') && got.stderr.includes('SSO desgination'), 'a solar-system alert shows its designation');
    assert.ok(got.stderr.includes('ZTF18abudxnw'));
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
});
