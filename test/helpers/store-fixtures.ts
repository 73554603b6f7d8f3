// Hand-made alerts and filter matches for the store tests: the same fixtures serve the DuckDB
// tests and the PostgreSQL ones that check both stores give the same results.
import type { Alert, Point, UpperLimit } from '../../src/formats/alert.ts';
import type { NewFilterMatch } from '../../src/store/index.ts';

export const OBJECT = 170028485706776685n; // > 2^53
const FIRST_SOURCE_ID = 170094456272322680n;
let nextSourceId = FIRST_SOURCE_ID;

/** Source ids start again from the first: two stores given the same scenario get the same alerts. */
export function resetSourceIds(): void {
  nextSourceId = FIRST_SOURCE_ID;
}

/** A detection with a fresh source id (> 2^53). */
export function point(mjd: number, band = 'r', extra: Partial<Point> = {}): Point {
  return {
    sourceId: nextSourceId++, mjd, band, flux: 1000 + mjd, fluxErr: 50, mag: 23.9, magErr: 0.05,
    reliability: 0.9, scienceFlux: 5000, scienceFluxErr: 60, ra: 150.1, dec: 2.2, ...extra,
  };
}

export interface AlertSpec {
  objectId?: bigint | string;
  survey?: Alert['survey'];
  objectKind?: Alert['objectKind'];
  /** The triggering detection; also the last of the detections. */
  trigger: Point;
  history?: Point[];
  forced?: Point[];
  upperLimits?: UpperLimit[];
}

/** A Rubin v10 alert of OBJECT (unless given) triggered by spec.trigger. */
export function alert(spec: AlertSpec): Alert {
  const { trigger } = spec;
  return {
    survey: spec.survey ?? 'lsst',
    schema: 'lsst.v10_0.alert',
    schemaVersion: '10.0',
    alertId: null,
    objectId: spec.objectId ?? OBJECT,
    objectKind: spec.objectKind ?? 'object',
    sourceId: trigger.sourceId as bigint,
    ra: 150.1,
    dec: 2.2,
    mjd: trigger.mjd,
    timeScale: 'TAI',
    band: trigger.band,
    flux: trigger.flux,
    fluxErr: trigger.fluxErr,
    mag: trigger.mag,
    magErr: trigger.magErr,
    reliability: trigger.reliability,
    snr: 20,
    lightcurve: { detections: [...(spec.history ?? []), trigger], forced: spec.forced ?? [], upperLimits: spec.upperLimits ?? [] },
    cutouts: {},
    record: {},
  };
}

export const MATCHED_OBJECT = 170587115523932323n;

/** Filter match n: its own object and source (64-bit), a row of several JSON types. */
export function match(filterId: number, n: number, at = '2026-03-01T02:03:04.567Z'): NewFilterMatch {
  return {
    filterId,
    objectId: String(MATCHED_OBJECT + BigInt(n)),
    sourceId: MATCHED_OBJECT * 10n + BigInt(n),
    mjd: 61000.5 + n,
    matchedAt: at,
    row: { diaObjectId: MATCHED_OBJECT + BigInt(n), gmag: 19.5 + n / 10, name: `obj ${n}`, flag: n % 2 === 0, nothing: null },
    survey: 'lsst',
  };
}
