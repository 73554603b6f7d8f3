// Throughput of `nightjar consume --save` against fink-client's consumer, in the same run, on the
// same topic: N real-size Rubin alerts (the real alerts of ../shared/data replicated with fresh
// ids, cutouts kept: bench/lib/real-night.ts) in Fink's livestream framing (value = schemaless
// Avro, key = the writer schema's JSON text: what a kafka-avro filter stream carries and
// fink-client reads). Each consumer is a child process, as a user runs it, with a fresh group id,
// saving every alert to its own folder as an Avro container file:
//   nightjar     ./nightjar consume --servers ... --topics T --group-id G --save --outdir D --limit N
//   fink-client  test/python/bench_fink_consume.py: AlertConsumer.poll + store_alert, the loop of
//                `finkctl stream --save`, in the venv of scripts/python-env.sh
// Timed from spawning the process to its exit (start-up and group join included, for both); the
// files written are counted and their bytes summed. MB/s counts the Kafka messages consumed
// (key + value). The two run one after the other, alternating, --rounds times; the best round
// of each is reported (the machine is shared: the best is the least disturbed).
// Run: node bench/consume.ts [--alerts 2000] [--rounds 2] [--partitions 2] [--profile DIR]
//   --profile DIR  writes a CPU profile of each nightjar consume run (node --cpu-prof) into DIR;
//                  read it with node bench/profile-summary.ts FILE.cpuprofile
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAdmin, createProducer, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { createAlertPreparer, type PreparedAlert } from '../src/simulate/prepared-alert.ts';
import { replay } from '../src/simulate/replay.ts';
import { runId, Topics } from './lib/bench-kafka.ts';
import { Results } from './lib/emit.ts';
import { loadRubinTemplates, realNight } from './lib/real-night.ts';

const { values: args } = parseArgs({
  options: {
    alerts: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '2' },
    profile: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const N = Number(args.quick ? Math.min(Number(args.alerts), 500) : args.alerts);
const rounds = Math.max(1, Number(args.rounds));
const partitions = Number(args.partitions);
const kafka = defaultSettings();
const bootstrap = kafka.bootstrap.join(',');
const run = runId();
const topic = `nightjar-bench-consume-${run}`;
const results = new Results('consume');
const admin = createAdmin(kafka);
const topics = new Topics(admin);
const work = mkdtempSync(path.join(tmpdir(), 'nightjar-bench-consume-'));
const mb = (bytes: number): number => bytes / 1e6;

interface ChildRun {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function runChild(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, argv, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: (performance.now() - started) / 1000, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Files in a folder and their total size. */
function folderSize(dir: string): { files: number; bytes: number } {
  let bytes = 0;
  const names = readdirSync(dir);
  for (const name of names) bytes += statSync(path.join(dir, name)).size;
  return { files: names.length, bytes };
}

/** Fills the topic with N replicated real Rubin alerts in Fink's schema-in-key framing; returns the bytes (key + value). */
async function fill(): Promise<{ bytes: number; meanKeyKb: number; seconds: number }> {
  // Rubin v8+ alerts only (top-level diaSourceId, as Rubin sends them now): fink-client's lsst
  // mode names saved files by it, and fails on the v7 layout (alertId).
  const templates = (await loadRubinTemplates(path.resolve(repoRoot, '../shared/data'))).filter((t) => 'diaSourceId' in t.record);
  const preparer = createAlertPreparer({ topic, encoding: 'schema-in-key', partitions });
  let bytes = 0;
  let keyBytes = 0;
  async function* alerts(): AsyncGenerator<PreparedAlert> {
    for (const a of realNight(templates, { perVisit: N, visits: 1 })) {
      const prepared = await preparer.prepare(a.record, a.schema);
      const key = prepared.message.key?.length ?? 0;
      keyBytes += key;
      bytes += key + prepared.message.value.length;
      yield prepared;
    }
  }
  const producer = createProducer(kafka, { role: 'bench-fill', timeout: 60_000 });
  try {
    const result = await replay(
      { description: 'real Rubin alerts, replicated', available: N, alerts, exposures: () => [] },
      { producer, grouping: { kind: 'fixed', perObservation: N }, observations: -1, intervalSeconds: 0, fast: true, out: () => {} },
    );
    if (result.sent !== N) throw new Error(`filling ${topic}: ${result.sent} of ${N} alerts sent`);
    console.log(`topic ${topic}: ${N} real-size Rubin alerts (${templates.length} real v9/v10 alerts replicated, fresh ids), Fink framing (schema in key, mean key ${(keyBytes / N / 1000).toFixed(0)} kB), mean ${(bytes / N / 1000).toFixed(0)} kB per message, ${mb(bytes).toFixed(0)} MB, ${partitions} partitions, filled in ${result.seconds.toFixed(1)} s`);
    return { bytes, meanKeyKb: keyBytes / N / 1000, seconds: result.seconds };
  } finally {
    await producer.close();
  }
}

async function pythonPath(): Promise<string> {
  const env = await runChild(path.join(repoRoot, 'scripts/python-env.sh'), []);
  if (env.code !== 0) throw new Error(`scripts/python-env.sh failed: ${env.stderr}`);
  return env.stdout.trim().split('\n').at(-1) as string;
}

interface Measured {
  seconds: number;
  files: number;
  savedBytes: number;
}

async function nightjarRound(round: number): Promise<Measured> {
  const outdir = path.join(work, `nightjar-${round}`);
  const env: NodeJS.ProcessEnv = { ...process.env, NIGHTJAR_LOG_LEVEL: 'warn' };
  if (args.profile !== undefined) env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${path.resolve(args.profile)}`.trim();
  const r = await runChild(path.join(repoRoot, 'nightjar'), ['consume', '--servers', bootstrap, '--topics', topic, '--group-id', `nightjar-bench-consume-nightjar-${run}-${round}`, '--save', '--outdir', outdir, '--limit', String(N), '--timeout', '30'], env);
  if (r.code !== 0) throw new Error(`nightjar consume exited ${r.code}: ${r.stderr}`);
  const saved = folderSize(outdir);
  if (saved.files !== N) throw new Error(`nightjar consume saved ${saved.files} of ${N} alerts: ${r.stderr}`);
  rmSync(outdir, { recursive: true, force: true });
  return { seconds: r.seconds, files: saved.files, savedBytes: saved.bytes };
}

async function finkRound(python: string, round: number): Promise<Measured> {
  const outdir = path.join(work, `fink-${round}`);
  const r = await runChild(python, [path.join(repoRoot, 'test/python/bench_fink_consume.py'), bootstrap, `nightjar-bench-consume-fink-${run}-${round}`, topic, String(N), '30', outdir]);
  if (r.code !== 0) throw new Error(`fink-client consumer exited ${r.code}: ${r.stderr}${r.stdout}`);
  const saved = folderSize(outdir);
  if (saved.files !== N) throw new Error(`fink-client saved ${saved.files} of ${N} alerts`);
  rmSync(outdir, { recursive: true, force: true });
  return { seconds: r.seconds, files: saved.files, savedBytes: saved.bytes };
}

try {
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const python = await pythonPath();
  await topics.create(topic, partitions);
  const filled = await fill();
  const best: Record<'nightjar' | 'fink', Measured | undefined> = { nightjar: undefined, fink: undefined };
  for (let round = 0; round < rounds; round++) {
    // Alternating, so that a burst of other work on the machine does not favour one side.
    const order: ('nightjar' | 'fink')[] = round % 2 === 0 ? ['nightjar', 'fink'] : ['fink', 'nightjar'];
    for (const who of order) {
      const m = who === 'nightjar' ? await nightjarRound(round) : await finkRound(python, round);
      console.log(`  round ${round + 1} ${who === 'nightjar' ? 'nightjar consume --save' : 'fink-client poll + store_alert'}: ${N} alerts in ${m.seconds.toFixed(2)} s = ${Math.round(N / m.seconds)} alerts/s, ${(mb(filled.bytes) / m.seconds).toFixed(1)} MB/s (saved ${mb(m.savedBytes).toFixed(0)} MB)`);
      if (best[who] === undefined || m.seconds < (best[who] as Measured).seconds) best[who] = m;
    }
  }
  const settings = { alerts: N, partitions, meanMessageKb: Math.round(filled.bytes / N / 1000), meanKeyKb: Math.round(filled.meanKeyKb), encoding: 'schema-in-key', rounds, load: loadavg()[0] };
  const commands = {
    nightjar: `./nightjar consume --servers ${bootstrap} --topics <topic> --group-id <fresh> --save --outdir <dir> --limit ${N}`,
    fink: `${path.relative(repoRoot, python)} test/python/bench_fink_consume.py ${bootstrap} <fresh group> <topic> ${N} 30 <dir>`,
  };
  for (const who of ['nightjar', 'fink'] as const) {
    const m = best[who] as Measured;
    const label = who === 'nightjar' ? 'nightjar consume --save (CLI process, start to exit)' : 'fink-client AlertConsumer poll + store_alert (Python process, start to exit)';
    const details = { command: commands[who], seconds: m.seconds, savedMB: mb(m.savedBytes) };
    results.add(label, N / m.seconds, 'alerts/s', settings, { details });
    results.add(label, mb(filled.bytes) / m.seconds, 'MB/s', settings, { details });
  }
  const ratio = (best.fink as Measured).seconds / (best.nightjar as Measured).seconds;
  console.log(`best of ${rounds}: nightjar ${Math.round(N / (best.nightjar as Measured).seconds)} alerts/s, fink-client ${Math.round(N / (best.fink as Measured).seconds)} alerts/s: nightjar ${ratio.toFixed(2)}x fink-client`);
  results.add('nightjar / fink-client throughput', ratio, 'x', settings);
} finally {
  await topics.deleteAll();
  await admin.close();
  rmSync(work, { recursive: true, force: true });
}
results.print();
