// Counter deltas: checked and summed per key before they reach the store, so one statement
// adds them all (an upsert cannot touch the same row twice in one statement).
import type { FilterCounterDelta, NightRange, PipelineCounterDelta } from './store.ts';

export const FILTER_COUNTER_FIELDS = ['matched', 'records', 'bytes', 'dropped'] as const;
export const PIPELINE_COUNTER_FIELDS = ['alertsIn', 'processed', 'deadLetters', 'batches'] as const;

/** The UTC date of an instant as 'YYYY-MM-DD', the night key of the counters. */
export function utcNight(at: Date = new Date()): string {
  return at.toISOString().slice(0, 10);
}

/** Throws unless night is a real calendar date written 'YYYY-MM-DD'. */
export function checkNight(night: string, what: string): string {
  const valid = typeof night === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(night) && utcNight(new Date(`${night}T00:00:00Z`)) === night;
  if (!valid) throw new Error(`${what}: night must be a UTC date written YYYY-MM-DD, got ${JSON.stringify(night)}`);
  return night;
}

export function checkRange(range: NightRange, what: string): NightRange {
  if (range.fromNight !== undefined) checkNight(range.fromNight, what);
  if (range.toNight !== undefined) checkNight(range.toNight, what);
  return range;
}

function amount(value: number | undefined, what: string): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${what} must be a non-negative integer, got ${String(value)}`);
  return value;
}

export interface MergedDelta<K> {
  key: K;
  night: string;
  amounts: number[];
}

/** Filter counter deltas summed per (filterId, night); amounts in FILTER_COUNTER_FIELDS order. */
export function mergeFilterDeltas(deltas: readonly FilterCounterDelta[]): MergedDelta<number>[] {
  const merged = new Map<string, MergedDelta<number>>();
  deltas.forEach((delta, i) => {
    const what = `filter counters[${i}]`;
    if (!Number.isSafeInteger(delta.filterId)) throw new Error(`${what}: filterId must be an integer, got ${String(delta.filterId)}`);
    checkNight(delta.night, what);
    const amounts = FILTER_COUNTER_FIELDS.map((field) => amount(delta[field], `${what}.${field}`));
    accumulate(merged, `${delta.filterId}|${delta.night}`, delta.filterId, delta.night, amounts);
  });
  return [...merged.values()];
}

/** Pipeline counter deltas summed per night; amounts in PIPELINE_COUNTER_FIELDS order. */
export function mergePipelineDeltas(deltas: readonly PipelineCounterDelta[]): MergedDelta<null>[] {
  const merged = new Map<string, MergedDelta<null>>();
  deltas.forEach((delta, i) => {
    const what = `pipeline counters[${i}]`;
    checkNight(delta.night, what);
    const amounts = PIPELINE_COUNTER_FIELDS.map((field) => amount(delta[field], `${what}.${field}`));
    accumulate(merged, delta.night, null, delta.night, amounts);
  });
  return [...merged.values()];
}

function accumulate<K>(merged: Map<string, MergedDelta<K>>, id: string, key: K, night: string, amounts: number[]): void {
  const existing = merged.get(id);
  if (existing === undefined) merged.set(id, { key, night, amounts });
  else existing.amounts = existing.amounts.map((v, k) => v + (amounts[k] as number));
}
