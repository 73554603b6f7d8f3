// Object features on every decodable real alert under ../shared/data: each row has exactly the
// documented columns with the documented types, obeys the features' invariants, agrees with
// Rubin's own detection counts, and loads as a filter batch. Also reports the cost per alert.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alertObjectKey } from '../src/formats/alert.ts';
import type { Alert } from '../src/formats/alert.ts';
import { isNonAlertSchema, toAlert } from '../src/formats/adapters/index.ts';
import { listAlertFiles, readAlertFile } from '../src/formats/files.ts';
import type { ReadAlertFileOptions } from '../src/formats/files.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';
import { BANDS } from '../src/features/bands.ts';
import { OBJECT_COLUMNS, catalog } from '../src/features/columns.ts';
import { featuresForBatch, objectFeatures } from '../src/features/compute.ts';
import type { ObjectRow } from '../src/features/compute.ts';
import { batchColumns } from '../src/filters/batch-columns.ts';
import { FilterEngine, isFilterErrors, parseFilter } from '../src/filters/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const FINK_RUBIN = path.join(dataDir, 'fink-client/datatest/lsst/part-2-918301.avro');

interface Adapted {
  file: string;
  alert: Alert;
}

async function adaptAll(): Promise<Adapted[]> {
  const lsstSchemas = await schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema'));
  const rapidSchemas = await schemaDirectory(path.join(dataDir, 'pittgoogle-client/schemas'));
  const adapted: Adapted[] = [];
  for (const file of await listAlertFiles(dataDir)) {
    const relative = path.relative(dataDir, file);
    // Confluent-framed files name a schema id: Rubin's, or RAPID's for the Pitt-Google RAPID samples.
    const options: ReadAlertFileOptions = { schemas: relative.startsWith('pittgoogle-client/sample_alerts/rapid/') ? rapidSchemas : lsstSchemas };
    let decoded;
    try {
      decoded = await readAlertFile(file, options);
    } catch (err) {
      // The one schemaless file needs its schema given; it holds a broker classification, not an alert.
      if (relative.endsWith('brokerClassification_schemaless_example.avro')) continue;
      throw err;
    }
    for (const { record, schema } of decoded) {
      if (isNonAlertSchema(schema.name)) continue;
      adapted.push({ file: relative, alert: toAlert(record, schema.name) });
    }
  }
  return adapted;
}

/** Asserts each column holds a value of its documented type (or null), and nothing else is there. */
function assertTyped(row: ObjectRow, where: string): void {
  assert.deepEqual(Object.keys(row), OBJECT_COLUMNS.map((c) => c.name), `${where}: columns`);
  for (const column of OBJECT_COLUMNS) {
    const value = row[column.name];
    if (value === null) continue;
    const what = `${where}: ${column.name} = ${String(value)}`;
    switch (column.type) {
      case 'BIGINT': assert.equal(typeof value, 'bigint', what); break;
      case 'DOUBLE': assert.ok(typeof value === 'number' && Number.isFinite(value), what); break;
      case 'INTEGER': assert.ok(typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 31, what); break;
      case 'VARCHAR': assert.equal(typeof value, 'string', what); break;
      case 'BOOLEAN': assert.equal(typeof value, 'boolean', what); break;
    }
  }
}

function num(row: ObjectRow, name: string): number {
  const value = row[name];
  assert.equal(typeof value, 'number', `${name} = ${String(value)}`);
  return value as number;
}

/** Relations between columns that hold for any alert. */
function assertConsistent(row: ObjectRow, alert: Alert, where: string): void {
  const nSources = num(row, 'nSources');
  assert.equal(nSources, alert.lightcurve.detections.length, where);
  assert.ok(nSources >= 1, `${where}: the triggering detection counts`);
  const perBand = BANDS.reduce((sum, band) => sum + num(row, `nSources_${band}`), 0);
  assert.ok(perBand <= nSources, where);
  assert.ok(num(row, 'nPositive') <= nSources && num(row, 'nReliable') <= nSources, where);
  assert.ok(num(row, 'nNights') >= 1 && num(row, 'nNights') <= nSources, where);
  assert.ok(num(row, 'firstDiaSourceMjd') <= num(row, 'lastDiaSourceMjd'), where);
  assert.ok(num(row, 'alertMjd') <= num(row, 'lastDiaSourceMjd'), where);
  assert.equal(row.alertSourceId, alert.sourceId, where);
  if (row.glat !== null) assert.ok(Math.abs(num(row, 'glat')) <= 90 && num(row, 'glon') >= 0 && num(row, 'glon') < 360, where);
  for (const band of BANDS) {
    for (const rate of ['riseRate', 'fadeRate']) {
      const value = row[`${rate}_${band}`];
      if (value !== null) assert.ok((value as number) >= 0, `${where}: ${rate}_${band} = ${String(value)}`);
    }
    if (num(row, `nSources_${band}`) === 0) assert.equal(row[`latestMjd_${band}`], null, where);
    else assert.ok(num(row, `latestMjd_${band}`) <= num(row, 'lastDiaSourceMjd'), where);
  }
  if (row.medianReliability !== null) assert.ok(num(row, 'medianReliability') >= 0 && num(row, 'medianReliability') <= 1, where);
}

describe('object features of real alerts', () => {
  let adapted: Adapted[] = [];
  before(async () => {
    adapted = await adaptAll();
  });

  test('every alert: exactly the documented columns, the documented types, consistent values', () => {
    assert.ok(adapted.length >= 290, `adapted ${adapted.length} alerts`);
    const surveys = new Set<string>();
    for (const { file, alert } of adapted) {
      const where = `${file} ${String(alert.objectId)}`;
      const row = objectFeatures(alert);
      assertTyped(row, where);
      assertConsistent(row, alert, where);
      surveys.add(String(row.survey));
    }
    assert.deepEqual([...surveys].sort(), ['askap', 'decam', 'elasticc', 'lsst', 'plasticc', 'rapid', 'winter', 'ztf']);
  });

  test('real Rubin alerts: nSources equals the diaObject\'s own nDiaSources; ra/decl are the diaObject\'s', () => {
    let checked = 0;
    for (const { file, alert } of adapted) {
      // The lsst-alert_packet and Pitt-Google samples are synthetic, with inconsistent counts.
      if (alert.survey !== 'lsst' || !file.startsWith('fink-')) continue;
      const diaObject = alert.record.diaObject as Record<string, unknown> | null;
      if (diaObject === null || diaObject.nDiaSources === null || diaObject.nDiaSources === undefined) continue;
      const row = objectFeatures(alert);
      assert.equal(row.nSources, diaObject.nDiaSources, `${file}: nSources`);
      assert.equal(row.ra, diaObject.ra, `${file}: ra`);
      assert.equal(row.decl, diaObject.dec, `${file}: decl`);
      checked++;
    }
    assert.ok(checked >= 25, `checked ${checked} alerts`);
  });

  test('featuresForBatch over all of them: one row per object, loadable as a filter batch', () => {
    const alerts = adapted.map((a) => a.alert);
    const rows = featuresForBatch(alerts);
    assert.equal(rows.length, new Set(alerts.map(alertObjectKey)).size);
    const table = catalog().tables[0];
    assert.ok(table !== undefined);
    const columns = batchColumns(table, rows);
    assert.equal(columns.length, OBJECT_COLUMNS.length);
    assert.ok(columns.every((values) => values.length === rows.length));
  });
});

test('an astronomer\'s SQL filter over the feature rows of real Rubin alerts (DuckDB filter engine)', async () => {
  const rows = featuresForBatch(await readAlerts(FINK_RUBIN));
  const cat = catalog();
  const filter = await parseFilter({
    select: 'diaObjectId, objectId, decl, flux2mag(meanFlux_i) AS meanMag_i, glat',
    where: 'nSources > 300 AND ssObjectId IS NULL AND g_r IS NOT NULL AND abs(glat) > 20',
  }, cat);
  assert.ok(!isFilterErrors(filter), JSON.stringify(filter));
  const expected = rows.filter((r) => (r.nSources as number) > 300 && r.ssObjectId === null && r.g_r !== null && Math.abs(r.glat as number) > 20);
  assert.ok(expected.length >= 3, `${expected.length} rows expected`);
  const engine = await FilterEngine.create(cat);
  try {
    await engine.loadBatch('objects', rows);
    const [result] = await engine.run([filter]);
    assert.ok(result !== undefined && result.error === undefined, result?.error?.message);
    const got = [...result.rows].sort((a, b) => ((a.diaObjectId as bigint) < (b.diaObjectId as bigint) ? -1 : 1));
    const want = [...expected].sort((a, b) => ((a.diaObjectId as bigint) < (b.diaObjectId as bigint) ? -1 : 1));
    assert.deepEqual(got.map((r) => r.diaObjectId), want.map((r) => r.diaObjectId), 'the same objects, ids exact');
    got.forEach((r, i) => {
      const row = want[i] as ObjectRow;
      assert.equal(r.objectId, row.objectId);
      assert.equal(r.decl, row.decl);
      assert.equal(r.glat, row.glat);
      const mean = row.meanFlux_i as number | null;
      if (mean === null || mean <= 0) assert.equal(r.meanMag_i, null);
      else assert.ok(Math.abs((r.meanMag_i as number) - (31.4 - 2.5 * Math.log10(mean))) < 1e-9);
    });
  } finally {
    engine.close();
  }
});

async function readAlerts(file: string): Promise<Alert[]> {
  return (await readAlertFile(file)).map(({ record, schema }) => toAlert(record, schema.name));
}
