// The JSON records of filter streams, checked against seed 001's examples and against real Rubin
// and ZTF alerts: key order, exact 64-bit ids as bare digits, UTC format, no cutouts, and the
// size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { applySizeLimit, DEFAULT_MAX_RECORD_BYTES, encodeRows, jsonStreamEncoder } from '../src/delivery/stream-encoder.ts';
import { encodeJsonRecord, formatUtc, fullAlert, jsonRecord, liteLightcurve, plainRecord } from '../src/delivery/records.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { parse } from '../src/util/json.ts';

const data = path.resolve(repoRoot, '../shared/data');
type Rec = Record<string, unknown>;

async function alertsOf(file: string): Promise<Alert[]> {
  return (await readAlertFile(path.join(data, file))).map((d) => toAlert(d.record, d.schema.name));
}

const rubin = await alertsOf('fink-client/datatest/lsst/part-2-918301.avro'); // 7 real lsst.v10_0 alerts
const ztf = (await alertsOf('boom/alerts/ztf/2695378462115010012.avro'))[0] as Alert; // real ZTF 4.02
const UTC = '2026-01-29 11:40:14';
const TWO_53 = 2n ** 53n;

test('UTC is "YYYY-MM-DD HH:MM:SS" in UTC, seconds truncated', () => {
  assert.equal(formatUtc(new Date(Date.UTC(2026, 0, 29, 11, 40, 14, 999))), '2026-01-29 11:40:14');
  assert.equal(formatUtc(new Date('2024-02-29T23:59:59.5-01:00')), '2024-03-01 00:59:59');
  assert.match(formatUtc(new Date()), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.throws(() => formatUtc(new Date(Number.NaN)));
});

test('plain record: seed 001\'s example, byte for byte, id exact', () => {
  const row = { diaObjectId: 169760235333878021n, decl: -38.16173726666955, ra: 221.87087177320953 };
  const text = encodeJsonRecord(jsonRecord('kafka', row, rubin[0], UTC)).toString('utf8');
  assert.equal(text, '{"diaObjectId":169760235333878021,"decl":-38.16173726666955,"ra":221.87087177320953,"UTC":"2026-01-29 11:40:14"}');
  const back = parse(text) as Rec;
  assert.equal(back.diaObjectId, 169760235333878021n);
});

test('plain record keeps the SELECT names and order; a selected UTC is overwritten in place; NaN becomes null', () => {
  const row = { 'latestMag_g - latestMag_r': 0.25, UTC: 'mine', objectId: 'ZTF18abudxnw', n: Number.NaN, big: -(2n ** 63n) };
  const record = plainRecord(row, UTC);
  assert.deepEqual(Object.keys(record), ['latestMag_g - latestMag_r', 'UTC', 'objectId', 'n', 'big']);
  assert.equal(record.UTC, UTC);
  assert.equal(encodeJsonRecord(record).toString(), '{"latestMag_g - latestMag_r":0.25,"UTC":"2026-01-29 11:40:14","objectId":"ZTF18abudxnw","n":null,"big":-9223372036854775808}');
});

/** Rubin sources as received: diaSource plus prvDiaSources, in time order. */
function rawRubinSources(alert: Alert): Rec[] {
  const r = alert.record;
  return [r.diaSource as Rec, ...((r.prvDiaSources as Rec[] | null) ?? [])].sort((a, b) => (a.midpointMjdTai as number) - (b.midpointMjdTai as number));
}

test('lite record of real Rubin alerts: seed 001\'s keys in order, values as in the alert', () => {
  let sources = 0;
  for (const alert of rubin) {
    const text = encodeJsonRecord(jsonRecord('kafka-lite', { diaObjectId: alert.objectId }, alert, UTC)).toString();
    const record = parse(text) as Rec;
    assert.deepEqual(Object.keys(record), ['diaObjectId', 'UTC', 'alert']);
    const lite = record.alert as Rec;
    assert.deepEqual(Object.keys(lite), ['diaSourcesList', 'diaForcedSourcesList']);
    const list = lite.diaSourcesList as Rec[];
    const expected = rawRubinSources(alert).map((s) => ({ psfFlux: s.psfFlux, psfFluxErr: s.psfFluxErr, midpointMjdTai: s.midpointMjdTai, band: s.band, reliability: s.reliability }));
    assert.deepEqual(list, expected);
    for (const s of list) assert.deepEqual(Object.keys(s), ['psfFlux', 'psfFluxErr', 'midpointMjdTai', 'band', 'reliability']);
    const forced = lite.diaForcedSourcesList as Rec[];
    const rawForced = ((alert.record.prvDiaForcedSources as Rec[] | null) ?? []).slice().sort((a, b) => (a.midpointMjdTai as number) - (b.midpointMjdTai as number));
    assert.deepEqual(forced, rawForced.map((s) => ({ psfFlux: s.psfFlux, psfFluxErr: s.psfFluxErr, midpointMjdTai: s.midpointMjdTai, band: s.band })));
    for (const s of forced) assert.deepEqual(Object.keys(s), ['psfFlux', 'psfFluxErr', 'midpointMjdTai', 'band']);
    sources += list.length;
  }
  assert.ok(sources > 1000, `only ${sources} sources in the sample`);
});

test('full record of real Rubin alerts: the alert\'s own records without cutouts, ids bare digits', (t) => {
  let bigIds = 0;
  for (const alert of rubin) {
    const text = encodeJsonRecord(jsonRecord('kafka-full', { diaObjectId: alert.objectId }, alert, UTC)).toString();
    t.diagnostic(`${alert.objectId}: full JSON record ${text.length} bytes`);
    assert.ok(!text.includes('$bytes') && !text.includes('cutout'), 'no cutout in a full record');
    const record = parse(text) as Rec;
    assert.deepEqual(Object.keys(record), ['diaObjectId', 'UTC', 'alert']);
    const full = record.alert as Rec;
    assert.deepEqual(Object.keys(full), ['diaObject', 'diaSourcesList', 'diaForcedSourcesList']);
    // Values round-trip exactly (NaN is the one value JSON cannot hold).
    const noNaN = (r: Rec): Rec => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && Number.isNaN(v) ? null : v]));
    const sameIds = (r: Rec): Rec => Object.fromEntries(Object.entries(noNaN(r)).map(([k, v]) => [k, typeof v === 'bigint' && v >= -TWO_53 && v <= TWO_53 ? Number(v) : v]));
    assert.deepEqual(full.diaObject, sameIds(alert.record.diaObject as Rec));
    const sources = full.diaSourcesList as Rec[];
    assert.deepEqual(sources, rawRubinSources(alert).map(sameIds));
    assert.equal(sources.length, alert.lightcurve.detections.length);
    for (const s of sources) {
      const id = s.diaSourceId;
      assert.equal(typeof id, 'bigint', 'Rubin diaSourceIds are above 2^53 and read back exactly');
      assert.ok(text.includes(`"diaSourceId":${String(id)},`));
      if ((id as bigint) > TWO_53) bigIds++;
    }
    assert.equal((full.diaForcedSourcesList as Rec[]).length, alert.lightcurve.forced.length);
  }
  assert.ok(bigIds > 1000);
});

test('ZTF: lite from the lightcurve, full with the survey\'s own fields; non-detections left out', () => {
  const lite = liteLightcurve(ztf);
  assert.equal(lite.diaSourcesList.length, 8);
  assert.deepEqual(lite.diaSourcesList.map((s) => s.midpointMjdTai), ztf.lightcurve.detections.map((p) => p.mjd));
  assert.ok(lite.diaSourcesList.every((s, i) => i === 0 || s.midpointMjdTai >= (lite.diaSourcesList[i - 1]?.midpointMjdTai ?? 0)));
  assert.ok(lite.diaSourcesList.every((s) => ['g', 'r', 'i'].includes(s.band) && s.psfFlux !== null && s.reliability !== null));
  assert.equal(lite.diaForcedSourcesList.length, 10);

  const full = fullAlert(ztf);
  const prv = ztf.record.prv_candidates as Rec[];
  assert.equal(prv.filter((c) => c.candid === null).length, 3, 'the sample has non-detections');
  assert.equal(full.diaSourcesList.length, 8);
  const candids = full.diaSourcesList.map((s) => s.candid as bigint);
  assert.ok(candids.includes(2695378462115010012n));
  assert.ok(full.diaSourcesList.every((s) => typeof s.magpsf === 'number' && typeof s.jd === 'number'));
  assert.deepEqual(full.diaSourcesList.map((s) => (s.jd as number) - 2400000.5), ztf.lightcurve.detections.map((p) => p.mjd));
  assert.equal(full.diaForcedSourcesList.length, 10);
  assert.deepEqual(full.diaObject, { schemavsn: '4.02', publisher: (ztf.record as Rec).publisher, objectId: 'ZTF18abudxnw', candid: 2695378462115010012n });
  const text = encodeJsonRecord(jsonRecord('kafka-full', { objectId: 'ZTF18abudxnw' }, ztf, UTC)).toString();
  assert.ok(text.includes('"candid":2695378462115010012'));
  assert.ok(!text.includes('stampData') && !text.includes('$bytes'));
});

test('other surveys (DECam) get the lightcurve points under Rubin names', async () => {
  const decam = (await alertsOf('boom/alerts/decam/alert.avro'))[0] as Alert;
  const full = fullAlert(decam);
  assert.equal(full.diaSourcesList.length, decam.lightcurve.detections.length);
  assert.deepEqual(Object.keys(full.diaSourcesList[0] as Rec), ['diaSourceId', 'midpointMjdTai', 'band', 'psfFlux', 'psfFluxErr', 'reliability', 'ra', 'dec']);
  assert.equal(full.diaForcedSourcesList.length, decam.lightcurve.forced.length);
  assert.equal((full.diaObject as Rec).objectId, decam.objectId);
});

test('without the alert, lite and full records go out as plain ones (as Lasair does)', () => {
  const row = { diaObjectId: 1n };
  for (const output of ['kafka', 'kafka-lite', 'kafka-full'] as const) {
    assert.deepEqual(Object.keys(jsonRecord(output, row, undefined, UTC)), ['diaObjectId', 'UTC']);
  }
  assert.deepEqual(Object.keys(jsonRecord('kafka', row, rubin[0], UTC)), ['diaObjectId', 'UTC'], 'plain records never carry the alert');
  assert.equal(jsonStreamEncoder('kafka').needsAlert, false);
  assert.equal(jsonStreamEncoder('kafka-lite').needsAlert, true);
});

test('size limit: records over it are dropped and counted, the rest kept in order', () => {
  const encoder = jsonStreamEncoder('kafka-full');
  const records = rubin.map((alert) => encoder.encode({ diaObjectId: alert.objectId }, alert, UTC));
  assert.ok(records.every((r) => r.key === null && r.objectKey !== undefined));
  const sizes = records.map((r) => r.value.length);
  const limit = 1_000_000;
  const result = applySizeLimit(records, limit);
  const over = sizes.filter((s) => s > limit);
  assert.ok(over.length > 0 && over.length < records.length, `sizes ${sizes.join(', ')}`);
  assert.equal(result.dropped, over.length);
  assert.equal(result.droppedBytes, over.reduce((a, b) => a + b, 0));
  assert.deepEqual(result.kept, records.filter((r) => r.value.length <= limit));
  assert.equal(applySizeLimit(records).dropped, 0, `the default limit (${DEFAULT_MAX_RECORD_BYTES}) keeps every real sample`);
  // The limit counts the key too, and a record exactly at the limit is kept.
  const keyed = [{ key: Buffer.alloc(10), value: Buffer.alloc(90) }, { key: Buffer.alloc(11), value: Buffer.alloc(90) }];
  assert.deepEqual(applySizeLimit(keyed, 100), { kept: [keyed[0]], dropped: 1, droppedBytes: 101 });
  assert.throws(() => applySizeLimit(keyed, 0));
});

test('encodeRows: rows in order, alerts looked up only when needed, over-limit records dropped, stops at the limit', async () => {
  const rows = rubin.map((a, i) => ({ diaObjectId: a.objectId, i }));
  const lookups: number[] = [];
  const alertFor = async (row: Rec): Promise<Alert | undefined> => {
    lookups.push(row.i as number);
    return row.i === 1 ? undefined : rubin[row.i as number];
  };
  const plain = await encodeRows(jsonStreamEncoder('kafka'), rows, { alertFor, utc: UTC });
  assert.equal(plain.records.length, rubin.length);
  assert.deepEqual(lookups, [], 'plain records need no alert');

  const lite = await encodeRows(jsonStreamEncoder('kafka-lite'), rows, { alertFor, utc: UTC, maxRecordBytes: 100_000, limit: 4 });
  const sizes = rubin.map((a, i) => encodeJsonRecord(jsonRecord('kafka-lite', rows[i] as Rec, i === 1 ? undefined : a, UTC)).length);
  const kept = rows.filter((_, i) => (sizes[i] as number) <= 100_000).slice(0, 4).map((r) => r.i);
  assert.deepEqual(lite.records.map((r) => (parse(r.value.toString()) as Rec).i), kept);
  assert.equal(lite.dropped, sizes.slice(0, (kept.at(-1) as number) + 1).filter((s) => s > 100_000).length);
  assert.equal(lite.missingAlerts, 1);
  assert.deepEqual(lookups, rows.slice(0, (kept.at(-1) as number) + 1).map((r) => r.i), 'no lookups after the limit is reached');
  assert.equal(lite.failed, 0);
});
