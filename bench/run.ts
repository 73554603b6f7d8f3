// `npm run bench`: every benchmark in one go against the local Kafka (started if it is not
// running, left running afterwards), each as its own process; their figures collected into one
// report, printed as a markdown table and written to bench/results/<UTC time>.{json,md}
// (a full run also to bench/results/latest.{json,md}, the files kept in git).
// Run: npm run bench [-- --quick] [-- --only pipeline,latency]
//   --quick  small sizes: checks that the harness works (figures not meaningful)
//   --only   run these benchmarks only (features, store, pipeline, latency, simulate, consume, workers)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startLocalKafka } from '../src/kafka/local-broker.ts';
import { localKafkaConfig, localKafkaPaths, repoRoot } from '../src/kafka/local-config.ts';
import { stringify } from '../src/util/json.ts';
import { machineInfo } from './lib/emit.ts';
import { machineLine, parseBenchmarkOutput, renderMarkdown, resultBaseName, type BenchmarkRun, type Report } from './lib/report.ts';

interface Benchmark {
  name: string;
  script: string;
  /** What it measures, printed before it runs. */
  about: string;
}

const BENCHMARKS: Benchmark[] = [
  { name: 'features', script: 'bench/features.ts', about: 'object features per alert (no Kafka)' },
  { name: 'store', script: 'bench/store.ts', about: 'store writes of visit-sized batches (no Kafka)' },
  { name: 'pipeline', script: 'bench/pipeline.ts', about: 'real-size and synthetic alerts: decoding limit; Kafka read ceiling; broker throughput with 0, 10, 100, 1000 filters; broker RSS' },
  { name: 'latency', script: 'bench/latency.ts', about: 'real-size and synthetic alerts: latency at Rubin cadence (visits of 10,000 alerts); broker RSS' },
  { name: 'simulate', script: 'bench/simulate.ts', about: 'the simulator as fast as possible' },
  { name: 'consume', script: 'bench/consume.ts', about: 'nightjar consume --save against fink-client' },
  { name: 'workers', script: 'bench/workers.ts', about: '1, 2, 3 broker workers sharing a PostgreSQL store (and 1 on DuckDB): throughput, per-worker stages, CPU, RSS, profile' },
];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const only = args.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => (only === undefined || only.includes(b.name)) && existsSync(path.join(repoRoot, b.script)));

/** Keeps the local Kafka running for the run: a lease (tests started meanwhile do not stop it), started if needed. */
async function leaseKafka(): Promise<() => void> {
  if (process.env.NIGHTJAR_KAFKA_BOOTSTRAP?.trim()) {
    console.log(`Kafka: ${process.env.NIGHTJAR_KAFKA_BOOTSTRAP} (NIGHTJAR_KAFKA_BOOTSTRAP)`);
    return () => {};
  }
  const config = localKafkaConfig();
  const { leasesDir } = localKafkaPaths(config);
  mkdirSync(leasesDir, { recursive: true });
  const lease = path.join(leasesDir, `${process.pid}-bench`);
  writeFileSync(lease, `${new Date().toISOString()}\n`);
  const started = await startLocalKafka(config, { owner: 'cli', onProgress: (line) => console.log(`Kafka: ${line}`) });
  console.log(`Kafka: ${started.status.bootstrap} (${started.alreadyRunning ? 'already running' : 'started; left running afterwards, ./nightjar kafka stop stops it'})`);
  return () => rmSync(lease, { force: true });
}

/** Runs one benchmark script, its output shown as it comes; its figures from its last line. */
function runBenchmark(b: Benchmark, quick: boolean): Promise<BenchmarkRun> {
  const scriptArgs = quick ? ['--quick'] : [];
  const command = ['node', b.script, ...scriptArgs].join(' ');
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', b.script, ...scriptArgs], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line);
      // The result line is for the report; everything else is shown.
      if (!line.startsWith('{"name"')) console.log(`  [${b.name}] ${line}`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => console.error(`  [${b.name}] ${line}`));
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      const run: BenchmarkRun = { name: b.name, command, exitCode: code, seconds, results: [] };
      try {
        const output = parseBenchmarkOutput(stdout.join('\n'));
        run.results = output.results;
        if (code !== 0) run.error = `exited with ${code ?? signal} after printing its results`;
      } catch (err) {
        run.error = code === 0 ? `no results: ${(err as Error).message}` : `failed (exit ${code ?? signal}): ${(err as Error).message}`;
      }
      resolve(run);
    });
  });
}

const machine = machineInfo();
const startedAt = new Date();
console.log(`Nightjar benchmarks${args.quick ? ' (quick)' : ''}: ${selected.map((b) => b.name).join(', ')}`);
console.log(`machine: ${machineLine(machine)}; load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`);
const release = await leaseKafka();
const runs: BenchmarkRun[] = [];
try {
  for (const b of selected) {
    console.log(`\n== ${b.name}: ${b.about}`);
    const r = await runBenchmark(b, args.quick);
    console.log(`== ${b.name}: ${r.error ?? `${r.results.length} figures`} (${r.seconds.toFixed(0)} s)`);
    runs.push(r);
  }
} finally {
  release();
}

const report: Report = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick: args.quick, machine, loadAverageAtEnd: loadavg(), benchmarks: runs };
const markdown = renderMarkdown(report);
const dir = path.join(repoRoot, 'bench/results');
mkdirSync(dir, { recursive: true });
const base = path.join(dir, resultBaseName(startedAt, args.quick));
writeFileSync(`${base}.json`, `${stringify(report, 2)}\n`);
writeFileSync(`${base}.md`, markdown);
if (!args.quick && only === undefined) {
  writeFileSync(path.join(dir, 'latest.json'), `${stringify(report, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.md'), markdown);
}
console.log(`\n${markdown}`);
console.log(`written: ${path.relative(process.cwd(), base)}.json and .md${!args.quick && only === undefined ? ' (and bench/results/latest.*)' : ''}`);
process.exitCode = runs.some((r) => r.error !== undefined) ? 1 : 0;
