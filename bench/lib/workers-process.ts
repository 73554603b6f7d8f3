// One `nightjar broker` worker process for bench/workers.ts, run as users run it (the CLI, with
// --group, --instance and --store), and followed from outside: when it is consuming (its
// "broker: consuming" line), its /metrics address (it listens on a free port), its memory (VmRSS
// sampled from /proc every 200 ms and the kernel's high-water mark VmHWM) and its CPU time (user +
// system, from /proc). Optionally with a V8 CPU profile (node --cpu-prof), written when it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/kafka/local-config.ts';
import { processCpuSeconds, processMemory } from './process-stats.ts';

export interface WorkerSettings {
  /** Instance name in the group (w1, w2, ...): with the group, its transactional id. */
  instance: string;
  group: string;
  topics: readonly string[];
  /** A postgres:// URL or a DuckDB file. */
  store: string;
  registryUrl: string;
  deadLetterTopic: string;
  topicPrefix: string;
  batchSize: number;
  batchMs: number;
  /** Its working directory: a scratch folder, so nothing it writes by a relative path lands in the repository. */
  cwd: string;
  /** Writes <profileDir>/<profileName> (node --cpu-prof) when the process exits. */
  profile?: { dir: string; name: string };
}

/** The broker's command line (after `node`) for these settings. */
export function workerArgs(s: WorkerSettings): string[] {
  const profile = s.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', s.profile.dir, '--cpu-prof-name', s.profile.name];
  return [
    '--disable-warning=ExperimentalWarning',
    ...profile,
    path.join(repoRoot, 'src/cli/main.ts'),
    'broker',
    '--topics', s.topics.join(','),
    '--group', s.group,
    '--instance', s.instance,
    '--store', s.store,
    '--registry', s.registryUrl,
    '--dead-letter-topic', s.deadLetterTopic,
    '--topic-prefix', s.topicPrefix,
    '--batch-size', String(s.batchSize),
    '--batch-ms', String(s.batchMs),
    '--http-port', '0',
    '--quiet',
  ];
}

// "broker: consuming <topics> as group <group>; store <location>; dead letters to <topic>"
const READY_LINE = /^broker: consuming .*; store (.+); dead letters to /;
const METRICS_URL = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/;

export interface WorkerReady {
  /** Epoch ms of its "consuming" line. */
  at: number;
  /** The store as it names it (a PostgreSQL URL without its password, or a file). */
  store: string;
  /** Its HTTP server, http://127.0.0.1:<port>. */
  url: string;
}

export class WorkerProcess {
  readonly settings: WorkerSettings;
  readonly child: ChildProcess;
  /** Epoch ms when it was spawned. */
  readonly spawnedAt: number;
  /** Resolves with the epoch ms of its "consuming" line, the store it names there, and its HTTP address. */
  readonly ready: Promise<WorkerReady>;
  private readonly exited: Promise<number | null>;
  private url: string | null = null;
  private consuming: { at: number; store: string } | null = null;
  private peakRss = 0;
  private cpu = 0;
  private readonly sampler: NodeJS.Timeout;
  private readonly tail: string[] = [];

  constructor(settings: WorkerSettings) {
    this.settings = settings;
    this.spawnedAt = Date.now();
    this.child = spawn(process.execPath, workerArgs(settings), {
      cwd: settings.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NIGHTJAR_LOG_LEVEL: process.env.NIGHTJAR_LOG_LEVEL ?? 'warn' },
    });
    let resolveReady: (v: WorkerReady) => void = () => {};
    let rejectReady: (e: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    this.ready.catch(() => {});
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.remember(line);
      const url = METRICS_URL.exec(line)?.[1];
      if (url !== undefined) this.url = url;
      // The address line comes after the "consuming" line: ready once both are seen.
      const consuming = READY_LINE.exec(line);
      if (consuming !== null) this.consuming = { at: Date.now(), store: consuming[1] as string };
      if (this.consuming !== null && this.url !== null) resolveReady({ ...this.consuming, url: this.url });
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.remember(line);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  [${settings.instance}] ${line}\n`);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => rejectReady(new Error(`worker ${settings.instance} exited (code ${code}) before it was consuming: ${this.tail.join(' | ')}`)));
    this.sampler = setInterval(() => this.sample(), 200);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Highest RSS seen, bytes: the larger of the samples and the kernel's high-water mark. */
  get peakRssBytes(): number {
    return this.peakRss;
  }

  /** CPU seconds (user + system) at the last sample. */
  get cpuSeconds(): number {
    return this.cpu;
  }

  /** The last lines it wrote (stdout and stderr), for error messages. */
  get lastLines(): string {
    return this.tail.join(' | ');
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
  }

  sample(): void {
    const memory = processMemory(this.pid);
    // A process on its way out has no VmRSS line any more.
    if (memory !== undefined) {
      for (const v of [memory.rss, memory.hwm]) if (Number.isFinite(v) && v > this.peakRss) this.peakRss = v;
    }
    const cpu = processCpuSeconds(this.pid);
    if (cpu !== undefined) this.cpu = cpu;
  }

  /** Its /metrics text. */
  async metrics(): Promise<string> {
    const { url } = await this.ready;
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`worker ${this.settings.instance}: GET ${url}/metrics answered ${response.status}`);
    return response.text();
  }

  /** SIGTERM (the batch under way finishes and commits), then waits for the exit; SIGKILL after timeoutMs. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    this.sample();
    clearInterval(this.sampler);
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
