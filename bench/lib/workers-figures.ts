// What bench/workers.ts reads out of a worker and the machine: series of a worker's /metrics
// (as test/pipeline-helpers.ts parseMetrics maps them), the seconds per pipeline stage, a short
// digest of a worker's CPU profile (summarised by bench/profile-summary.ts). CPU times of
// processes and of the machine are in process-stats.ts.
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
