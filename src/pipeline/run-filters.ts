// Runs every active filter on the batch: the batch's objects go into the engine's in-memory
// `objects` table, each filter returns at most rowLimit rows (Lasair's 1000) within its time
// limit. A filter that fails or runs out of time is reported and delivers nothing for this
// batch; the others are not affected. Matches come back in batch order, each with the alert
// its record is made from.
import type { FilterRow } from '../delivery/records.ts';
import type { FilterEngine, FilterRunError } from '../filters/filter-engine.ts';
import type { Alert } from '../formats/alert.ts';
import type { ActiveFilter } from './active-filters.ts';
import type { BatchObjects } from './batch-table.ts';

export interface RunLimits {
  /** Rows delivered per filter per batch (default 1000). */
  rowLimit: number;
  /** Time per filter per batch, ms (default 20000). */
  timeLimitMs: number;
}

export interface FilterMatches {
  filter: ActiveFilter;
  /** The filter's output rows (its columns only), in batch order, at most rowLimit. */
  rows: FilterRow[];
  /** The alert of each row's object, index for index. */
  alerts: Alert[];
  /** Objects of the batch that passed the filter (more than rows.length when cut at the row limit). */
  matched: number;
  truncated: boolean;
  elapsedMs: number;
  error?: FilterRunError;
}

/** Splits engine rows into the filter's rows and alerts, in batch order. */
function matchesOf(filter: ActiveFilter, engineRows: readonly Record<string, unknown>[], batch: BatchObjects): { rows: FilterRow[]; alerts: Alert[] } {
  const { rowColumn } = filter.query;
  const columns = filter.compiled.columns;
  const numbered = engineRows.map((r) => ({ index: Number(r[rowColumn]), r })).sort((a, b) => a.index - b.index);
  const rows: FilterRow[] = [];
  const alerts: Alert[] = [];
  for (const { index, r } of numbered) {
    const alert = batch.alerts[index];
    if (alert === undefined) throw new Error(`filter ${filter.stored.id}: the engine returned row ${index}, which the batch of ${batch.alerts.length} objects does not have`);
    const row: Record<string, unknown> = {};
    for (const c of columns) row[c] = r[c];
    rows.push(row);
    alerts.push(alert);
  }
  return { rows, alerts };
}

export async function runFilters(engine: FilterEngine, filters: readonly ActiveFilter[], batch: BatchObjects, limits: RunLimits): Promise<FilterMatches[]> {
  if (filters.length === 0) return [];
  await engine.loadBatch('objects', batch.tableRows);
  const results = await engine.run(filters.map((f) => f.query.filter), limits);
  const matches = filters.map((filter, i): FilterMatches => {
    const result = results[i];
    if (result === undefined) throw new Error(`the filter engine returned no result for filter ${filter.stored.id}`);
    if (result.error !== undefined) return { filter, rows: [], alerts: [], matched: 0, truncated: false, elapsedMs: result.elapsedMs, error: result.error };
    const { rows, alerts } = matchesOf(filter, result.rows, batch);
    return { filter, rows, alerts, matched: rows.length, truncated: result.truncated, elapsedMs: result.elapsedMs };
  });
  // The true number of matches of a filter cut at the row limit: one count query each, only for those.
  const cut = matches.filter((m) => m.truncated);
  if (cut.length > 0) {
    const counts = await engine.run(cut.map((m) => m.filter.count), { rowLimit: 1, timeLimitMs: limits.timeLimitMs });
    cut.forEach((m, i) => {
      const n = counts[i]?.rows[0]?.n;
      if (n !== undefined && n !== null) m.matched = Math.max(m.rows.length, Number(n));
    });
  }
  return matches;
}
