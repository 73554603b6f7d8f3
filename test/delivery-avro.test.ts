// The Avro output of filter streams: the schema made from a real compiled filter's DuckDB types,
// records of real Rubin and ZTF alerts that round-trip through decodeMessage with the schema
// in the key, exact 64-bit ids, the fields fink-client's display reads, and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { avroName, avroRecord, avroStreamPlan, avroTypeOfDuckDb, encodeAvroRecord } from '../src/delivery/avro-records.ts';
import { filterOutputColumns } from '../src/delivery/output-columns.ts';
import { createStreamEncoder } from '../src/delivery/stream-encoder.ts';
import { catalog } from '../src/features/columns.ts';
import { objectFeatures } from '../src/features/index.ts';
import { FilterEngine } from '../src/filters/filter-engine.ts';
import { isFilterErrors, parseFilter } from '../src/filters/parse-filter.ts';
import type { CompiledFilter } from '../src/filters/parse-filter.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { repoRoot } from '../src/kafka/local-config.ts';

const data = path.resolve(repoRoot, '../shared/data');
const UTC = '2026-01-29 11:40:14';
type Rec = Record<string, unknown>;

async function alertsOf(file: string): Promise<Alert[]> {
  return (await readAlertFile(path.join(data, file))).map((d) => toAlert(d.record, d.schema.name));
}

const rubin = await alertsOf('fink-client/datatest/lsst/part-2-918301.avro');
const ztf = await alertsOf('boom/alerts/ztf/2695378462115010012.avro');
const cat = catalog();

async function compile(select: string, where = ''): Promise<CompiledFilter> {
  const compiled = await parseFilter({ select, where }, cat);
  if (isFilterErrors(compiled)) throw new Error(compiled.map((e) => e.message).join('; '));
  return compiled;
}

test('DuckDB types of a compiled filter map to Avro types; names become Avro names', async () => {
  const filter = await compile('diaObjectId, objectId, ra, decl, flux2mag(alertFlux) AS mag, nSources, latestMag_g - latestMag_r, 0.5 AS half, CAST(diaObjectId AS HUGEINT) AS huge, nSources > 2 AS many, CAST(3 AS TINYINT) AS "3tiny"');
  const columns = await filterOutputColumns(filter, cat);
  assert.deepEqual(columns.map((c) => c.type), ['BIGINT', 'VARCHAR', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'INTEGER', 'DOUBLE', 'DECIMAL(2,1)', 'HUGEINT', 'BOOLEAN', 'TINYINT']);
  const plan = avroStreamPlan('Bright & red: v2', columns);
  assert.equal(plan.schema.name, 'nightjar.filter.Bright___red__v2');
  assert.deepEqual(plan.columns.map((c) => [c.field, c.type]), [
    ['diaObjectId', 'long'], ['objectId', 'string'], ['ra', 'double'], ['decl', 'double'], ['mag', 'double'], ['nSources', 'int'],
    ['latestMag_g___latestMag_r', 'double'], ['half', 'double'], ['huge', 'string'], ['many', 'boolean'], ['_3tiny', 'int'],
  ]);
  const schema = JSON.parse(plan.schema.text) as { fields: { name: string; type: unknown; doc?: string }[] };
  const names = schema.fields.map((f) => f.name);
  // The selected objectId takes the broker field's place; the others follow UTC.
  assert.deepEqual(names.slice(plan.columns.length), ['UTC', 'survey', 'objectKind', 'candid', 'candidate', 'cdsxmatch', 'diaSourceId', 'diaSource', 'diaObject', 'mpc_orbits', 'alert']);
  assert.equal(schema.fields.find((f) => f.name === 'latestMag_g___latestMag_r')?.doc, 'SELECT item "latestMag_g - latestMag_r" (DOUBLE)');
  for (const f of schema.fields) if (f.name !== 'UTC') assert.equal((f.type as unknown[])[0], 'null', `${f.name} is nullable`);
});

test('name clashes get suffixes; a selected UTC gives way to the produced time; bad types are refused', () => {
  assert.equal(avroName('a-b'), 'a_b');
  assert.equal(avroName(''), '_');
  assert.equal(avroName('9lives'), '_9lives');
  // A filter may be called like an Avro primitive type; its record type cannot.
  assert.equal(avroStreamPlan('string', [{ name: 'null', type: 'INTEGER' }]).schema.name, 'nightjar.filter.string_');
  assert.equal(avroStreamPlan('Long', []).schema.name, 'nightjar.filter.Long');
  const plan = avroStreamPlan('f', [{ name: 'a-b', type: 'DOUBLE' }, { name: 'a_b', type: 'BIGINT' }, { name: 'a.b', type: 'VARCHAR' }, { name: 'UTC', type: 'VARCHAR' }]);
  assert.deepEqual(plan.columns.map((c) => c.field), ['a_b', 'a_b_2', 'a_b_3']);
  const record = avroRecord(plan, { 'a-b': 1.5, a_b: 7, 'a.b': 'x', UTC: 'mine' }, undefined, UTC);
  assert.equal(record.a_b_2, 7n);
  assert.equal(record.UTC, UTC);
  assert.throws(() => avroStreamPlan('f', [{ name: 'when', type: 'TIMESTAMP' }]), /column "when" has type TIMESTAMP/);
  assert.equal(avroTypeOfDuckDb('decimal(18,3)'), 'double');
  assert.equal(avroTypeOfDuckDb('INTEGER[]'), undefined);
  // A value that does not fit its column's type names the column.
  const typed = avroStreamPlan('f', [{ name: 'n', type: 'INTEGER' }, { name: 'id', type: 'BIGINT' }]);
  assert.throws(() => avroRecord(typed, { n: 2 ** 40, id: 1n }, undefined, UTC), /column "n": value 1099511627776 does not fit Avro int/);
  assert.throws(() => avroRecord(typed, { n: 1, id: 0.5 }, undefined, UTC), /column "id"/);
});

test('records of real Rubin alerts round-trip through decodeMessage with the schema in the key; ids exact', async () => {
  const filter = await compile('diaObjectId, alertSourceId, ra, decl, alertMag, nSources');
  const encoder = await createStreamEncoder('kafka-avro', filter, cat, 'Rubin test');
  // The filter's real output rows: features of each alert, run through the engine.
  const engine = await FilterEngine.create(cat);
  try {
    await engine.loadBatch('objects', rubin.map((a) => objectFeatures(a)));
    const [result] = await engine.run([filter]);
    const rows = result?.rows ?? [];
    assert.equal(rows.length, rubin.length);
    for (const row of rows) {
      const alert = rubin.find((a) => a.sourceId === row.alertSourceId);
      assert.ok(alert, 'every row has its alert');
      const { key, value } = encoder.encode(row, alert, UTC);
      assert.ok(key !== null);
      const [decoded] = await decodeMessage(value, key);
      assert.equal(decoded?.encoding, 'schema-in-key');
      const record = decoded?.record as Rec;
      assert.equal(record.diaObjectId, row.diaObjectId);
      assert.equal(record.UTC, UTC);
      assert.equal(record.nSources, row.nSources);
      assert.equal(record.survey, 'lsst');
      assert.equal(record.candid, alert.sourceId);
      assert.equal(record.diaSourceId, alert.sourceId);
      assert.ok((record.diaSourceId as bigint) > 2n ** 53n);
      const diaSource = record.diaSource as Rec;
      assert.equal(diaSource.diaSourceId, alert.sourceId);
      assert.equal(diaSource.midpointMjdTai, alert.mjd);
      assert.equal((record.candidate as Rec).jd, alert.mjd + 2400000.5);
      const lightcurve = record.alert as { diaSourcesList: Rec[]; diaForcedSourcesList: Rec[] };
      assert.deepEqual(lightcurve.diaSourcesList.map((s) => s.diaSourceId), alert.lightcurve.detections.map((p) => p.sourceId));
      assert.deepEqual(lightcurve.diaSourcesList.map((s) => s.psfFlux), alert.lightcurve.detections.map((p) => p.flux));
      assert.equal(lightcurve.diaForcedSourcesList.length, alert.lightcurve.forced.length);
      if (alert.objectKind === 'solarSystem') {
        assert.equal(record.diaObject, null);
        assert.match((record.mpc_orbits as Rec).designation as string, /^20\d\d [A-Z]{2}\d+$/);
        assert.equal((record.mpc_orbits as Rec).ssObjectId, alert.objectId);
      } else {
        assert.equal((record.diaObject as Rec).diaObjectId, alert.objectId);
        assert.equal(record.mpc_orbits, null);
      }
    }
  } finally {
    await engine.close();
  }
});

test('ZTF alerts fill the ZTF view; a selected classification feeds cdsxmatch; no alert gives nulls', async () => {
  const plan = avroStreamPlan('ztf filter', [{ name: 'objectId', type: 'VARCHAR' }, { name: 'classification', type: 'VARCHAR' }]);
  const alert = ztf[0] as Alert;
  const { key, value } = encodeAvroRecord(plan, avroRecord(plan, { objectId: 'ZTF18abudxnw', classification: 'SN' }, alert, UTC));
  const record = (await decodeMessage(value, key))[0]?.record as Rec;
  assert.equal(record.objectId, 'ZTF18abudxnw');
  assert.equal(record.candid, 2695378462115010012n);
  assert.equal(record.cdsxmatch, 'SN');
  const candidate = record.candidate as Rec;
  assert.equal(candidate.magpsf, alert.mag);
  assert.equal(candidate.jd, (alert.record.candidate as Rec).jd);
  assert.deepEqual(record.diaObject, { diaObjectId: null, objectId: 'ZTF18abudxnw' });

  const bare = encodeAvroRecord(plan, avroRecord(plan, { objectId: 'x', classification: null }, undefined, UTC));
  const empty = (await decodeMessage(bare.value, bare.key))[0]?.record as Rec;
  assert.deepEqual(empty, { objectId: 'x', classification: null, UTC, survey: null, objectKind: null, candid: null, candidate: null, cdsxmatch: null, diaSourceId: null, diaSource: null, diaObject: null, mpc_orbits: null, alert: null });
});
