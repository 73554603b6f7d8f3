// Opens the store a location names: a postgres:// or postgresql:// URL opens the PostgreSQL
// store (several processes and hosts may share it), anything else the DuckDB file (or
// ':memory:'). The PostgreSQL store and its client are loaded only when one is asked for.
import { openStore as openDuckDBStore, type OpenStoreOptions } from './duckdb-store.ts';
import type { Store } from './store.ts';

/** True for a postgres:// or postgresql:// URL (what opens the PostgreSQL store). */
export function isPostgresUrl(text: string): boolean {
  return typeof text === 'string' && /^postgres(ql)?:\/\//i.test(text.trim());
}

/**
 * Opens the store at options.path. For a PostgreSQL URL, threads, memoryLimit and
 * checkpointThreshold do not apply (they tune DuckDB); readOnly opens it without migrating and
 * refuses writes, as for a DuckDB file.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (!isPostgresUrl(options.path)) return openDuckDBStore(options);
  const { openPostgresStore } = await import('./postgres-store.ts');
  return openPostgresStore({ url: options.path, readOnly: options.readOnly === true, ...(options.log === undefined ? {} : { log: options.log }) });
}
