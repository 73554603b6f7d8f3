// Store.queryObjects on DuckDB: one SELECT, checked before it runs (one statement, a SELECT,
// reading only the allowed tables), run in a read-only transaction on its own connection so it
// can be interrupted at its time limit, and read only as far as its row limit.
import { StatementType, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { StoreQueryError } from './errors.ts';
import type { QueryResult } from './store.ts';

export interface ObjectQueryOptions {
  params: readonly DuckDBValue[];
  rowLimit: number;
  timeLimitMs: number;
  /** Lower-case names of the tables the statement may read. */
  tables: ReadonlySet<string>;
}

/** The filter helper macros (flux2mag, mjdnow, ...) as temporary macros of one connection, so the store file holds no code. */
export function temporaryMacro(sql: string): string {
  if (!sql.startsWith('CREATE MACRO ')) throw new Error(`unexpected helper macro definition: ${sql.slice(0, 60)}`);
  return `CREATE OR REPLACE TEMP MACRO ${sql.slice('CREATE MACRO '.length)}`;
}

/** Runs the statement; throws a StoreQueryError if it is refused, fails or runs out of time. */
export async function runObjectQuery(connection: DuckDBConnection, sql: string, options: ObjectQueryOptions): Promise<QueryResult> {
  const { params, rowLimit, timeLimitMs, tables } = options;
  const started = performance.now();
  const fail = (kind: 'refused' | 'error', reason: string, cause?: unknown): StoreQueryError =>
    new StoreQueryError(kind, `queryObjects: ${reason} — ${oneLine(sql)}`, sql, cause === undefined ? undefined : { cause });
  let statement;
  try {
    const extracted = await connection.extractStatements(sql);
    if (extracted.count !== 1) throw fail('refused', `expected one statement, got ${extracted.count}`);
    statement = await extracted.prepare(0);
  } catch (error) {
    if (error instanceof StoreQueryError) throw error;
    throw fail('error', firstLine((error as Error).message), error);
  }
  try {
    if (statement.statementType !== StatementType.SELECT) throw fail('refused', 'only a SELECT can run here');
    const others = connection.getTableNames(sql, false).filter((t) => !tables.has(t.toLowerCase()));
    if (others.length > 0) throw fail('refused', `it reads ${others.join(', ')}; only ${[...tables].join(', ')} may be read`);
    if (params.length !== statement.parameterCount) throw fail('refused', `${statement.parameterCount} parameters expected, ${params.length} given`);
    if (params.length > 0) statement.bind([...params]);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      connection.interrupt();
    }, timeLimitMs);
    await connection.run('BEGIN TRANSACTION READ ONLY');
    try {
      // Reads only as far as one row past the limit, which tells whether there were more.
      const reader = await statement.streamAndReadUntil(rowLimit + 1);
      const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
      const truncated = rows.length > rowLimit;
      if (truncated) rows.length = rowLimit;
      return { columns: reader.columnNames(), rows, truncated, elapsedMs: performance.now() - started };
    } catch (error) {
      if (timedOut) throw new StoreQueryError('timeout', `queryObjects: stopped after ${timeLimitMs} ms, its time limit — ${oneLine(sql)}`, sql, { cause: error });
      throw fail('error', firstLine((error as Error).message), error);
    } finally {
      clearTimeout(timer);
      await connection.run('ROLLBACK');
    }
  } finally {
    statement.destroySync();
  }
}

export function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
