// The JSON records of a filter's Kafka stream, exactly in Lasair's three formats (seed 001):
//
//   plain  {<selected attributes, keys as the SELECT named them>, "UTC": "YYYY-MM-DD HH:MM:SS"}
//   lite   plain + "alert": {"diaSourcesList": [{psfFlux, psfFluxErr, midpointMjdTai, band,
//          reliability}, ...], "diaForcedSourcesList": [{psfFlux, psfFluxErr, midpointMjdTai,
//          band}, ...]}
//   full   plain + "alert": {"diaObject": {...}, "diaSourcesList": [...],
//          "diaForcedSourcesList": [...]}: the alert's own records, without cutouts
//
// Written with src/util/json.ts, so 64-bit ids are bare integer digits. As in Lasair, a record
// whose alert is not available is sent without the "alert" key; a selected column named UTC is
// overwritten by the produced time. NaN and infinite values (Rubin writes NaN for "not
// measured") become null: JSON has no NaN.
//
// Lite records come from the Alert model's lightcurve, so they work for every survey: psfFlux
// and psfFluxErr are difference fluxes in nJy (for ZTF derived from magpsf/sigmapsf and
// isdiffpos; for ELaSTICC/PLAsTiCC converted from FLUXCAL), midpointMjdTai is the survey's own
// time (ZTF: UTC exposure start, MJD = jd − 2400000.5), band is the band name (ZTF g/r/i),
// reliability the survey's real/bogus score (ZTF drb, else rb). Points are in time order.
//
// Full records carry the survey's own records, as received, so field names are the survey's:
//   Rubin layout (lsst, elasticc, plasticc, rapid): diaObject = the alert's diaObject (null if
//     none); diaSourcesList = diaSource and prvDiaSources; diaForcedSourcesList =
//     prvDiaForcedSources.
//   ZTF layout (ztf, winter): diaObject = the alert's top-level plain values (objectId, candid,
//     schemavsn, publisher, and any broker-added scores); diaSourcesList = candidate and the
//     prv_candidates that are detections (with a candid); diaForcedSourcesList = fp_hists.
//     Non-detections (prv_candidates without candid) are left out: the format has no place
//     for them.
//   Other surveys (DECam, ASKAP): diaObject = the top-level plain values; the lists are the
//     Alert model's points under Rubin names (diaSourceId, midpointMjdTai, band, psfFlux,
//     psfFluxErr, reliability, ra, dec).
// Each list is sorted by time (stable), repeats of one source id dropped.
import type { Alert, Point } from '../formats/alert.ts';
import { stringify } from '../util/json.ts';
import type { JsonOutput } from './output-modes.ts';

/** One output row of a filter: column name → value (64-bit integers as BigInt). */
export type FilterRow = Readonly<Record<string, unknown>>;
type Rec = Record<string, unknown>;

/** Lasair's timestamp: UTC, "YYYY-MM-DD HH:MM:SS". */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error('formatUtc: invalid date');
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** The selected attributes, in the row's order, then UTC. */
export function plainRecord(row: FilterRow, utc: string): Rec {
  const out: Rec = {};
  for (const [key, value] of Object.entries(row)) out[key] = value;
  out.UTC = utc;
  return out;
}

export interface LiteSource {
  psfFlux: number | null;
  psfFluxErr: number | null;
  midpointMjdTai: number;
  band: string;
  reliability: number | null;
}

export interface LiteForcedSource {
  psfFlux: number | null;
  psfFluxErr: number | null;
  midpointMjdTai: number;
  band: string;
}

export interface LiteLightcurve {
  diaSourcesList: LiteSource[];
  diaForcedSourcesList: LiteForcedSource[];
}

/** Lasair's lite lightcurve of an alert (key order as in seed 001). */
export function liteLightcurve(alert: Alert): LiteLightcurve {
  return {
    diaSourcesList: alert.lightcurve.detections.map((p) => ({ psfFlux: p.flux, psfFluxErr: p.fluxErr, midpointMjdTai: p.mjd, band: p.band, reliability: p.reliability })),
    diaForcedSourcesList: alert.lightcurve.forced.map((p) => ({ psfFlux: p.flux, psfFluxErr: p.fluxErr, midpointMjdTai: p.mjd, band: p.band })),
  };
}

export interface FullAlert {
  diaObject: Rec | null;
  diaSourcesList: Rec[];
  diaForcedSourcesList: Rec[];
}

const RUBIN_LAYOUT = new Set(['lsst', 'elasticc', 'plasticc', 'rapid']);
const ZTF_LAYOUT = new Set(['ztf', 'winter']);
const RUBIN_TIME = ['midpointMjdTai', 'midPointTai', 'midpointMjd'] as const;

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The record without byte fields (cutouts); the same object when it has none. */
function withoutBytes(rec: Rec): Rec {
  let hasBytes = false;
  for (const key in rec) {
    if (rec[key] instanceof Uint8Array) {
      hasBytes = true;
      break;
    }
  }
  if (!hasBytes) return rec;
  const out: Rec = {};
  for (const [key, value] of Object.entries(rec)) if (!(value instanceof Uint8Array)) out[key] = value;
  return out;
}

function records(value: unknown): Rec[] {
  return Array.isArray(value) ? value.filter(isRec) : [];
}

function timeOf(rec: Rec, keys: readonly string[]): number {
  for (const key of keys) {
    const v = rec[key];
    if (typeof v === 'number') return v;
  }
  return Number.POSITIVE_INFINITY;
}

/** Repeats of one id dropped (first kept), then a stable sort by time. */
function timeOrdered(list: Rec[], idKey: string, timeKeys: readonly string[]): Rec[] {
  const seen = new Set<unknown>();
  const kept: Rec[] = [];
  for (const rec of list) {
    const id = rec[idKey];
    if (id !== undefined && id !== null) {
      // JSON-read records may hold small ids as numbers and large ones as BigInt.
      const key = typeof id === 'number' ? BigInt(id) : id;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(withoutBytes(rec));
  }
  return kept
    .map((rec, index) => ({ rec, index, t: timeOf(rec, timeKeys) }))
    .sort((a, b) => a.t - b.t || a.index - b.index)
    .map((e) => e.rec);
}

/** The alert's top-level plain values (no records, lists or bytes). */
function topLevelValues(record: Rec): Rec {
  const out: Rec = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === null || typeof value !== 'object') out[key] = value;
  }
  return out;
}

function pointRecord(p: Point, idKey: 'diaSourceId' | 'diaForcedSourceId'): Rec {
  return { [idKey]: p.sourceId, midpointMjdTai: p.mjd, band: p.band, psfFlux: p.flux, psfFluxErr: p.fluxErr, reliability: p.reliability, ra: p.ra, dec: p.dec };
}

/** The full alert as Lasair sends it: object, sources and forced sources, without cutouts. */
export function fullAlert(alert: Alert): FullAlert {
  const record = alert.record;
  if (RUBIN_LAYOUT.has(alert.survey) && isRec(record.diaSource)) {
    const diaObject = isRec(record.diaObject) ? withoutBytes(record.diaObject) : null;
    return {
      diaObject,
      diaSourcesList: timeOrdered([record.diaSource, ...records(record.prvDiaSources)], 'diaSourceId', RUBIN_TIME),
      diaForcedSourcesList: timeOrdered(records(record.prvDiaForcedSources), 'diaForcedSourceId', RUBIN_TIME),
    };
  }
  if (ZTF_LAYOUT.has(alert.survey) && isRec(record.candidate)) {
    const detections = records(record.prv_candidates).filter((c) => c.candid !== null && c.candid !== undefined);
    return {
      diaObject: topLevelValues(record),
      diaSourcesList: timeOrdered([record.candidate, ...detections], 'candid', ['jd']),
      diaForcedSourcesList: timeOrdered(records(record.fp_hists), '', ['jd']),
    };
  }
  return {
    diaObject: topLevelValues(record),
    diaSourcesList: alert.lightcurve.detections.map((p) => pointRecord(p, 'diaSourceId')),
    diaForcedSourcesList: alert.lightcurve.forced.map((p) => pointRecord(p, 'diaForcedSourceId')),
  };
}

/**
 * The record of one matched row in a JSON output. `alert` is the row's object's newest alert;
 * when it is undefined, lite and full records go out without "alert" (as Lasair does).
 */
export function jsonRecord(output: JsonOutput, row: FilterRow, alert: Alert | undefined, utc: string): Rec {
  const out = plainRecord(row, utc);
  if (alert !== undefined) {
    if (output === 'kafka-lite') out.alert = liteLightcurve(alert);
    else if (output === 'kafka-full') out.alert = fullAlert(alert);
  }
  return out;
}

/** UTF-8 JSON of a record, 64-bit integers as bare digits. */
export function encodeJsonRecord(record: Rec): Buffer {
  return Buffer.from(stringify(record), 'utf8');
}
