// The names and DuckDB types of a compiled filter's output columns, for the Avro stream's
// schema. DuckDB's binder knows the type of every SELECT item (flux2mag(...) is DOUBLE, `0.5`
// is DECIMAL(2,1), a CAST says its own), so the filter is described in an empty filter
// database, the same kind the filter runs in, rather than guessed from the catalog.
import type { Catalog } from '../filters/catalog.ts';
import { openFilterDatabase } from '../filters/filter-database.ts';
import type { CompiledFilter } from '../filters/parse-filter.ts';
import type { OutputColumn } from './avro-records.ts';

/** Output columns of a filter, in SELECT order, with DuckDB's type names (BIGINT, DOUBLE, DECIMAL(2,1), ...). */
export async function filterOutputColumns(filter: CompiledFilter, catalog: Catalog): Promise<OutputColumn[]> {
  const database = await openFilterDatabase(catalog, { threads: 1, memoryLimit: '64MB' });
  try {
    await database.lock();
    const reader = await database.setup.runAndReadAll(`DESCRIBE ${filter.sql}`);
    const described = reader.getRowObjectsJS() as { column_name?: unknown; column_type?: unknown }[];
    const columns = described.map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
    const names = columns.map((c) => c.name);
    if (names.length !== filter.columns.length || names.some((name, i) => name !== filter.columns[i])) {
      throw new Error(`filter ${filter.id}: DuckDB describes its output as [${names.join(', ')}], the compiler as [${filter.columns.join(', ')}]`);
    }
    return columns;
  } catch (error) {
    throw new Error(`describing the output of filter ${filter.id} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    database.setup.closeSync();
    database.instance.closeSync();
  }
}
