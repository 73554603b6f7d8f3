// A compiled filter run over the stored objects (not a batch), for the backfill of a changed
// filter's stream: its SELECT items plus the object's key under names of its own, so each row's
// alert can be found whatever the filter selects, newest alert first.
//
// Which rows: Lasair re-runs the filter to "try and put 10 records in the stream" without saying
// which; Nightjar takes the objects whose latest alert is newest (alertMjd descending, then the
// key, so the choice is repeatable), the records a consumer would most likely want to see.
//
// The SQL is in the store's dialect (Store.sqlDialect): the filter's DuckDB or PostgreSQL form
// (filters/parse-filter.ts filterSqlFor), which give the same rows; on PostgreSQL the text key
// columns are ordered by code point (COLLATE "C"), as DuckDB orders text, so that the same
// objects come first on either store.
import type { FilterRow } from '../delivery/records.ts';
import { filterSqlFor, type CompiledFilter, type FilterDialect } from '../filters/parse-filter.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import type { ObjectKey, Store } from '../store/store.ts';
import type { ObjectKind, Survey } from '../formats/alert.ts';

const KEY_COLUMNS = ['survey', 'objectKind', 'objectId'] as const;
type KeyColumn = (typeof KEY_COLUMNS)[number];

export interface StoredMatchesQuery {
  sql: string;
  /** The output name of each key column (chosen not to clash with the filter's own columns). */
  keyNames: Readonly<Record<KeyColumn, string>>;
  /** The result column of each of the filter's columns, index for index (filterSqlFor's resultNames). */
  resultNames: readonly string[];
}

/**
 * The SQL that runs the filter over the stored objects, newest alert first, with the object key
 * added; at most `limit` rows (LIMIT in the SQL lets the engine keep only the top rows instead of
 * sorting every match). In the dialect of the store it will run on.
 */
export function storedMatchesQuery(filter: CompiledFilter, limit: number, dialect: FilterDialect = 'duckdb'): StoredMatchesQuery {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, not ${limit}`);
  const primary = filter.tables[0];
  if (primary === undefined) throw new Error(`filter ${filter.id} reads no table`);
  const form = filterSqlFor(filter, dialect);
  const table = q(primary);
  const taken = new Set([...filter.columns, ...form.resultNames].map((c) => c.toLowerCase()));
  const keyNames = {} as Record<KeyColumn, string>;
  for (const column of KEY_COLUMNS) {
    let name = `__nightjar_${column}`;
    while (taken.has(name.toLowerCase())) name = `_${name}`;
    taken.add(name.toLowerCase());
    keyNames[column] = name;
  }
  const keys = KEY_COLUMNS.map((c) => `${table}.${q(c)} AS ${q(keyNames[c])}`).join(', ');
  const where = form.parts.where === undefined ? '' : ` WHERE ${form.parts.where}`;
  const collate = dialect === 'postgres' ? ' COLLATE "C"' : '';
  const order = `${table}.${q('alertMjd')} DESC NULLS LAST, ${KEY_COLUMNS.map((c) => `${table}.${q(c)}${collate}`).join(', ')}`;
  return { sql: `SELECT ${form.parts.select}, ${keys} FROM ${form.parts.from}${where} ORDER BY ${order} LIMIT ${limit}`, keyNames, resultNames: form.resultNames };
}

export interface StoredMatch {
  /** The filter's output row, its columns only. */
  row: FilterRow;
  key: ObjectKey;
}

/** Splits a result row into the filter's row and the object key. */
export function splitMatch(result: Readonly<Record<string, unknown>>, query: StoredMatchesQuery, columns: readonly string[]): StoredMatch {
  const row: Record<string, unknown> = {};
  columns.forEach((column, i) => {
    row[column] = result[query.resultNames[i] ?? column];
  });
  const survey = result[query.keyNames.survey];
  const objectKind = result[query.keyNames.objectKind];
  const objectId = result[query.keyNames.objectId];
  if (typeof survey !== 'string' || typeof objectKind !== 'string' || typeof objectId !== 'string') {
    throw new Error(`a stored objects row has no key (survey ${String(survey)}, objectKind ${String(objectKind)}, objectId ${String(objectId)})`);
  }
  return { row, key: { survey: survey as Survey, objectKind: objectKind as ObjectKind, objectId } };
}

export interface StoredMatches {
  matches: StoredMatch[];
  truncated: boolean;
}

/** Runs the filter over the store's objects; at most `limit` rows, newest alert first. */
export async function findStoredMatches(store: Store, filter: CompiledFilter, limit: number, timeLimitMs?: number): Promise<StoredMatches> {
  const query = storedMatchesQuery(filter, limit, store.sqlDialect);
  const result = await store.queryObjects(query.sql, { rowLimit: limit, ...(timeLimitMs === undefined ? {} : { timeLimitMs }) });
  return { matches: result.rows.map((r) => splitMatch(r, query, filter.columns)), truncated: result.truncated };
}
