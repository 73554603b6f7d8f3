// The batch as the filters see it (Lasair's design: each filter scans only the batch): one
// `objects` row per object that had an alert in the batch, from its newest alert there (latest
// MJD, ties broken by the larger source id), numbered by a hidden column. The number ties each
// matching row back to the alert whose lite lightcurve, full record or Avro fields go out with
// it, whatever columns the filter selects.
//
// The row is computed from the batch's alert and the history that alert carries, not merged
// with what the store held before: an alert is self-contained (Rubin sends a year of history),
// and a filter must see the same row whether or not the broker saw the object's earlier alerts.
import type { ObjectRow } from '../features/index.ts';
import type { Catalog, CatalogColumn } from '../filters/catalog.ts';
import type { CompiledFilter } from '../filters/parse-filter.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import { alertObjectKey, type Alert } from '../formats/alert.ts';
import type { AcceptedAlert } from './decode-stage.ts';

/** The hidden column numbering the batch's rows. Users' filters are compiled without it, so they cannot name it. */
export const BATCH_ROW_COLUMN = 'nightjar_batch_row';

/** The catalog with BATCH_ROW_COLUMN added to its primary table: the filter engine's table. */
export function batchCatalog(catalog: Catalog): Catalog {
  const [primary, ...others] = catalog.tables;
  if (primary === undefined) throw new Error('filter catalog has no tables');
  if (primary.columns.some((c) => c.name.toLowerCase() === BATCH_ROW_COLUMN)) throw new Error(`filter catalog already has a column ${BATCH_ROW_COLUMN}`);
  const column: CatalogColumn = { name: BATCH_ROW_COLUMN, type: 'INTEGER', doc: 'position of the row in the batch (internal)' };
  return { tables: [{ ...primary, columns: [...primary.columns, column] }, ...others] };
}

export interface BatchObjects {
  /** The store's rows: one per object, from its newest alert in the batch. */
  objects: ObjectRow[];
  /** The same rows with BATCH_ROW_COLUMN = their index: the filter engine's table. */
  tableRows: Record<string, unknown>[];
  /** The newest alert of each row's object, index for index. */
  alerts: Alert[];
}

function isNewer(a: Alert, b: Alert): boolean {
  return a.mjd > b.mjd || (a.mjd === b.mjd && a.sourceId > b.sourceId);
}

/** One row per object of the batch, from its newest alert, in the order objects first appear. */
export function batchObjects(accepted: readonly AcceptedAlert[]): BatchObjects {
  const newest = new Map<string, AcceptedAlert>();
  for (const a of accepted) {
    const key = alertObjectKey(a.alert);
    const kept = newest.get(key);
    if (kept === undefined || isNewer(a.alert, kept.alert)) newest.set(key, a);
  }
  const objects: ObjectRow[] = [];
  const tableRows: Record<string, unknown>[] = [];
  const alerts: Alert[] = [];
  for (const a of newest.values()) {
    tableRows.push({ ...a.row, [BATCH_ROW_COLUMN]: objects.length });
    objects.push(a.row);
    alerts.push(a.alert);
  }
  return { objects, tableRows, alerts };
}

/** A filter as it runs on a batch: its columns plus the row number under a name it does not use. */
export interface BatchQuery {
  readonly filter: CompiledFilter;
  /** The output column holding the row number. */
  readonly rowColumn: string;
}

function whereClause(filter: CompiledFilter): string {
  return filter.parts.where === undefined ? '' : ` WHERE ${filter.parts.where}`;
}

/** The filter's SELECT with the row number added (written from its compiled parts, never from user text). */
export function batchQuery(filter: CompiledFilter): BatchQuery {
  const table = filter.tables[0];
  if (table === undefined) throw new Error(`filter ${filter.id} reads no table`);
  const taken = new Set(filter.columns.map((c) => c.toLowerCase()));
  let rowColumn = BATCH_ROW_COLUMN;
  while (taken.has(rowColumn.toLowerCase())) rowColumn = `_${rowColumn}`;
  const sql = `SELECT ${filter.parts.select}, ${q(table)}.${q(BATCH_ROW_COLUMN)} AS ${q(rowColumn)} FROM ${filter.parts.from}${whereClause(filter)}`;
  return { filter: { ...filter, sql, columns: [...filter.columns, rowColumn] }, rowColumn };
}

/** The number of the batch's rows the filter passes (asked only when its rows were cut at the row limit). */
export function countQuery(filter: CompiledFilter): CompiledFilter {
  const sql = `SELECT count(*) AS ${q('n')} FROM ${filter.parts.from}${whereClause(filter)}`;
  return { ...filter, id: `${filter.id} (count)`, sql, columns: ['n'] };
}
