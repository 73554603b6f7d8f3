// Writing a flattened alert table as CSV, JSON Lines or Parquet (via DuckDB).
import { writeFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { stringify } from '../util/json.ts';
import type { Cell, Table } from './export-rows.ts';

export type ExportFormat = 'csv' | 'jsonl' | 'parquet';

function csvCell(v: Cell): string {
  if (v === null) return '';
  const text = typeof v === 'string' ? v : v.toString();
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV with a header row (RFC 4180 quoting); null is an empty cell, BigInt its exact digits. */
export function tableToCsv(table: Table): string {
  const lines = [table.columns.map(csvCell).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(row[c] ?? null)).join(','));
  return `${lines.join('\n')}\n`;
}

/** One JSON object per row, every column present; BigInt as bare digits. */
export function tableToJsonl(table: Table): string {
  return table.rows.map((r) => `${stringify(r)}\n`).join('');
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * Writes a Parquet file: the rows go through DuckDB's appender into a typed in-memory table
 * (BIGINT columns appended as BigInt, so ids stay exact), then COPY … TO … (FORMAT parquet).
 * A plain DuckDB instance of its own, since it must write a file.
 */
export async function writeParquet(table: Table, file: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const columns = table.columns.length > 0 ? table.columns : ['empty'];
    const types = table.columns.length > 0 ? table.types : { empty: 'VARCHAR' as const };
    await connection.run(`CREATE TABLE alerts (${columns.map((c) => `${quoteIdent(c)} ${types[c]}`).join(', ')})`);
    const appender = await connection.createAppender('alerts');
    for (const row of table.rows) {
      for (const c of columns) {
        const v = row[c] ?? null;
        const type = types[c];
        if (v === null) appender.appendNull();
        else if (type === 'BIGINT') appender.appendBigInt(BigInt(v as number | bigint));
        else if (type === 'DOUBLE') appender.appendDouble(Number(v));
        else if (type === 'BOOLEAN') appender.appendBoolean(v === true);
        else appender.appendVarchar(typeof v === 'string' ? v : v.toString());
      }
      appender.endRow();
    }
    appender.closeSync();
    await connection.run(`COPY alerts TO ${quoteLiteral(file)} (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Writes the table to `file` in the given format. */
export async function writeTable(table: Table, format: ExportFormat, file: string): Promise<void> {
  if (format === 'csv') await writeFile(file, tableToCsv(table));
  else if (format === 'jsonl') await writeFile(file, tableToJsonl(table));
  else await writeParquet(table, file);
}
