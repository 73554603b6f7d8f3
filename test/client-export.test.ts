import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { flattenRecord, toTable } from '../src/client/export-rows.ts';
import { writeTable } from '../src/client/export-write.ts';
import { listSavedAlertFiles, readSavedAlerts } from '../src/client/saved-alerts.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { parse, stringifyWithBytes } from '../src/util/json.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(repoRoot, '../shared/data');
const RUBIN = path.join(data, 'fink-client/datatest/lsst/part-2-918301.avro');
const ZTF = path.join(data, 'boom/alerts/ztf/2695378462115010012.avro');

/** Splits CSV text into rows of cells (RFC 4180 quotes, newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  return rows;
}

describe('export', () => {
  let dir: string;
  let rubinIds: bigint[];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nightjar-export-'));
    // A folder of saved alerts as `consume --save` writes them: one container file per
    // Rubin alert in one folder, a ZTF alert in another, and one JSON alert.
    await mkdir(path.join(dir, 'saved/lsst'), { recursive: true });
    await mkdir(path.join(dir, 'saved/ztf'), { recursive: true });
    const rubin = await readAlertFile(RUBIN);
    rubinIds = [];
    for (const d of rubin) {
      const id = (d.record.diaSource as { diaSourceId: bigint }).diaSourceId;
      rubinIds.push(id);
      await writeFile(path.join(dir, 'saved/lsst', `${id}.avro`), encodeMessage(d.record, { encoding: 'container', schema: d.schema }).value);
    }
    const [ztf] = await readAlertFile(ZTF);
    assert.ok(ztf);
    await writeFile(path.join(dir, 'saved/ztf/2695378462115010012.avro'), encodeMessage(ztf.record, { encoding: 'container', schema: ztf.schema }).value);
    await writeFile(path.join(dir, 'saved/ztf/2695378462115010012.json'), stringifyWithBytes({ schema: ztf.schema.name, record: ztf.record }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('flattens nested records with dots, counts arrays and leaves cutouts out', async () => {
    const [d] = await readAlertFile(RUBIN);
    assert.ok(d);
    const row = flattenRecord(d.record);
    assert.equal(typeof row['diaSource.psfFlux'], 'number');
    assert.equal(row['diaSource.diaSourceId'], (d.record.diaSource as { diaSourceId: bigint }).diaSourceId);
    assert.equal(row['prvDiaSources.count'], (d.record.prvDiaSources as unknown[]).length);
    assert.ok(!Object.keys(row).some((k) => /cutout/i.test(k)));
    const table = toTable([row, { extra: 'x' }]);
    assert.equal(table.types['diaSource.diaSourceId'], 'BIGINT');
    assert.equal(table.rows[1]?.['diaSource.psfFlux'], null);
  });

  it('lists and reads a folder tree of container and JSON files', async () => {
    const files = await listSavedAlertFiles([path.join(dir, 'saved/lsst'), path.join(dir, 'saved/ztf')]);
    assert.equal(files.length, 9);
    const alerts = (await Promise.all(files.map((f) => readSavedAlerts(f)))).flat();
    assert.equal(alerts.length, 9);
  });

  it('writes CSV, JSONL and Parquet with one row per alert and exact 64-bit ids', async () => {
    const files = await listSavedAlertFiles([path.join(dir, 'saved')]);
    const rows = (await Promise.all(files.map((f) => readSavedAlerts(f)))).flat().map((s) => flattenRecord(s.record));
    const table = toTable(rows);
    assert.equal(table.rows.length, 9);
    assert.ok(rubinIds.every((id) => id > 2n ** 53n));

    const csv = path.join(dir, 'alerts.csv');
    await writeTable(table, 'csv', csv);
    const lines = parseCsv(await readFile(csv, 'utf8'));
    assert.equal(lines.length, 10);
    const header = lines[0] as string[];
    assert.ok(lines.every((l) => l.length === header.length));
    const idColumn = header.indexOf('diaSource.diaSourceId');
    assert.ok(idColumn >= 0);
    const csvIds = lines.slice(1).map((l) => l[idColumn]).filter((v) => v !== '');
    assert.deepEqual(csvIds.sort(), rubinIds.map(String).sort());

    const jsonl = path.join(dir, 'alerts.jsonl');
    await writeTable(table, 'jsonl', jsonl);
    const objects = (await readFile(jsonl, 'utf8')).trimEnd().split('\n').map((l) => parse(l) as Record<string, unknown>);
    assert.equal(objects.length, 9);
    assert.deepEqual(objects.map((o) => o['diaSource.diaSourceId']).filter((v) => v !== null).sort(), [...rubinIds].sort());
    assert.ok(objects.some((o) => o['candid'] === 2695378462115010012n));

    const parquet = path.join(dir, 'alerts.parquet');
    await writeTable(table, 'parquet', parquet);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const count = await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${parquet}')`);
      assert.equal(count.getRowObjects()[0]?.n, 9n);
      const ids = await connection.runAndReadAll(`SELECT "diaSource.diaSourceId" AS id, typeof("diaSource.diaSourceId") AS t FROM read_parquet('${parquet}') WHERE "diaSource.diaSourceId" IS NOT NULL ORDER BY id`);
      const got = ids.getRowObjects();
      assert.deepEqual(got.map((r) => r.id), [...rubinIds].sort((a, b) => (a < b ? -1 : 1)));
      assert.ok(got.every((r) => r.t === 'BIGINT'));
      const candid = await connection.runAndReadAll(`SELECT candid FROM read_parquet('${parquet}') WHERE candid IS NOT NULL`);
      assert.deepEqual(candid.getRowObjects().map((r) => r.candid), [2695378462115010012n, 2695378462115010012n]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('runs as `nightjar export`', async () => {
    const out = path.join(dir, 'cli.jsonl');
    const { stderr } = await promisify(execFile)(path.join(repoRoot, 'nightjar'), ['export', path.join(dir, 'saved'), '--format', 'jsonl', '--out', out]);
    assert.match(stderr, /wrote 9 alerts/);
    assert.equal((await readFile(out, 'utf8')).trimEnd().split('\n').length, 9);
  });
});
