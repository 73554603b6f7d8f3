// Runs bench/broker-child.ts as a child process and follows it: its batch events as they come,
// its memory (VmRSS sampled from /proc every 200 ms, and the kernel's high-water mark VmHWM).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/kafka/local-config.ts';
import { parse } from '../../src/util/json.ts';
import type { ChildSettings } from '../broker-child.ts';
import { processMemory } from './process-stats.ts';

export interface BatchEvent {
  at: number;
  number: number;
  messages: number;
  processed: number;
  objects: number;
  deadLetters: number;
  elapsedMs: number;
  stages: Record<string, number>;
  records: number;
  bytes: number;
  matched: number;
  failedFilters: number;
  /** process.memoryUsage() of the broker after the batch, bytes. */
  memory: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
}

export interface MemorySample {
  /** Epoch ms. */
  at: number;
  rssBytes: number;
}

export class BrokerProcess {
  readonly child: ChildProcess;
  readonly batches: BatchEvent[] = [];
  readonly memory: MemorySample[] = [];
  /** Resolves with the child's filter count once it consumes. */
  readonly ready: Promise<{ at: number; filters: number }>;
  private readonly exited: Promise<number | null>;
  private peakHwm = 0;
  private stoppedEvent: { maxRssBytes: number } | undefined;
  private readonly waiters: (() => void)[] = [];
  private readonly sampler: NodeJS.Timeout;
  private stderrTail: string[] = [];

  /** nodeArgs: extra Node flags for the child, e.g. --cpu-prof --cpu-prof-dir DIR. */
  constructor(settings: ChildSettings, nodeArgs: readonly string[] = []) {
    this.child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...nodeArgs, path.join(repoRoot, 'bench/broker-child.ts'), JSON.stringify(settings)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NIGHTJAR_LOG_LEVEL: process.env.NIGHTJAR_LOG_LEVEL ?? 'warn' },
    });
    let readyResolve: (v: { at: number; filters: number }) => void = () => {};
    let readyReject: (e: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => {});
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let event: Record<string, unknown>;
      try {
        event = parse(line) as Record<string, unknown>;
      } catch {
        return; // not an event line
      }
      if (event.event === 'ready') readyResolve({ at: event.at as number, filters: event.filters as number });
      else if (event.event === 'batch') {
        this.batches.push(event as unknown as BatchEvent);
        for (const wake of this.waiters.splice(0)) wake();
      } else if (event.event === 'stopped') this.stoppedEvent = { maxRssBytes: event.maxRssBytes as number };
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  [broker] ${line}\n`);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      readyReject(new Error(`the broker process exited (code ${code}) before it was ready: ${this.stderrTail.join(' | ')}`));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.sampler = setInterval(() => this.sample(), 200);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Highest RSS seen: the larger of the samples and the kernel's high-water mark. */
  get peakRssBytes(): number {
    return Math.max(this.peakHwm, this.stoppedEvent?.maxRssBytes ?? 0, ...this.memory.map((m) => m.rssBytes));
  }

  /** Highest sampled RSS from `from` to `to` (epoch ms): e.g. while batches were processed, leaving out start-up and shutdown. */
  peakRssSampled(from: number, to: number): number {
    return Math.max(0, ...this.memory.filter((m) => m.at >= from && m.at <= to).map((m) => m.rssBytes));
  }

  /** The largest memory figures the broker reported after its batches (0 when none). */
  get peakMemory(): BatchEvent['memory'] {
    const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    for (const b of this.batches) for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], b.memory?.[k] ?? 0);
    return peak;
  }

  get processed(): number {
    return this.batches.reduce((n, b) => n + b.messages, 0);
  }

  private sample(): void {
    const m = processMemory(this.pid);
    // A process on its way out has no VmRSS line any more.
    if (m === undefined || !Number.isFinite(m.rss)) return;
    this.memory.push({ at: Date.now(), rssBytes: m.rss });
    if (Number.isFinite(m.hwm) && m.hwm > this.peakHwm) this.peakHwm = m.hwm;
  }

  /** Resolves once the broker has taken `messages` messages through batches; rejects on timeout or exit. */
  async waitForMessages(messages: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.processed < messages) {
      if (this.child.exitCode !== null) throw new Error(`the broker process exited (code ${this.child.exitCode}) after ${this.processed} of ${messages} messages: ${this.stderrTail.join(' | ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the broker processed ${this.processed} of ${messages} messages within ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Asks the broker to stop (finishing its batch) and waits for it to exit. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    this.sample();
    if (this.child.exitCode === null) this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      clearInterval(this.sampler);
    }
  }
}
