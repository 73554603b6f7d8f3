// Exactly-once under crashes. While the simulator streams synthetic Rubin alerts into a raw
// topic, `nightjar broker` runs as a child process and is killed with SIGKILL at random moments
// (at least 10 times) and started again each time; once, instead, the Kafka broker itself is
// restarted under the running pipeline, which must wait, reconnect and go on. Then every filter
// topic (plain JSON, lite lightcurve, Avro), read as committed data, must hold exactly the
// records of an uninterrupted reference run over the same input: the same (objectId, sourceId)
// multiset, nothing missing, nothing extra. The UTC time in the records differs between runs and
// is ignored.
//
// A private Kafka (its own ports and data folder) is used: the test restarts it, and the shared
// local Kafka serves other tests at the same time.
//
// Batches of one alert: a batch table holds one row per object (its newest alert), so the
// records a filter emits depend on which alerts share a batch; with one alert per batch they do
// not, and the reference run is comparable whatever the restarts did to the batch boundaries.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Admin } from '@platformatic/kafka';
import { decodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { createTopic } from '../src/kafka/topics.ts';
import { createFilterService } from '../src/service/filter-service.ts';
import { openStore } from '../src/store/duckdb-store.ts';
import { parse } from '../src/util/json.ts';
import { NightjarChild } from './helpers/child-broker.ts';
import { caughtUp, countUncommitted } from './helpers/group-progress.ts';
import { startPrivateKafka, type PrivateKafka } from './helpers/private-kafka.ts';
import { readTopic, type RawMessage } from './pipeline-helpers.ts';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const RAW = `crash-raw-${run}`;
const ALERTS = 200;
const PER_OBSERVATION = 20;
const KILLS = 10;

const FILTERS = [
  // Arbitrary subsets of the alerts (the synthetic alerts of one night are alike in brightness and
  // position, their ids are not).
  { name: 'even', output: 'kafka', select: 'objectId, alertSourceId, alertSnr', where: 'diaObjectId % 2 = 0' },
  { name: 'third', output: 'kafka-lite', select: 'objectId, alertSourceId, nSources', where: 'diaObjectId % 3 = 0' },
  { name: 'some', output: 'kafka-avro', select: 'objectId, alertSourceId, alertSnr', where: 'alertSourceId % 5 < 2' },
] as const;

interface Setup {
  label: string;
  group: string;
  prefix: string;
  store: string;
  topics: Map<string, string>;
}

let kafka: PrivateKafka;
let settings: KafkaSettings;
let admin: Admin;
let dir: string;
const children: NightjarChild[] = [];

before(async () => {
  kafka = await startPrivateKafka();
  settings = { bootstrap: [kafka.bootstrap] };
  admin = createAdmin(settings);
  dir = await mkdtemp(path.join(tmpdir(), 'nightjar-crash-'));
});

after(async () => {
  for (const c of children) await c.kill9().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await kafka?.destroy();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A store with the three filters saved (their topics created, empty). */
async function prepare(label: string): Promise<Setup> {
  const setup: Setup = { label, group: `crash-${label}-${run}`, prefix: `crash${label}${run}`, store: path.join(dir, `${label}.duckdb`), topics: new Map() };
  const store = await openStore({ path: setup.store });
  const producer = createProducer(settings);
  const service = createFilterService({ store, admin, producer, topicPrefix: setup.prefix });
  try {
    for (const f of FILTERS) {
      const saved = await service.add({ owner: 'crash@example.org', name: f.name, select: f.select, where: f.where, output: f.output });
      setup.topics.set(f.name, saved.filter.topic ?? '');
    }
  } finally {
    await service.close();
    await producer.close();
    await store.close();
  }
  return setup;
}

function brokerArgs(s: Setup): string[] {
  return ['broker', '--topics', RAW, '--group', s.group, '--store', s.store, '--http-port', '0', '--topic-prefix', s.prefix, '--dead-letter-topic', `crash-dlq-${s.label}-${run}`, '--batch-size', '1', '--batch-ms', '20', '--bootstrap', kafka.bootstrap];
}

/** Each batch's transaction held open a while after its records are sent: kills often land in one. */
const HOLD_OPEN = { NIGHTJAR_TEST_HOLD_TRANSACTION_MS: '250' };

function startBrokerChild(s: Setup, env: NodeJS.ProcessEnv = {}): NightjarChild {
  // Debug level: each batch's offsets, for the logs kept when the test fails (keepLogs).
  const child = new NightjarChild(brokerArgs(s), { NIGHTJAR_LOG_LEVEL: 'debug', ...env });
  children.push(child);
  return child;
}

/** Runs a broker until its group has committed the whole raw topic, then stops it with SIGTERM (exit 0). */
async function runToEnd(s: Setup, timeoutMs = 180_000): Promise<NightjarChild> {
  const child = startBrokerChild(s);
  const deadline = Date.now() + timeoutMs;
  while (!(await caughtUp(admin, s.group, RAW))) {
    if (!child.running()) throw new Error(`the ${s.label} broker exited early\n${child.stderr.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`the ${s.label} broker did not catch up within ${timeoutMs} ms\n${child.stdout.slice(-1500)}\n${child.stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await child.signal('SIGTERM');
  const exit = await child.exited;
  assert.equal(exit.code, 0, `the ${s.label} broker exits 0 on SIGTERM\n${child.stderr.slice(-3000)}`);
  return child;
}

/** (objectId, sourceId) of each record, sorted: the multiset to compare. */
async function idsOf(m: RawMessage[], output: string): Promise<string[]> {
  const ids: string[] = [];
  for (const message of m) {
    const record = output === 'kafka-avro' ? ((await decodeMessage(message.value, message.key))[0]?.record as Record<string, unknown>) : (parse(message.value.toString('utf8')) as Record<string, unknown>);
    ids.push(`${String(record.objectId)}/${String(record.alertSourceId)}`);
  }
  return ids.sort();
}

/** What one sorted multiset has that the other lacks: ids, with ×n when more than once. */
function multisetDifference(got: readonly string[], want: readonly string[]): { missing: string[]; extra: string[] } {
  const count = new Map<string, number>();
  for (const id of want) count.set(id, (count.get(id) ?? 0) + 1);
  for (const id of got) count.set(id, (count.get(id) ?? 0) - 1);
  const missing = [...count].filter(([, n]) => n > 0).map(([id, n]) => (n > 1 ? `${id} ×${n}` : id));
  const extra = [...count].filter(([, n]) => n < 0).map(([id, n]) => (n < -1 ? `${id} ×${-n}` : id));
  return { missing, extra };
}

/**
 * On a failure: where the alerts of a difference sit in the raw topic, and every child's output
 * (the crash run's brokers log at debug level: each batch's offsets), in a file that outlives the test.
 */
async function keepLogs(ids: readonly string[]): Promise<string> {
  const wanted = new Set(ids.map((id) => id.split(' ')[0]));
  const located: string[] = [];
  for (const m of await readTopic(settings, admin, RAW, 60_000)) {
    const record = (await decodeMessage(m.value, m.key))[0]?.record as { diaSource?: { diaSourceId?: unknown; diaObjectId?: unknown } } | undefined;
    const id = `${String(record?.diaSource?.diaObjectId)}/${String(record?.diaSource?.diaSourceId)}`;
    if (wanted.has(id)) located.push(`${id} at ${RAW}/${m.partition}/${m.offset}`);
  }
  const file = path.join(tmpdir(), `nightjar-crash-failure-${run}.log`);
  const sections = children.map((c, i) => `=== child ${i}: ${c.args.join(' ')}\n--- stdout\n${c.stdout}\n--- stderr\n${c.stderr}`);
  await writeFile(file, `${located.join('\n')}\n\n${sections.join('\n')}`);
  return file;
}

const began = Date.now();
function phase(text: string): void {
  process.stderr.write(`[crash test] ${((Date.now() - began) / 1000).toFixed(1)} s: ${text}\n`);
}

test(`kill -9 the broker ${KILLS} times and restart Kafka while alerts stream: every filter topic holds exactly the reference run's records`, { timeout: 600_000 }, async () => {
  const crash = await prepare('crash');
  const reference = await prepare('ref');
  await createTopic(admin, RAW, 3); // before the first broker starts (it wants its input topic to exist)

  const simulator = new NightjarChild(['simulate', '--topic', RAW, '--synthetic', String(ALERTS), '--seed', '11', '--no-cutouts', '--alerts-per-observation', String(PER_OBSERVATION), '--interval', '3', '--encoding', 'container', '--partitions', '3', '--bootstrap', kafka.bootstrap]);
  children.push(simulator);

  // Random moments: mostly while batches run (between them or in the middle of a transaction),
  // every fifth time during start-up. With the transactions held open (HOLD_OPEN) a kill while
  // batches run lands in an open transaction with records about half the time.
  let kills = 0;
  let batchesBetweenKills = 0;
  while (kills < KILLS) {
    const child = startBrokerChild(crash, HOLD_OPEN);
    if (kills % 5 === 4) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 3000));
    } else {
      await child.waitFor(/^broker: consuming/m, 120_000);
      // Once for sure after a batch: on a busy machine every other kill may land before the first.
      if (kills === 1) await child.waitFor(/^batch \d+:/m, 120_000);
      await new Promise((r) => setTimeout(r, Math.random() * 2500));
    }
    batchesBetweenKills += child.count(/^batch \d+:/);
    const exit = await child.kill9();
    assert.equal(exit.signal, 'SIGKILL', `the broker was running when killed (kill ${kills + 1})\n${child.stderr.slice(-3000)}`);
    kills++;
  }
  assert.ok(batchesBetweenKills > 0, 'the broker got batches done between the kills');
  phase(`${kills} kills done, ${batchesBetweenKills} batches between them`);

  const simulated = await simulator.exited;
  assert.equal(simulated.code, 0, `the simulator streamed every alert\n${simulator.stderr.slice(-2000)}`);

  // Kafka restarted under a running pipeline that still has a backlog to process.
  const survivor = startBrokerChild(crash, HOLD_OPEN);
  await survivor.waitFor(/^batch \d+:/m, 120_000);
  const beforeRestart = survivor.count(/^batch \d+:/);
  phase(`Kafka restarting after batch ${beforeRestart}`);
  await kafka.restart();
  const afterRestart = survivor.count(/^batch \d+:/);
  phase(`Kafka restarted (the broker at batch ${afterRestart})`);
  await survivor.waitFor(new RegExp(`^batch ${afterRestart + 2}:`, 'm'), 180_000).catch(async (err: unknown) => {
    if (await caughtUp(admin, crash.group, RAW)) return; // the backlog ran out: nothing more to process
    throw err;
  });
  assert.ok(survivor.running(), `the pipeline survived the Kafka restart\n${survivor.stderr.slice(-3000)}`);
  await survivor.signal('SIGTERM');
  assert.equal((await survivor.exited).code, 0, `SIGTERM after the Kafka restart exits 0\n${survivor.stderr.slice(-3000)}`);

  phase('the pipeline went on after the Kafka restart');
  await runToEnd(crash);
  phase('crash run complete');
  const referenceRun = await runToEnd(reference);
  phase('reference run complete');

  let aborted = 0;
  for (const f of FILTERS) {
    const crashTopic = crash.topics.get(f.name) as string;
    const refTopic = reference.topics.get(f.name) as string;
    const [got, want] = [await idsOf(await readTopic(settings, admin, crashTopic, 60_000), f.output), await idsOf(await readTopic(settings, admin, refTopic, 60_000), f.output)];
    assert.ok(want.length >= 10, `the reference run put records in ${f.name} (${want.length}; ${got.length} after the crashes)\n${referenceRun.stdout.slice(-1500)}`);
    // The same (objectId, sourceId) multiset as the reference run.
    if (got.join() !== want.join()) {
      const { missing, extra } = multisetDifference(got, want);
      const logs = await keepLogs([...missing, ...extra]);
      assert.fail(`${f.name} (${f.output}): ${got.length} records after the crashes, ${want.length} in the reference run; missing ${missing.join(', ') || 'none'}; extra ${extra.join(', ') || 'none'}; logs of every process: ${logs}`);
    }
    const uncommitted = await countUncommitted(settings, admin, crashTopic);
    phase(`${f.name}: ${got.length} committed records, as in the reference run; ${uncommitted - got.length} more in aborted transactions`);
    aborted += uncommitted - got.length;
  }
  // Else no kill hit an open transaction with records, and the test proved less than it should
  // (unlikely: about 0.5^8; rerun).
  assert.ok(aborted > 0, 'some kill left records of an open transaction behind (aborted, so not in the committed view)');
});
