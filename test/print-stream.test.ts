// `nightjar print` on the real local Kafka, run as the real CLI: real Rubin and ZTF alerts
// (with cutouts written as FITS files) and 20,000 synthetic Rubin alerts; counts, order within
// partitions, exact 64-bit ids in the JSON text, no cutout bytes, undecodable messages reported
// and skipped, --every/--limit, a group resuming where it stopped, --from latest, Ctrl-C.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from '@platformatic/kafka';
import { toAlert } from '../src/formats/adapters/index.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';
import { createAdmin, createProducer, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { findCutouts } from '../src/stream/cutouts.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const data = path.resolve(repoRoot, '../shared/data');
const schemaDir = path.join(data, 'lsst-alert_packet/schema');
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const REAL_TOPIC = `nightjar-test-print-real-${run}`;
const SYNTH_TOPIC = `nightjar-test-print-synth-${run}`;
const SYNTHETIC_COUNT = 20_000;
const REAL_PARTITIONS = 2;
const SYNTH_PARTITIONS = 3;

/** What was produced at one partition/offset: the alert ids, or the reason it cannot be decoded. */
interface Produced {
  label: string;
  /** One entry per record in the message: the source id and the cutout sizes in field order. */
  records: { sourceId: bigint; objectId: string; cutouts: { path: string; size: number }[] }[];
  corrupt?: RegExp;
  key: string;
}

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let tmp: string;
const real: Produced[][] = Array.from({ length: REAL_PARTITIONS }, () => []);
const synthetic: Produced[][] = Array.from({ length: SYNTH_PARTITIONS }, () => []);

async function realFiles(): Promise<string[]> {
  const fink = path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro');
  const ztfObject = path.join(data, 'pitt-google-broker/ZTF21abiuvdk');
  return [
    'boom/alerts/lsst/25409136044802067.avro', // Confluent wire v7.1
    'boom/alerts/lsst/3527242430321524769.avro', // Confluent wire v7.3
    'boom/alerts/lsst/7912941781254298.avro', // Confluent wire v9.0
    ...(await readdir(fink)).sort().map((f) => path.relative(data, path.join(fink, f))), // Fink's Rubin v9 containers
    'boom/alerts/ztf/2695378462115010012.avro', // ZTF 4.02 container per message, gzip stamps
    'boom/alerts/ztf/3005140370015010009.avro',
    ...(await readdir(ztfObject)).sort().slice(0, 5).map((f) => path.relative(data, path.join(ztfObject, f))),
  ];
}

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  tmp = await mkdtemp(path.join(tmpdir(), 'nightjar-print-test-'));
  await createTopic(admin, REAL_TOPIC, REAL_PARTITIONS);
  await createTopic(admin, SYNTH_TOPIC, SYNTH_PARTITIONS);

  const schemas = schemaDirectory(schemaDir);
  const messages: OutgoingMessage[] = [];
  const add = (topic: string, table: Produced[][], partition: number, value: Buffer, produced: Produced): void => {
    table[partition]!.push(produced);
    messages.push({ topic, partition, key: Buffer.from(produced.key), value });
  };
  let i = 0;
  for (const file of await realFiles()) {
    const bytes = await readFile(path.join(data, file));
    const records = (await readAlertFile(path.join(data, file), { schemas })).map((d) => {
      const alert = toAlert(d.record, d.schema.name);
      return { sourceId: alert.sourceId, objectId: String(alert.objectId), cutouts: findCutouts(d.record).map((c) => ({ path: c.path, size: c.data.length })) };
    });
    add(REAL_TOPIC, real, i++ % REAL_PARTITIONS, bytes, { label: file, records, key: String(records[0]!.sourceId) });
    if (i === 2) {
      // Messages that cannot be decoded, among the good ones: a truncated Rubin alert, an unknown schema id, no value.
      add(REAL_TOPIC, real, i++ % REAL_PARTITIONS, bytes.subarray(0, 700), { label: 'truncated', records: [], corrupt: /cannot decode confluent message from .*: .*schema lsst\.v7_3\.alert \(id 703\)/, key: 'truncated' });
      add(REAL_TOPIC, real, i++ % REAL_PARTITIONS, Buffer.concat([Buffer.from([0, 0, 0, 0x10, 0x92]), bytes.subarray(5, 300)]), { label: 'unknown id', records: [], corrupt: /4242/, key: 'unknown' });
      add(REAL_TOPIC, real, i++ % REAL_PARTITIONS, Buffer.alloc(0), { label: 'empty', records: [], corrupt: /cannot decode schemaless message from .*: the message has no value/, key: 'empty' });
    }
  }

  const schema = lsstAlertParsedSchema();
  for (const record of generateAlerts({ seed: 11, objects: 5000, count: SYNTHETIC_COUNT, cutouts: false })) {
    const source = record.diaSource as { diaSourceId: bigint; diaObjectId: bigint };
    const { value } = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID });
    // Keyed by object, as a simulator does: one object's alerts stay in one partition, in order.
    const partition = Number(source.diaObjectId % BigInt(SYNTH_PARTITIONS));
    add(SYNTH_TOPIC, synthetic, partition, value, { label: `synthetic ${source.diaSourceId}`, records: [{ sourceId: source.diaSourceId, objectId: String(source.diaObjectId), cutouts: [] }], key: String(source.diaObjectId) });
  }
  const producer = createProducer(settings);
  try {
    await sendAll(producer, messages);
  } finally {
    await producer.close();
  }
});

after(async () => {
  for (const topic of [REAL_TOPIC, SYNTH_TOPIC]) await deleteTopic(admin, topic).catch(() => false);
  const groups = [...(await admin.listGroups()).keys()].filter((g) => g.startsWith('nightjar-test-print-') && g.endsWith(run));
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

/** Runs ./nightjar with these arguments; `onStart` gets the child (e.g. to signal it). */
function nightjar(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot, env: { ...process.env, NIGHTJAR_LOG_LEVEL: 'warn' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    onStart?.(child);
  });
}

interface Printed {
  text: string;
  topic: string;
  partition: number;
  offset: bigint | number;
  key: string | null;
  index?: number;
  stamps?: string[];
  record: Record<string, unknown>;
}

const lines = (stdout: string): Printed[] => stdout.split('\n').filter((l) => l !== '').map((text) => ({ ...(parse(text) as Omit<Printed, 'text'>), text }));

/** Offsets strictly increase within each partition. */
function assertOrdered(printed: Printed[]): void {
  const last = new Map<number, bigint>();
  for (const p of printed) {
    const offset = BigInt(p.offset);
    const before = last.get(p.partition);
    if (before !== undefined) assert.ok(offset > before || (offset === before && (p.index ?? 0) > 0), `partition ${p.partition}: offset ${offset} after ${before}`);
    last.set(p.partition, offset);
  }
}

/** The printed alert is the one produced there, with its 64-bit ids as bare digits in the JSON text. */
function assertSameAlert(p: Printed, table: Produced[][]): Produced {
  const produced = table[p.partition]![Number(p.offset)];
  assert.ok(produced !== undefined, `nothing was produced at ${p.partition}/${p.offset}`);
  const expected = produced.records[p.index ?? 0];
  assert.ok(expected !== undefined, `${produced.label}: no record ${p.index ?? 0}`);
  const id = expected.sourceId.toString();
  assert.match(p.text, new RegExp(`"(?:diaSourceId|candid)":${id}[,}]`), `${produced.label}: source id ${id} not printed exactly`);
  assert.equal(p.key, produced.key, `${produced.label}: key`);
  return produced;
}

/** Resolves once the group has a member with its partitions assigned. */
async function joined(group: string): Promise<void> {
  for (let tries = 0; tries < 150; tries++) {
    const state = (await admin.describeGroups({ groups: [group] })).get(group);
    if (state?.state === 'Stable') return;
    await sleep(100);
  }
  throw new Error(`group ${group} never became stable`);
}

test('real Rubin and ZTF alerts: all printed in order without cutout bytes, cutouts written as FITS, bad messages reported', { timeout: 60_000 }, async () => {
  const stampDir = path.join(tmp, 'stamps');
  const result = await nightjar(['print', REAL_TOPIC, '--from', 'earliest', '--compact', '--timeout', '1.5', '--schema-dir', schemaDir, '--stamp-dir', stampDir]);
  assert.equal(result.code, 0, result.stderr);
  const printed = lines(result.stdout);
  const all = real.flat();
  const expectedRecords = all.reduce((n, m) => n + m.records.length, 0);
  assert.equal(printed.length, expectedRecords, result.stderr);
  assertOrdered(printed);

  let fitsFiles = 0;
  for (const p of printed) {
    assert.equal(p.topic, REAL_TOPIC);
    const produced = assertSameAlert(p, real);
    const expected = produced.records[p.index ?? 0]!;
    // No cutout bytes: each cutout is its size, and nothing long and base64-like is in the line.
    assert.ok(!/[A-Za-z0-9+/]{200}/.test(p.text), `${produced.label}: a long base64 run in the output`);
    assert.ok(!p.text.includes('stampData'), `${produced.label}: ZTF stamp record printed`);
    for (const c of expected.cutouts) {
      const [head, tail] = c.path.includes('.') ? c.path.split('.') : [undefined, c.path];
      const holder = (head === undefined ? p.record : p.record[head]) as Record<string, unknown>;
      assert.deepEqual(holder[tail!], { $bytes: c.size }, `${produced.label}: ${c.path}`);
    }
    // --stamp-dir: one FITS file per cutout, named after the source id.
    assert.deepEqual(p.stamps?.map((f) => path.basename(f)).sort(), expected.cutouts.map((c) => `${expected.sourceId}_${c.path.includes('Science') ? 'science' : c.path.includes('Template') ? 'template' : 'difference'}.fits`).sort());
    for (const file of p.stamps ?? []) {
      const fits = await readFile(file);
      assert.equal(fits.subarray(0, 9).toString('latin1'), 'SIMPLE  =', file);
      assert.equal(fits.length % 2880, 0, `${file}: not whole FITS blocks`);
      fitsFiles++;
    }
  }
  assert.ok(printed.some((p) => p.text.includes('"schema":"ztf.alert"')), 'ZTF alerts printed');
  assert.ok(all.some((m) => m.records.some((r) => r.sourceId > BigInt(Number.MAX_SAFE_INTEGER))), 'real ids above 2^53 were printed (and checked as bare digits)');
  assert.ok(fitsFiles >= 3 * 30, `only ${fitsFiles} FITS files`);
  assert.equal((await readdir(stampDir)).length, fitsFiles);

  // Each undecodable message: one line naming topic/partition/offset and the reason.
  const errors = result.stderr.split('\n').filter((l) => l.includes('cannot decode'));
  const bad = real.flatMap((list, partition) => list.map((m, offset) => ({ m, partition, offset }))).filter((x) => x.m.corrupt !== undefined);
  assert.equal(errors.length, bad.length, result.stderr);
  for (const { m, partition, offset } of bad) {
    const line = errors.find((l) => l.includes(`${REAL_TOPIC}/${partition}/${offset}:`));
    assert.ok(line !== undefined, `no error line for ${m.label} at ${partition}/${offset}:\n${result.stderr}`);
    assert.match(line, m.corrupt!);
    assert.ok(line.startsWith('nightjar print: '));
  }
  assert.match(result.stderr, new RegExp(`printed ${expectedRecords} alerts from ${all.length} messages of ${REAL_TOPIC}, ${bad.length} undecodable`));
});

test('20,000 synthetic alerts with --every 7: every 7th message printed, ids exact, partitions in order', { timeout: 60_000 }, async () => {
  const result = await nightjar(['print', SYNTH_TOPIC, '--from', 'earliest', '--every', '7', '--compact', '--timeout', '1.5']);
  assert.equal(result.code, 0, result.stderr);
  const printed = lines(result.stdout);
  assert.equal(printed.length, Math.ceil(SYNTHETIC_COUNT / 7));
  assertOrdered(printed);
  for (const p of printed) {
    assertSameAlert(p, synthetic);
    const source = p.record.diaSource as { diaSourceId: unknown; diaObjectId: unknown };
    assert.equal(typeof source.diaSourceId, 'bigint', 'ids above 2^53 parse back as BigInt');
    assert.equal(String(source.diaObjectId), p.key);
  }
  assert.match(result.stderr, new RegExp(`printed ${printed.length} alerts from ${SYNTHETIC_COUNT} messages of ${SYNTH_TOPIC}\\n`));
  assert.match(result.stderr, /no messages in the last 1\.5 seconds/);
});

test('--limit stops after M alerts; a second run of the same --group resumes after what the first consumed', { timeout: 60_000 }, async () => {
  const group = `nightjar-test-print-group-${run}`;
  const first = await nightjar(['print', SYNTH_TOPIC, '--group', group, '--from', 'earliest', '--every', '5', '--limit', '40', '--compact']);
  assert.equal(first.code, 0, first.stderr);
  const one = lines(first.stdout);
  assert.equal(one.length, 40);
  // The 40th printed is the 196th message (1 + 39 x 5): exactly that much is consumed and committed.
  assert.match(first.stderr, new RegExp(`printed 40 alerts from 196 messages of ${SYNTH_TOPIC}`));
  const [offsets] = await admin.listConsumerGroupOffsets({ groups: [group] });
  const committed = offsets!.topics.find((t) => t.name === SYNTH_TOPIC)!.partitions.filter((p) => p.committedOffset >= 0n);
  assert.equal(committed.reduce((n, p) => n + p.committedOffset, 0n), 196n);
  for (const p of committed) {
    const printedThere = one.filter((q) => q.partition === p.partitionIndex).map((q) => BigInt(q.offset));
    assert.ok(printedThere.every((o) => o < p.committedOffset), `partition ${p.partitionIndex}: committed ${p.committedOffset}`);
  }
  const second = await nightjar(['print', SYNTH_TOPIC, '--group', group, '--from', 'earliest', '--limit', '30', '--compact']);
  assert.equal(second.code, 0, second.stderr);
  const two = lines(second.stdout);
  assert.equal(two.length, 30);
  for (const p of two) {
    assertSameAlert(p, synthetic);
    const lastOfFirst = one.filter((q) => q.partition === p.partition).map((q) => BigInt(q.offset)).reduce((a, b) => (b > a ? b : a), -1n);
    assert.ok(BigInt(p.offset) > lastOfFirst, `partition ${p.partition}: offset ${p.offset} was already consumed by the first run`);
  }
});

test('--from latest (the default) prints only alerts produced after joining', { timeout: 60_000 }, async () => {
  const group = `nightjar-test-print-latest-${run}`;
  const fresh = Array.from({ length: 6 }, (_, i) => `fresh-${i}`);
  const producing = (async () => {
    // Wait until the print consumer has joined its group, then produce 6 new alerts.
    await joined(group);
    await sleep(300);
    const schema = lsstAlertParsedSchema();
    const records = [...generateAlerts({ seed: 99, objects: 10, count: fresh.length, cutouts: false })];
    const producer = createProducer(settings);
    try {
      await sendAll(producer, records.map((r, i) => ({ topic: SYNTH_TOPIC, partition: 0, key: Buffer.from(fresh[i]!), value: encodeMessage(r, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value })));
    } finally {
      await producer.close();
    }
  })();
  const result = await nightjar(['print', SYNTH_TOPIC, '--group', group, '--compact', '--limit', String(fresh.length), '--timeout', '8']);
  await producing;
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(lines(result.stdout).map((p) => p.key), fresh);
});

test('Ctrl-C closes cleanly with the summary; an unknown topic is one line naming it', { timeout: 30_000 }, async () => {
  const group = `nightjar-test-print-interrupted-${run}`;
  const interrupted = await nightjar(['print', SYNTH_TOPIC, '--group', group, '--compact'], (child) => {
    void joined(group).then(() => child.kill('SIGINT'));
  });
  assert.equal(interrupted.code, 0, interrupted.stderr);
  assert.match(interrupted.stderr, new RegExp(`printed 0 alerts from 0 messages of ${SYNTH_TOPIC}`));

  const missing = await nightjar(['print', `${SYNTH_TOPIC}-nope`]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  const errorLines = missing.stderr.trim().split('\n');
  assert.equal(errorLines.length, 1, missing.stderr);
  // The existing topics most like the one asked for come first.
  assert.match(errorLines[0]!, new RegExp(`^nightjar: topic "${SYNTH_TOPIC}-nope" does not exist on ${settings.bootstrap.join(',')}; existing topics: ${SYNTH_TOPIC}, `));
});
