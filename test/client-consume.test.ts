// The consumer client on the real local Kafka: `nightjar register` (0600 file, password
// hidden by --show), `nightjar consume` run as the real CLI (--display rows, --save files that
// decode back to the produced records, --format json with exact 64-bit ids, a group resuming
// where it stopped and a new group reading from the start, --statistics, --available-topics,
// the idle message and Ctrl-C, one-line errors), and the AlertConsumer library on Rubin
// Confluent wire, schema-in-key Avro and Lasair-style JSON topics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { AlertConsumer } from '../src/client/consumer.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { decodeMessage, encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { parse, stringify } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const AVRO_TOPIC = `nightjar-test-client-avro-${run}`;
const JSON_TOPIC = `nightjar-test-client-json-${run}`;
const group = (name: string): string => `nightjar-test-client-${name}-${run}`;
const CONFLUENT_COUNT = 6;
const KEYED_COUNT = 4;
const AVRO_COUNT = CONFLUENT_COUNT + KEYED_COUNT;
const JSON_COUNT = 5;

interface AvroProduced {
  objectId: bigint;
  sourceId: bigint;
  record: Record<string, unknown>;
}

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let tmp: string;
let home: string;
const avro: AvroProduced[] = [];
const json: Record<string, unknown>[] = [];

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  tmp = await mkdtemp(path.join(tmpdir(), 'nightjar-client-test-'));
  home = path.join(tmp, 'home');
  await createTopic(admin, AVRO_TOPIC, 2);
  await createTopic(admin, JSON_TOPIC, 1);

  const schema = lsstAlertParsedSchema();
  const messages: OutgoingMessage[] = [];
  let n = 0;
  for (const record of generateAlerts({ seed: 7, objects: 40, count: AVRO_COUNT })) {
    const source = record.diaSource as { diaObjectId: bigint; diaSourceId: bigint };
    const encoding = n < CONFLUENT_COUNT ? 'confluent' : 'schema-in-key';
    const { key, value } = encodeMessage(record, { encoding, schema, schemaId: LSST_SCHEMA_ID });
    messages.push({ topic: AVRO_TOPIC, partition: n % 2, ...(key === null ? {} : { key }), value });
    // What a reader gets back (float fields are rounded to float32 on the wire).
    const [decoded] = await decodeMessage(value, key, { schemas: builtinSchemas() });
    avro.push({ objectId: source.diaObjectId, sourceId: source.diaSourceId, record: decoded?.record ?? {} });
    n++;
  }
  for (let i = 0; i < JSON_COUNT; i++) {
    // Ids beyond 2^53: a JSON reader using plain numbers would round them.
    const record = { diaObjectId: 169760235333878021n + BigInt(i), diaSourceId: 3527242430321524769n + BigInt(i), ra: 150.1 + i, decl: -30.5, band: 'r', mag: 19.5 + i / 10, alertMjd: 61000.25 + i, UTC: '2025-11-21 06:00:00' };
    json.push(record);
    messages.push({ topic: JSON_TOPIC, partition: 0, value: Buffer.from(stringify(record), 'utf8') });
    // One broken message in the middle: reported, skipped, committed.
    if (i === 1) messages.push({ topic: JSON_TOPIC, partition: 0, value: Buffer.from('{"diaObjectId": 1, oops}', 'utf8') });
  }
  const producer = createProducer(settings);
  try {
    await sendAll(producer, messages);
  } finally {
    await producer.close();
  }
});

after(async () => {
  for (const topic of [AVRO_TOPIC, JSON_TOPIC]) await deleteTopic(admin, topic).catch(() => false);
  const groups = [...(await admin.listGroups()).keys()].filter((g) => g.startsWith('nightjar-test-client-') && g.endsWith(run));
  if (groups.length > 0) await admin.deleteGroups({ groups }).catch(() => undefined);
  await admin.close();
  await rm(tmp, { recursive: true, force: true });
  await releaseLocalKafka(lease);
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs ./nightjar with NIGHTJAR_HOME in the scratch folder; `onStdout` sees the output so far. */
function nightjar(args: string[], onStdout?: (soFar: string, child: ReturnType<typeof spawn>) => void, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot, env: { ...process.env, NIGHTJAR_HOME: home, NIGHTJAR_LOG_LEVEL: 'warn' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      onStdout?.(Buffer.concat(out).toString('utf8'), child);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const tableRows = (stdout: string): string[][] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| Emitted') && !l.startsWith('| ---'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));

test('register writes a 0600 profile with fink-client keys and --show hides the password', async () => {
  const written = await nightjar(['register', '--username', 'astro', '--password', 's3cret-pw', '--group-id', group('profile'), '--topics', `${AVRO_TOPIC},${JSON_TOPIC}`, '--servers', lease.bootstrap, '--max-timeout', '2', '--profile', 'test']);
  assert.equal(written.code, 0, written.stderr);
  const file = path.join(home, 'credentials', 'test.yaml');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const text = await readFile(file, 'utf8');
  for (const key of ['username: astro', 'password: s3cret-pw', `group_id: ${group('profile')}`, 'mytopics:', `servers: ${lease.bootstrap}`, 'maxtimeout: 2']) assert.ok(text.includes(key), `${key} in\n${text}`);
  const shown = await nightjar(['register', '--show', '--profile', 'test']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(shown.stdout.includes('username: astro') && shown.stdout.includes(AVRO_TOPIC));
  assert.ok(!shown.stdout.includes('s3cret-pw'), shown.stdout);
  // Without a password the file says null, as fink-client writes it.
  const plain = await nightjar(['register', '--username', 'astro', '--group-id', group('plain'), '--topics', JSON_TOPIC, '--servers', lease.bootstrap, '--profile', 'plain']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(await readFile(path.join(home, 'credentials', 'plain.yaml'), 'utf8'), /^password: null$/m);
  const missing = await nightjar(['register', '--show', '--profile', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^nightjar: no profile "nosuch"/);
});

test('consume --display --save: files named <objectId>_<sourceId>.avro decode back; the group resumes; a new group starts over; --statistics', async () => {
  const byName = new Map(avro.map((a) => [`${a.objectId}_${a.sourceId}.avro`, a]));
  const dirA = path.join(tmp, 'saved-a');
  const dirB = path.join(tmp, 'saved-b');
  const common = ['consume', '--servers', lease.bootstrap, '--topics', AVRO_TOPIC, '--group-id', group('resume'), '--display', '--save', '--timeout', '1'];
  const first = await nightjar([...common, '--outdir', dirA, '--limit', '6']);
  assert.equal(first.code, 0, first.stderr);
  const rows = tableRows(first.stdout);
  assert.equal(rows.length, 6, first.stdout);
  for (const row of rows) {
    assert.equal(row[2], AVRO_TOPIC);
    assert.ok(avro.some((a) => String(a.objectId) === row[3]), `objectId ${row[3]}`);
    assert.match(row[0] ?? '', /^2025-1\d-\d\d \d\d:\d\d:\d\d$/); // synthetic nights start at MJD 61000
    assert.match(row[1] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(row[4] ?? '', /^[ugrizy]$/);
  }
  const filesA = (await readdir(dirA)).sort();
  assert.equal(filesA.length, 6);
  for (const name of filesA) {
    const produced = byName.get(name);
    assert.ok(produced, `unexpected file ${name}`);
    const [decoded] = await readAlertFile(path.join(dirA, name));
    assert.equal(decoded?.encoding, 'container');
    assert.equal(decoded?.schema.name, 'lsst.v10_0.alert');
    assert.deepEqual(decoded?.record, produced.record);
  }

  // Same group: the other 4, none of the first 6 again.
  const second = await nightjar([...common, '--outdir', dirB, '--limit', '4']);
  assert.equal(second.code, 0, second.stderr);
  const filesB = await readdir(dirB);
  assert.equal(filesB.length, AVRO_COUNT - 6);
  assert.deepEqual([...filesA, ...filesB].sort(), [...byName.keys()].sort());

  const stats = await nightjar(['consume', '--servers', lease.bootstrap, '--topics', AVRO_TOPIC, '--group-id', group('resume'), '--statistics']);
  assert.equal(stats.code, 0, stats.stderr);
  const parts = stats.stdout.split('\n').filter((l) => l.startsWith(`${AVRO_TOPIC} [`)).map((l) => l.trim().split(/\s+/));
  assert.equal(parts.length, 2, stats.stdout);
  assert.equal(parts.reduce((sum, p) => sum + Number(p[2]), 0), AVRO_COUNT); // committed offsets
  assert.ok(parts.every((p) => p[4] === '0'), stats.stdout); // lag
  assert.match(stats.stdout, /^Total lag: 0$/m);

  // A new group reads everything from the start (nothing saved: display only).
  const fresh = await nightjar(['consume', '--servers', lease.bootstrap, '--topics', AVRO_TOPIC, '--group-id', group('fresh'), '--display', '--limit', String(AVRO_COUNT)]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(tableRows(fresh.stdout).length, AVRO_COUNT);
  const freshStats = await nightjar(['consume', '--servers', lease.bootstrap, '--topics', AVRO_TOPIC, '--group-id', group('never'), '--statistics']);
  assert.match(freshStats.stdout, new RegExp(`^Total lag: ${AVRO_COUNT}$`, 'm'), freshStats.stdout);
});

test('consume a Lasair JSON topic from a profile: --format json keeps ids exact; idle message; Ctrl-C commits and exits 0', async () => {
  const written = await nightjar(['register', '--username', 'astro', '--group-id', group('json'), '--topics', JSON_TOPIC, '--servers', lease.bootstrap, '--max-timeout', '1', '--profile', 'json']);
  assert.equal(written.code, 0, written.stderr);
  const dir = path.join(tmp, 'saved-json');
  const result = await nightjar(['consume', '--profile', 'json', '--display', '--save', '--outdir', dir, '--format', 'json', '--limit', String(JSON_COUNT)]);
  assert.equal(result.code, 0, result.stderr);
  const rows = tableRows(result.stdout);
  assert.deepEqual(rows.map((r) => r[3]), json.map((r) => String(r.diaObjectId)));
  assert.match(result.stderr, new RegExp(`${JSON_TOPIC}/0/2.*looks like JSON but is not a valid JSON object.*; skipped`));
  assert.match(result.stderr, /received 5 alerts, saved 5 in .*, 1 undecodable skipped/);
  assert.equal(rows[0]?.[0], '2025-11-21 05:59:23'); // MJD 61000.25 TAI in UTC
  assert.equal(rows[0]?.[5], '19.50');
  const files = (await readdir(dir)).sort();
  assert.deepEqual(files, json.map((r) => `${r.diaObjectId}_${r.diaSourceId}.json`).sort());
  const text = await readFile(path.join(dir, files[0] as string), 'utf8');
  assert.ok(text.includes('"diaObjectId":169760235333878021'), text);
  assert.deepEqual(parse(text), json[0]);

  // The group has read everything: it waits, says so, and stops cleanly on Ctrl-C.
  let signalled = false;
  const idle = await nightjar(['consume', '--profile', 'json', '--display'], (soFar, child) => {
    if (!signalled && soFar.includes('No alerts the last 1 seconds')) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  assert.ok(signalled, idle.stdout + idle.stderr);
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal(tableRows(idle.stdout).length, 0);
  assert.match(idle.stderr, /received 0 alerts/);
});

test('consume: --available-topics, unknown topic and unreachable cluster are one-line errors', async () => {
  const topics = await nightjar(['consume', '--servers', lease.bootstrap, '--available-topics']);
  assert.equal(topics.code, 0, topics.stderr);
  const listed = topics.stdout.trim().split('\n');
  assert.ok(listed.includes(AVRO_TOPIC) && listed.includes(JSON_TOPIC));
  assert.ok(!listed.some((t) => t.startsWith('__')), 'internal topics are not listed');

  const unknown = await nightjar(['consume', '--servers', lease.bootstrap, '--topics', `${AVRO_TOPIC}-typo`, '--group-id', group('typo')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, new RegExp(`^nightjar: topic "${AVRO_TOPIC}-typo" does not exist on ${lease.bootstrap}; existing topics: ${AVRO_TOPIC}`));
  assert.equal(unknown.stderr.trim().split('\n').length, 1);

  const down = await nightjar(['consume', '--servers', '127.0.0.1:1', '--topics', AVRO_TOPIC, '--group-id', group('down')]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^nightjar: cannot reach Kafka at 127\.0\.0\.1:1/);
  assert.equal(down.stderr.trim().split('\n').length, 1);
});

test('AlertConsumer: poll and consume decode Confluent, schema-in-key and JSON without a schema; commits resume the group', async () => {
  const consumer = await AlertConsumer.create({ topics: [AVRO_TOPIC, JSON_TOPIC], groupId: group('library'), settings });
  const got = [];
  try {
    const one = await consumer.poll(10_000);
    assert.ok(one !== null);
    got.push(one, ...(await consumer.consume(AVRO_COUNT + JSON_COUNT, 3000)));
  } finally {
    await consumer.close();
  }
  assert.equal(got.length, AVRO_COUNT + JSON_COUNT);
  assert.equal(consumer.undecodable, 1);
  const formats = new Map<string, number>();
  for (const a of got) formats.set(a.format, (formats.get(a.format) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(formats), { confluent: CONFLUENT_COUNT, 'schema-in-key': KEYED_COUNT, json: JSON_COUNT });
  const jsonValues = got.filter((a) => a.format === 'json').map((a) => a.value);
  assert.deepEqual(jsonValues, json);
  assert.equal(typeof jsonValues[0]?.diaObjectId, 'bigint');
  const avroIds = got.filter((a) => a.format !== 'json').map((a) => (a.value.diaSource as { diaSourceId: bigint }).diaSourceId);
  assert.deepEqual(avroIds.sort(), avro.map((a) => a.sourceId).sort());

  // pollAndWrite: a new group, the first alert saved as consume --save names it.
  const writer = await AlertConsumer.create({ topics: [AVRO_TOPIC], groupId: group('writer'), settings });
  try {
    const dir = path.join(tmp, 'poll-and-write');
    await mkdir(dir);
    const written = await writer.pollAndWrite(dir, 10_000);
    assert.ok(written !== null);
    const produced = avro.find((a) => a.sourceId === (written.alert.value.diaSource as { diaSourceId: bigint }).diaSourceId);
    assert.ok(produced);
    assert.equal(written.file, path.join(dir, `${produced.objectId}_${produced.sourceId}.avro`));
    assert.deepEqual((await readAlertFile(written.file))[0]?.record, produced.record);
  } finally {
    await writer.close();
  }

  // Everything returned was committed: the same group gets nothing more.
  const again = await AlertConsumer.create({ topics: [AVRO_TOPIC, JSON_TOPIC], groupId: group('library'), settings });
  try {
    assert.equal(await again.poll(1500), null);
  } finally {
    await again.close();
  }
});
