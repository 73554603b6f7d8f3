// How a replay is cut into observations and spread over time. A survey sends one burst of
// alerts per exposure (Rubin: ~10,000 per visit, one visit every ~39 s); the simulator either
// keeps the exposures of the data (alerts of one visit together) or, like fink-alert-simulator,
// cuts fixed-size observations.

/** `exposure`: one observation per visit (or per exposure time); `fixed`: K alerts each. */
export type Grouping = { readonly kind: 'exposure' } | { readonly kind: 'fixed'; readonly perObservation: number };

/** Rubin's cadence (the LSST prototype's sendAlertStream): 10,000 alerts per visit, one visit every 39 s. */
export const RUBIN_CADENCE = { perObservation: 10_000, intervalSeconds: 39 } as const;

export interface Exposed {
  /** The exposure an alert belongs to (same value = same observation in `exposure` grouping). */
  readonly exposure: string;
}

/**
 * Cuts time-ordered alerts into observations, stopping after `limit` of them (-1 = all).
 * Exposure grouping starts a new observation whenever the exposure changes.
 */
export async function* groupObservations<T extends Exposed>(alerts: AsyncIterable<T> | Iterable<T>, grouping: Grouping, limit = -1): AsyncGenerator<T[]> {
  if (limit === 0) return;
  let current: T[] = [];
  let emitted = 0;
  for await (const alert of alerts) {
    const full = grouping.kind === 'fixed' ? current.length >= grouping.perObservation : current.length > 0 && (current[0] as T).exposure !== alert.exposure;
    if (full) {
      yield current;
      current = [];
      if (++emitted === limit) return;
    }
    current.push(alert);
  }
  if (current.length > 0) yield current;
}

/**
 * How many alerts the first `limit` observations hold (-1 = all of the `available` ones).
 * Exposure grouping needs the exposures in time order (asked for only then).
 */
export function plannedCount(available: number, exposures: () => Iterable<string>, grouping: Grouping, limit: number): number {
  if (limit < 0) return available;
  if (grouping.kind === 'fixed') return Math.min(available, grouping.perObservation * limit);
  if (limit === 0) return 0;
  let count = 0;
  let observations = 0;
  let previous: string | undefined;
  for (const exposure of exposures()) {
    if (count > 0 && exposure !== previous && ++observations === limit) return count;
    count++;
    previous = exposure;
  }
  return count;
}

/** When observation k (0-based) is due: t0 + k·interval. Observations keep the cadence even when one takes long to send. */
export function observationDueMs(t0Ms: number, index: number, intervalSeconds: number): number {
  return t0Ms + index * intervalSeconds * 1000;
}
