// Staging tables: each batch is appended column by column into temporary tables on the
// writer's connection (DuckDB's appender, a data chunk of 2048 rows at a time), and a handful
// of set-based statements move it into the store. Temporary tables live in the connection, so
// only the writer sees them. Points go in two steps: their keys first, to find which are not
// stored yet, then the values of those only (most of an alert's history is stored already).
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { OBJECT_COLUMNS } from '../features/columns.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import type { ColumnValues } from './batch-rows.ts';
import { POINT_VALUE_COLUMNS } from './schema.ts';

// DuckDB's standard vector size: the most rows one data chunk holds.
const chunkRows = 2048;

export interface StagingTable {
  name: string;
  /** A temporary table of the writer's connection; false for a store table appended to directly. */
  temporary: boolean;
  columns: readonly { name: string; type: DuckDBType; sql: string }[];
}

const column = (name: string, type: DuckDBType, sql: string): { name: string; type: DuckDBType; sql: string } => ({ name, type, sql });

export const stageKeys: StagingTable = {
  name: 'stage_keys',
  temporary: true,
  columns: [column('idx', INTEGER, 'INTEGER'), column('survey', VARCHAR, 'VARCHAR'), column('objectKind', VARCHAR, 'VARCHAR'), column('objectId', VARCHAR, 'VARCHAR')],
};

/** The object_refs number of each batch key; the other staging tables name objects by key index. */
export const stageRefs: StagingTable = {
  name: 'stage_refs',
  temporary: true,
  columns: [column('idx', INTEGER, 'INTEGER'), column('ref', BIGINT, 'BIGINT')],
};

export const stageBands: StagingTable = {
  name: 'stage_bands',
  temporary: true,
  columns: [column('idx', INTEGER, 'INTEGER'), column('band', VARCHAR, 'VARCHAR')],
};

/** What identifies each point of the batch: checked against the stored points first. */
export const stagePointKeys: StagingTable = {
  name: 'stage_point_keys',
  temporary: true,
  columns: [
    column('row', INTEGER, 'INTEGER'),
    column('keyIdx', INTEGER, 'INTEGER'),
    column('forced', BOOLEAN, 'BOOLEAN'),
    column('sourceId', BIGINT, 'BIGINT'),
    column('mjd', DOUBLE, 'DOUBLE'),
    column('bandIdx', INTEGER, 'INTEGER'),
  ],
};

/** The points found new, with their values. */
export const stagePoints: StagingTable = {
  name: 'stage_points',
  temporary: true,
  columns: [
    column('keyIdx', INTEGER, 'INTEGER'),
    column('forced', BOOLEAN, 'BOOLEAN'),
    column('sourceId', BIGINT, 'BIGINT'),
    column('mjd', DOUBLE, 'DOUBLE'),
    column('bandIdx', INTEGER, 'INTEGER'),
    ...POINT_VALUE_COLUMNS.map((name) => column(name, DOUBLE, 'DOUBLE')),
  ],
};

export const stageLimits: StagingTable = {
  name: 'stage_limits',
  temporary: true,
  columns: [column('keyIdx', INTEGER, 'INTEGER'), column('mjd', DOUBLE, 'DOUBLE'), column('bandIdx', INTEGER, 'INTEGER'), column('limitMag', DOUBLE, 'DOUBLE'), column('fluxNoise', DOUBLE, 'DOUBLE')],
};

export const stageAlerts: StagingTable = {
  name: 'stage_alerts',
  temporary: true,
  columns: [
    column('keyIdx', INTEGER, 'INTEGER'),
    column('sourceId', BIGINT, 'BIGINT'),
    column('alertId', BIGINT, 'BIGINT'),
    column('mjd', DOUBLE, 'DOUBLE'),
    column('band', VARCHAR, 'VARCHAR'),
    column('schema', VARCHAR, 'VARCHAR'),
    column('topic', VARCHAR, 'VARCHAR'),
    column('partition', INTEGER, 'INTEGER'),
    column('offset', BIGINT, 'BIGINT'),
  ],
};

/** New rows of object_refs, appended straight to the store table (inside the batch's transaction). */
export const objectRefsTable: StagingTable = {
  name: 'object_refs',
  temporary: false,
  columns: [column('survey', VARCHAR, 'VARCHAR'), column('objectKind', VARCHAR, 'VARCHAR'), column('objectId', VARCHAR, 'VARCHAR'), column('ref', BIGINT, 'BIGINT')],
};

const objectTypes: Readonly<Record<string, DuckDBType>> = { BIGINT, DOUBLE, INTEGER, VARCHAR, BOOLEAN };

/** The staging copy of `objects`: its documented columns, in documented order. */
export const stageObjects: StagingTable = {
  name: 'stage_objects',
  temporary: true,
  columns: OBJECT_COLUMNS.map((c) => column(c.name, objectTypes[c.type] as DuckDBType, c.type)),
};

const stagingTables = [stageKeys, stageRefs, stageBands, stageObjects, stagePointKeys, stagePoints, stageLimits, stageAlerts];

export function stagingTablesSql(): string[] {
  return stagingTables.map((t) => `CREATE TEMP TABLE ${t.name} (${t.columns.map((c) => `${q(c.name)} ${c.sql}`).join(', ')})`);
}

export function clearStagingSql(): string[] {
  return stagingTables.map((t) => `DELETE FROM ${t.name}`);
}

/**
 * Appends rows given column by column (arrays of equal length, in the table's column order).
 * Float64Array and Int32Array columns go in as numbers (NaN included), Uint8Array columns as
 * booleans; one typed loop per column, since the per-value cost is what a batch pays most.
 */
export async function appendColumns(connection: DuckDBConnection, table: StagingTable, columns: readonly ColumnValues[], rowCount: number): Promise<void> {
  if (rowCount === 0) return;
  if (columns.length !== table.columns.length) throw new Error(`staging ${table.name}: ${columns.length} columns given, the table has ${table.columns.length}`);
  columns.forEach((values, c) => {
    if (values.length < rowCount) throw new Error(`staging ${table.name}: column ${table.columns[c]?.name} has ${values.length} values for ${rowCount} rows`);
  });
  const types = table.columns.map((c) => c.type);
  const appender = table.temporary ? await connection.createAppender(table.name, 'main', 'temp') : await connection.createAppender(table.name);
  try {
    // One chunk, refilled for each slice of rows: the appender copies what it is given, and
    // wrapping a chunk's vectors costs more than filling them, so it is done once.
    const chunk = DuckDBDataChunk.create(types, Math.min(chunkRows, rowCount));
    const vectors = types.map((_, c) => chunk.getColumnVector(c));
    for (let start = 0; start < rowCount; start += chunkRows) {
      const count = Math.min(chunkRows, rowCount - start);
      columns.forEach((values, c) => {
        const vector = vectors[c] as (typeof vectors)[number];
        if (values instanceof Float64Array || values instanceof Int32Array) {
          for (let i = 0; i < count; i++) vector.setItem(i, values[start + i] as number);
        } else if (values instanceof Uint8Array) {
          for (let i = 0; i < count; i++) vector.setItem(i, values[start + i] !== 0);
        } else {
          for (let i = 0; i < count; i++) vector.setItem(i, values[start + i] ?? null);
        }
        vector.flush();
      });
      if (chunk.rowCount !== count) chunk.rowCount = count;
      appender.appendDataChunk(chunk);
    }
  } finally {
    appender.closeSync();
  }
}
