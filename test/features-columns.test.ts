// The column documentation: well formed, usable as the filter catalog, and the only source of
// docs/columns.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BANDS, COLOUR_PAIRS } from '../src/features/bands.ts';
import { COLUMN_NOTES, OBJECT_COLUMNS, catalog, columnsMarkdown } from '../src/features/columns.ts';
import { checkCatalog } from '../src/filters/catalog.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('columns: unique plain names, a known type, a documented meaning, a sensible count', () => {
  const names = OBJECT_COLUMNS.map((c) => c.name);
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length, 'names are unique, ignoring case as SQL does');
  for (const c of OBJECT_COLUMNS) {
    assert.match(c.name, /^[A-Za-z_][A-Za-z0-9_]*$/, c.name);
    assert.ok(['BIGINT', 'DOUBLE', 'INTEGER', 'VARCHAR', 'BOOLEAN'].includes(c.type), `${c.name}: ${c.type}`);
    assert.ok(c.doc.length >= 20 && /[.)]$/.test(c.doc), `${c.name}: the doc is a sentence`);
    assert.ok(c.unit === null || c.unit.length > 0, `${c.name}: unit is null or non-empty`);
    if (c.type !== 'DOUBLE') assert.equal(c.unit, null, `${c.name}: counts, ids and text have no unit`);
  }
  assert.ok(OBJECT_COLUMNS.length >= 60 && OBJECT_COLUMNS.length <= 90, `${OBJECT_COLUMNS.length} columns`);
  // Every band and colour has its columns.
  for (const band of BANDS) {
    for (const prefix of ['nSources', 'latestFlux', 'latestMjd', 'latestMag', 'meanFlux', 'riseRate', 'fadeRate']) assert.ok(names.includes(`${prefix}_${band}`), `${prefix}_${band}`);
  }
  for (const [a, b] of COLOUR_PAIRS) assert.ok(names.includes(`${a}_${b}`), `${a}_${b}`);
  // 64-bit ids are BIGINT; the names the filter examples use exist.
  for (const name of ['diaObjectId', 'ssObjectId', 'alertSourceId']) assert.equal(OBJECT_COLUMNS.find((c) => c.name === name)?.type, 'BIGINT', name);
  for (const name of ['objectId', 'ra', 'decl', 'glat', 'latestFlux_r', 'nSources']) assert.ok(names.includes(name), name);
});

test('catalog(): one table `objects` that the filter engine accepts; null units are left out', () => {
  const cat = catalog();
  checkCatalog(cat);
  assert.equal(cat.tables.length, 1);
  const table = cat.tables[0];
  assert.equal(table?.name, 'objects');
  assert.deepEqual(table?.columns.map((c) => c.name), OBJECT_COLUMNS.map((c) => c.name));
  const ra = table?.columns.find((c) => c.name === 'ra');
  assert.equal(ra?.unit, 'deg');
  const id = table?.columns.find((c) => c.name === 'objectId');
  assert.ok(id !== undefined && !('unit' in id), 'no unit key for a column without a unit');
});

test('columnsMarkdown(): every note and every column, pipes escaped', () => {
  const md = columnsMarkdown();
  for (const note of COLUMN_NOTES) assert.ok(md.includes(note), note);
  const rows = md.split('\n').filter((line) => line.startsWith('| `'));
  assert.equal(rows.length, OBJECT_COLUMNS.length);
  OBJECT_COLUMNS.forEach((c, i) => {
    const row = rows[i] as string;
    assert.ok(row.startsWith(`| \`${c.name}\` | ${c.type} | `), row);
    // Five unescaped pipes: the table keeps four cells whatever the doc says.
    assert.equal(row.replaceAll('\\|', '').split('|').length, 6, row);
  });
});

test('docs/columns.md is exactly columnsMarkdown() (regenerate it after changing columns.ts)', () => {
  const file = path.join(repoRoot, 'docs/columns.md');
  assert.equal(readFileSync(file, 'utf8'), columnsMarkdown(),
    "docs/columns.md is out of date: run node -e \"import('./src/features/columns.ts').then(m => process.stdout.write(m.columnsMarkdown()))\" > docs/columns.md");
});
