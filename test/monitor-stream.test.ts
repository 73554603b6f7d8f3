// `nightjar monitor` on the real local Kafka, run as the real CLI: totals, end offsets, log
// sizes and a consumer group's committed offsets and lag checked against what was produced
// and committed; rates checked against alerts produced while it watches; unknown topic and
// unreachable server errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from '@platformatic/kafka';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openAlertStream } from '../src/stream/consume.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const TOPIC = `nightjar-test-monitor-${run}`;
const GROUP = `nightjar-test-monitor-group-${run}`;
const PARTITIONS = 3;
const COUNT = 20_000;
/** What the group commits per partition (null: nothing on that partition). */
const COMMIT: (bigint | null)[] = [1000n, 250n, null];

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
const produced = { messages: Array<number>(PARTITIONS).fill(0), valueBytes: Array<number>(PARTITIONS).fill(0) };

function syntheticMessages(seed: number, count: number): OutgoingMessage[] {
  const schema = lsstAlertParsedSchema();
  const out: OutgoingMessage[] = [];
  for (const record of generateAlerts({ seed, objects: 5000, count, cutouts: false })) {
    const objectId = (record.diaSource as { diaObjectId: bigint }).diaObjectId;
    const partition = Number(objectId % BigInt(PARTITIONS));
    const { value } = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID });
    produced.messages[partition]!++;
    produced.valueBytes[partition]! += value.length;
    out.push({ topic: TOPIC, partition, key: Buffer.from(String(objectId)), value });
  }
  return out;
}

async function produce(messages: OutgoingMessage[]): Promise<void> {
  const producer = createProducer(settings);
  try {
    await sendAll(producer, messages);
  } finally {
    await producer.close();
  }
}

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  await createTopic(admin, TOPIC, PARTITIONS);
  await produce(syntheticMessages(5, COUNT));

  // A real consumer group reads the topic and commits exactly COMMIT[p] on each partition.
  const stream = await openAlertStream(settings, { topics: [TOPIC], groupId: GROUP, from: 'earliest', role: 'test' });
  const pending = new Set(COMMIT.flatMap((c, p) => (c === null ? [] : [p])));
  const timer = setTimeout(() => void stream.close(), 30_000);
  try {
    for await (const m of stream) {
      assert.ok(m.ok, m.ok ? '' : m.error.message);
      const target = COMMIT[m.partition];
      if (target !== null && target !== undefined && m.offset === target - 1n) {
        await m.commit();
        pending.delete(m.partition);
        if (pending.size === 0) break;
      }
    }
  } finally {
    clearTimeout(timer);
    await stream.close();
  }
  assert.equal(pending.size, 0, 'the group committed on every partition it should');
});

after(async () => {
  await deleteTopic(admin, TOPIC).catch(() => false);
  await admin.deleteGroups({ groups: [GROUP] }).catch(() => undefined);
  await admin.close();
  await releaseLocalKafka(lease);
});

function nightjar(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    onStart?.(child);
  });
}

interface Status {
  messages: bigint | number;
  written: bigint | number;
  logBytes: bigint | number;
  seconds: number;
  messagesPerSecond: number;
  bytesPerSecond: number | null;
  group?: { id: string; state: string; members: number; committed: bigint | number; lag: bigint | number; uncommittedPartitions: number };
  partitionStatus: { partition: number; start: number; end: number; messages: number; logBytes: number; committed?: number | null; lag?: number | null }[];
}

test('monitor --once --group: totals, end offsets, log sizes, committed offsets and lag match what was produced and committed', { timeout: 30_000 }, async () => {
  const json = await nightjar(['monitor', TOPIC, '--group', GROUP, '--once', '--interval', '0.3', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const jsonLines = json.stdout.trim().split('\n');
  assert.equal(jsonLines.length, 1);
  const s = parse(jsonLines[0]!) as Status;
  assert.equal(Number(s.messages), COUNT);
  assert.equal(Number(s.written), COUNT);
  assert.equal(s.messagesPerSecond, 0, 'nothing produced while it measured');
  assert.equal(s.bytesPerSecond, 0);
  assert.ok(s.seconds >= 0.3 && s.seconds < 2, `measured over ${s.seconds} s`);
  const ends = produced.messages;
  assert.deepEqual(s.partitionStatus.map((p) => [p.partition, Number(p.start), Number(p.end), Number(p.messages)]), ends.map((n, p) => [p, 0, n, n]));
  for (const p of s.partitionStatus) {
    // The broker's log holds each value plus record and batch headers (keys, offsets, CRCs).
    const values = produced.valueBytes[p.partition]!;
    assert.ok(Number(p.logBytes) > values && Number(p.logBytes) < values * 1.1 + 100_000, `partition ${p.partition}: log ${p.logBytes} bytes for ${values} bytes of values`);
  }
  assert.equal(Number(s.logBytes), s.partitionStatus.reduce((n, p) => n + Number(p.logBytes), 0));
  assert.deepEqual(s.partitionStatus.map((p) => (p.committed === null ? null : BigInt(p.committed!))), COMMIT);
  const lags = COMMIT.map((c, p) => (c === null ? null : BigInt(ends[p]!) - c));
  assert.deepEqual(s.partitionStatus.map((p) => (p.lag === null ? null : BigInt(p.lag!))), lags);
  assert.deepEqual(
    { ...s.group, committed: Number(s.group!.committed), lag: Number(s.group!.lag) },
    { id: GROUP, state: 'Empty', members: 0, committed: 1250, lag: Number(lags[0]! + lags[1]!), uncommittedPartitions: 1, committedPerSecond: 0 },
  );

  // The same status as text, for people and logs.
  const text = await nightjar(['monitor', TOPIC, '--group', GROUP, '--once', '--interval', '0.3']);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^topic ${TOPIC} on ${settings.bootstrap.join(',')} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(rates over 0\\.\\d s\\)$`));
  assert.match(lines[1]!, new RegExp(`^messages ${COUNT} in 3 partitions \\(${COUNT} written\\)   in 0\\.0 msg/s   log \\d+\\.\\d MB   0 B/s$`));
  assert.equal(lines[2], `group ${GROUP} (Empty, 0 members)   committed 1250   lag ${lags[0]! + lags[1]!}   reading 0.0 msg/s   no commit on 1 partition`);
  assert.deepEqual(lines[3]!.trim().split(/\s{2,}/), ['partition', 'start', 'end', 'messages', 'log size', 'committed', 'lag']);
  const rows = lines.slice(4).map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[3], r[5], r[6]]), ends.map((n, p) => [String(p), '0', String(n), String(n), COMMIT[p] === null ? '-' : String(COMMIT[p]), lags[p] === null ? '-' : String(lags[p])]));
});

test('live monitor: the rates add up to what was produced while it watched; Ctrl-C ends it', { timeout: 30_000 }, async () => {
  const extra = syntheticMessages(6, 3000);
  let started!: () => void;
  const firstLine = new Promise<void>((resolve) => (started = resolve));
  const watching = nightjar(['monitor', TOPIC, '--interval', '0.4', '--json'], (child) => {
    child.stdout!.once('data', () => started());
    void firstLine.then(async () => {
      for (let i = 0; i < 3; i++) {
        await produce(extra.slice(i * 1000, (i + 1) * 1000));
        await sleep(350);
      }
      await sleep(1000);
      child.kill('SIGINT');
    });
  });
  const result = await watching;
  assert.equal(result.code, 0, result.stderr);
  const statuses = result.stdout.trim().split('\n').map((l) => parse(l) as Status);
  assert.ok(statuses.length >= 4, `${statuses.length} updates`);
  const first = statuses[0]!;
  const last = statuses.at(-1)!;
  assert.equal(first.messagesPerSecond, null, 'no rate before a second snapshot');
  assert.equal(Number(last.written) - Number(first.written), extra.length);
  const later = statuses.slice(1);
  const messagesFromRates = later.reduce((n, s) => n + s.messagesPerSecond * s.seconds, 0);
  assert.ok(Math.abs(messagesFromRates - extra.length) < 1e-6, `rates add up to ${messagesFromRates} messages`);
  assert.ok(later.some((s) => s.messagesPerSecond > 0));
  const bytesFromRates = later.reduce((n, s) => n + (s.bytesPerSecond ?? NaN) * s.seconds, 0);
  const logGrowth = Number(last.logBytes) - Number(first.logBytes);
  assert.ok(Math.abs(bytesFromRates - logGrowth) < 1e-3, `byte rates add up to ${bytesFromRates}, the log grew by ${logGrowth}`);
  const values = extra.reduce((n, m) => n + m.value.length, 0);
  assert.ok(logGrowth > values && logGrowth < values * 1.1 + 50_000, `log grew by ${logGrowth} bytes for ${values} bytes of values`);
});

test('unknown topic and unreachable server: one line each, naming the topic (with existing ones) or the address', { timeout: 30_000 }, async () => {
  const missing = await nightjar(['monitor', `${TOPIC}x`, '--once']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, new RegExp(`^nightjar: topic "${TOPIC}x" does not exist on ${settings.bootstrap.join(',')}; existing topics: ${TOPIC}`));

  const began = Date.now();
  const unreachable = await nightjar(['monitor', TOPIC, '--once', '--bootstrap', '127.0.0.1:1']);
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.stderr.trim().split('\n').length, 1, unreachable.stderr);
  assert.match(unreachable.stderr, /^nightjar: cannot reach Kafka at 127\.0\.0\.1:1: .*ECONNREFUSED/);
  assert.ok(Date.now() - began < 10_000, 'gives up within seconds');
});
