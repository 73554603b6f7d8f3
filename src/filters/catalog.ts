// The schema that filters see. It is data handed to the filter engine (the features module
// supplies the real `objects` columns), so the language never hard-codes a column list.

export type ColumnType = 'BIGINT' | 'DOUBLE' | 'INTEGER' | 'VARCHAR' | 'BOOLEAN';

export interface CatalogColumn {
  name: string;
  type: ColumnType;
  unit?: string;
  doc: string;
}

export interface CatalogTable {
  name: string;
  columns: CatalogColumn[];
  /**
   * For a table other than the first: the column it shares with the first table, on which
   * a filter that names this table is joined (e.g. "diaObjectId"). Without it the table
   * cannot be used in a filter.
   */
  joinOn?: string;
}

/** The first table is the primary one (`objects`): every filter reads it. */
export interface Catalog {
  tables: CatalogTable[];
}

const columnTypes: ReadonlySet<string> = new Set(['BIGINT', 'DOUBLE', 'INTEGER', 'VARCHAR', 'BOOLEAN']);
// Catalog names become SQL identifiers and JSON keys of the delivered messages: keep them plain.
const plainIdentifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws an Error naming the first problem if the catalog cannot be used by filters. */
export function checkCatalog(catalog: Catalog): void {
  if (catalog.tables.length === 0) throw new Error('filter catalog has no tables');
  const tableNames = new Set<string>();
  for (const table of catalog.tables) {
    if (!plainIdentifier.test(table.name)) throw new Error(`filter catalog: table name "${table.name}" is not a plain identifier`);
    const lower = table.name.toLowerCase();
    if (tableNames.has(lower)) throw new Error(`filter catalog: table "${table.name}" is listed twice`);
    tableNames.add(lower);
    if (table.columns.length === 0) throw new Error(`filter catalog: table "${table.name}" has no columns`);
    const columnNames = new Set<string>();
    for (const column of table.columns) {
      if (!plainIdentifier.test(column.name)) throw new Error(`filter catalog: column "${table.name}.${column.name}" is not a plain identifier`);
      if (!columnTypes.has(column.type)) throw new Error(`filter catalog: column "${table.name}.${column.name}" has unsupported type ${String(column.type)}`);
      const lowerColumn = column.name.toLowerCase();
      if (columnNames.has(lowerColumn)) throw new Error(`filter catalog: column "${table.name}.${column.name}" is listed twice`);
      columnNames.add(lowerColumn);
    }
  }
  const primary = primaryTable(catalog);
  for (const table of catalog.tables.slice(1)) {
    if (table.joinOn === undefined) continue;
    if (findColumn(table, table.joinOn) === undefined || findColumn(primary, table.joinOn) === undefined) {
      throw new Error(`filter catalog: table "${table.name}" joins on "${table.joinOn}", which must be a column of both "${table.name}" and "${primary.name}"`);
    }
  }
}

export function primaryTable(catalog: Catalog): CatalogTable {
  const first = catalog.tables[0];
  if (first === undefined) throw new Error('filter catalog has no tables');
  return first;
}

/** SQL identifiers are case-insensitive, so lookups are too. */
export function findTable(catalog: Catalog, name: string): CatalogTable | undefined {
  const lower = name.toLowerCase();
  return catalog.tables.find((t) => t.name.toLowerCase() === lower);
}

export function findColumn(table: CatalogTable, name: string): CatalogColumn | undefined {
  const lower = name.toLowerCase();
  return table.columns.find((c) => c.name.toLowerCase() === lower);
}
