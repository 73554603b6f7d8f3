// Several broker workers sharing one consumer group and one PostgreSQL store (issue 10).
//
// 1. Exactly once across rebalances and crashes: a raw topic of 6 partitions is filled, while
//    the workers run, with 3,000 synthetic Rubin alerts in 20 bursts. Three `nightjar broker`
//    processes (w1, w2, w3: one group, one store) start together; w2 is killed with SIGKILL in
//    the middle of the stream (its transactions are held open a while, so the kill often lands
//    in one), w4 joins later, and w1 is stopped with SIGTERM (it hands its partitions over).
//    A single broker over the same topic, with its own group and fresh database, is the
//    reference. Every filter topic (plain JSON, lite lightcurve, Avro), read as committed data,
//    must hold exactly the reference's records (as a multiset, the produced time aside), the
//    email filter's recorded matches must be the reference's, and both stores must hold the same
//    objects and lightcurve points.
//    Batch boundaries: a batch table keeps one row per object (its newest alert in the batch), so
//    with several alerts of one object the records would depend on where batches were cut, which
//    differs between runs and workers. Here every object has exactly one alert in the stream, so
//    no batch ever holds two alerts of an object and the comparison is exact whatever the cuts
//    (and per-object order holds trivially). Objects are keyed by diaObjectId, as a survey does.
// 2. A filter saved through one worker's API reaches the other worker within seconds while it is
//    idle (the between-batch reload), and records come from both workers' partitions; a filter
//    removed with `nightjar filter remove --store <url>` (the store directly) leaves both. The
//    worker serving the web app keeps /api/filters closed (no admin token file beside a database).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Admin } from '@platformatic/kafka';
import { createAdmin, createProducer, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { createTopic, endOffsets } from '../src/kafka/topics.ts';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/store.ts';
import { NightjarChild } from './helpers/child-broker.ts';
import { caughtUp, countUncommitted } from './helpers/group-progress.ts';
import { idOf, logLines, recordsOf, saveFilters, startWorker, uniqueObjectAlerts, waitUntil, type FilterSpec, type RawAlert, type SavedFilter } from './helpers/worker-fleet.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { acquireLocalPostgres, freshDatabase, releaseLocalPostgres, type PostgresLease, type TestDatabase } from './setup/local-postgres.ts';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const ALERTS = 3000;
const BURSTS = 20;
const PARTITIONS = 6;

const FILTERS: readonly FilterSpec[] = [
  { name: 'even', output: 'kafka', select: 'objectId, alertSourceId, alertSnr, nSources', where: 'diaObjectId % 2 = 0' },
  { name: 'third', output: 'kafka-lite', select: 'objectId, alertSourceId, ra, decl', where: 'diaObjectId % 3 = 0' },
  { name: 'some', output: 'kafka-avro', select: 'objectId, alertSourceId, alertSnr', where: 'alertSourceId % 5 < 2' },
  { name: 'digest', output: 'email', select: 'objectId, alertSourceId', where: 'diaObjectId % 7 = 0' },
  { name: 'quiet', output: 'none', select: 'objectId, alertSourceId', where: 'diaObjectId % 11 = 0' },
];

let kafka: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let postgres: PostgresLease;
const databases: TestDatabase[] = [];
const children: NightjarChild[] = [];

before(async () => {
  kafka = await acquireLocalKafka();
  settings = { bootstrap: [kafka.bootstrap] };
  admin = createAdmin(settings);
  producer = createProducer(settings);
  postgres = await acquireLocalPostgres();
});

after(async () => {
  for (const c of children) await c.kill9().catch(() => undefined);
  await producer?.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  for (const db of databases) await db.drop().catch(() => undefined);
  if (postgres !== undefined) await releaseLocalPostgres(postgres);
  if (kafka !== undefined) await releaseLocalKafka(kafka);
});

const began = Date.now();
function phase(text: string): void {
  process.stderr.write(`[workers test] ${((Date.now() - began) / 1000).toFixed(1)} s: ${text}\n`);
}

interface Setup {
  label: string;
  group: string;
  prefix: string;
  deadLetters: string;
  db: TestDatabase;
  filters: Map<string, SavedFilter>;
}

async function prepare(label: string): Promise<Setup> {
  const db = await freshDatabase(postgres);
  databases.push(db);
  const prefix = `wk${label}${run}`;
  return { label, group: `workers-${label}-${run}`, prefix, deadLetters: `workers-dlq-${label}-${run}`, db, filters: await saveFilters(db.url, settings, admin, prefix, FILTERS) };
}

/** Batches of up to 100 alerts; a killed worker's partitions move after 8 s, its open transaction is aborted after 10 s. */
function workerArgs(s: Setup, raw: string, instance: string): string[] {
  return ['--topics', raw, '--group', s.group, '--instance', instance, '--store', s.db.url, '--http-port', '0', '--topic-prefix', s.prefix, '--dead-letter-topic', s.deadLetters, '--batch-size', '100', '--batch-ms', '200', '--session-timeout', '8', '--transaction-timeout', '10', '--bootstrap', kafka.bootstrap];
}

function worker(s: Setup, raw: string, instance: string, env: NodeJS.ProcessEnv = {}, extra: readonly string[] = []): NightjarChild {
  const child = startWorker([...workerArgs(s, raw, instance), ...extra], env);
  children.push(child);
  return child;
}

function batches(child: NightjarChild): number {
  return child.count(/^batch \d+:/);
}

async function stopWorker(child: NightjarChild, name: string): Promise<void> {
  await child.signal('SIGTERM');
  const exit = await child.exited;
  assert.equal(exit.code, 0, `${name} exits 0 on SIGTERM\n${child.stderr.slice(-3000)}`);
}

async function send(raw: string, alerts: readonly RawAlert[]): Promise<void> {
  await sendAll(producer, alerts.map((a) => ({ topic: raw, key: a.key, value: a.value, partition: a.partition })));
}

test('three workers, one killed and one added, then one stopped: every filter stream and the store as a single broker makes them', { timeout: 300_000 }, async () => {
  const RAW = `workers-raw-${run}`;
  const alerts = uniqueObjectAlerts(23, ALERTS, PARTITIONS);
  const [ref, work] = [await prepare('ref'), await prepare('work')];
  await createTopic(admin, RAW, PARTITIONS);
  phase('stores, filters and the raw topic ready');

  // Each batch's transaction is held open a while after its records are sent (as in the crash
  // test); w2's for 2 s, and it is killed 0.8 s after a batch line: inside its next transaction.
  const hold = { NIGHTJAR_TEST_HOLD_TRANSACTION_MS: '200' };
  const w1 = worker(work, RAW, 'w1', hold);
  const w2 = worker(work, RAW, 'w2', { NIGHTJAR_TEST_HOLD_TRANSACTION_MS: '2000' });
  const w3 = worker(work, RAW, 'w3', hold);
  for (const [w, name] of [[w1, 'w1'], [w2, 'w2'], [w3, 'w3']] as const) await w.waitFor(/^broker: consuming/m, 60_000).catch((err: unknown) => assert.fail(`${name} did not start: ${String(err)}`));
  phase('w1, w2, w3 consuming');

  const perBurst = ALERTS / BURSTS;
  let w4: NightjarChild | undefined;
  for (let b = 0; b < BURSTS; b++) {
    await send(RAW, alerts.slice(b * perBurst, (b + 1) * perBurst));
    if (b === 3) {
      const done = batches(w2);
      await waitUntil(() => batches(w2) > Math.max(done, 1), 60_000, 'w2 processing batches before it is killed');
      await new Promise((r) => setTimeout(r, 800));
      const exit = await w2.kill9();
      assert.equal(exit.signal, 'SIGKILL', `w2 was running when killed\n${w2.stderr.slice(-3000)}`);
      phase(`w2 killed after ${batches(w2)} batches`);
    }
    if (b === 6) {
      w4 = worker(work, RAW, 'w4', hold);
      phase('w4 started');
    }
    if (b === 12) {
      // Once the group is w1, w3 and w4 (w2's session expired), w1 leaves: its partitions must
      // move at once, not after a session timeout.
      const all = Array.from({ length: PARTITIONS }, (_, p) => `${RAW}/${p}`).sort();
      await waitUntil(() => sameItems([...ownedBy(w1), ...ownedBy(w3), ...(w4 === undefined ? [] : ownedBy(w4))], all) && ownedBy(w1).length > 0, 60_000, 'the partitions spread over w1, w3 and w4');
      await stopWorker(w1, 'w1');
      const handover = await waitUntil(() => w4 !== undefined && sameItems([...ownedBy(w3), ...ownedBy(w4)], all), 7_000, 'w1\'s partitions taken over after its SIGTERM, before its session would time out (8 s)');
      phase(`w1 stopped with SIGTERM after ${batches(w1)} batches; w3 and w4 had its partitions ${handover} ms later`);
    }
    await new Promise((r) => setTimeout(r, 600));
  }
  phase(`${ALERTS} alerts sent`);

  // The reference: one broker over the whole topic, while the workers finish.
  const reference = worker(ref, RAW, 'main');
  const deadline = 180_000;
  await waitUntil(async () => (await caughtUp(admin, work.group, RAW)) && (await caughtUp(admin, ref.group, RAW)), deadline, 'both groups committing the whole raw topic').catch((err: unknown) => {
    const tail = (c: NightjarChild | undefined): string => c?.stderr.split('\n').slice(-15).join('\n') ?? '';
    throw new Error(`${String(err)}\nw3:\n${tail(w3)}\nw4:\n${tail(w4)}\nreference:\n${tail(reference)}`);
  });
  phase('both groups caught up');
  assert.ok(w4 !== undefined);
  for (const [c, name] of [[w3, 'w3'], [w4, 'w4'], [reference, 'reference']] as const) await stopWorker(c, name);
  assert.ok(batches(w4) > 0, `w4 got partitions and processed batches\n${w4.stderr.slice(-2000)}`);
  assert.ok(logLines(w3, 'group membership').length >= 2, 'w3 saw the group change');
  assert.deepEqual([...ownedBy(w3), ...ownedBy(w4)].sort(), Array.from({ length: PARTITIONS }, (_, p) => `${RAW}/${p}`).sort(), 'w3 and w4 own every partition in the end');
  const waited = [w3, w4].flatMap((c) => logLines(c, 'waiting for the committed offsets of the partitions taken over (a transaction of their previous owner is still open; Kafka aborts it after its timeout)'));
  const retried = [w1, w3, w4].flatMap((c) => logLines(c, 'batch transaction aborted, retrying'));
  const dropped = [w1, w3, w4].flatMap((c) => logLines(c, 'messages of an earlier group membership dropped (fetched again from the committed offsets)'));
  phase(`batches: w1 ${batches(w1)}, w2 ${batches(w2)} (killed), w3 ${batches(w3)}, w4 ${batches(w4)}; reference ${batches(reference)}; ${waited.length} waits for an open transaction of a previous owner, ${retried.length} batch transactions aborted and retried, ${dropped.length} batches with messages of lost partitions`);

  let aborted = 0;
  for (const f of FILTERS) {
    const [mine, theirs] = [work.filters.get(f.name) as SavedFilter, ref.filters.get(f.name) as SavedFilter];
    if (mine.topic === null || theirs.topic === null) continue;
    const [got, want] = [await recordsOf(settings, admin, mine.topic, f.output), await recordsOf(settings, admin, theirs.topic, f.output)];
    assert.ok(want.length >= 50, `the reference run put records in ${f.name} (${want.length})`);
    assert.equal(new Set(want.map(idOf)).size, want.length, `${f.name}: one record per alert in the reference run`);
    assert.equal(got.length, want.length, `${f.name} (${f.output}): ${got.length} records from the workers, ${want.length} from the reference`);
    assert.deepEqual(got, want, `${f.name} (${f.output}): the same records as the reference run`);
    const uncommitted = await countUncommitted(settings, admin, mine.topic);
    aborted += uncommitted - got.length;
    phase(`${f.name} (${f.output}): ${got.length} records, as in the reference run; ${uncommitted - got.length} more in aborted transactions`);
  }
  assert.ok(aborted > 0, 'aborted transactions (the kill, commits refused after a rebalance) left records behind, not in the committed view');
  for (const s of [ref, work]) assert.deepEqual(await endOffsets(admin, s.deadLetters), [0n], `${s.label}: nothing dead-lettered`);

  const [refStore, workStore] = [await openStore({ path: ref.db.url, readOnly: true }), await openStore({ path: work.db.url, readOnly: true })];
  try {
    const [refCounts, workCounts] = [await refStore.counts(), await workStore.counts()];
    assert.equal(refCounts.objects, ALERTS, 'the reference stored every object');
    assert.deepEqual({ ...workCounts, users: 0 }, { ...refCounts, users: 0 }, 'the workers stored the same objects, points, upper limits and alerts');
    for (const name of ['digest', 'quiet', 'even']) {
      const [got, want] = [await matchIds(workStore, work.filters.get(name) as SavedFilter), await matchIds(refStore, ref.filters.get(name) as SavedFilter)];
      assert.ok(want.length > 20, `${name}: matches recorded by the reference (${want.length})`);
      assert.deepEqual(got, want, `${name}: the workers recorded the same matches as the reference`);
    }
    // Counters are added after each commit: never twice, but a kill right after a commit loses that batch's.
    const [refCounters, workCounters] = [await pipelineTotals(refStore), await pipelineTotals(workStore)];
    assert.equal(refCounters.processed, ALERTS);
    assert.ok(workCounters.processed <= ALERTS && workCounters.processed >= ALERTS - 200, `the workers' counters add up (${workCounters.processed} of ${ALERTS} processed; a kill may lose one batch's)`);
  } finally {
    await refStore.close();
    await workStore.close();
  }
});

async function matchIds(store: Store, filter: SavedFilter): Promise<string[]> {
  const matches = await store.filterMatches(filter.id, { limit: 100_000 });
  return matches.map((m) => `${m.objectId}/${m.sourceId}`).sort();
}

async function pipelineTotals(store: Store): Promise<{ processed: number; alertsIn: number }> {
  const rows = await store.pipelineCounters();
  return { processed: rows.reduce((n, r) => n + r.processed, 0), alertsIn: rows.reduce((n, r) => n + r.alertsIn, 0) };
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/** The partitions a worker owns according to its latest membership log line. */
function ownedBy(child: NightjarChild): string[] {
  return (logLines(child, 'group membership').at(-1)?.partitions as string[] | undefined) ?? [];
}

function activeFilters(child: NightjarChild): number | undefined {
  return logLines(child, 'filters loaded').at(-1)?.active as number | undefined;
}

test('a filter saved through one worker\'s API reaches an idle worker within seconds; removed on the store directly, it leaves both', { timeout: 120_000 }, async () => {
  const RAW = `workers-raw2-${run}`;
  const db = await freshDatabase(postgres);
  databases.push(db);
  const s: Setup = { label: 'live', group: `workers-live-${run}`, prefix: `wklive${run}`, deadLetters: `workers-dlq-live-${run}`, db, filters: new Map() };
  await createTopic(admin, RAW, 2);
  const a = worker(s, RAW, 'a');
  const b = worker(s, RAW, 'b', {}, ['--web']);
  const api = (await waitForMatch(a, /broker: (http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1] as string;
  // b serves the web app: over PostgreSQL no admin token file is written, so its /api/filters is closed.
  const webApi = (await waitForMatch(b, /broker: (http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1] as string;
  await b.waitFor(/`nightjar filter --store <the store URL>` works on the store directly/, 10_000);
  const closed = await fetch(`${webApi}/api/filters`);
  assert.equal(closed.status, 401);
  assert.match(((await closed.json()) as { message: string }).message, /PostgreSQL store .*nightjar filter --store/);
  await waitUntil(() => ownedBy(a).length === 1 && ownedBy(b).length === 1, 60_000, 'the two partitions spread over the two workers');
  assert.equal(activeFilters(b), 0);
  phase(`a owns ${ownedBy(a).join()}, b owns ${ownedBy(b).join()}`);

  const saved = await fetch(`${api}/api/filters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ owner: 'live@example.org', name: 'everything', select: 'objectId, alertSourceId', output: 'kafka' }),
  });
  assert.equal(saved.status, 201, await saved.clone().text());
  const filter = ((await saved.json()) as { filter: { id: number; topic: string } }).filter;
  const reachedMs = await waitUntil(() => activeFilters(b) === 1, 10_000, 'the filter saved through a\'s API reaching the idle worker b');
  assert.equal(batches(b), 0, 'b reloaded the filters without a batch');
  phase(`the filter reached the idle worker b in ${reachedMs} ms`);

  const alerts = uniqueObjectAlerts(31, 40, 2);
  assert.ok(new Set(alerts.map((x) => x.partition)).size === 2, 'alerts in both partitions');
  await send(RAW, alerts);
  const want = alerts.map((x) => `${x.objectId}/${x.sourceId}`).sort();
  let got: string[] = [];
  await waitUntil(async () => {
    got = (await recordsOf(settings, admin, filter.topic, 'kafka')).map(idOf).sort();
    return got.length >= want.length;
  }, 30_000, 'records of every alert in the new filter\'s topic');
  assert.deepEqual(got, want, 'one record per alert, from both workers\' partitions');
  assert.ok(batches(a) > 0 && batches(b) > 0, 'both workers processed batches');

  // Removed through the store, as `nightjar filter` does with a PostgreSQL store and no --api.
  const removal = new NightjarChild(['filter', 'remove', String(filter.id), '--store', db.url, '--bootstrap', kafka.bootstrap]);
  children.push(removal);
  const removed = await removal.exited;
  assert.equal(removed.code, 0, `nightjar filter remove --store <url>\n${removal.stderr}`);
  assert.match(removal.stdout, /removed/);
  assert.doesNotMatch(removal.stderr, /using the store/, 'with a PostgreSQL store the command works on it directly, not through an API first');
  await waitUntil(() => activeFilters(a) === 0 && activeFilters(b) === 0, 10_000, 'both workers dropping the removed filter');
  for (const [c, name] of [[a, 'a'], [b, 'b']] as const) await stopWorker(c, name);
});

async function waitForMatch(child: NightjarChild, pattern: RegExp): Promise<RegExpExecArray> {
  await child.waitFor(pattern, 60_000);
  return pattern.exec(child.stdout) as RegExpExecArray;
}
