// Runs compiled filters against one batch held in an in-memory DuckDB (Lasair's design: each
// filter scans only the batch). One engine per worker. The database is shut off from the
// outside (filter-database.ts), so even SQL that slipped past the compiler could only read
// the batch. One query per filter, prepared once and reused across batches: measured faster
// than expected to matter (see docs/filters.md), and it keeps each filter's errors its own.
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBInstance, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import { fillChunk } from './batch-columns.ts';
import { checkCatalog, findTable, type Catalog, type ColumnType } from './catalog.ts';
import { openFilterDatabase, type FilterDatabaseOptions } from './filter-database.ts';
import type { CompiledFilter } from './parse-filter.ts';
import { quoteIdentifier } from './sql-text.ts';

export interface FilterEngineOptions extends FilterDatabaseOptions {
  /** Filters run at the same time, each on its own connection. Default 2. */
  parallelQueries?: number;
}

export interface RunOptions {
  /** Rows returned per filter per batch; more are cut and reported as truncated. Default 1000. */
  rowLimit?: number;
  /** Time allowed per filter; a slower query is interrupted. Default 20000. */
  timeLimitMs?: number;
}

export interface FilterRunError {
  kind: 'timeout' | 'error';
  /** One line naming the filter, the problem and the filter text. */
  message: string;
  /** DuckDB's message (or the time limit), without the filter text. */
  reason: string;
  filterId: string;
  select: string;
  where: string;
}

export interface FilterResult {
  filterId: string;
  /** Output rows keyed by the filter's column names; 64-bit integers stay BigInt. */
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
  error?: FilterRunError;
}

const duckdbTypes: Readonly<Record<ColumnType, DuckDBType>> = { BIGINT, DOUBLE, INTEGER, VARCHAR, BOOLEAN };
// DuckDB's standard vector size: the most rows one data chunk holds.
const chunkRows = 2048;

export class FilterEngine {
  readonly catalog: Catalog;
  private readonly instance: DuckDBInstance;
  private readonly setup: DuckDBConnection;
  private readonly runners: Runner[];
  // loadBatch and run must not overlap: a filter would see half a batch.
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(catalog: Catalog, instance: DuckDBInstance, setup: DuckDBConnection, runners: Runner[]) {
    this.catalog = catalog;
    this.instance = instance;
    this.setup = setup;
    this.runners = runners;
  }

  static async create(catalog: Catalog, options: FilterEngineOptions = {}): Promise<FilterEngine> {
    checkCatalog(catalog);
    const parallel = options.parallelQueries ?? 2;
    if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`parallelQueries must be a positive integer, not ${parallel}`);
    const { instance, setup, lock } = await openFilterDatabase(catalog, options);
    await lock();
    const runners: Runner[] = [];
    for (let i = 0; i < parallel; i++) runners.push({ connection: await instance.connect(), prepared: new Map() });
    return new FilterEngine(catalog, instance, setup, runners);
  }

  /** Replaces the contents of a batch table with these rows (keys = catalog column names). */
  loadBatch(tableName: string, rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    return this.exclusive(async () => {
      const table = findTable(this.catalog, tableName);
      if (table === undefined) throw new Error(`loadBatch: no table "${tableName}" in the filter catalog`);
      const types = table.columns.map((c) => duckdbTypes[c.type]);
      // Same table, emptied: cached prepared filters stay valid (measured: memory stays flat
      // over hundreds of batches). One transaction, so a bad value keeps the previous batch.
      await this.setup.run('BEGIN TRANSACTION');
      try {
        await this.setup.run(`TRUNCATE ${quoteIdentifier(table.name)}`);
        const appender = await this.setup.createAppender(table.name);
        try {
          for (let start = 0; start < rows.length; start += chunkRows) {
            const end = Math.min(rows.length, start + chunkRows);
            const chunk = DuckDBDataChunk.create(types, end - start);
            fillChunk(chunk, table, rows, start);
            appender.appendDataChunk(chunk);
          }
        } finally {
          appender.closeSync();
        }
        await this.setup.run('COMMIT');
      } catch (error) {
        await this.setup.run('ROLLBACK');
        throw error;
      }
    });
  }

  /** Runs every filter on the current batch. A failing or slow filter does not stop the others. */
  async run(filters: readonly CompiledFilter[], options: RunOptions = {}): Promise<FilterResult[]> {
    const rowLimit = options.rowLimit ?? 1000;
    const timeLimitMs = options.timeLimitMs ?? 20_000;
    if (!Number.isSafeInteger(rowLimit) || rowLimit < 1) throw new Error(`rowLimit must be a positive integer, not ${rowLimit}`);
    if (!(timeLimitMs > 0)) throw new Error(`timeLimitMs must be positive, not ${timeLimitMs}`);
    return this.exclusive(async () => {
      const results = new Array<FilterResult>(filters.length);
      let next = 0;
      // Each connection takes the next filter when it is free.
      await Promise.all(
        this.runners.map(async (runner) => {
          for (let i = next++; i < filters.length; i = next++) {
            const filter = filters[i];
            if (filter !== undefined) results[i] = await runOne(runner, filter, rowLimit, timeLimitMs);
          }
        }),
      );
      return results;
    });
  }

  /** Row count of a batch table (for checks and metrics). */
  count(tableName: string): Promise<number> {
    return this.exclusive(async () => {
      const table = findTable(this.catalog, tableName);
      if (table === undefined) throw new Error(`count: no table "${tableName}" in the filter catalog`);
      const reader = await this.setup.runAndReadAll(`SELECT count(*) FROM ${quoteIdentifier(table.name)}`);
      return Number(reader.getRows()[0]?.[0] ?? 0);
    });
  }

  /** Stops any running filter, waits for the engine's queued work to settle, and frees DuckDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const runner of this.runners) runner.connection.interrupt();
    await this.queue;
    for (const runner of this.runners) {
      for (const statement of runner.prepared.values()) statement.destroySync();
      runner.connection.closeSync();
    }
    this.setup.closeSync();
    this.instance.closeSync();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('filter engine is closed'));
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** A connection that runs filters, with the filters it has prepared (planning is about half the cost of a small query). */
interface Runner {
  connection: DuckDBConnection;
  prepared: Map<string, DuckDBPreparedStatement>;
}

const maxPreparedPerConnection = 4096;

async function prepared(runner: Runner, sql: string): Promise<DuckDBPreparedStatement> {
  const cached = runner.prepared.get(sql);
  if (cached !== undefined) {
    // Map order is the eviction order: move to the back on use.
    runner.prepared.delete(sql);
    runner.prepared.set(sql, cached);
    return cached;
  }
  const statement = await runner.connection.prepare(sql);
  runner.prepared.set(sql, statement);
  if (runner.prepared.size > maxPreparedPerConnection) {
    const [oldestSql, oldest] = runner.prepared.entries().next().value ?? [];
    if (oldestSql !== undefined && oldest !== undefined) {
      runner.prepared.delete(oldestSql);
      oldest.destroySync();
    }
  }
  return statement;
}

async function runOne(runner: Runner, filter: CompiledFilter, rowLimit: number, timeLimitMs: number): Promise<FilterResult> {
  const started = performance.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    runner.connection.interrupt();
  }, timeLimitMs);
  // One row more than the limit tells whether there were more.
  const sql = `${filter.sql} LIMIT ${rowLimit + 1}`;
  try {
    const reader = await (await prepared(runner, sql)).runAndReadAll();
    const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
    const truncated = rows.length > rowLimit;
    if (truncated) rows.length = rowLimit;
    return { filterId: filter.id, rows, truncated, elapsedMs: performance.now() - started };
  } catch (error) {
    // Do not reuse a statement that failed; prepare it afresh next time.
    const statement = runner.prepared.get(sql);
    if (statement !== undefined) {
      runner.prepared.delete(sql);
      statement.destroySync();
    }
    const reason = timedOut ? `stopped after ${timeLimitMs} ms, its time limit` : firstLine((error as Error).message);
    const { select, where } = filter.source;
    return {
      filterId: filter.id,
      rows: [],
      truncated: false,
      elapsedMs: performance.now() - started,
      error: {
        kind: timedOut ? 'timeout' : 'error',
        reason,
        message: `filter ${filter.id}: ${reason} — SELECT ${oneLine(select)}${where.trim() === '' ? '' : ` WHERE ${oneLine(where)}`}`,
        filterId: filter.id,
        select,
        where,
      },
    };
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
