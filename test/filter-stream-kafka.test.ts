// nightjar filter-stream on the real local Kafka: 20,000 synthetic Rubin alerts and the real
// Rubin alerts of ../shared/data (Confluent wire format) plus a few bad messages go into IN;
// the LSST prototype's template filter runs as a child process; OUT must hold exactly the
// messages the test computes itself (decode + toAlert + objectFeatures, the condition in JS),
// byte for byte, keys and headers unchanged, in input order per partition. Then a re-run with
// the same group resumes after the committed offsets, and condition errors stop before Kafka.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import { objectFeatures } from '../src/features/index.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { listAlertFiles, readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { decodeMessage, encodeMessage } from '../src/formats/message.ts';
import { combinedSource, schemaDirectory, type SchemaSource } from '../src/formats/schema-source.ts';
import { frameConfluent } from '../src/formats/wire.ts';
import { createAdmin, createConsumer, createProducer, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic, endOffsets, listTopics } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { ERROR_HEADER, SOURCE_HEADER, runFilterStream } from '../src/stream/filter-stream.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = promisify(execFile);
const data = path.resolve(repoRoot, '../shared/data');
const schemaDir = path.join(data, 'lsst-alert_packet/schema');
const TEMPLATE = 'alertSnr > 5 AND flux2mag(alertFlux) < 20';
const PARTITIONS = 3;
const SYNTHETIC = 20_000;

/** One message put into IN, with what the test expects filter-stream to do with it. */
interface Sent {
  index: number;
  partition: number;
  key: Buffer;
  value: Buffer;
  tag: string;
  /** null: not an alert / undecodable (must be dead-lettered). */
  passes: boolean | null;
  sourceId: bigint | null;
  label: string;
}

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let schemas: SchemaSource;
const topics: string[] = [];
const groups: string[] = [];
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const IN = `nightjar-test-fs-in-${runId}`;
const OUT = `nightjar-test-fs-out-${runId}`;
const DLQ = `nightjar-test-fs-dlq-${runId}`;
let sent: Sent[] = [];

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  schemas = combinedSource([schemaDirectory(schemaDir), builtinSchemas()]);
});

after(async () => {
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await admin.deleteGroups({ groups }).catch(() => undefined);
  await admin.close();
  await releaseLocalKafka(lease);
});

/** The test's own verdict: decode, adapt, features, and the template in JavaScript. */
async function verdict(value: Buffer): Promise<{ passes: boolean | null; sourceId: bigint | null }> {
  let decoded;
  try {
    decoded = await decodeMessage(value, null, { schemas });
  } catch {
    return { passes: null, sourceId: null };
  }
  assert.equal(decoded.length, 1);
  const alert = toAlert(decoded[0]!.record, decoded[0]!.schema.name);
  const row = objectFeatures(alert);
  const snr = row.alertSnr as number | null;
  const mag = row.alertMag as number | null;
  return { passes: snr !== null && snr > 5 && mag !== null && mag < 20, sourceId: alert.sourceId };
}

/** Real Rubin alerts as Confluent messages: boom's wire files as they are, Fink's datasim files re-encoded with Rubin's schema of their version. */
async function realMessages(): Promise<{ label: string; value: Buffer; objectId: bigint }[]> {
  const dir = schemaDirectory(schemaDir);
  const out: { label: string; value: Buffer; objectId: bigint }[] = [];
  for (const file of await listAlertFiles(path.join(data, 'boom/alerts/lsst'))) {
    const [d] = await readAlertFile(file, { schemas });
    assert.equal(d!.encoding, 'confluent');
    out.push({ label: path.basename(file), value: await readFile(file), objectId: BigInt(String(toAlert(d!.record, d!.schema.name).objectId)) });
  }
  for (const [folder, id] of [['rubin_test_data_9_0_avro', 900], ['rubin_test_data_7_4_avro', 704]] as const) {
    const schema = await dir.byId(id);
    for (const file of await listAlertFiles(path.join(data, 'fink-broker/datasim', folder))) {
      const [d] = await readAlertFile(file);
      const { value } = encodeMessage(d!.record, { encoding: 'confluent', schema, schemaId: id });
      out.push({ label: `${folder}/${path.basename(file)}`, value, objectId: BigInt(String(toAlert(d!.record, d!.schema.name).objectId)) });
    }
  }
  return out;
}

async function fillInput(): Promise<void> {
  const schema = lsstAlertParsedSchema();
  const values: { label: string; value: Buffer; objectId: bigint }[] = [];
  for (const record of generateAlerts({ seed: 2718, objects: 4000, count: SYNTHETIC, cutouts: false })) {
    const source = record.diaSource as { diaObjectId: bigint | null; diaSourceId: bigint };
    values.push({ label: 'synthetic', value: encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value, objectId: source.diaObjectId ?? source.diaSourceId });
  }
  const real = await realMessages();
  assert.equal(real.length, 43);
  // Real alerts spread through the stream; bad messages among them.
  real.forEach((r, i) => values.splice(200 + i * 450, 0, r));
  const truncated = values[5]!.value.subarray(0, 300);
  const bad = [
    { label: 'bad: plain text', value: Buffer.from('this is not an alert'), objectId: 1n },
    { label: 'bad: unknown schema id', value: frameConfluent(4242, Buffer.from([2, 4, 6])), objectId: 2n },
    { label: 'bad: truncated alert', value: Buffer.from(truncated), objectId: 3n },
  ];
  bad.forEach((b, i) => values.splice(1000 + i * 7000, 0, b));

  sent = [];
  for (const [index, v] of values.entries()) {
    const tag = `m${index}`;
    sent.push({ index, partition: Number(v.objectId % BigInt(PARTITIONS)), key: Buffer.from(String(v.objectId)), value: v.value, tag, label: v.label, ...(await verdict(v.value)) });
  }
  assert.deepEqual(sent.filter((s) => s.passes === null).map((s) => s.label), bad.map((b) => b.label));
  const messages: OutgoingMessage[] = sent.map((s) => ({ topic: IN, partition: s.partition, key: s.key, value: s.value, headers: new Map([[Buffer.from('test-tag'), Buffer.from(s.tag)]]) }));
  const producer = createProducer(settings);
  try {
    await sendAll(producer, messages);
  } finally {
    await producer.close();
  }
}

interface Received {
  partition: number;
  key: Buffer | null;
  value: Buffer;
  headers: Map<string, string>;
}

/** Every message of a topic (the count from its end offsets, so nothing extra goes unseen). */
async function readTopic(topic: string): Promise<Received[]> {
  const total = Number((await endOffsets(admin, topic)).reduce((a, b) => a + b, 0n));
  const received: Received[] = [];
  if (total === 0) return received;
  const groupId = `nightjar-test-fs-read-${runId}-${randomBytes(3).toString('hex')}`;
  groups.push(groupId);
  const consumer = createConsumer(settings, { groupId, fromBeginning: true });
  try {
    const stream = await consumer.consume([topic]);
    const timer = setTimeout(() => stream.destroy(new Error(`timed out reading ${topic}: ${received.length} of ${total}`)), 30_000);
    try {
      for await (const m of stream) {
        const headers = new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
        received.push({ partition: m.partition, key: m.key ?? null, value: m.value, headers });
        if (received.length === total) break;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.close();
  }
  return received;
}

/** OUT, partition by partition, must be exactly the expected messages of that input partition, in order. */
function checkOutput(received: readonly Received[], expected: readonly Sent[]): void {
  assert.equal(received.length, expected.length, 'number of messages in OUT');
  for (let p = 0; p < PARTITIONS; p++) {
    const got = received.filter((r) => r.partition === p);
    const want = expected.filter((s) => s.partition === p);
    assert.deepEqual(got.map((r) => r.headers.get('test-tag')), want.map((s) => s.tag), `partition ${p}: the matching messages, in input order`);
    got.forEach((r, i) => {
      const s = want[i]!;
      assert.ok(r.value.equals(s.value), `${s.tag} (${s.label}): value byte-identical`);
      assert.ok(r.key !== null && r.key.equals(s.key), `${s.tag}: same key`);
      assert.deepEqual([...r.headers.keys()], ['test-tag'], `${s.tag}: headers unchanged`);
    });
  }
}

test('filter-stream keeps exactly the alerts of the template filter, byte for byte, in order; bad messages are dead-lettered; a re-run resumes', { timeout: 120_000 }, async () => {
  topics.push(IN, OUT, DLQ);
  await createTopic(admin, IN, PARTITIONS);
  await fillInput();
  const expected = sent.filter((s) => s.passes === true);
  const bad = sent.filter((s) => s.passes === null);
  assert.ok(expected.length > 1000 && expected.length < SYNTHETIC, `${expected.length} alerts pass`);
  assert.ok(expected.some((s) => s.label.includes('rubin_test_data_9_0_avro')), 'a real Rubin alert passes');
  assert.ok(sent.some((s) => s.label !== 'synthetic' && s.passes === false), 'real Rubin alerts fail too');

  // The real command, as a child process, stopped by its idle timeout.
  const started = performance.now();
  const { stderr } = await run('./nightjar', ['filter-stream', IN, OUT, '--where', TEMPLATE, '--schema-dir', schemaDir, '--dead-letter', DLQ, '--timeout', '3', '--progress', '1'], { cwd: repoRoot, env: process.env, maxBuffer: 10_000_000 });
  const seconds = (performance.now() - started) / 1000;
  const lines = stderr.trim().split('\n');
  const final = lines.find((l) => l.startsWith('filter-stream: stopped'));
  assert.equal(final?.replace(/, [\d.]+ msg\/s while consuming$/, ''), `filter-stream: stopped (no message for 3 s): consumed ${sent.length}, matched ${expected.length}, produced ${expected.length}, errors ${bad.length}, dead-lettered ${bad.length}`, stderr);
  // The periodic summary (every second; the 3 s idle wait alone guarantees some).
  assert.ok(lines.filter((l) => /^filter-stream: consumed \d+, matched \d+, produced \d+, errors \d+(, dead-lettered \d+)?, [\d.]+ msg\/s$/.test(l)).length >= 2, stderr);
  for (const b of bad) {
    const offset = sent.filter((s) => s.partition === b.partition && s.index < b.index).length;
    assert.ok(lines.some((l) => l.startsWith(`filter-stream: skipped ${IN}/${b.partition}/${offset}: `)), `${b.label} reported with its topic/partition/offset:\n${stderr}`);
  }
  console.log(`# filter-stream child process: ${sent.length} messages in ${seconds.toFixed(1)} s including start-up and the 3 s idle timeout; ${final}`);

  const out = await readTopic(OUT);
  checkOutput(out, expected);
  // Ids exact: what comes out decodes to the source ids the test expects.
  for (const [i, r] of out.filter((x) => x.partition === 0).slice(0, 50).entries()) {
    const want = expected.filter((s) => s.partition === 0)[i]!;
    const [d] = await decodeMessage(r.value, r.key, { schemas });
    assert.equal(toAlert(d!.record, d!.schema.name).sourceId, want.sourceId);
  }

  const dead = await readTopic(DLQ);
  assert.deepEqual(dead.map((d) => d.headers.get('test-tag')).sort(), bad.map((b) => b.tag).sort());
  for (const d of dead) {
    const b = bad.find((x) => x.tag === d.headers.get('test-tag'))!;
    assert.ok(d.value.equals(b.value), `${b.label}: dead-lettered unchanged`);
    assert.match(d.headers.get(ERROR_HEADER) ?? '', /\S/, `${b.label}: has a reason`);
    assert.match(d.headers.get(SOURCE_HEADER) ?? '', new RegExp(`^${IN}/${b.partition}/\\d+$`));
  }
  assert.match(dead.find((d) => d.headers.get('test-tag') === bad[1]!.tag)?.headers.get(ERROR_HEADER) ?? '', /4242/);

  // Same topics and condition, default group: only messages produced since are filtered.
  const more: Sent[] = [];
  const schema = lsstAlertParsedSchema();
  for (const record of generateAlerts({ seed: 99, objects: 300, count: 600, cutouts: false })) {
    const id = (record.diaSource as { diaObjectId: bigint }).diaObjectId;
    const value = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value;
    const index = sent.length + more.length;
    more.push({ index, partition: Number(id % BigInt(PARTITIONS)), key: Buffer.from(String(id)), value, tag: `m${index}`, label: 'synthetic, second run', ...(await verdict(value)) });
  }
  const producer = createProducer(settings);
  try {
    await sendAll(producer, more.map((s) => ({ topic: IN, partition: s.partition, key: s.key, value: s.value, headers: new Map([[Buffer.from('test-tag'), Buffer.from(s.tag)]]) })));
  } finally {
    await producer.close();
  }
  const report: string[] = [];
  const second = await runFilterStream({ settings, input: IN, output: OUT, where: TEMPLATE, decode: { schemas }, idleTimeoutMs: 2000, batchSize: 100, maxPerBatch: 3, progressMs: 0, report: (l) => report.push(l) });
  groups.push(second.groupId);
  const moreExpected = more.filter((s) => s.passes === true);
  assert.equal(second.consumed, more.length, `the second run resumes after the committed offsets:\n${report.join('\n')}`);
  assert.equal(second.stoppedBy, 'idle');
  assert.equal(second.errors, 0);
  assert.equal(second.matched, moreExpected.length);
  assert.ok(second.capped > 0 && second.produced + second.capped === second.matched && second.produced <= 3 * second.batches, JSON.stringify(second));
  const all = await readTopic(OUT);
  const added = all.filter((r) => more.some((s) => s.tag === r.headers.get('test-tag')));
  assert.equal(added.length, second.produced);
  assert.equal(all.length, expected.length + second.produced);
  for (let p = 0; p < PARTITIONS; p++) {
    const tags = added.filter((r) => r.partition === p).map((r) => r.headers.get('test-tag'));
    const order = moreExpected.filter((s) => s.partition === p).map((s) => s.tag).filter((t) => tags.includes(t));
    assert.deepEqual(tags, order, `partition ${p}: capped output is a subset of the matches in input order`);
  }
});

test('--group and --limit: a new group starts from the earliest message and stops after exactly the limit', { timeout: 60_000 }, async () => {
  assert.ok(sent.length > 0, 'runs after the main test filled IN');
  const out = `${OUT}-limit`;
  topics.push(out);
  const groupId = `nightjar-test-fs-limit-${runId}`;
  groups.push(groupId);
  const result = await runFilterStream({ settings, input: IN, output: out, where: TEMPLATE, groupId, limit: 250, batchSize: 100, decode: { schemas }, progressMs: 0, report: () => undefined });
  assert.equal(result.groupId, groupId);
  assert.equal(result.stoppedBy, 'limit');
  assert.equal(result.consumed, 250);
  assert.ok(result.batches >= 3, `${result.batches} batches of at most 100`);
  const received = await readTopic(out);
  assert.equal(received.length, result.produced);
  assert.equal(result.produced, result.matched);
  const passing = new Set(sent.filter((s) => s.passes === true).map((s) => s.tag));
  for (const r of received) assert.ok(passing.has(r.headers.get('test-tag') ?? ''), 'only matching alerts');
});

test('a condition error is one line with the suggestion and exits before touching Kafka', { timeout: 30_000 }, async () => {
  const out = `nightjar-test-fs-never-${runId}`;
  const result = await run('./nightjar', ['filter-stream', 'no-such-topic', out, '--where', 'alertSnrr > 5 AND flux2mag(alertFlux) < 20'], { cwd: repoRoot, env: process.env }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  assert.notEqual(result.code, 0);
  assert.equal(result.stderr, 'nightjar: --where "alertSnrr > 5 AND flux2mag(alertFlux) < 20": unknown column "alertSnrr" in WHERE — did you mean "alertSnr"?\n');
  assert.ok(!(await listTopics(admin)).includes(out), 'the output topic was not created');
});

test('an input topic that does not exist is a one-line error, and is not created', { timeout: 30_000 }, async () => {
  const missing = `nightjar-test-fs-missing-${runId}`;
  await assert.rejects(runFilterStream({ settings, input: missing, output: `${missing}-out`, where: TEMPLATE, report: () => undefined }), new RegExp(`topic "${missing}" does not exist`));
  const existing = await listTopics(admin);
  assert.ok(!existing.includes(missing) && !existing.includes(`${missing}-out`));
});
