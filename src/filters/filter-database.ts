// The in-memory DuckDB that filters run in: shut off from files, network and extensions,
// with the helper macros and the catalog's tables. Locked once set up, so no statement can
// change its settings afterwards.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Catalog, CatalogTable } from './catalog.ts';
import { helperMacros } from './functions.ts';
import { quoteIdentifier } from './sql-text.ts';

export interface FilterDatabaseOptions {
  /** DuckDB worker threads. Default 2. */
  threads?: number;
  /** DuckDB memory limit, e.g. "1GB". Default "1GB". */
  memoryLimit?: string;
}

export interface FilterDatabase {
  instance: DuckDBInstance;
  /** The connection that created the tables; call lock() when done with setup. */
  setup: DuckDBConnection;
  lock(): Promise<void>;
}

export async function openFilterDatabase(catalog: Catalog, options: FilterDatabaseOptions = {}): Promise<FilterDatabase> {
  const instance = await DuckDBInstance.create(':memory:', {
    enable_external_access: 'false',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    allow_community_extensions: 'false',
    threads: String(options.threads ?? 2),
    memory_limit: options.memoryLimit ?? '1GB',
  });
  const setup = await instance.connect();
  try {
    for (const macro of helperMacros) await setup.run(macro);
    for (const table of catalog.tables) await setup.run(createTableSql(table));
  } catch (error) {
    setup.closeSync();
    instance.closeSync();
    throw error;
  }
  return {
    instance,
    setup,
    lock: async () => {
      await setup.run('SET lock_configuration = true');
    },
  };
}

export function createTableSql(table: CatalogTable): string {
  const columns = table.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
  return `CREATE TABLE ${quoteIdentifier(table.name)} (${columns})`;
}
