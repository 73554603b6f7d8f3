// The numbers of the stream status page: read from the pipeline's Prometheus metrics (when the
// web app runs inside the broker) and the store's counters (always), plus a per-minute history of
// alerts ingested that the web app samples while it runs.
import type { Health } from '../../pipeline/http-server.ts';
import type { PipelineMetrics } from '../../pipeline/pipeline-metrics.ts';
import { utcNight } from '../../store/counters.ts';
import type { Store } from '../../store/store.ts';

export interface Series {
  labels: Record<string, string>;
  value: number;
}

interface Renderable {
  readonly name: string;
  render(out: string[]): void;
}

/** Parses one label set of the text format: {a="x",b="y\"z"}. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const m of text.matchAll(re)) labels[m[1] as string] = (m[2] as string).replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
  return labels;
}

/** Every series of a counter or gauge, read through its Prometheus rendering (the metrics' public face). */
export function metricSeries(metric: Renderable): Series[] {
  const lines: string[] = [];
  metric.render(lines);
  const out: Series[] = [];
  for (const line of lines) {
    if (!line.startsWith(metric.name)) continue;
    const rest = line.slice(metric.name.length);
    if (rest.startsWith('_')) continue; // histogram parts, not this series
    const brace = rest.startsWith('{') ? rest.lastIndexOf('}') : -1;
    const labels = brace < 0 ? {} : parseLabels(rest.slice(1, brace));
    const value = Number(rest.slice(brace + 1).trim());
    if (Number.isFinite(value)) out.push({ labels, value });
  }
  return out;
}

const sum = (series: readonly Series[]): number => series.reduce((s, x) => s + x.value, 0);

/** Alerts ingested per minute over the last hour, from samples of a growing total. */
export class MinuteHistory {
  private readonly minutes: number;
  private readonly buckets = new Map<number, number>();
  private last: number | undefined;

  constructor(minutes = 60) {
    this.minutes = minutes;
  }

  /** Records the total at time `at` (ms); what it grew since the last sample counts in this minute. */
  sample(total: number, at: number): void {
    if (this.last !== undefined && total >= this.last) {
      const minute = Math.floor(at / 60_000);
      this.buckets.set(minute, (this.buckets.get(minute) ?? 0) + (total - this.last));
      for (const key of this.buckets.keys()) if (key <= minute - this.minutes) this.buckets.delete(key);
    }
    this.last = total;
  }

  /** One count per minute, oldest first, ending with the minute of `at`. */
  perMinute(at: number): { minute: number; count: number }[] {
    const end = Math.floor(at / 60_000);
    const out: { minute: number; count: number }[] = [];
    for (let m = end - this.minutes + 1; m <= end; m++) out.push({ minute: m, count: this.buckets.get(m) ?? 0 });
    return out;
  }
}

export interface FilterRate {
  filterId: number;
  name: string;
  output: string;
  /** Matches today (UTC) from the store's counters. */
  matchedToday: number;
  /** Matches since the broker started, from the metrics (null without metrics). */
  matchedSinceStart: number | null;
  records: number;
  dropped: number;
  errors: number | null;
}

export interface StatusSnapshot {
  health: Health | null;
  alertsPerSecond: number | null;
  alertsInSinceStart: number | null;
  processedSinceStart: number | null;
  deadLettersByReason: { reason: string; count: number }[] | null;
  lag: { topic: string; partition: number; lag: number }[] | null;
  nights: { night: string; alertsIn: number; processed: number; deadLetters: number; batches: number }[];
  perMinute: { minute: number; count: number }[];
  filters: FilterRate[];
  storeCounts: { objects: number; alerts: number; filters: number; users: number };
}

/** What /status shows, gathered now. */
export async function statusSnapshot(store: Store, metrics: PipelineMetrics | undefined, health: (() => Health) | undefined, history: MinuteHistory, now: Date): Promise<StatusSnapshot> {
  const weekStart = utcNight(new Date(now.getTime() - 6 * 86_400_000));
  const today = utcNight(now);
  const [nights, filters, counts] = await Promise.all([store.pipelineCounters({ fromNight: weekStart }), store.listFilters({ activeOnly: true }), store.counts()]);
  const matchesById = new Map<string, number>();
  const recordsById = new Map<string, number>();
  const droppedById = new Map<string, number>();
  const errorsById = new Map<string, number>();
  if (metrics !== undefined) {
    for (const s of metricSeries(metrics.filterMatches)) matchesById.set(s.labels.filter ?? '', s.value);
    for (const s of metricSeries(metrics.filterRecords)) recordsById.set(s.labels.filter ?? '', s.value);
    for (const s of metricSeries(metrics.filterDropped)) droppedById.set(s.labels.filter ?? '', s.value);
    for (const s of metricSeries(metrics.filterErrors)) errorsById.set(s.labels.filter ?? '', (errorsById.get(s.labels.filter ?? '') ?? 0) + s.value);
  }
  const rates: FilterRate[] = [];
  for (const f of filters) {
    const todayCounts = (await store.filterCounters(f.id, { fromNight: today, toNight: today }))[0];
    const key = String(f.id);
    rates.push({
      filterId: f.id,
      name: f.name,
      output: f.output,
      matchedToday: todayCounts?.matched ?? 0,
      matchedSinceStart: metrics === undefined ? null : (matchesById.get(key) ?? 0),
      records: todayCounts?.records ?? 0,
      dropped: todayCounts?.dropped ?? 0,
      errors: metrics === undefined ? null : (errorsById.get(key) ?? 0),
    });
  }
  rates.sort((a, b) => b.matchedToday - a.matchedToday || a.filterId - b.filterId);
  return {
    health: health?.() ?? null,
    alertsPerSecond: metrics === undefined ? null : metrics.rate.rate(),
    alertsInSinceStart: metrics === undefined ? null : sum(metricSeries(metrics.alertsIn)),
    processedSinceStart: metrics === undefined ? null : metrics.alertsProcessed.value(),
    deadLettersByReason: metrics === undefined ? null : metricSeries(metrics.deadLetters).map((s) => ({ reason: s.labels.reason ?? '', count: s.value })),
    lag: metrics === undefined ? null : metricSeries(metrics.consumerLag).map((s) => ({ topic: s.labels.topic ?? '', partition: Number(s.labels.partition), lag: s.value })),
    nights: nights.map((n) => ({ night: n.night, alertsIn: n.alertsIn, processed: n.processed, deadLetters: n.deadLetters, batches: n.batches })).reverse(),
    perMinute: history.perMinute(now.getTime()),
    filters: rates,
    storeCounts: { objects: counts.objects, alerts: counts.alerts, filters: counts.filters, users: counts.users },
  };
}

/** The total that the per-minute history follows: alerts consumed (metrics), else the store's count for today. */
export async function ingestedTotal(store: Store, metrics: PipelineMetrics | undefined, now: Date): Promise<number> {
  if (metrics !== undefined) return sum(metricSeries(metrics.alertsIn));
  const today = utcNight(now);
  return (await store.pipelineCounters({ fromNight: today, toNight: today }))[0]?.alertsIn ?? 0;
}
