// Memory and CPU time of processes as Linux counts them (/proc): RSS and its high-water mark;
// CPU time of a process, of a server and its children, of the whole
// machine (which tells whether the cores were the limit), and the pids of the local Kafka and
// PostgreSQL servers, whose work a benchmark must count too. Clock ticks are 100 per second on Linux.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { localKafkaConfig, localKafkaPaths } from '../../src/kafka/local-config.ts';
import { localPostgresConfig } from '../../src/postgres/local-server.ts';

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

/** VmRSS and VmHWM of a process, in bytes; undefined once it is gone. */
export function processMemory(pid: number): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
