// Staging tables: each batch is appended column by column into temporary tables on the
// writer's connection (DuckDB's appender, a data chunk of 2048 rows at a time), and a handful
// of set-based statements move it into the store. Temporary tables live in the connection, so
// only the writer sees them. Points go in two steps: their keys first, to find which are not
// stored yet, then the values of those only (most of an alert's history is stored already).
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
// The C API's vector functions, which @duckdb/node-api wraps (and pins to its own version): they
// copy a typed array into a vector in one call, where the wrapper's setItem costs a call (and,
// once a column has a null, BigInt arithmetic) per value.
import duckdb from '@duckdb/node-bindings';
import os from 'node:os';
import { OBJECT_COLUMNS } from '../features/columns.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import type { ColumnValues } from './batch-rows.ts';
import { POINT_VALUE_COLUMNS } from './schema.ts';

// DuckDB's standard vector size: the most rows one data chunk holds.
const chunkRows = 2048;
// Typed arrays are copied into vectors as they are in memory, and DuckDB's are little-endian.
if (os.endianness() !== 'LE') throw new Error('the store\'s bulk appends need a little-endian machine');

export interface StagingColumn {
  name: string;
  type: DuckDBType;
  sql: string;
}

export interface StagingTable {
  name: string;
  /** A temporary table of the writer's connection; false for a store table appended to directly. */
  temporary: boolean;
  columns: readonly StagingColumn[];
}

const column = (name: string, type: DuckDBType, sql: string): StagingColumn => ({ name, type, sql });

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

function columnLength(values: ColumnValues): number {
  return 'int64' in values ? values.int64.length : values.length;
}

/** Writes rows [start, start + count) of one column into a chunk's vector, in bulk where the value type allows. */
type ColumnWriter = (start: number, count: number) => void;

/**
 * Appends rows given column by column (of equal length, in the table's column order).
 * Float64Array (DOUBLE, NaN included), Int32Array (INTEGER), Uint8Array (BOOLEAN) and
 * Int64Column (BIGINT) columns are copied into the vectors a chunk at a time; other columns
 * go value by value.
 */
export async function appendColumns(connection: DuckDBConnection, table: StagingTable, columns: readonly ColumnValues[], rowCount: number): Promise<void> {
  if (rowCount === 0) return;
  if (columns.length !== table.columns.length) throw new Error(`staging ${table.name}: ${columns.length} columns given, the table has ${table.columns.length}`);
  columns.forEach((values, c) => {
    if (columnLength(values) < rowCount) throw new Error(`staging ${table.name}: column ${table.columns[c]?.name} has ${columnLength(values)} values for ${rowCount} rows`);
  });
  const types = table.columns.map((c) => c.type);
  const appender = table.temporary ? await connection.createAppender(table.name, 'main', 'temp') : await connection.createAppender(table.name);
  try {
    // One chunk, refilled for each slice of rows: the appender copies what it is given.
    const chunk = DuckDBDataChunk.create(types, Math.min(chunkRows, rowCount));
    const writers = columns.map((values, c) => columnWriter(chunk, c, table.columns[c] as StagingColumn, values, table.name));
    for (let start = 0; start < rowCount; start += chunkRows) {
      const count = Math.min(chunkRows, rowCount - start);
      for (const write of writers) write(start, count);
      if (chunk.rowCount !== count) duckdb.data_chunk_set_size(chunk.chunk, count);
      appender.appendDataChunk(chunk);
    }
  } finally {
    appender.closeSync();
  }
}

function columnWriter(chunk: DuckDBDataChunk, c: number, spec: StagingColumn, values: ColumnValues, table: string): ColumnWriter {
  const wrong = (): Error => new Error(`staging ${table}: column ${spec.name} (${spec.sql}) cannot take ${values.constructor.name} values`);
  if (values instanceof Float64Array) {
    if (spec.type !== DOUBLE) throw wrong();
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
    return (start, count) => duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + start * 8, count * 8);
  }
  if (values instanceof Int32Array) {
    if (spec.type !== INTEGER) throw wrong();
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
    return (start, count) => duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + start * 4, count * 4);
  }
  if (values instanceof Uint8Array) {
    if (spec.type !== BOOLEAN) throw wrong();
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
    // DuckDB's booleans are bytes that must be 0 or 1.
    const bytes = new Uint8Array(chunkRows);
    return (start, count) => {
      for (let i = 0; i < count; i++) bytes[i] = values[start + i] === 0 ? 0 : 1;
      duckdb.copy_data_to_vector(vector, 0, bytes.buffer, 0, count);
    };
  }
  if ('int64' in values) {
    if (spec.type !== BIGINT) throw wrong();
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
    const { int64, isNull } = values;
    const validity = isNull === undefined ? null : new Validity(vector);
    return (start, count) => {
      duckdb.copy_data_to_vector(vector, 0, int64.buffer as ArrayBuffer, int64.byteOffset + start * 8, count * 8);
      if (validity === null || isNull === undefined) return;
      validity.begin();
      for (let i = 0; i < count; i++) if (isNull[start + i] !== 0) validity.setNull(i);
      validity.end();
    };
  }
  // Anything else value by value, through the wrapper (which keeps its own copy of the
  // vector's values and validity, and writes them all on flush).
  const vector = chunk.getColumnVector(c);
  return (start, count) => {
    for (let i = 0; i < count; i++) vector.setItem(i, values[start + i] ?? null);
    vector.flush();
  };
}

/** The validity mask of one vector, written whole for each chunk that has nulls (or follows one that had). */
class Validity {
  private readonly vector: duckdb.Vector;
  private readonly words = new Uint32Array(chunkRows / 32);
  private any = false;
  /** Whether the vector's mask, as last written, has nulls. */
  private written = false;

  constructor(vector: duckdb.Vector) {
    this.vector = vector;
  }

  begin(): void {
    this.words.fill(0xffffffff);
    this.any = false;
  }

  setNull(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) & ~(1 << (i & 31));
    this.any = true;
  }

  end(): void {
    if (!this.any && !this.written) return;
    duckdb.vector_ensure_validity_writable(this.vector);
    // The mask is 64-bit words; a chunk's rows fit in chunkRows / 64 of them.
    duckdb.copy_data_to_vector_validity(this.vector, 0, this.words.buffer, 0, this.words.byteLength);
    this.written = this.any;
  }
}
