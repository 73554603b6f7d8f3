// Throughput of several broker workers sharing one consumer group and one PostgreSQL store
// (issue 10), against one worker, and one worker on the embedded DuckDB store for comparison.
//
// For each worker count N: a raw topic with 6 partitions is filled with synthetic Rubin alerts
// (the simulator's generator: seeded lightcurves with a year of history, FITS cutouts; Confluent
// wire format, keyed by object), the same alerts every run, in one Kafka transaction left open
// (bench/lib/workers-fill.ts); a fresh PostgreSQL database gets the benchmark's filters
// (bench/lib/filters.ts: 100 by default); N `nightjar broker` processes start together, as users
// start them (same --group, --instance w1..wN, --store postgres://...). Once every worker is in
// the group and the partitions are assigned, the fill's transaction is committed and the whole
// topic appears to the workers (they read committed data) at one instant. Throughput = alerts /
// the time from that commit until the group's committed offsets cover every record: offsets are
// committed in the same Kafka transaction as a batch's filter records, so by then every filter
// topic is written too. Per worker: alerts processed, batches, seconds per stage (from its
// /metrics: decode, store, filters, deliver, commit ...), CPU seconds while processing and peak
// RSS (from /proc), and its CPU profile (node --cpu-prof, so the figures include the profiler's
// small overhead), summarised by bench/profile-summary.ts's code. The machine's busy share over
// the run tells whether the cores were the limit.
//
// The local Kafka and PostgreSQL servers are leased as tests lease them (test/setup/): started if
// they are not running, and stopped afterwards only if this run started them and no test holds a
// lease on them.
// Run: node bench/workers.ts [--quick] [--alerts 30000] [--workers 1,2,3] [--filters 100]
//   [--batch-size 5000] [--batch-ms 1000] [--partitions 6] [--objects 10000] [--profile DIR]
//   [--no-duckdb] (--profile keeps the .cpuprofile files in DIR; else they go to a temp dir)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createAdmin, defaultSettings } from '../src/kafka/connection.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, deleteTopic, rawTopicConfig } from '../src/kafka/topics.ts';
import { readLag } from '../src/pipeline/lag.ts';
import { isPostgresUrl } from '../src/store/open-store.ts';
import { acquireLocalKafka, releaseLocalKafka } from '../test/setup/local-kafka.ts';
import { acquireLocalPostgres, freshDatabase, releaseLocalPostgres, type TestDatabase } from '../test/setup/local-postgres.ts';
import { parseMetrics } from '../test/pipeline-helpers.ts';
import { runId, startBenchRegistry, Topics } from './lib/bench-kafka.ts';
import { isQuick, Results } from './lib/emit.ts';
import { benchFilters, storeWithFilters } from './lib/filters.ts';
import { fillHeld, type HeldFill } from './lib/workers-fill.ts';
import { localServerPids, machineCpuTicks, treeCpuSeconds } from './lib/process-stats.ts';
import { profileDigest, stageSeconds, sumSeries, type ProfileDigest } from './lib/workers-figures.ts';
import { WorkerProcess, type WorkerReady } from './lib/workers-process.ts';

const quick = isQuick();
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    alerts: { type: 'string', default: quick ? '2000' : '30000' },
    workers: { type: 'string', default: '1,2,3' },
    filters: { type: 'string', default: '100' },
    'batch-size': { type: 'string', default: quick ? '500' : '5000' },
    'batch-ms': { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '6' },
    objects: { type: 'string', default: quick ? '1000' : '10000' },
    /** Keeps each worker's CPU profile (node --cpu-prof) in this directory. */
    profile: { type: 'string' },
    'no-duckdb': { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not "${text}"`);
  return n;
}
const alerts = positive('alerts', args.alerts);
const workerCounts = args.workers.split(',').map((w) => positive('workers', w.trim()));
const filterCount = Number(args.filters);
if (!Number.isSafeInteger(filterCount) || filterCount < 0) throw new Error(`--filters must be a whole number, not "${args.filters}"`);
const batchSize = positive('batch-size', args['batch-size']);
const batchMs = positive('batch-ms', args['batch-ms']);
const partitions = positive('partitions', args.partitions);
const objects = positive('objects', args.objects);

type StoreKind = 'postgres' | 'duckdb';
const STORE_NAMES: Record<StoreKind, string> = { postgres: 'PostgreSQL', duckdb: 'DuckDB' };

interface WorkerFigures {
  instance: string;
  alertsIn: number;
  processed: number;
  batches: number;
  retries: number;
  deadLetters: number;
  records: number;
  stageSeconds: Record<string, number>;
  /** User + system CPU seconds from the release of the alerts to the end of the run. */
  cpuSeconds: number;
  peakRssMB: number;
  /** From spawning to its "consuming" line. */
  startSeconds: number;
  profile: ProfileDigest | null;
}

interface RunFigures {
  store: StoreKind;
  workers: number;
  seconds: number;
  throughput: number;
  perWorker: WorkerFigures[];
  /** Share of the machine's CPU time that was busy during the run (every process). */
  machineBusy: number | null;
  /** CPU seconds of the local Kafka and PostgreSQL servers during the run (null: not running here). */
  serverCpu: { kafka: number | null; postgres: number | null };
  storeMB: number | null;
}

const kafka = defaultSettings();
const run = runId();
const results = new Results('workers');
const admin = createAdmin(kafka);
const topics = new Topics(admin);
const registry = await startBenchRegistry();
const work = mkdtempSync(path.join(tmpdir(), 'nightjar-bench-workers-'));
const profileDir = args.profile === undefined ? path.join(work, 'profiles') : path.resolve(args.profile);
mkdirSync(profileDir, { recursive: true });
const mb = (bytes: number): number => bytes / 1e6;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function checkRunning(workers: readonly WorkerProcess[], what: string): void {
  const gone = workers.find((w) => !w.running);
  if (gone !== undefined) throw new Error(`worker ${gone.settings.instance} exited before ${what}: ${gone.lastLines}`);
}

/** Resolves once the group is stable with all `count` workers as members and every partition assigned. */
async function untilGroupStable(groupId: string, topic: string, workers: readonly WorkerProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    const members = [...(group?.members.values() ?? [])];
    const assigned = members.reduce((n, m) => n + (m.assignments?.get(topic)?.partitions.length ?? 0), 0);
    if (group?.state === 'Stable' && members.length === workers.length && assigned === partitions) return;
    checkRunning(workers, 'the group was formed');
    if (Date.now() > deadline) throw new Error(`the group ${groupId} was not stable with ${workers.length} members after ${timeoutMs / 1000} s (state ${group?.state ?? 'none'}, ${members.length} members, ${assigned} partitions assigned)`);
    await sleep(200);
  }
}

/**
 * Resolves once the group has committed every record of the topic (perPartition: record counts;
 * the commit marker after them stays uncommitted), with the epoch ms then.
 */
async function untilCommitted(groupId: string, topic: string, perPartition: readonly number[], workers: readonly WorkerProcess[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await readLag(admin, groupId, [topic]);
    const now = Date.now();
    const left = lag.map((p) => Math.max(0, (perPartition[p.partition] ?? 0) - Number(p.committed ?? 0n)));
    if (lag.length === perPartition.length && left.every((n) => n === 0)) return now;
    checkRunning(workers, 'the topic was processed');
    if (now > deadline) throw new Error(`the group ${groupId} had not committed the whole topic after ${timeoutMs / 1000} s: ${left.map((n, p) => `p${p} ${n} left`).join(', ')}`);
    await sleep(200);
  }
}

/**
 * Each worker opened the store it was given and runs every filter: a figure from a worker on
 * another store, or without the filters, would be meaningless.
 */
async function checkWorkers(store: StoreKind, workers: readonly WorkerProcess[], ready: readonly WorkerReady[]): Promise<void> {
  for (const [i, w] of workers.entries()) {
    const opened = (ready[i] as WorkerReady).store;
    // (A URL taken for a file name keeps its password: masked here.)
    if ((store === 'postgres') !== isPostgresUrl(opened)) throw new Error(`worker ${w.settings.instance} was given a ${STORE_NAMES[store]} store but opened ${opened.replace(/:[^:@/]*@/, ':***@')}`);
    const active = sumSeries(parseMetrics(await w.metrics()), 'nightjar_filters_active');
    if (active !== filterCount) throw new Error(`worker ${w.settings.instance} runs ${active} of the ${filterCount} filters (the others did not compile or load)`);
  }
}

/** CPU seconds so far of the local Kafka and PostgreSQL servers (their process trees). */
function serverCpuNow(): { kafka?: number; postgres?: number } {
  const pids = localServerPids();
  const out: { kafka?: number; postgres?: number } = {};
  for (const server of ['kafka', 'postgres'] as const) {
    const pid = pids[server];
    const seconds = pid === undefined ? undefined : treeCpuSeconds(pid);
    if (seconds !== undefined) out[server] = seconds;
  }
  return out;
}

async function databaseBytes(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes');
    return Number(rows[0]?.bytes);
  } finally {
    await client.end();
  }
}

async function runWorkers(store: StoreKind, count: number, postgres: Awaited<ReturnType<typeof acquireLocalPostgres>>): Promise<RunFigures> {
  const label = `${store}-${count}`;
  const filters = benchFilters(filterCount, `nightjar-bench-w-${run}-${label}`);
  for (const f of filters) if (f.topic !== null) topics.track(f.topic);
  const deadLetterTopic = `nightjar-bench-dlq-${run}-${label}`;
  topics.track(deadLetterTopic);
  let database: TestDatabase | null = null;
  let location: string;
  if (store === 'postgres') {
    database = await freshDatabase(postgres, 'nightjar_bench');
    location = database.url;
  } else {
    location = path.join(work, `${label}.duckdb`);
  }
  // A raw topic per run, filled in a transaction held open until the workers are all in the group.
  const rawTopic = `nightjar-bench-workers-raw-${run}-${label}`;
  await topics.create(rawTopic, partitions, rawTopicConfig(DEFAULT_MAX_MESSAGE_BYTES));
  let fill: HeldFill | null = null;
  try {
    fill = await fillHeld({ kafka, topic: rawTopic, partitions, registryUrl: registry.url, alerts, objects, seed: 10 });
    console.log(`raw topic ${rawTopic}: ${fill.sent} synthetic Rubin alerts with cutouts, mean ${(fill.bytes / fill.sent / 1000).toFixed(1)} kB (${mb(fill.bytes).toFixed(0)} MB), written in ${fill.seconds.toFixed(1)} s in a transaction held open until the workers are ready`);
    await storeWithFilters(location, filters);
    const group = `nightjar-bench-workers-${run}-${label}`;
    const workers = Array.from({ length: count }, (_, i) => {
      const instance = `w${i + 1}`;
      return new WorkerProcess({
        instance,
        group,
        topics: [rawTopic],
        store: location,
        registryUrl: registry.url,
        deadLetterTopic,
        topicPrefix: 'nightjar-bench',
        batchSize,
        batchMs,
        cwd: work,
        profile: { dir: profileDir, name: `workers-${label}-${instance}.cpuprofile` },
      });
    });
    let seconds: number;
    let metrics: Map<string, number>[];
    let readyAt: number[];
    let cpuAtStart: number[];
    let machineBusy: number | null = null;
    let serverCpu: RunFigures['serverCpu'] = { kafka: null, postgres: null };
    try {
      const ready = await Promise.all(workers.map((w) => w.ready));
      readyAt = ready.map((r) => r.at);
      await checkWorkers(store, workers, ready);
      await untilGroupStable(group, rawTopic, workers, 120_000);
      for (const w of workers) w.sample();
      cpuAtStart = workers.map((w) => w.cpuSeconds);
      const machineBefore = machineCpuTicks();
      const serversBefore = serverCpuNow();
      const started = await fill.release();
      const done = await untilCommitted(group, rawTopic, fill.perPartition, workers, Math.max(300_000, alerts * 50));
      seconds = (done - started) / 1000;
      const machineAfter = machineCpuTicks();
      if (machineBefore !== undefined && machineAfter !== undefined) machineBusy = (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
      const serversAfter = serverCpuNow();
      const used = (before: number | undefined, after: number | undefined): number | null => (before === undefined || after === undefined ? null : after - before);
      serverCpu = { kafka: used(serversBefore.kafka, serversAfter.kafka), postgres: used(serversBefore.postgres, serversAfter.postgres) };
      for (const w of workers) w.sample();
      metrics = await Promise.all(workers.map(async (w) => parseMetrics(await w.metrics())));
    } finally {
      const codes = await Promise.all(workers.map((w) => w.stop()));
      codes.forEach((code, i) => code !== 0 && console.warn(`worker w${i + 1} exited with ${code}: ${workers[i]?.lastLines}`));
    }
    const storeBytes = store === 'postgres' ? await databaseBytes(location) : statSync(location).size;
    const perWorker = workers.map((w, i): WorkerFigures => {
      const m = metrics[i] as Map<string, number>;
      const profileFile = path.join(profileDir, `workers-${label}-${w.settings.instance}.cpuprofile`);
      let profile: ProfileDigest | null = null;
      try {
        profile = profileDigest(JSON.parse(readFileSync(profileFile, 'utf8')));
      } catch (err) {
        console.warn(`no CPU profile of ${w.settings.instance} (${profileFile}): ${(err as Error).message}`);
      }
      return {
        instance: w.settings.instance,
        alertsIn: sumSeries(m, 'nightjar_alerts_in_total'),
        processed: sumSeries(m, 'nightjar_alerts_processed_total'),
        batches: sumSeries(m, 'nightjar_batches_total'),
        retries: sumSeries(m, 'nightjar_batch_retries_total'),
        deadLetters: sumSeries(m, 'nightjar_dead_letters_total'),
        records: sumSeries(m, 'nightjar_filter_records_total'),
        stageSeconds: stageSeconds(m),
        cpuSeconds: w.cpuSeconds - (cpuAtStart[i] as number),
        peakRssMB: mb(w.peakRssBytes),
        startSeconds: ((readyAt[i] as number) - w.spawnedAt) / 1000,
        profile,
      };
    });
    const deadLetters = perWorker.reduce((n, w) => n + w.deadLetters, 0);
    if (deadLetters > 0) throw new Error(`${deadLetters} alerts were dead-lettered: the benchmark data should all be processed`);
    return { store, workers: count, seconds, throughput: alerts / seconds, perWorker, machineBusy, serverCpu, storeMB: mb(storeBytes) };
  } finally {
    await fill?.close();
    await deleteTopic(admin, rawTopic).catch((err: unknown) => console.warn(`could not delete topic ${rawTopic}: ${(err as Error).message}`));
    await database?.drop();
  }
}

function cpuText(seconds: number | null, over: number): string {
  return seconds === null ? '?' : `${seconds.toFixed(1)} s (${(seconds / over).toFixed(2)} cores)`;
}

function printRun(r: RunFigures): void {
  const totalIn = r.perWorker.reduce((n, w) => n + w.alertsIn, 0);
  const records = r.perWorker.reduce((n, w) => n + w.records, 0);
  console.log(
    `${r.workers} worker${r.workers === 1 ? '' : 's'}, ${STORE_NAMES[r.store]} store: ${Math.round(r.throughput)} alerts/s (${alerts} in ${r.seconds.toFixed(1)} s; ${totalIn} taken in by the workers, ${records} filter records); ` +
      `machine ${r.machineBusy === null ? '?' : `${Math.round(r.machineBusy * 100)}%`} busy on ${cpus().length} cores; CPU of Kafka ${cpuText(r.serverCpu.kafka, r.seconds)}, of PostgreSQL ${cpuText(r.serverCpu.postgres, r.seconds)}; store ${r.storeMB === null ? '?' : `${r.storeMB.toFixed(0)} MB`}`,
  );
  for (const w of r.perWorker) {
    const stages = Object.entries(w.stageSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    console.log(
      `    ${w.instance}: ${w.processed} alerts in ${w.batches} batches${w.retries > 0 ? ` (${w.retries} retried)` : ''}, started in ${w.startSeconds.toFixed(1)} s; CPU ${w.cpuSeconds.toFixed(1)} s (${(w.cpuSeconds / r.seconds).toFixed(2)} cores), peak RSS ${w.peakRssMB.toFixed(0)} MB; stage seconds: ${stages}`,
    );
    if (w.profile !== null) {
      const top = w.profile.functions.slice(0, 4).map((f) => `${(f.share * 100).toFixed(0)}% ${f.name}`).join('; ');
      console.log(`      profile: ${w.profile.sampledSeconds.toFixed(1)} s sampled, ${(w.profile.idleShare * 100).toFixed(0)}% idle; top: ${top}`);
    }
  }
}

function report(r: RunFigures, single: RunFigures | undefined): void {
  const settings = { workers: r.workers, store: r.store, alerts, filters: filterCount, partitions, batchSize, batchMs, objects, alertKind: 'synthetic Rubin with cutouts' };
  const name = `${r.workers} worker${r.workers === 1 ? '' : 's'}, ${STORE_NAMES[r.store]} store`;
  results.add(`workers throughput, ${name}`, r.throughput, 'alerts/s', settings, {
    // The profiles go with each worker's CPU figure.
    details: { seconds: r.seconds, machineBusy: r.machineBusy, serverCpuSeconds: r.serverCpu, storeMB: r.storeMB, perWorker: r.perWorker.map(({ profile: _, ...w }) => w) },
  });
  if (single !== undefined && r !== single) results.add(`workers speed-up over 1 worker, ${name}`, r.throughput / single.throughput, 'x', settings);
  for (const w of r.perWorker) {
    const workerSettings = { ...settings, instance: w.instance };
    results.add(`workers: ${name}, ${w.instance} alerts processed`, w.processed, 'alerts', workerSettings, { details: { batches: w.batches, retries: w.retries, stageSeconds: w.stageSeconds } });
    results.add(`workers: ${name}, ${w.instance} CPU`, w.cpuSeconds, 's', workerSettings, w.profile === null ? {} : { details: { profile: w.profile } });
    results.add(`workers: ${name}, ${w.instance} peak RSS`, w.peakRssMB, 'MB', workerSettings);
  }
  if (r.storeMB !== null && r.workers === 1) results.add(`workers: ${STORE_NAMES[r.store]} store size after ${alerts} alerts`, r.storeMB, 'MB', settings);
}

// Leases on the local servers, as tests take them: a test finishing meanwhile does not stop them.
const kafkaLease = await acquireLocalKafka();
const postgres = await acquireLocalPostgres();
try {
  console.log(`${alerts} alerts in ${partitions} partitions per run; ${filterCount} filters; batches of at most ${batchSize} (${batchMs} ms); CPU profiles in ${profileDir}`);
  const plans: [StoreKind, number][] = workerCounts.map((n): [StoreKind, number] => ['postgres', n]);
  if (!args['no-duckdb']) plans.push(['duckdb', 1]);
  let single: RunFigures | undefined;
  for (const [store, count] of plans) {
    const r = await runWorkers(store, count, postgres);
    if (store === 'postgres' && count === 1) single = r;
    printRun(r);
    report(r, store === 'postgres' ? single : undefined);
  }
} finally {
  await topics.deleteAll();
  await admin.close();
  await registry.close();
  await releaseLocalPostgres(postgres);
  await releaseLocalKafka(kafkaLease);
  rmSync(work, { recursive: true, force: true });
}
results.print();
