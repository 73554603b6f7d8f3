// Saved alert records flattened to table rows, one row per alert (like fink-client's
// AlertReader.to_pandas): nested records give dotted column names (diaSource.psfFlux), arrays
// (prvDiaSources, prv_candidates, …) are summarised as `<name>.count`, and cutouts and other
// bytes are left out.
import { cutoutKindOf } from '../stream/cutouts.ts';

/** A cell: 64-bit integers stay BigInt. */
export type Cell = string | number | bigint | boolean | null;
export type Row = Record<string, Cell>;

export type ColumnType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';

export interface Table {
  /** Column names in first-seen order. */
  readonly columns: readonly string[];
  readonly types: Readonly<Record<string, ColumnType>>;
  readonly rows: readonly Row[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** One record as a flat row (see the module comment). A nested record that is null gives no columns. */
export function flattenRecord(record: Record<string, unknown>): Row {
  const row: Row = {};
  const visit = (rec: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(rec)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      if (cutoutKindOf(name) !== undefined || value instanceof Uint8Array) continue;
      if (Array.isArray(value)) row[`${key}.count`] = value.length;
      else if (isRecord(value)) visit(value, key);
      else if (value === null || value === undefined) row[key] = null;
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') row[key] = value;
    }
  };
  visit(record, '');
  return row;
}

function cellType(v: Exclude<Cell, null>): ColumnType {
  if (typeof v === 'bigint') return 'BIGINT';
  if (typeof v === 'number') return Number.isInteger(v) ? 'BIGINT' : 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  return 'VARCHAR';
}

/** The wider of two column types: integers widen to DOUBLE, anything else mixed becomes VARCHAR. */
function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  if ((a === 'BIGINT' && b === 'DOUBLE') || (a === 'DOUBLE' && b === 'BIGINT')) return 'DOUBLE';
  return 'VARCHAR';
}

/**
 * Rows to a table: the union of the columns (missing cells null) and each column's type from
 * its values (a column of only nulls is VARCHAR). A BIGINT column holds only integers, so its
 * 64-bit ids stay exact; a DOUBLE column with an integer beyond 2^53 would lose it, so such a
 * column becomes VARCHAR instead.
 */
export function toTable(rows: readonly Row[]): Table {
  const types: Record<string, ColumnType> = {};
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      if (!seen.has(name)) {
        seen.add(name);
        columns.push(name);
      }
      if (value === null) continue;
      const t = cellType(value);
      types[name] = types[name] === undefined ? t : widen(types[name], t);
    }
  }
  for (const name of columns) {
    types[name] ??= 'VARCHAR';
    if (types[name] === 'DOUBLE' && rows.some((r) => typeof r[name] === 'bigint' && !Number.isSafeInteger(Number(r[name])))) types[name] = 'VARCHAR';
  }
  return { columns, types, rows: rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))) };
}
