// What bench/workers.ts reads out of a worker and the machine: series of a worker's /metrics
// (as test/pipeline-helpers.ts parseMetrics maps them), the seconds per pipeline stage, a short
// digest of a worker's CPU profile (summarised by bench/profile-summary.ts), the machine's busy
// CPU time, which tells whether the cores were the limit, and the CPU time of the local Kafka and
// PostgreSQL servers, the parts every worker shares.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { localKafkaConfig, localKafkaPaths } from '../../src/kafka/local-config.ts';
import { localPostgresConfig } from '../../src/postgres/local-server.ts';
import { summarise, type SelfTime } from '../profile-summary.ts';

/** The sum of every series of a metric (all label values), 0 when absent. */
export function sumSeries(metrics: ReadonlyMap<string, number>, name: string): number {
  let sum = 0;
  for (const [key, value] of metrics) if (key === name || key.startsWith(`${name}{`)) sum += value;
  return sum;
}

/** nightjar_batch_stage_seconds_total by stage: decode, store, filters, deliver, commit... */
export function stageSeconds(metrics: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of metrics) {
    const stage = /^nightjar_batch_stage_seconds_total\{stage="([^"]+)"\}$/.exec(key)?.[1];
    if (stage !== undefined) out[stage] = value;
  }
  return out;
}

export interface ProfileDigest {
  /** Main-thread time the profile covers, s. */
  sampledSeconds: number;
  /** Share of it with the JS thread idle (waiting for Kafka, PostgreSQL, DuckDB's own threads). */
  idleShare: number;
  /** Share in the garbage collector. */
  gcShare: number;
  /** Most self time first. */
  functions: SelfTime[];
  files: SelfTime[];
}

/** The top `top` functions and files by self time of a V8 CPU profile (node --cpu-prof). */
export function profileDigest(profile: unknown, top = 8): ProfileDigest {
  const s = summarise(profile as Parameters<typeof summarise>[0]);
  const share = (prefix: string): number => s.functions.filter((f) => f.name.startsWith(prefix)).reduce((n, f) => n + f.share, 0);
  return {
    sampledSeconds: s.total / 1000,
    idleShare: share('(idle)'),
    gcShare: share('(garbage collector)'),
    functions: s.functions.filter((f) => !f.name.startsWith('(idle)')).slice(0, top),
    files: s.files.slice(0, top),
  };
}

/** Busy and total CPU time of the whole machine so far, in clock ticks (/proc/stat); undefined where unreadable. */
export function machineCpuTicks(): { busy: number; total: number } | undefined {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  } catch {
    return undefined;
  }
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return Number.isFinite(total) && total > 0 ? { busy: total - idle, total } : undefined;
}

/** Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime. */
function statFields(pid: number | string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU seconds of a process so far, or undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  const ticks = f === undefined ? Number.NaN : Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
}

/**
 * CPU seconds used so far by a server process and its children (PostgreSQL runs a process per
 * connection): its own, its reaped children's, and its live children's; undefined when it is
 * not running. Clock ticks are 100 per second on Linux.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const own = statFields(pid);
  if (own === undefined) return undefined;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f !== undefined && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
}

/** The pid of the local Kafka (its pid file) and of the local PostgreSQL's postmaster, where they run here. */
export function localServerPids(): { kafka?: number; postgres?: number } {
  const out: { kafka?: number; postgres?: number } = {};
  try {
    const pid = (JSON.parse(readFileSync(localKafkaPaths(localKafkaConfig()).pidFile, 'utf8')) as { pid?: unknown }).pid;
    if (typeof pid === 'number') out.kafka = pid;
  } catch {
    // Not a local Kafka (NIGHTJAR_KAFKA_BOOTSTRAP) or not started by us.
  }
  try {
    const pid = Number(readFileSync(path.join(localPostgresConfig().dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isSafeInteger(pid) && pid > 0) out.postgres = pid;
  } catch {
    // Not running here.
  }
  return out;
}
