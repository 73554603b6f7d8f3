// Checks a compiled filter against the column types before it is saved: runs it on one row
// of NULLs, which catches what only DuckDB's binder and constant folding see (text compared
// with a number, lower() of a number, 'abc' cast to DOUBLE) without needing any real data.
import type { Catalog } from './catalog.ts';
import { checkCatalog } from './catalog.ts';
import { openFilterDatabase, type FilterDatabase } from './filter-database.ts';
import type { CompiledFilter, FilterError } from './parse-filter.ts';
import { quoteIdentifier } from './sql-text.ts';

/** Time allowed for checking a filter on its one row of NULLs. */
const CHECK_TIME_LIMIT_MS = 5000;

export class FilterChecker {
  private readonly database: FilterDatabase;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(database: FilterDatabase) {
    this.database = database;
  }

  static async create(catalog: Catalog): Promise<FilterChecker> {
    checkCatalog(catalog);
    const database = await openFilterDatabase(catalog, { threads: 1, memoryLimit: '64MB' });
    for (const table of catalog.tables) {
      await database.setup.run(`INSERT INTO ${quoteIdentifier(table.name)} DEFAULT VALUES`);
    }
    await database.lock();
    return new FilterChecker(database);
  }

  /** Problems DuckDB finds in the SELECT box, then in the WHERE box; empty if none. */
  check(filter: CompiledFilter): Promise<FilterError[]> {
    const work = async (): Promise<FilterError[]> => {
      const { select, from, where } = filter.parts;
      const selectProblem = await this.problem(`SELECT ${select} FROM ${from} LIMIT 1`);
      if (selectProblem !== undefined) return [{ message: `${selectProblem} (in SELECT)`, part: 'select', offset: 0 }];
      if (where === undefined) return [];
      const whereProblem = await this.problem(`SELECT ${select} FROM ${from} WHERE ${where} LIMIT 1`);
      return whereProblem === undefined ? [] : [{ message: `${whereProblem} (in WHERE)`, part: 'where', offset: 0 }];
    };
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Waits for checks under way, then frees DuckDB. */
  async close(): Promise<void> {
    await this.queue;
    this.database.setup.closeSync();
    this.database.instance.closeSync();
  }

  private async problem(sql: string): Promise<string | undefined> {
    // One row takes microseconds; a filter still running after this long would stall every batch.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.database.setup.interrupt();
    }, CHECK_TIME_LIMIT_MS);
    try {
      await this.database.setup.run(sql);
      return undefined;
    } catch (error) {
      if (timedOut) return `the filter took more than ${CHECK_TIME_LIMIT_MS / 1000} s on a single row: it would be far too slow on a batch`;
      // DuckDB's message quotes the compiled SQL ("LINE 1: ..."), not what the user wrote.
      return (error as Error).message.split('\n')[0]?.trim();
    } finally {
      clearTimeout(timer);
    }
  }
}
