// appendColumns copies typed arrays into DuckDB's vectors a chunk (2048 rows) at a time: the
// values, and the nulls of 64-bit integer columns, must land in the right rows across chunks,
// including a chunk without nulls after one with them (the validity mask is reused).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBInstance, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { appendColumns, type StagingTable } from '../src/store/staging.ts';

const table: StagingTable = {
  name: 'staged',
  temporary: true,
  columns: [
    { name: 'n', type: INTEGER, sql: 'INTEGER' },
    { name: 'id', type: BIGINT, sql: 'BIGINT' },
    { name: 'x', type: DOUBLE, sql: 'DOUBLE' },
    { name: 'flag', type: BOOLEAN, sql: 'BOOLEAN' },
    { name: 'label', type: VARCHAR, sql: 'VARCHAR' },
  ],
};

let instance: DuckDBInstance;
let connection: DuckDBConnection;

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run(`CREATE TEMP TABLE staged (n INTEGER, id BIGINT, x DOUBLE, flag BOOLEAN, label VARCHAR)`);
});

after(() => {
  connection.closeSync();
  instance.closeSync();
});

test('typed columns and 64-bit ids with nulls land in their rows across chunks', async () => {
  // 2048 * 3 + 100 rows: nulls only in the first and third chunks, none in the second and the last.
  const rows = 2048 * 3 + 100;
  const n = new Int32Array(rows);
  const id = new BigInt64Array(rows);
  const isNull = new Uint8Array(rows);
  const x = new Float64Array(rows);
  const flag = new Uint8Array(rows);
  const label: (string | null)[] = [];
  for (let i = 0; i < rows; i++) {
    n[i] = i - 1000;
    id[i] = 170_000_000_000_000_000n + BigInt(i) * 7n; // above 2^53
    const chunk = Math.floor(i / 2048);
    isNull[i] = (chunk === 0 || chunk === 2) && i % 7 === 3 ? 1 : 0;
    x[i] = i % 11 === 0 ? Number.NaN : i / 3;
    flag[i] = i % 3 === 0 ? 5 : 0; // any non-zero byte is true
    label.push(i % 5 === 0 ? null : `row ${i}`);
  }
  await appendColumns(connection, table, [n, { int64: id, isNull }, x, flag, label], rows);
  const read = (await connection.runAndReadAll('SELECT n, id, x, flag, label FROM staged ORDER BY n')).getRows();
  assert.equal(read.length, rows);
  for (let i = 0; i < rows; i++) {
    const [rn, rid, rx, rflag, rlabel] = read[i] as [number, bigint | null, number, boolean, string | null];
    assert.equal(rn, i - 1000);
    assert.equal(rid, isNull[i] === 1 ? null : id[i], `id of row ${i}`);
    if (Number.isNaN(x[i])) assert.ok(Number.isNaN(rx), `x of row ${i}`);
    else assert.equal(rx, x[i]);
    assert.equal(rflag, flag[i] !== 0);
    assert.equal(rlabel, label[i]);
  }
  await connection.run('DELETE FROM staged');
});

test('a column shorter than the rows, or of a type the table column cannot take, is refused', async () => {
  await assert.rejects(appendColumns(connection, table, [new Int32Array(2), { int64: new BigInt64Array(3) }, new Float64Array(3), new Uint8Array(3), ['a', 'b', 'c']], 3), /column n has 2 values for 3 rows/);
  await assert.rejects(appendColumns(connection, table, [new Float64Array(3), { int64: new BigInt64Array(3) }, new Float64Array(3), new Uint8Array(3), ['a', 'b', 'c']], 3), /column n \(INTEGER\) cannot take Float64Array/);
});
