// Object features on hand-made lightcurves: counts, nights, reliability, latest values per
// band, magnitudes, colours, rise and fade rates, galactic coordinates, survey summaries, nulls,
// and the newest-alert-per-object rule of a batch.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { magToFlux } from '../src/formats/alert.ts';
import type { Alert, Point } from '../src/formats/alert.ts';
import { colour, COLOUR_WINDOW_MINUTES } from '../src/features/colours.ts';
import { featuresForBatch, newestPerObject, objectFeatures } from '../src/features/compute.ts';
import type { ObjectRow } from '../src/features/compute.ts';
import { OBJECT_COLUMNS } from '../src/features/columns.ts';
import { galacticFromEquatorial } from '../src/features/galactic.ts';
import { nightOf, OBSERVATORY_LONGITUDE } from '../src/features/nights.ts';
import { riseFade } from '../src/features/rates.ts';
import { medianOf } from '../src/features/reliability.ts';
import { seriesOfMags } from '../src/features/series.ts';

const MINUTE = 1 / 1440;
const HOUR = 1 / 24;
const OBJECT = 170028485706776685n; // > 2^53
let nextSourceId = 170094456272322680n;

function near(actual: unknown, expected: number, tolerance = 1e-9, what = ''): void {
  assert.equal(typeof actual, 'number', `${what}: expected a number near ${expected}, got ${String(actual)}`);
  assert.ok(Math.abs((actual as number) - expected) <= tolerance, `${what}: expected ${expected} ± ${tolerance}, got ${String(actual)}`);
}

/** A detection; the magnitude is left for the features to derive from the flux. */
function det(mjd: number, band: string, flux: number | null, extra: Partial<Point> = {}): Point {
  return {
    sourceId: nextSourceId++, mjd, band, flux, fluxErr: flux === null ? null : 100, mag: null, magErr: null,
    reliability: null, scienceFlux: null, scienceFluxErr: null, ra: null, dec: null, ...extra,
  };
}

/** A detection of the given AB magnitude. */
function detMag(mjd: number, band: string, mag: number): Point {
  return det(mjd, band, magToFlux(mag));
}

/** A Rubin-like alert whose triggering detection is the latest of `detections`. */
function alertOf(detections: Point[], overrides: Partial<Alert> = {}): Alert {
  const sorted = [...detections].sort((a, b) => a.mjd - b.mjd);
  const trigger = sorted[sorted.length - 1] as Point;
  return {
    survey: 'lsst', schema: 'lsst.v10_0.alert', schemaVersion: '10.0', alertId: null,
    objectId: OBJECT, objectKind: 'object', sourceId: trigger.sourceId ?? 1n,
    ra: 150.1, dec: 2.2, mjd: trigger.mjd, timeScale: 'TAI', band: trigger.band,
    flux: trigger.flux, fluxErr: trigger.fluxErr, mag: null, magErr: null, reliability: trigger.reliability, snr: 12.5,
    lightcurve: { detections: sorted, forced: [], upperLimits: [] },
    cutouts: {}, record: {},
    ...overrides,
  };
}

/** Asserts the row has exactly the documented columns and no NaN or infinite number. */
function assertClean(row: ObjectRow): void {
  assert.deepEqual(Object.keys(row), OBJECT_COLUMNS.map((c) => c.name));
  for (const [name, value] of Object.entries(row)) {
    if (typeof value === 'number') assert.ok(Number.isFinite(value), `${name} = ${value}`);
  }
}

describe('counts', () => {
  test('per band, total, positive, reliable; bands without columns count only in the total', () => {
    const t = 61000.1;
    const row = objectFeatures(alertOf([
      det(t, 'g', 500, { reliability: 0.9 }),
      det(t + 1, 'g', -200, { reliability: 0.5 }),
      det(t + 2, 'g', 300, { reliability: 0.51 }),
      det(t + 3, 'r', null, { reliability: null }),
      det(t + 4, 'r', 0, { reliability: 0.2 }),
      det(t + 5, 'i', 800),
      det(t + 6, 'J', 900, { reliability: Number.NaN }),
    ]));
    assertClean(row);
    assert.equal(row.nSources, 7);
    assert.deepEqual(['u', 'g', 'r', 'i', 'z', 'y'].map((b) => row[`nSources_${b}`]), [0, 3, 2, 1, 0, 0]);
    assert.equal(row.nPositive, 4, 'fluxes 500, 300, 800, 900 (not −200, null, 0)');
    assert.equal(row.nReliable, 2, '0.9 and 0.51; 0.5 is not over 0.5');
    near(row.medianReliability, (0.5 + 0.51) / 2, 1e-12, 'median of 0.2 0.5 0.51 0.9');
    assert.equal(row.latestReliability, 0.2, 'the latest score, skipping missing and NaN ones');
    assert.equal(row.firstDiaSourceMjd, t);
    assert.equal(row.lastDiaSourceMjd, t + 6);
  });

  test('odd number of scores: the middle one', () => {
    const row = objectFeatures(alertOf([det(61000.1, 'g', 1, { reliability: 0.3 }), det(61000.2, 'g', 1, { reliability: 0.99 }), det(61000.3, 'g', 1, { reliability: 0.7 })]));
    assert.equal(row.medianReliability, 0.7);
    assert.equal(row.latestReliability, 0.7);
  });

  test('forced photometry is counted apart from detections', () => {
    const detections = [det(61000.1, 'g', 100)];
    const forced = [det(60990.1, 'g', 5), det(60995.1, 'r', -3)];
    const row = objectFeatures(alertOf(detections, { lightcurve: { detections, forced, upperLimits: [] } }));
    assert.equal(row.nSources, 1);
    assert.equal(row.nForced, 2);
  });
});

test('medianOf agrees with sorting on random and repetitive inputs', () => {
  // A small deterministic generator, so a failure can be replayed.
  let state = 12345;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let round = 0; round < 500; round++) {
    const n = 1 + Math.floor(next() * 60);
    const levels = 1 + Math.floor(next() * 8); // few distinct values: many ties
    const values = Array.from({ length: n }, () => (round % 2 === 0 ? next() : Math.floor(next() * levels) / levels));
    const sorted = [...values].sort((a, b) => a - b);
    const expected = n % 2 === 1 ? sorted[n >> 1] : ((sorted[(n >> 1) - 1] as number) + (sorted[n >> 1] as number)) / 2;
    const buffer = new Float64Array(n + 5).fill(-1);
    buffer.set(values);
    assert.equal(medianOf(buffer, n), expected, `round ${round}: ${values.join(' ')}`);
  }
  assert.equal(medianOf(new Float64Array(3), 0), null);
});

describe('nights', () => {
  // MJD of a UT time on MJD day 61000.
  const ut = (day: number, hours: number, minutes = 0): number => day + (hours + minutes / 60) / 24;

  test('Rubin: one night across UT midnight and across local midnight', () => {
    // Cerro Pachón local time is UT − 4 h 43 min.
    const oneNight = [
      ut(61000, 23, 50), // 19:07 local
      ut(61001, 0, 10), // 19:27 local, after UT midnight
      ut(61001, 4, 33), // 23:50 local
      ut(61001, 4, 53), // 00:10 local, after local midnight
      ut(61001, 9, 0), // 04:17 local, dawn
    ];
    const row = objectFeatures(alertOf(oneNight.map((mjd) => det(mjd, 'r', 100))));
    assert.equal(row.nNights, 1, 'floor(mjd) would say 2');
    const twoNights = objectFeatures(alertOf([...oneNight, ut(61001, 23, 55)].map((mjd) => det(mjd, 'r', 100))));
    assert.equal(twoNights.nNights, 2, 'the next evening is another night');
  });

  test('ZTF: nights split at local noon at Palomar (19:47 UT), not at UT midnight', () => {
    const row = objectFeatures(alertOf([det(ut(61000, 19, 0), 'g', 100), det(ut(61000, 20, 30), 'g', 100)], { survey: 'ztf', objectId: 'ZTF26aamcbly' }));
    assert.equal(row.nNights, 2, '11:13 and 12:43 Palomar time are on either side of local noon');
    const same = objectFeatures(alertOf([det(ut(61000, 4, 0), 'g', 100), det(ut(61000, 11, 0), 'g', 100)], { survey: 'ztf', objectId: 'ZTF26aamcbly' }));
    assert.equal(same.nNights, 1);
  });

  test('nightOf names the local date the night begins on', () => {
    assert.equal(nightOf(ut(61001, 2, 0), OBSERVATORY_LONGITUDE.lsst), 61000, '22:17 local on the evening of 61000');
    assert.equal(nightOf(ut(61001, 15, 0), OBSERVATORY_LONGITUDE.lsst), 61000, '10:17 local the next morning');
    assert.equal(nightOf(ut(61001, 17, 0), OBSERVATORY_LONGITUDE.lsst), 61001, '12:17 local: a new night');
  });
});

describe('latest values per band and magnitudes', () => {
  test('latest flux, time and magnitude in each band; 3631 Jy is magnitude 0', () => {
    const t = 61000.1;
    const row = objectFeatures(alertOf([
      det(t, 'g', 1000),
      det(t + 1, 'g', 3.631e12),
      det(t + 2, 'r', 1),
      det(t + 3, 'i', 500),
      det(t + 4, 'i', -250),
    ]));
    assertClean(row);
    assert.equal(row.latestFlux_g, 3.631e12);
    assert.equal(row.latestMjd_g, t + 1);
    near(row.latestMag_g, 0, 1e-3, 'flux2mag(3.631e12 nJy)');
    near(row.latestMag_r, 31.4, 1e-12, '1 nJy is the zero point');
    assert.equal(row.latestFlux_i, -250, 'the latest, even if negative');
    assert.equal(row.latestMag_i, null, 'no magnitude for a negative flux');
    for (const band of ['u', 'z', 'y']) {
      for (const column of ['latestFlux', 'latestMjd', 'latestMag']) assert.equal(row[`${column}_${band}`], null, `${column}_${band}`);
    }
  });

  test('the triggering detection: id, time, band, flux, magnitude, S/N', () => {
    const trigger = det(61000.5, 'z', 2000);
    const row = objectFeatures(alertOf([det(61000.1, 'g', 100), trigger]));
    assert.equal(row.alertSourceId, trigger.sourceId);
    assert.equal(typeof row.alertSourceId, 'bigint');
    assert.equal(row.alertMjd, 61000.5);
    assert.equal(row.alertBand, 'z');
    assert.equal(row.alertFlux, 2000);
    assert.equal(row.alertFluxErr, 100);
    near(row.alertMag, 31.4 - 2.5 * Math.log10(2000), 1e-12, 'alertMag');
    assert.equal(row.alertSnr, 12.5);
    const negative = objectFeatures(alertOf([det(61000.1, 'g', -2000)]));
    assert.equal(negative.alertMag, null);
  });
});

describe('colours', () => {
  const t = 61000.2;

  test('g − r from detections 40 minutes apart; 41 minutes is too far', () => {
    const within = objectFeatures(alertOf([detMag(t, 'g', 20.3), detMag(t + COLOUR_WINDOW_MINUTES * MINUTE, 'r', 20.0)]));
    near(within.g_r, 0.3, 1e-9, 'g_r at 40 min');
    const beyond = objectFeatures(alertOf([detMag(t, 'g', 20.3), detMag(t + 41 * MINUTE, 'r', 20.0)]));
    assert.equal(beyond.g_r, null);
    assert.equal(within.r_i, null);
    assert.equal(within.u_g, null);
  });

  test('the latest pair wins, and the closest pair among pairs ending at the same detection', () => {
    const row = objectFeatures(alertOf([
      detMag(t, 'g', 21.0), detMag(t + 10 * MINUTE, 'r', 20.0), // older pair: g − r = 1.0
      detMag(t + 3, 'r', 19.9), detMag(t + 3 + 30 * MINUTE, 'r', 19.5), detMag(t + 3 + 35 * MINUTE, 'g', 19.7),
    ]));
    // The g at t+3+35min pairs with r at +30 min (5 min away, −> 0.2) rather than r at t+3 (35 min away).
    near(row.g_r, 0.2, 1e-9, 'g_r');
  });

  test('a detection with negative flux gives no colour', () => {
    const row = objectFeatures(alertOf([det(t, 'i', -500), detMag(t + 5 * MINUTE, 'z', 19)]));
    assert.equal(row.i_z, null);
  });

  test('colour() directly: order of bands and the window edge', () => {
    const g = seriesOfMags([{ mjd: t, mag: 18 }]);
    const r = seriesOfMags([{ mjd: t - 39 * MINUTE, mag: 17.5 }]);
    near(colour(g, r), 0.5, 1e-12, 'g − r');
    near(colour(r, g), -0.5, 1e-12, 'r − g');
    assert.equal(colour(g, seriesOfMags([])), null);
  });
});

describe('rise and fade rates', () => {
  const t = 61000.3;
  // Rises 0.5 mag/day for 3 days to 18.5, then fades 0.1 mag/day for 5 days; linear in magnitude.
  const riseThenFade = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((d) => ({ mjd: t + d, mag: d <= 3 ? 20 - 0.5 * d : 18.5 + 0.1 * (d - 3) }));

  test('linear-in-magnitude lightcurve: rise 0.5 mag/day, fade 0.1 mag/day, both positive', () => {
    const row = objectFeatures(alertOf(riseThenFade.map((p) => detMag(p.mjd, 'g', p.mag))));
    near(row.riseRate_g, 0.5, 1e-9, 'riseRate_g');
    near(row.fadeRate_g, 0.1, 1e-9, 'fadeRate_g');
    assert.equal(row.riseRate_r, null);
    assert.equal(row.fadeRate_r, null);
  });

  test('still rising: a rise rate and no fade; fading from the first detection: a fade and no rise', () => {
    const rising = objectFeatures(alertOf(riseThenFade.slice(0, 4).map((p) => detMag(p.mjd, 'r', p.mag))));
    near(rising.riseRate_r, 0.5, 1e-9, 'riseRate_r');
    assert.equal(rising.fadeRate_r, null, 'the latest detection is the peak');
    const fading = objectFeatures(alertOf(riseThenFade.slice(3).map((p) => detMag(p.mjd, 'r', p.mag))));
    assert.equal(fading.riseRate_r, null, 'the first detection is the peak');
    near(fading.fadeRate_r, 0.1, 1e-9, 'fadeRate_r');
  });

  test('bands are separate; negative fluxes are skipped; baselines under an hour give no rate', () => {
    const row = objectFeatures(alertOf([
      detMag(t, 'i', 20), det(t + 0.5, 'i', -1000), detMag(t + 2, 'i', 19), // rise 0.5 mag/day, the negative point ignored
      detMag(t + 2, 'z', 19), detMag(t + 2 + 50 * MINUTE, 'z', 18), // 50 minutes: too short
    ]));
    near(row.riseRate_i, 0.5, 1e-9, 'riseRate_i');
    assert.equal(row.riseRate_z, null);
    assert.equal(row.fadeRate_z, null);
  });

  test('riseFade() on a single point, and on an exact hour', () => {
    assert.deepEqual(riseFade(seriesOfMags([{ mjd: t, mag: 19 }])), { rise: null, fade: null });
    const hour = riseFade(seriesOfMags([{ mjd: 61000.25, mag: 19 }, { mjd: 61000.25 + HOUR, mag: 18.9 }]));
    assert.ok(hour.rise !== null && Math.abs(hour.rise - 2.4) < 1e-6, `rise ${hour.rise}`);
  });
});

describe('position', () => {
  test('galactic latitude and longitude of known points', () => {
    near(galacticFromEquatorial(192.85948, 27.12825).b, 90, 1e-4, 'north galactic pole');
    const centre = galacticFromEquatorial(266.40499, -28.93617);
    near(centre.b, 0, 1e-4, 'galactic centre b');
    near(centre.l > 180 ? centre.l - 360 : centre.l, 0, 1e-4, 'galactic centre l');
    const origin = galacticFromEquatorial(0, 0);
    near(origin.b, -60.1886, 1e-3, '(0, 0) b');
    near(origin.l, 96.3373, 1e-3, '(0, 0) l');
    near(galacticFromEquatorial(12.85948, -27.12825).b, -90, 1e-4, 'south galactic pole');
    const south = galacticFromEquatorial(0, -90);
    assert.ok(south.l >= 0 && south.l < 360);
  });

  test('the row takes the alert position, and its galactic coordinates', () => {
    const row = objectFeatures(alertOf([det(61000.1, 'g', 100)], { ra: 192.85948, dec: 27.12825 }));
    assert.equal(row.ra, 192.85948);
    assert.equal(row.decl, 27.12825);
    near(row.glat, 90, 1e-4, 'glat');
  });

  test('Rubin diaObject: mean position and mean fluxes (v10 and v4 names); NaN means are null', () => {
    const v10 = objectFeatures(alertOf([det(61000.1, 'g', 100)], {
      record: { diaObject: { diaObjectId: OBJECT, ra: 266.40499, dec: -28.93617, g_psfFluxMean: 1234.5, r_psfFluxMean: Number.NaN, i_psfFluxMean: null } },
    }));
    assertClean(v10);
    assert.equal(v10.ra, 266.40499, 'the diaObject position, not the alert one');
    assert.equal(v10.decl, -28.93617);
    near(v10.glat, 0, 1e-4, 'glat');
    assert.equal(v10.meanFlux_g, 1234.5);
    assert.equal(v10.meanFlux_r, null);
    assert.equal(v10.meanFlux_i, null);
    const v4 = objectFeatures(alertOf([det(61000.1, 'g', 100)], { schema: 'lsst.v4_0.alert', record: { diaObject: { ra: 10, decl: 20, zPSFluxMean: -77 } } }));
    assert.equal(v4.decl, 20);
    assert.equal(v4.meanFlux_z, -77);
  });

  test('no usable diaObject: the alert position; DESC simulations have no usable means', () => {
    const nulls = objectFeatures(alertOf([det(61000.1, 'g', 100)], { record: { diaObject: { diaObjectId: null, ra: null, dec: null } } }));
    assert.equal(nulls.ra, 150.1);
    assert.equal(nulls.decl, 2.2);
    const elasticc = objectFeatures(alertOf([det(61000.1, 'g', 100)], { survey: 'elasticc', record: { diaObject: { ra: 5, decl: 6, gPSFluxMean: 42 } } }));
    assert.equal(elasticc.ra, 5);
    assert.equal(elasticc.meanFlux_g, null, 'SNANA flux units, not nJy');
  });
});

describe('identity', () => {
  test('Rubin object: diaObjectId as BigInt and objectId as its digits', () => {
    const row = objectFeatures(alertOf([det(61000.1, 'g', 100)]));
    assert.equal(row.objectId, '170028485706776685');
    assert.equal(row.diaObjectId, OBJECT);
    assert.equal(row.ssObjectId, null);
    assert.equal(row.survey, 'lsst');
    assert.equal(row.objectKind, 'object');
  });

  test('ZTF names, solar-system objects and lone sources', () => {
    const ztf = objectFeatures(alertOf([det(61000.1, 'g', 100)], { survey: 'ztf', objectId: 'ZTF26aamcbly' }));
    assert.deepEqual([ztf.objectId, ztf.diaObjectId, ztf.ssObjectId, ztf.survey], ['ZTF26aamcbly', null, null, 'ztf']);
    const solar = objectFeatures(alertOf([det(61000.1, 'g', 100)], { objectId: 21163624394469969n, objectKind: 'solarSystem' }));
    assert.deepEqual([solar.objectId, solar.diaObjectId, solar.ssObjectId, solar.objectKind], ['21163624394469969', null, 21163624394469969n, 'solarSystem']);
    const lone = objectFeatures(alertOf([det(61000.1, 'g', 100)], { objectId: 99n, objectKind: 'source' }));
    assert.deepEqual([lone.diaObjectId, lone.ssObjectId, lone.objectKind], [null, null, 'source']);
  });
});

describe('nulls, never NaN', () => {
  test('one detection: every band, colour, rate and reliability column without data is null', () => {
    const row = objectFeatures(alertOf([det(61000.1, 'g', 100)], { snr: null, reliability: null }));
    assertClean(row);
    const allowed = new Set(['objectId', 'diaObjectId', 'survey', 'objectKind', 'ra', 'decl', 'glon', 'glat', 'firstDiaSourceMjd', 'lastDiaSourceMjd',
      'nSources', 'nSources_u', 'nSources_g', 'nSources_r', 'nSources_i', 'nSources_z', 'nSources_y', 'nPositive', 'nNights', 'nReliable', 'nForced',
      'latestFlux_g', 'latestMjd_g', 'latestMag_g', 'alertSourceId', 'alertMjd', 'alertBand', 'alertFlux', 'alertFluxErr', 'alertMag']);
    for (const [name, value] of Object.entries(row)) {
      if (!allowed.has(name)) assert.equal(value, null, name);
    }
    assert.equal(row.nReliable, 0);
    assert.equal(row.nSources_u, 0, 'counts are zero, not null');
  });

  test('NaN and infinite inputs come out as null', () => {
    const row = objectFeatures(alertOf([det(61000.1, 'g', Number.NaN), det(61000.2, 'r', Number.POSITIVE_INFINITY, { fluxErr: Number.NaN })], {
      flux: Number.NaN, fluxErr: Number.POSITIVE_INFINITY, snr: Number.NaN, ra: Number.NaN,
    }));
    assertClean(row);
    assert.equal(row.latestFlux_g, null);
    assert.equal(row.latestMag_g, null);
    assert.equal(row.latestFlux_r, null);
    assert.equal(row.alertFlux, null);
    assert.equal(row.alertFluxErr, null);
    assert.equal(row.alertSnr, null);
    assert.equal(row.ra, null);
    assert.equal(row.glat, null, 'no galactic coordinates without a position');
    assert.equal(row.nPositive, 0);
  });

  test('detections out of time order are ordered first', () => {
    const detections = [det(61003.1, 'g', 300), det(61000.1, 'g', 100), det(61001.1, 'r', 200)];
    const alert = alertOf(detections);
    alert.lightcurve.detections = detections; // as given, unsorted
    const row = objectFeatures(alert);
    assert.equal(row.latestFlux_g, 300);
    assert.equal(row.firstDiaSourceMjd, 61000.1);
    assert.equal(row.nNights, 3);
  });
});

describe('featuresForBatch', () => {
  test('one row per object, from its newest alert, in order of first appearance', () => {
    const a1 = alertOf([det(61000.1, 'g', 100)]);
    const b1 = alertOf([det(61000.15, 'r', 50)], { objectId: 42n });
    const a2 = alertOf([det(61000.1, 'g', 100), det(61000.3, 'g', 200)]);
    const a0 = alertOf([det(61000.05, 'g', 90)]);
    const rows = featuresForBatch([a1, b1, a2, a0]);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r.objectId), ['170028485706776685', '42']);
    assert.equal(rows[0]?.alertMjd, 61000.3);
    assert.equal(rows[0]?.nSources, 2);
    assert.equal(rows[1]?.alertMjd, 61000.15);
  });

  test('same time: the larger source id wins; same id in different surveys or kinds are different objects', () => {
    const early = alertOf([det(61000.1, 'g', 100)], { sourceId: 10n });
    const late = alertOf([det(61000.1, 'g', 200)], { sourceId: 11n });
    assert.deepEqual(newestPerObject([late, early]), [late]);
    assert.deepEqual(newestPerObject([early, late]), [late]);
    const ztf = alertOf([det(61000.1, 'g', 1)], { survey: 'ztf', objectId: '170028485706776685' });
    const solar = alertOf([det(61000.1, 'g', 1)], { objectKind: 'solarSystem' });
    assert.equal(featuresForBatch([early, ztf, solar]).length, 3);
    assert.deepEqual(featuresForBatch([]), []);
  });
});
