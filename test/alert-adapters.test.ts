// Survey adapters → Alert: hand-made records for each adapter (version renames, ZTF signs and
// conversions, missing fields), the JSON samples in ../shared/data, and every decodable alert
// file in ../shared/data decoded with src/formats/files.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AB_ZERO_POINT_NJY, alertObjectKey, dedupeAndSort, fluxToMag, magToFlux } from '../src/formats/alert.ts';
import type { Alert, Point } from '../src/formats/alert.ts';
import { FLUXCAL_TO_NJY } from '../src/formats/adapters/elasticc.ts';
import { AdapterError, adapterFamily, isNonAlertSchema, toAlert } from '../src/formats/adapters/index.ts';
import { listAlertFiles, readAlertFile } from '../src/formats/files.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';
import { parse, stringifyWithBytes } from '../src/util/json.ts';

type Rec = Record<string, unknown>;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');

/** Asserts that `fn` throws an AdapterError whose schema, field and problem are as given. */
function assertAdapterError(fn: () => unknown, schema: string, field: string | RegExp, problem: AdapterError['problem']): AdapterError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AdapterError, `expected an AdapterError, got ${String(caught)}`);
  assert.equal(caught.schema, schema);
  if (typeof field === 'string') assert.equal(caught.field, field);
  else assert.match(caught.field, field);
  assert.equal(caught.problem, problem);
  assert.ok(caught.message.includes(schema), `message names the schema: ${caught.message}`);
  assert.ok(caught.message.includes(caught.field), `message names the field: ${caught.message}`);
  return caught;
}

function close(actual: number | null, expected: number, relative = 1e-9): void {
  assert.ok(actual !== null, `expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * relative + 1e-12, `expected ${expected}, got ${actual}`);
}

// ---------------------------------------------------------------- Rubin, hand-made

const BIG_SOURCE = 170094456272322680n; // > 2^53
const BIG_OBJECT = 170028485706776685n;
const CUTOUT = Buffer.from('SIMPLE  =                    T');

/** A Rubin v10-style record (current names). */
function rubinV10(): Rec {
  return {
    diaSourceId: BIG_SOURCE,
    observation_reason: null,
    target_name: null,
    diaSource: {
      diaSourceId: BIG_SOURCE, visit: 2026031700123n, detector: 42, diaObjectId: BIG_OBJECT, ssObjectId: null,
      midpointMjdTai: 61105.0936, ra: 63.3496, dec: -47.1808, psfFlux: -1550.5, psfFluxErr: 110.25,
      scienceFlux: 20500, scienceFluxErr: 150, snr: 14.2, reliability: 0.87, band: 'i',
    },
    prvDiaSources: [
      // listed out of time order, and one repeats the triggering source
      { diaSourceId: BIG_SOURCE - 7n, diaObjectId: BIG_OBJECT, midpointMjdTai: 61100.5, ra: 63.3497, dec: -47.1807, psfFlux: 900, psfFluxErr: 95, snr: 9.5, reliability: 0.5, band: 'g' },
      { diaSourceId: BIG_SOURCE - 9n, diaObjectId: BIG_OBJECT, midpointMjdTai: 61090.25, ra: 63.3495, dec: -47.1809, psfFlux: 2000, psfFluxErr: 100, snr: 20, reliability: 0.9, band: 'r' },
      { diaSourceId: BIG_SOURCE, diaObjectId: BIG_OBJECT, midpointMjdTai: 61105.0936, ra: 63.3496, dec: -47.1808, psfFlux: -1550.5, psfFluxErr: 110.25, snr: 14.2, reliability: 0.87, band: 'i' },
    ],
    prvDiaForcedSources: [
      { diaForcedSourceId: BIG_SOURCE + 1n, diaObjectId: BIG_OBJECT, ra: 63.3496, dec: -47.1808, midpointMjdTai: 61095.1, psfFlux: 300, psfFluxErr: 80, band: 'r' },
      { diaForcedSourceId: BIG_SOURCE + 2n, diaObjectId: BIG_OBJECT, ra: 63.3496, dec: -47.1808, midpointMjdTai: 61091.1, psfFlux: -20, psfFluxErr: 80, band: 'g' },
    ],
    diaObject: { diaObjectId: BIG_OBJECT, ra: 63.34961, dec: -47.18081 },
    ssSource: null,
    mpc_orbits: null,
    cutoutDifference: CUTOUT,
    cutoutScience: null,
    cutoutTemplate: CUTOUT,
  };
}

/** The same alert written with the Rubin v3/v4 names. */
function rubinV4(): Rec {
  const v10 = rubinV10();
  const old = (s: Rec): Rec => {
    const { midpointMjdTai, band, dec, psfFlux, psfFluxErr, scienceFlux, scienceFluxErr, reliability: _r, ...rest } = s;
    const renamed: Rec = { ...rest, midPointTai: midpointMjdTai, filterName: band, psFlux: psfFlux, psFluxErr: psfFluxErr };
    if ('dec' in s) renamed.decl = dec;
    if ('scienceFlux' in s) Object.assign(renamed, { totFlux: scienceFlux, totFluxErr: scienceFluxErr });
    return renamed;
  };
  return {
    alertId: 123456789n,
    diaSource: old(v10.diaSource as Rec),
    prvDiaSources: (v10.prvDiaSources as Rec[]).map(old),
    prvDiaForcedSources: (v10.prvDiaForcedSources as Rec[]).map(old),
    prvDiaNondetectionLimits: [
      { ccdVisitId: 11n, midPointTai: 61080.5, filterName: 'r', diaNoise: 200 },
      { ccdVisitId: 12n, midPointTai: 61070.5, filterName: 'g', diaNoise: 250 },
    ],
    diaObject: { diaObjectId: BIG_OBJECT, ra: 63.34961, decl: -47.18081 },
    ssObject: null,
    cutoutDifference: CUTOUT,
    cutoutTemplate: CUTOUT,
  };
}

describe('Rubin adapter on hand-made records', () => {
  test('v10 record: ids exact, values, lightcurve sorted and deduplicated', () => {
    const alert = toAlert(rubinV10(), 'lsst.v10_0.alert');
    assert.equal(alert.survey, 'lsst');
    assert.equal(alert.schema, 'lsst.v10_0.alert');
    assert.equal(alert.schemaVersion, '10.0');
    assert.equal(alert.objectId, BIG_OBJECT);
    assert.equal(alert.objectKind, 'object');
    assert.equal(alert.sourceId, BIG_SOURCE);
    assert.equal(alert.alertId, null);
    assert.deepEqual([alert.ra, alert.dec, alert.mjd, alert.band, alert.timeScale], [63.3496, -47.1808, 61105.0936, 'i', 'TAI']);
    assert.deepEqual([alert.flux, alert.fluxErr, alert.snr, alert.reliability], [-1550.5, 110.25, 14.2, 0.87]);
    assert.equal(alert.mag, null, 'no magnitude for a negative flux');
    const detections = alert.lightcurve.detections;
    assert.deepEqual(detections.map((p) => p.sourceId), [BIG_SOURCE - 9n, BIG_SOURCE - 7n, BIG_SOURCE]);
    assert.deepEqual(detections.map((p) => p.band), ['r', 'g', 'i']);
    const earliest = detections[0] as Point;
    close(earliest.mag, 31.4 - 2.5 * Math.log10(2000));
    close(earliest.magErr, (2.5 / Math.LN10) * (100 / 2000));
    assert.equal(detections[2]?.scienceFlux, 20500);
    assert.deepEqual(alert.lightcurve.forced.map((p) => [p.sourceId, p.mjd, p.flux]), [[BIG_SOURCE + 2n, 61091.1, -20], [BIG_SOURCE + 1n, 61095.1, 300]]);
    assert.deepEqual(alert.lightcurve.upperLimits, []);
    assert.equal(alert.cutouts.difference, CUTOUT);
    assert.equal(alert.cutouts.template, CUTOUT);
    assert.equal(alert.cutouts.science, undefined);
    assert.equal(alertObjectKey(alert), `lsst:object:${BIG_OBJECT}`);
  });

  test('the record is kept untouched', () => {
    const record = rubinV10();
    const before = stringifyWithBytes(record);
    const alert = toAlert(record, 'lsst.v10_0.alert');
    assert.equal(alert.record, record);
    assert.equal(stringifyWithBytes(record), before);
  });

  test('v3/v4 names (midPointTai, filterName, decl, psFlux, totFlux) give the same alert as v10 names', () => {
    const v10 = toAlert(rubinV10(), 'lsst.v10_0.alert');
    const v4 = toAlert(rubinV4(), 'lsst.v4_0.alert');
    assert.equal(v4.schemaVersion, '4.0');
    assert.equal(v4.alertId, 123456789n);
    for (const key of ['objectId', 'objectKind', 'sourceId', 'ra', 'dec', 'mjd', 'band', 'flux', 'fluxErr', 'mag', 'snr'] as const) {
      assert.deepEqual(v4[key], v10[key], key);
    }
    const strip = (points: Point[]): Point[] => points.map((p) => ({ ...p, reliability: null }));
    assert.deepEqual(strip(v4.lightcurve.detections), strip(v10.lightcurve.detections));
    assert.deepEqual(v4.lightcurve.forced, v10.lightcurve.forced);
    assert.equal(v4.lightcurve.detections[2]?.scienceFlux, 20500, 'totFlux is the science flux');
    // diaNoise is the 1-sigma noise; the limit is 5 sigma.
    assert.deepEqual(v4.lightcurve.upperLimits.map((l) => [l.mjd, l.band, l.fluxNoise]), [[61070.5, 'g', 250], [61080.5, 'r', 200]]);
    close(v4.lightcurve.upperLimits[1]?.limitMag ?? null, 31.4 - 2.5 * Math.log10(1000));
  });

  test('object id: diaSource first, then diaObject, then solar-system ids, then the source itself', () => {
    const fromObject = rubinV10();
    (fromObject.diaSource as Rec).diaObjectId = null;
    assert.equal(toAlert(fromObject, 'lsst.v10_0.alert').objectId, BIG_OBJECT);

    // Fink/Spark style: diaObjectId 0, diaObject a record of nulls, ssSource filled.
    const solar = rubinV10();
    Object.assign(solar.diaSource as Rec, { diaObjectId: 0n, ssObjectId: 21163624394469969n });
    solar.diaObject = { diaObjectId: null, ra: null, dec: null };
    solar.ssSource = { diaSourceId: BIG_SOURCE, ssObjectId: 21163624394469969n, designation: '2004 JQ12' };
    const solarAlert = toAlert(solar, 'topLevelRecord');
    assert.equal(solarAlert.objectId, 21163624394469969n);
    assert.equal(solarAlert.objectKind, 'solarSystem');
    assert.equal(alertObjectKey(solarAlert), 'lsst:solarSystem:21163624394469969');

    const fromSsSource = rubinV10();
    Object.assign(fromSsSource.diaSource as Rec, { diaObjectId: null, ssObjectId: null });
    fromSsSource.diaObject = null;
    fromSsSource.ssSource = { diaSourceId: BIG_SOURCE, ssObjectId: 99n };
    assert.equal(toAlert(fromSsSource, 'lsst.v10_0.alert').objectId, 99n);

    const orphan = rubinV10();
    Object.assign(orphan.diaSource as Rec, { diaObjectId: null });
    orphan.diaObject = null;
    const orphanAlert = toAlert(orphan, 'lsst.v10_0.alert');
    assert.equal(orphanAlert.objectId, BIG_SOURCE);
    assert.equal(orphanAlert.objectKind, 'source');
  });

  test('Fink/Spark topLevelRecord: dispatched by shape, version from lsst_schema_version, extra fields ignored', () => {
    const record = { ...rubinV10(), lsst_schema_version: 'lsst.v9_0', brokerIngestMjd: 61105.1, fink_broker_version: '4.1', clf: { x: 1 } };
    assert.equal(adapterFamily('topLevelRecord', record), 'lsst');
    const alert = toAlert(record, 'topLevelRecord');
    assert.equal(alert.schemaVersion, '9.0');
    assert.equal(alert.sourceId, BIG_SOURCE);
    assert.equal(toAlert({ ...rubinV10() }, 'topLevelRecord.value').schemaVersion, null);
  });

  test('missing required fields: AdapterError names the schema and the field path', () => {
    const noTime = rubinV10();
    delete (noTime.diaSource as Rec).midpointMjdTai;
    assertAdapterError(() => toAlert(noTime, 'lsst.v9_0.alert'), 'lsst.v9_0.alert', 'diaSource.midpointMjdTai (or midPointTai, midpointMjd)', 'missing');

    const noBand = rubinV10();
    ((noBand.prvDiaSources as Rec[])[1] as Rec).band = null;
    assertAdapterError(() => toAlert(noBand, 'lsst.v10_0.alert'), 'lsst.v10_0.alert', 'prvDiaSources[1].band (or filterName)', 'missing');

    const noSource = rubinV10();
    delete noSource.diaSource;
    assertAdapterError(() => toAlert(noSource, 'lsst.v10_0.alert'), 'lsst.v10_0.alert', 'diaSource', 'missing');

    const noId = rubinV10();
    delete ((noId.prvDiaForcedSources as Rec[])[0] as Rec).diaForcedSourceId;
    assertAdapterError(() => toAlert(noId, 'lsst.v10_0.alert'), 'lsst.v10_0.alert', 'prvDiaForcedSources[0].diaForcedSourceId', 'missing');

    const badRa = rubinV10();
    (badRa.diaSource as Rec).ra = 'east';
    assertAdapterError(() => toAlert(badRa, 'lsst.v10_0.alert'), 'lsst.v10_0.alert', 'diaSource.ra', 'invalid');
  });

  test('JSON input: big integers stay exact ids, a float written as a big integer is still a float, NaN is no value', () => {
    const text = '{"diaSource": {"diaSourceId": 281323062375219200, "diaObjectId": 5, "midpointMjdTai": 60000, "ra": 10, "dec": -5, "band": "g", "psfFlux": 123456789012345678901, "psfFluxErr": 5}}';
    const record = parse(text) as Rec;
    assert.equal(typeof (record.diaSource as Rec).psfFlux, 'bigint', 'json.ts parse turns it into a BigInt');
    const alert = toAlert(record, 'lsst.v9_0.alert');
    assert.equal(alert.sourceId, 281323062375219200n);
    assert.equal(alert.objectId, 5n);
    assert.equal(alert.flux, Number(123456789012345678901n));
    assert.equal(alert.mjd, 60000);
    const spark = rubinV10();
    (spark.diaSource as Rec).psfFluxErr = Number.NaN;
    assert.equal(toAlert(spark, 'topLevelRecord').fluxErr, null);
  });

  test('an id that went through a JavaScript number is refused, not silently rounded', () => {
    const record = rubinV10();
    (record.diaSource as Rec).diaSourceId = Number(BIG_SOURCE);
    const err = assertAdapterError(() => toAlert(record, 'lsst.v10_0.alert'), 'lsst.v10_0.alert', 'diaSource.diaSourceId', 'invalid');
    assert.match(err.message, /2\^53/);
  });
});

// ---------------------------------------------------------------- ZTF, hand-made

const ZTF_CANDID = 2695378462115010012n; // > 2^53

function ztfCandidate(jd: number, fid: number, magpsf: number, isdiffpos: string | null, candid: bigint | null): Rec {
  return { jd, fid, pid: 1n, candid, isdiffpos, ra: 295.3031995, dec: -10.3958989, magpsf, sigmapsf: 0.05, diffmaglim: 20.1, rb: 0.7, drb: 0.99, magzpsci: 26.2 };
}

function ztfRecord(): Rec {
  return {
    schemavsn: '4.02',
    publisher: 'ZTF (www.ztf.caltech.edu)',
    objectId: 'ZTF18abudxnw',
    candid: ZTF_CANDID,
    candidate: ztfCandidate(2460449.8784606, 2, 14.9, 'f', ZTF_CANDID),
    prv_candidates: [
      ztfCandidate(2460447.9202778, 1, 15.9, 't', 2693420272115010105n),
      ztfCandidate(2460444.9592130, 3, 16.5, '0', 2690459212115010052n),
      { ...ztfCandidate(2460420.9637616, 1, 0, null, null), magpsf: null, sigmapsf: null, ra: null, dec: null, diffmaglim: 19.787 },
      ztfCandidate(2460440.5, 2, 17.2, '1', 2686000000000000001n),
    ],
    fp_hists: [
      { jd: 2460447.9202778, fid: 1, magzpsci: 26.135, forcediffimflux: -11859.88, forcediffimfluxunc: 25.3, procstatus: '0', diffmaglim: 20.4 },
      { jd: 2460420.9637616, fid: 1, magzpsci: 26.1528, forcediffimflux: -99999, forcediffimfluxunc: -99999, procstatus: '57', diffmaglim: 19.8 },
    ],
    cutoutScience: { fileName: 'sci.fits.gz', stampData: Buffer.from([0x1f, 0x8b, 1]) },
    cutoutTemplate: { fileName: 'ref.fits.gz', stampData: Buffer.from([0x1f, 0x8b, 2]) },
    cutoutDifference: { fileName: 'diff.fits.gz', stampData: Buffer.from([0x1f, 0x8b, 3]) },
  };
}

describe('ZTF adapter on hand-made records', () => {
  test('ids, jd → MJD, fid → band, magnitudes as given', () => {
    const alert = toAlert(ztfRecord(), 'ztf.alert');
    assert.equal(alert.survey, 'ztf');
    assert.equal(alert.schemaVersion, '4.02');
    assert.equal(alert.objectId, 'ZTF18abudxnw');
    assert.equal(alert.sourceId, ZTF_CANDID);
    assert.equal(typeof alert.sourceId, 'bigint');
    close(alert.mjd, 2460449.8784606 - 2400000.5);
    assert.equal(alert.timeScale, 'UTC');
    assert.equal(alert.band, 'r');
    assert.deepEqual([alert.mag, alert.magErr, alert.reliability], [14.9, 0.05, 0.99]);
    close(alert.snr, 2.5 / Math.LN10 / 0.05);
    assert.deepEqual(alert.cutouts.science, Buffer.from([0x1f, 0x8b, 1]));
    assert.deepEqual(alert.cutouts.difference, Buffer.from([0x1f, 0x8b, 3]));
  });

  test("isdiffpos 'f' and '0' give a negative flux, 't' and '1' a positive one: ±10^((31.4 − mag)/2.5) nJy", () => {
    const alert = toAlert(ztfRecord(), 'ztf.alert');
    close(alert.flux, -(10 ** ((31.4 - 14.9) / 2.5)));
    close(alert.fluxErr, 10 ** ((31.4 - 14.9) / 2.5) * 0.05 * (Math.LN10 / 2.5));
    const byId = new Map(alert.lightcurve.detections.map((p) => [p.sourceId, p]));
    close(byId.get(2693420272115010105n)?.flux ?? null, 10 ** ((31.4 - 15.9) / 2.5)); // 't'
    close(byId.get(2690459212115010052n)?.flux ?? null, -(10 ** ((31.4 - 16.5) / 2.5))); // '0'
    close(byId.get(2686000000000000001n)?.flux ?? null, 10 ** ((31.4 - 17.2) / 2.5)); // '1'
    assert.equal(byId.get(2690459212115010052n)?.band, 'i');
  });

  test('prv_candidates: detections (prv + 1, sorted) and non-detections (null candid) as upper limits', () => {
    const alert = toAlert(ztfRecord(), 'ztf.alert');
    const detections = alert.lightcurve.detections;
    assert.equal(detections.length, 4);
    assert.deepEqual(detections.map((p) => p.sourceId), [2686000000000000001n, 2690459212115010052n, 2693420272115010105n, ZTF_CANDID]);
    assert.deepEqual(alert.lightcurve.upperLimits.map((l) => [l.band, l.limitMag]), [['g', 19.787]]);
    close(alert.lightcurve.upperLimits[0]?.fluxNoise ?? null, magToFlux(19.787) / 5);
  });

  test('fp_hists: forcediffimflux scaled by the zero point to nJy; −99999 is no measurement', () => {
    const alert = toAlert(ztfRecord(), 'ztf.alert');
    const [missing, measured] = alert.lightcurve.forced;
    assert.equal(missing?.flux, null);
    assert.equal(missing?.fluxErr, null);
    close(measured?.flux ?? null, -11859.88 * 10 ** ((31.4 - 26.135) / 2.5));
    close(measured?.fluxErr ?? null, 25.3 * 10 ** ((31.4 - 26.135) / 2.5));
    assert.equal(measured?.sourceId, null);
    assert.equal(measured?.band, 'g');
  });

  test('Fink-enriched ZTF (topLevelRecord, extra fields, no top-level candid) is read by shape', () => {
    const { candid: _candid, ...rest } = ztfRecord();
    const fink = { ...rest, cdsxmatch: 'Unknown', rf_snia_vs_nonia: 0.1, lc_features_g: { mean: 1 } };
    assert.equal(adapterFamily('topLevelRecord', fink), 'ztf');
    const alert = toAlert(fink, 'topLevelRecord');
    assert.equal(alert.sourceId, ZTF_CANDID, 'falls back to candidate.candid');
    assert.equal(alert.objectId, 'ZTF18abudxnw');
  });

  test('bad or missing values: AdapterError with the field path', () => {
    const badSign = ztfRecord();
    (badSign.candidate as Rec).isdiffpos = 'x';
    assertAdapterError(() => toAlert(badSign, 'ztf.alert'), 'ztf.alert', 'candidate.isdiffpos', 'invalid');

    const noSign = ztfRecord();
    (noSign.candidate as Rec).isdiffpos = null;
    assertAdapterError(() => toAlert(noSign, 'ztf.alert'), 'ztf.alert', 'candidate.isdiffpos', 'missing');

    const noMag = ztfRecord();
    delete (noMag.candidate as Rec).magpsf;
    assertAdapterError(() => toAlert(noMag, 'ztf.alert'), 'ztf.alert', 'candidate.magpsf', 'missing');

    const badFid = ztfRecord();
    ((badFid.prv_candidates as Rec[])[1] as Rec).fid = 7;
    assertAdapterError(() => toAlert(badFid, 'ztf.alert'), 'ztf.alert', 'prv_candidates[1].fid', 'invalid');

    const noJd = ztfRecord();
    delete ((noJd.fp_hists as Rec[])[0] as Rec).jd;
    assertAdapterError(() => toAlert(noJd, 'ztf.alert'), 'ztf.alert', 'fp_hists[0].jd', 'missing');

    const noObject = ztfRecord();
    delete noObject.objectId;
    assertAdapterError(() => toAlert(noObject, 'ztf.alert'), 'ztf.alert', 'objectId', 'missing');
  });
});

// ---------------------------------------------------------------- ELaSTICC / PLAsTiCC, hand-made

function elasticcRecord(): Rec {
  return {
    alertId: 1231321321n,
    diaSource: { diaSourceId: 1494043n, ccdVisitId: 111111n, diaObjectId: 747n, parentDiaSourceId: null, midPointTai: 60674.0512, filterName: 'Y', ra: 49.042969, decl: -41.0145, psFlux: 464.952, psFluxErr: 14.79, snr: 41.1, nobs: 44 },
    prvDiaSources: [{ diaSourceId: 1494025n, ccdVisitId: 111111n, diaObjectId: 747n, midPointTai: 60597.1192, filterName: 'z', ra: 49.042969, decl: -41.0145, psFlux: 377.02, psFluxErr: 8.88, snr: 41.1, nobs: 44 }],
    prvDiaForcedSources: null,
    prvDiaNondetectionLimits: [{ ccdVisitId: 1n, midPointTai: 60590.5, filterName: 'g', diaNoise: 10 }],
    diaObject: { diaObjectId: 747n, ra: 49.042969, decl: -41.0145, hostgal_zphot_q50: 0.73 },
    cutoutDifference: null,
    cutoutTemplate: null,
  };
}

describe('ELaSTICC / PLAsTiCC adapter on hand-made records', () => {
  test('FLUXCAL (zero point 27.5) → nJy, band lower-cased, LSST v4 names', () => {
    const alert = toAlert(elasticcRecord(), 'elasticc.v0_9.alert');
    assert.equal(alert.survey, 'elasticc');
    assert.equal(alert.schemaVersion, '0.9');
    assert.equal(alert.alertId, 1231321321n);
    assert.equal(alert.objectId, 747n);
    assert.equal(alert.band, 'y');
    close(FLUXCAL_TO_NJY, 10 ** ((31.4 - 27.5) / 2.5));
    close(alert.flux, 464.952 * FLUXCAL_TO_NJY, 1e-6);
    close(alert.mag, 27.5 - 2.5 * Math.log10(464.952), 1e-6);
    assert.deepEqual(alert.lightcurve.detections.map((p) => p.band), ['z', 'y']);
    close(alert.lightcurve.upperLimits[0]?.fluxNoise ?? null, 10 * FLUXCAL_TO_NJY, 1e-6);
    close(alert.lightcurve.upperLimits[0]?.limitMag ?? null, 27.5 - 2.5 * Math.log10(50), 1e-6);
  });

  test('elasticc.v0_9_1 and PLAsTiCC lsst.v4_1 dispatch; Spark-written ELaSTICC by shape', () => {
    assert.equal(toAlert(elasticcRecord(), 'elasticc.v0_9_1.alert').schemaVersion, '0.9.1');
    const plasticc = toAlert(elasticcRecord(), 'lsst.v4_1.alert');
    assert.equal(plasticc.survey, 'plasticc');
    assert.equal(plasticc.schemaVersion, '4.1');
    close(plasticc.flux, 464.952 * FLUXCAL_TO_NJY, 1e-6);
    assert.equal(adapterFamily('topLevelRecord', elasticcRecord()), 'elasticc');
    // Rubin's own v4.0 is nJy: not scaled.
    assert.equal(toAlert(elasticcRecord(), 'lsst.v4_0.alert').flux, 464.952);
  });

  test('brokerClassification records are refused as not alerts', () => {
    assert.ok(isNonAlertSchema('lsst.v4_1.brokerClassfication'));
    assert.ok(isNonAlertSchema('elasticc.v0_9_1.brokerClassification'));
    assert.ok(!isNonAlertSchema('lsst.v10_0.alert'));
    assertAdapterError(() => toAlert({ alertId: 1n, classifications: [] }, 'lsst.v4_1.brokerClassfication'), 'lsst.v4_1.brokerClassfication', 'lsst.v4_1.brokerClassfication', 'unsupported');
    assertAdapterError(() => toAlert({ diaSourceId: '12345', candidates: [] }, 'json'), 'json', /diaSource/, 'unsupported');
  });
});

// ---------------------------------------------------------------- other surveys, hand-made

describe('other survey adapters on hand-made records', () => {
  test('Roman RAPID v0.2: unsigned psfFlux with isNegative, UTC midpointMjd, cutoutReference', () => {
    const source = (id: bigint, mjd: number, flux: number, isNegative: boolean): Rec => ({
      diaSourceId: id, diaObjectId: 49841446n, midpointMjd: mjd, ra: 268.307, dec: -28.289, band: 'W146', psfFlux: flux, psfFluxErr: 19.7, snr: 21.6, isNegative,
    });
    const record: Rec = {
      schemaVersion: '00.02', diaSourceId: 2240034736n, diaSource: source(2240034736n, 61679.302, 426.3, false),
      prvDiaSources: [source(2397003739n, 61679.321, 226.7, true)], diaObject: { diaObjectId: 49841446n, ra0: 268.307, dec0: -28.289 },
      prvDiaForcedSources: null, cutoutDifference: CUTOUT, cutoutScience: CUTOUT, cutoutReference: Buffer.from('ref'),
    };
    const alert = toAlert(record, 'rapid.v00_02.alert');
    assert.equal(alert.survey, 'rapid');
    assert.equal(alert.schemaVersion, '00.02');
    assert.equal(alert.timeScale, 'UTC');
    assert.equal(alert.flux, 426.3);
    assert.equal(alert.lightcurve.detections[1]?.flux, -226.7);
    assert.deepEqual(alert.cutouts.template, Buffer.from('ref'));
    const v1 = toAlert({ diaSourceId: 9576000001n, diaSource: { diaSourceId: 9576000001n, diaObjectId: 11369614n, midpointMjdTai: 62021.9788, ra: 9.19, dec: -42.26, band: 'F184', psfFlux: 623.5, psfFluxErr: 130.5, isdiffpos: false } }, 'rapid.v01_00.alert');
    assert.equal(v1.timeScale, 'TAI');
    assert.equal(v1.flux, -623.5);
    assert.equal(v1.schemaVersion, '01.00');
  });

  test('WINTER: objectid, fid 0..3 = Y/J/H/K, boolean isdiffpos, no nJy flux (magnitude system not stated)', () => {
    const candidate = (candid: bigint, jd: number, fid: number): Rec => ({ candid, jd, fid, isdiffpos: true, ra: 262.575, dec: 7.264, magpsf: 13.35, sigmapsf: 0.029, rb: null });
    const alert = toAlert({
      schemavsn: '0.1', objectid: 'WNTR24awati', candid: 3608694n, candidate: candidate(3608694n, 2460381.0315, 2),
      prv_candidates: [candidate(3563406n, 2460380.0425, 0)], cutout_science: Buffer.from('s'), cutout_template: null, cutout_difference: Buffer.from('d'),
    }, 'winter.alert');
    assert.equal(alert.survey, 'winter');
    assert.equal(alert.objectId, 'WNTR24awati');
    assert.deepEqual(alert.lightcurve.detections.map((p) => p.band), ['Y', 'H']);
    assert.deepEqual([alert.flux, alert.fluxErr, alert.mag], [null, null, 13.35]);
    assert.deepEqual(alert.cutouts.science, Buffer.from('s'));
  });

  test('DECam DESIRT: psfFlux in nJy, integer isdiffpos, fp_hists as forced photometry', () => {
    const point = (mjd: number, isdiffpos: number): Rec => ({ mjd, band: 'g', ra: 210.47, dec: 15.47, psfFlux: 1375.25, psfFluxErr: 255.2, forcediffimmag: 23.554, forcediffimmagunc: 0.2, isdiffpos, reliability: 0.93 });
    const alert = toAlert({ publisher: 'DESIRT', objectId: 'c4d_x', candid: 65346n, candidate: point(61229.08, 1), fp_hists: [point(61229.08, 1), point(61200.5, 0)] }, 'desirt.alert');
    assert.equal(alert.survey, 'decam');
    assert.deepEqual([alert.flux, alert.mag, alert.sourceId], [1375.25, 23.554, 65346n]);
    close(fluxToMag(alert.flux), 23.554, 1e-4);
    assert.deepEqual(alert.lightcurve.forced.map((p) => p.flux), [-1375.25, 1375.25]);
  });

  test('DECam DECAT: object record with triggersource and sources; band from the FILTER header', () => {
    const source = (sourceid: number, mjd: number, mag: number, filter: string): Rec => ({ sourceid, mjd, mag, magerr: 0.06, flux: 338, fluxerr: 19, rb: 0.88, filter, ra: 150.32, dec: 3.016, scicutout: null });
    const trigger = { ...source(570349, 59319.046875, 22.51, 'g DECam SDSS c0001 4720.0 1520.0'), scicutout: Buffer.from('sci') };
    const alert = toAlert({ objectid: 'DC21baaa', ra: 150.32, dec: 3.016, triggersource: trigger, sources: [source(46520, 59292.11, 23.17, 'r DECam SDSS c0002 6415.0 1480.0'), source(570349, 59319.046875, 22.51, 'g DECam SDSS c0001 4720.0 1520.0')] }, 'decat.object');
    assert.equal(alert.objectId, 'DC21baaa');
    assert.equal(alert.sourceId, 570349n);
    assert.deepEqual(alert.lightcurve.detections.map((p) => [p.sourceId, p.band]), [[46520n, 'r'], [570349n, 'g']]);
    close(alert.flux, magToFlux(22.51));
    assert.deepEqual(alert.cutouts.science, Buffer.from('sci'));
  });

  test('ASKAP: radio peak flux mJy → nJy, band = frequency, no magnitude', () => {
    const candidate = (candid: bigint, jd: number, peak: number): Rec => ({ candid, jd, frequency: 887.5, ra: 158, dec: 14.4, flux_peak: peak, flux_peak_err: 0.2, snr: 12, forced: false });
    const alert = toAlert({ schemavsn: '0.0', candid: 1002n, objectId: '101', candidate: candidate(1002n, 2461236.5, 38.3), prv_candidates: [candidate(1001n, 2461222.5, 35.2)], fp_hists: [candidate(1003n, 2461250.5, 23.1)] }, 'askap.alert');
    assert.equal(alert.survey, 'askap');
    assert.equal(alert.band, '887.5MHz');
    close(alert.flux, 38.3e6);
    assert.equal(alert.mag, null);
    assert.equal(alert.mjd, 61236);
    assert.deepEqual(alert.lightcurve.detections.map((p) => p.sourceId), [1001n, 1002n]);
    assert.deepEqual(alert.lightcurve.forced.map((p) => p.sourceId), [1003n]);
  });
});

describe('model helpers', () => {
  test('magnitudes and fluxes: m = 31.4 − 2.5·log10(f/nJy)', () => {
    assert.equal(AB_ZERO_POINT_NJY, 31.4);
    close(magToFlux(31.4), 1);
    close(magToFlux(20), 10 ** (11.4 / 2.5));
    close(fluxToMag(magToFlux(18.25)), 18.25);
    assert.equal(fluxToMag(0), null);
    assert.equal(fluxToMag(-5), null);
  });

  test('dedupeAndSort keeps the first of each source id, and of each (mjd, band) without one', () => {
    const p = (sourceId: bigint | null, mjd: number, band: string, flux: number): Point => ({ sourceId, mjd, band, flux, fluxErr: 1, mag: null, magErr: null, reliability: null, scienceFlux: null, scienceFluxErr: null, ra: null, dec: null });
    const out = dedupeAndSort([p(3n, 30, 'g', 1), p(1n, 10, 'g', 2), p(3n, 30, 'g', 3), p(null, 20, 'r', 4), p(null, 20, 'r', 5), p(null, 20, 'g', 6)]);
    assert.deepEqual(out.map((x) => x.flux), [2, 6, 4, 1]);
  });
});

// ---------------------------------------------------------------- checks shared by the real-data tests

const BANDS: Readonly<Record<Alert['survey'], RegExp>> = {
  lsst: /^[ugrizy]$/,
  elasticc: /^[ugrizy]$/,
  plasticc: /^[ugrizy]$/,
  ztf: /^[gri]$/,
  decam: /^(u|g|r|i|z|Y|VR)$/,
  winter: /^[YJHK]$/,
  rapid: /^(F062|F087|F106|F129|F146|F158|F184|F213|W146)$/,
  askap: /^\d+(\.\d+)?MHz$/,
};

/**
 * Synthetic upstream samples whose time is the bogus 1480360995 (a Unix time written as an
 * MJD): the alert_packet sample_data of v3.0 … v7.4 and the pittgoogle v7.x fixtures made from them.
 */
const BOGUS_MJD = 1480360995;
function hasBogusSampleTime(relative: string): boolean {
  return /^lsst-alert_packet\/schema\/[3-7]\/\d\/sample_data\//.test(relative) || /^pittgoogle-client\/sample_alerts\/lsst\/lsst\.v7_\d\.avro$/.test(relative) || /^lsstdesc-plasticc_alerts\/.*sample_data\/.*\.json$/.test(relative);
}

function idsOf(items: unknown, key: string): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(items)) for (const item of items as Rec[]) if (item[key] !== null && item[key] !== undefined) out.add(String(item[key]));
  return out;
}

/** Checks every alert must pass; `relative` is the file's path under ../shared/data. */
function checkAlert(alert: Alert, relative: string): void {
  const where = `${relative} (${alert.schema})`;
  if (typeof alert.objectId === 'string') assert.ok(alert.objectId.length > 0, where);
  else assert.equal(typeof alert.objectId, 'bigint', where);
  assert.equal(typeof alert.sourceId, 'bigint', where);
  assert.ok(alert.ra >= 0 && alert.ra < 360, `${where}: ra ${alert.ra}`);
  assert.ok(alert.dec >= -90 && alert.dec <= 90, `${where}: dec ${alert.dec}`);
  if (hasBogusSampleTime(relative)) assert.equal(alert.mjd, BOGUS_MJD, where);
  else assert.ok(alert.mjd > 40000 && alert.mjd < 70000, `${where}: mjd ${alert.mjd}`);
  assert.match(alert.band, BANDS[alert.survey], where);
  for (const list of [alert.lightcurve.detections, alert.lightcurve.forced]) {
    for (let i = 1; i < list.length; i++) assert.ok((list[i - 1] as Point).mjd <= (list[i] as Point).mjd, `${where}: lightcurve not sorted`);
    for (const point of list) {
      assert.match(point.band, BANDS[alert.survey], where);
      if (point.ra !== null) assert.ok(point.ra >= 0 && point.ra < 360, where);
      if (point.dec !== null) assert.ok(point.dec >= -90 && point.dec <= 90, where);
    }
  }
  const current = alert.lightcurve.detections.find((p) => p.sourceId === alert.sourceId);
  assert.ok(current, `${where}: current detection missing from the lightcurve`);
  assert.equal(current.mjd, alert.mjd, where);
  assert.equal(current.flux, alert.flux, where);

  // Detections = distinct previous detections + the current one, counted from the raw record.
  const record = alert.record;
  if (Array.isArray(record.prvDiaSources) || record.prvDiaSources === null) {
    const ids = idsOf(record.prvDiaSources, 'diaSourceId');
    ids.add(String(alert.sourceId));
    assert.equal(alert.lightcurve.detections.length, ids.size, `${where}: detections`);
    assert.equal(alert.lightcurve.forced.length, idsOf(record.prvDiaForcedSources, 'diaForcedSourceId').size, `${where}: forced`);
  } else if (Array.isArray(record.prv_candidates) || record.prv_candidates === null) {
    const ids = idsOf(record.prv_candidates, 'candid');
    ids.add(String(alert.sourceId));
    assert.equal(alert.lightcurve.detections.length, ids.size, `${where}: detections`);
  }
}

// ---------------------------------------------------------------- JSON samples in ../shared/data

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

describe('JSON samples in ../shared/data', () => {
  const rubinSamples = walk(path.join(dataDir, 'lsst-alert_packet/schema')).filter((f) => f.endsWith('sample_data/alert.json')).sort();

  test('Rubin alert_packet sample alert.json, v3.0 … v11.0: every version reads to the same alert', () => {
    assert.ok(rubinSamples.length >= 13, `found ${rubinSamples.length} samples`);
    const reference = new Map<string, unknown>();
    for (const file of rubinSamples) {
      const [major, minor] = path.relative(path.join(dataDir, 'lsst-alert_packet/schema'), file).split(path.sep);
      const schema = `lsst.v${major}_${minor}.alert`;
      const alert = toAlert(parse(readFileSync(file, 'utf8')) as Rec, schema);
      checkAlert(alert, path.relative(dataDir, file));
      assert.equal(alert.schemaVersion, `${major}.${minor}`);
      // The upstream sample is the same alert in every version; only the names changed.
      assert.equal(alert.objectId, 281323062375219201n, schema);
      assert.equal(alert.sourceId, 281323062375219200n, schema);
      const detections = alert.lightcurve.detections.map((p) => p.sourceId);
      assert.deepEqual(new Set(detections), new Set([281323062375219198n, 281323062375219199n, 281323062375219200n]), schema);
      // Times differ between versions (v3–v7.4 carry a bogus Unix time), so compare the rest.
      const core = { ra: alert.ra, dec: alert.dec, band: alert.band, flux: alert.flux, fluxErr: alert.fluxErr, snr: alert.snr, mag: alert.mag };
      for (const [key, value] of Object.entries(core)) {
        if (!reference.has(key)) reference.set(key, value);
        assert.deepEqual(value, reference.get(key), `${schema}: ${key}`);
      }
    }
  });

  test('Lasair JSON samples (7.1, 7.4, 9.0, 10.0) read by shape; its "simple" format is refused', () => {
    const dir = path.join(dataDir, 'lasair-lsst/tests/system/sample_alerts');
    const expected: Record<string, { objectId: bigint; sourceId: bigint; detections: number; cutouts: boolean }> = {
      'schema7.1': { objectId: 3068394046180295775n, sourceId: 3068429242367738174n, detections: 71, cutouts: true },
      'schema10.0': { objectId: 6626260795372641455n, sourceId: 53176574830n, detections: 32, cutouts: false },
    };
    for (const name of ['schema7.1', 'schema7.4.A', 'schema9.0', 'schema10.0']) {
      const alert = toAlert(parse(readFileSync(path.join(dir, name, 'alert.json'), 'utf8')) as Rec, 'json');
      assert.equal(alert.survey, 'lsst', name);
      checkAlert(alert, `lasair-lsst/tests/system/sample_alerts/${name}/alert.json`);
      const want = expected[name];
      if (want === undefined) continue;
      assert.equal(alert.objectId, want.objectId, name);
      assert.equal(alert.sourceId, want.sourceId, name);
      assert.equal(alert.lightcurve.detections.length, want.detections, name);
      // Lasair's JSON carries cutouts as base64 text; the model holds bytes.
      if (want.cutouts) assert.ok(alert.cutouts.science instanceof Uint8Array && alert.cutouts.science.length > 0, name);
    }
    const simple = parse(readFileSync(path.join(dir, 'simple/alert.json'), 'utf8')) as Rec;
    assertAdapterError(() => toAlert(simple, 'json'), 'json', /diaSource/, 'unsupported');
  });

  test('PLAsTiCC / ELaSTICC JSON samples', () => {
    const files = walk(path.join(dataDir, 'lsstdesc-plasticc_alerts')).filter((f) => f.endsWith('.json')).sort();
    assert.equal(files.length, 4);
    for (const file of files) {
      const alert = toAlert(parse(readFileSync(file, 'utf8')) as Rec, file.includes('starterkit') ? 'lsst.v4_1.alert' : 'elasticc.v0_9.alert');
      checkAlert(alert, path.relative(dataDir, file));
      assert.equal(alert.objectId, 281323062375219201n);
    }
  });
});

// ---------------------------------------------------------------- every decodable alert file

/** Ids that the data sets put in file names, to compare exactly with the adapted ids. */
function idsFromFileName(relative: string): { objectId?: bigint | string; sourceId?: bigint } | null {
  const base = path.basename(relative);
  let m = /^(\d+)_\1\.avro$/.exec(base); // fink-broker: <diaSourceId>_<diaSourceId>.avro
  if (m) return { sourceId: BigInt(m[1] as string) };
  m = /^([A-Z]{2,3}\d{2}[a-z]+)\.(\d+)\.[\w.-]+\.avro$/.exec(base); // pitt-google: <objectId>.<candid>.<topic>.avro
  if (m) return { objectId: m[1] as string, sourceId: BigInt(m[2] as string) };
  m = /^(ZTF\d{2}[a-z]{7})\.avro$/.exec(base); // fink-client: <objectId>.avro
  if (m) return { objectId: m[1] as string };
  m = /_(ZTF\d{2}[a-z]{7})_(\d+)\.v\d+_\d+\.avro$/.exec(base); // pittgoogle-client ZTF samples
  if (m) return { objectId: m[1] as string, sourceId: BigInt(m[2] as string) };
  m = /^alert_mjd[\d.]+_obj(\d+)_src(\d+)\.avro(?:\.gz)?$/.exec(base); // ELaSTICC samples
  if (m) return { objectId: BigInt(m[1] as string), sourceId: BigInt(m[2] as string) };
  m = /^\d+\.\d+_(\d+)_\d+\.avro$/.exec(base); // PLAsTiCC starter kit: <mjd>_<diaObjectId>_<n>.avro (n is not the source id)
  if (m) return { objectId: BigInt(m[1] as string) };
  m = /(?:^|_)(\d{15,})\.avro$/.exec(base); // boom, ztf-avro-alert, fink-alert-schemas: <id>.avro
  if (m) return { sourceId: BigInt(m[1] as string) };
  return null;
}

test('every decodable alert file under ../shared/data adapts to a valid Alert', async () => {
  const lsstSchemas = await schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema'));
  const rapidSchemas = await schemaDirectory(path.join(dataDir, 'pittgoogle-client/schemas'));
  const classificationDir = path.join(dataDir, 'lsstdesc-tom_desc/tom_desc/stream/parsers/elasticc_schema');
  const classification = (await schemaDirectory(classificationDir)).byName('lsst.v4_1.brokerClassfication');
  const files = await listAlertFiles(dataDir);
  const counts = { files: 0, alerts: 0, skipped: 0, named: 0, bigIds: 0 };
  const surveys = new Set<string>();
  for (const file of files) {
    const relative = path.relative(dataDir, file);
    // Confluent-framed files name a schema id: Rubin's (major*100+minor) or RAPID's; the bare
    // schemaless classification example needs its schema given.
    const options = relative.startsWith('pittgoogle-client/sample_alerts/rapid/') ? { schemas: rapidSchemas }
      : relative.endsWith('brokerClassification_schemaless_example.avro') ? { schema: classification }
      : { schemas: lsstSchemas };
    counts.files++;
    const fromName = idsFromFileName(relative);
    for (const decoded of await readAlertFile(file, options)) {
      // Not alerts: the classifications brokers send back to DESC.
      if (isNonAlertSchema(decoded.schema.name)) {
        counts.skipped++;
        continue;
      }
      let alert: Alert;
      try {
        alert = toAlert(decoded.record, decoded.schema.name);
      } catch (err) {
        throw new Error(`${relative}: ${(err as Error).message}`, { cause: err });
      }
      counts.alerts++;
      surveys.add(alert.survey);
      assert.equal(alert.record, decoded.record);
      checkAlert(alert, relative);
      if (typeof alert.objectId === 'bigint' && alert.objectId > 2n ** 53n) counts.bigIds++;
      if (alert.sourceId > 2n ** 53n) counts.bigIds++;
      if (fromName !== null) {
        counts.named++;
        if (fromName.sourceId !== undefined) assert.equal(alert.sourceId, fromName.sourceId, `${relative}: sourceId`);
        if (fromName.objectId !== undefined) assert.equal(alert.objectId, fromName.objectId, `${relative}: objectId`);
      }
    }
  }
  assert.ok(counts.files >= 190, `walked ${counts.files} files`);
  assert.ok(counts.alerts >= 290, `adapted ${counts.alerts} alerts`);
  assert.equal(counts.skipped, 2, 'the two brokerClassification examples');
  assert.ok(counts.named >= 145, `${counts.named} alerts checked against ids in file names`);
  assert.ok(counts.bigIds >= 300, `${counts.bigIds} ids beyond 2^53`);
  assert.deepEqual([...surveys].sort(), ['askap', 'decam', 'elasticc', 'lsst', 'plasticc', 'rapid', 'winter', 'ztf']);
});
