// The order alerts are sent in: observation time, earliest first; alerts of the same time by
// their source id (diaSourceId, candid), so a replay is reproducible.

export interface TimeOrdered {
  readonly mjd: number;
  readonly sourceId: bigint;
}

export function compareByTime(a: TimeOrdered, b: TimeOrdered): number {
  if (a.mjd !== b.mjd) return a.mjd < b.mjd ? -1 : 1;
  return a.sourceId === b.sourceId ? 0 : a.sourceId < b.sourceId ? -1 : 1;
}

/** Sorts in place (stable: exact duplicates keep their input order) and returns the array. */
export function sortByTime<T extends TimeOrdered>(alerts: T[]): T[] {
  return alerts.sort(compareByTime);
}

/**
 * Re-orders a stream that is already in time order except within equal times (the synthetic
 * generator's case): each run of one time is buffered and sorted by source id. Throws when the
 * stream goes back in time, which would break the promise of time order.
 */
export async function* orderTies<T extends TimeOrdered>(alerts: AsyncIterable<T> | Iterable<T>, source: string): AsyncGenerator<T> {
  let run: T[] = [];
  for await (const alert of alerts) {
    const last = run[run.length - 1];
    if (last !== undefined && alert.mjd !== last.mjd) {
      if (alert.mjd < last.mjd) throw new Error(`${source}: alerts are not in time order (MJD ${alert.mjd} after ${last.mjd})`);
      yield* sortByTime(run);
      run = [];
    }
    run.push(alert);
  }
  yield* sortByTime(run);
}
