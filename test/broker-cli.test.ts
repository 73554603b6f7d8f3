// `./nightjar broker` as a user runs it, in its own process: it serves /health, /metrics and the
// filter API on 127.0.0.1; a filter added over HTTP (the filter service, its stream set up at
// once) starts receiving the matches of the next batches; a corrupt message goes to the
// dead-letter topic and the broker goes on; Ctrl-C finishes the batch, commits and exits 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { objectFeatures } from '../src/features/index.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { alertObjectKey, type Alert } from '../src/formats/alert.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { decodeMessage, encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { headerMap, num, parseMetrics, readTopic } from './pipeline-helpers.ts';

const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const RAW = `nightjar-test-brokercli-raw-${run}`;
const DLQ = `nightjar-test-brokercli-dlq-${run}`;
const PREFIX = `nightjar-test-brokercli-${run}`;
const GROUP = `nightjar-test-brokercli-${run}`;
const topics = [RAW, DLQ];

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let dir: string;
let child: ChildProcessWithoutNullStreams | undefined;

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  dir = await mkdtemp(path.join(tmpdir(), 'nightjar-broker-cli-'));
  await createTopic(admin, RAW, 1);
});

after(async () => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await producer?.close();
  await admin?.close();
  await rm(dir, { recursive: true, force: true });
  if (lease !== undefined) await releaseLocalKafka(lease);
});

/** Resolves with the first stdout match of the pattern (or rejects when the process ends first). */
function waitForOutput(proc: ChildProcessWithoutNullStreams, out: { text: string }, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = out.text.match(pattern);
      if (m !== null) {
        cleanup();
        resolve(m);
        return true;
      }
      return false;
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`broker exited (${proc.exitCode}) before printing ${pattern}:\n${out.text}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out.text}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
    };
    const onData = (): void => void check();
    proc.stdout.on('data', onData);
    proc.on('exit', onExit);
    check();
  });
}

test('nightjar broker: filters added over its HTTP API get the next batches\' matches; dead letters; Ctrl-C commits and exits 0', { timeout: 120_000 }, async () => {
  const store = path.join(dir, 'store.duckdb');
  child = spawn(path.join(repoRoot, 'nightjar'), ['broker', '--topics', RAW, '--group', GROUP, '--store', store, '--http-port', '0', '--topic-prefix', PREFIX, '--dead-letter-topic', DLQ, '--batch-ms', '300'], { stdio: 'pipe' });
  const out = { text: '' };
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (out.text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

  const url = (await waitForOutput(child, out, /broker: (http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1]!;
  await waitForOutput(child, out, /broker: 0 active filters/);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'running');

  // A filter through the broker's filter API (the filter service), before the alerts arrive.
  const added = await fetch(`${url}/api/filters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ owner: `cli-${run}@nightjar.invalid`, name: 'cli bright', select: 'diaObjectId, alertMag', where: 'alertMag < 21', output: 'kafka' }),
  });
  assert.equal(added.status, 201, await added.clone().text());
  const saved = (await added.json()) as { filter: { id: number; topic: string }; stream: { records: number } | null };
  const topic = saved.filter.topic;
  topics.push(topic);
  assert.ok(topic.startsWith(`${PREFIX}_`), topic);
  assert.equal(saved.stream?.records, 0, 'nothing stored yet to backfill');

  // 300 synthetic alerts and one corrupt message.
  const schema = lsstAlertParsedSchema();
  const values: Buffer[] = [];
  const alerts: (Alert | null)[] = [];
  for (const record of generateAlerts({ seed: 9, objects: 400, count: 300, cutouts: false })) {
    const { value } = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID });
    values.push(value);
    const [received] = await decodeMessage(value, null, { schemas: builtinSchemas() });
    alerts.push(toAlert(received!.record, schema.name));
  }
  values.splice(150, 0, Buffer.from([0, 0, 0, 3, 0xe8, 0xff, 0xff]));
  alerts.splice(150, 0, null);
  await sendAll(producer, values.map((value) => ({ topic: RAW, value })));

  // The batch lines on stdout say how many messages each batch took (offsets in order: one partition).
  await waitForOutput(child, out, /batch \d+:/);
  const counts = async (): Promise<number[]> => [...out.text.matchAll(/^batch \d+: (\d+) messages/gm)].map((m) => Number(m[1]));
  const deadline = Date.now() + 60_000;
  while ((await counts()).reduce((s, n) => s + n, 0) < values.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const batches = await counts();
  assert.equal(batches.reduce((s, n) => s + n, 0), values.length, out.text);

  const metrics = parseMetrics(await (await fetch(`${url}/metrics`)).text());
  assert.equal(metrics.get(`nightjar_alerts_in_total{topic="${RAW}"}`), values.length);
  assert.equal(metrics.get('nightjar_dead_letters_total{reason="undecodable"}'), 1);

  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.match(out.text, /broker stopped \(interrupted\)/);

  // Expected: per batch, the newest alert of each object, through the condition written here.
  const expected: string[] = [];
  let at = 0;
  for (const n of batches) {
    const newest = new Map<string, Alert>();
    for (const a of alerts.slice(at, at + n)) {
      if (a === null) continue;
      const kept = newest.get(alertObjectKey(a));
      if (kept === undefined || a.mjd > kept.mjd || (a.mjd === kept.mjd && a.sourceId > kept.sourceId)) newest.set(alertObjectKey(a), a);
    }
    for (const a of newest.values()) if (num(objectFeatures(a).alertMag) < 21) expected.push(String(a.objectId));
    at += n;
  }
  assert.ok(expected.length > 5, `${expected.length} expected records`);
  const records = await readTopic(settings, admin, topic);
  assert.deepEqual(records.map((m) => String((parse(m.value.toString()) as { diaObjectId: bigint }).diaObjectId)), expected);

  const dead = await readTopic(settings, admin, DLQ);
  assert.equal(dead.length, 1);
  assert.equal(headerMap(dead[0]!).get('nightjar-source'), `${RAW}/0/150`);
  assert.equal(headerMap(dead[0]!).get('nightjar-error-kind'), 'undecodable');

  const committed = await admin.listConsumerGroupOffsets({ groups: [{ groupId: GROUP, topics: [{ name: RAW, partitionIndexes: [0] }] }] });
  assert.equal(committed[0]?.topics[0]?.partitions[0]?.committedOffset, BigInt(values.length));
});
