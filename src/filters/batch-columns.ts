// Rows of a batch (objects keyed by column name) → DuckDB data chunks, each value checked
// against its catalog column type. 64-bit columns take BigInt: a JavaScript number
// above 2^53 has already lost digits, so it is refused rather than stored wrong.
import type { DuckDBDataChunk, DuckDBValue } from '@duckdb/node-api';
import type { CatalogColumn, CatalogTable } from './catalog.ts';

const int32Min = -(2 ** 31);
const int32Max = 2 ** 31 - 1;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

type Convert = (value: unknown) => DuckDBValue | Refusal;

/** Why a value does not fit its column; a class so the hot loop allocates nothing for good values. */
class Refusal {
  readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
}

/**
 * Writes rows[start, start + chunk.rowCount) into the chunk, one vector per catalog column
 * in catalog order, checking each value. Throws with table/row/column context.
 */
export function fillChunk(chunk: DuckDBDataChunk, table: CatalogTable, rows: readonly Readonly<Record<string, unknown>>[], start: number): void {
  const count = chunk.rowCount;
  table.columns.forEach((column, columnIndex) => {
    const convert = converters[column.type];
    const name = column.name;
    const vector = chunk.getColumnVector(columnIndex);
    for (let i = 0; i < count; i++) {
      const value = rows[start + i]?.[name];
      if (value === null || value === undefined) {
        vector.setItem(i, null);
        continue;
      }
      const converted = convert(value);
      if (converted instanceof Refusal) throw refusal(table, column, start + i, converted.why);
      vector.setItem(i, converted);
    }
    vector.flush();
  });
}

/** Column-major values for the table, in catalog column order. Throws with row/column context. */
export function batchColumns(table: CatalogTable, rows: readonly Readonly<Record<string, unknown>>[]): DuckDBValue[][] {
  return table.columns.map((column) => {
    const convert = converters[column.type];
    const values = new Array<DuckDBValue>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const value = rows[i]?.[column.name];
      const converted = value === null || value === undefined ? null : convert(value);
      if (converted instanceof Refusal) throw refusal(table, column, i, converted.why);
      values[i] = converted;
    }
    return values;
  });
}

function refusal(table: CatalogTable, column: CatalogColumn, row: number, why: string): Error {
  return new Error(`batch for table ${table.name}, row ${row}, column ${column.name} (${column.type}): ${why}`);
}

const converters: Readonly<Record<CatalogColumn['type'], Convert>> = {
  BIGINT: (value) => {
    if (typeof value === 'bigint') return value >= int64Min && value <= int64Max ? value : new Refusal(`${value} is outside the 64-bit range`);
    if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : new Refusal(`${value} is not an exact integer; 64-bit values must be BigInt`);
    return new Refusal(`expected a BigInt, got ${describe(value)}`);
  },
  INTEGER: (value) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= int32Min && value <= int32Max) return value;
    if (typeof value === 'bigint' && value >= BigInt(int32Min) && value <= BigInt(int32Max)) return Number(value);
    return new Refusal(`expected a 32-bit integer, got ${describe(value)}`);
  },
  DOUBLE: (value) => (typeof value === 'number' ? value : new Refusal(`expected a number, got ${describe(value)}`)),
  VARCHAR: (value) => (typeof value === 'string' ? value : new Refusal(`expected a string, got ${describe(value)}`)),
  BOOLEAN: (value) => (typeof value === 'boolean' ? value : new Refusal(`expected a boolean, got ${describe(value)}`)),
};

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
