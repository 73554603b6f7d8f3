// The one internal alert model. Every survey adapter (src/formats/adapters/) produces it and
// every later stage (features, filters, store, delivery, web) reads only it: survey
// differences end at the adapter. A plain data object, so it can be cloned, compared in tests
// and serialised with src/util/json.ts (BigInt ids stay exact).

/** Which survey (or simulation) the alert came from. */
export type Survey = 'lsst' | 'ztf' | 'elasticc' | 'plasticc' | 'decam' | 'winter' | 'rapid' | 'askap';

/**
 * What `objectId` names. `object`: a static-sky object (Rubin diaObject, ZTF/WINTER/DECam
 * objectId, …). `solarSystem`: a Rubin ssObjectId (the source was associated with a known
 * moving object, so there is no diaObject). `source`: no object id at all; `objectId` is the
 * triggering source id, so the alert still has a key. Ids of different kinds can collide;
 * key stores with {@link alertObjectKey}.
 */
export type ObjectKind = 'object' | 'solarSystem' | 'source';

/**
 * Time scale of the MJDs. Rubin, ELaSTICC/PLAsTiCC and RAPID v1 give TAI mid-exposure times;
 * ZTF and WINTER give UTC Julian dates of the exposure start; Roman RAPID v0.2 gives a UTC
 * mid-exposure MJD. The scales differ by 37 s, never converted here.
 */
export type TimeScale = 'TAI' | 'UTC';

/** One photometric measurement of the object: a detection or a forced measurement. */
export interface Point {
  /** diaSourceId / diaForcedSourceId / candid; null where the survey gives none (ZTF fp_hists). */
  sourceId: bigint | null;
  mjd: number;
  band: string;
  /** Difference-image PSF flux in nJy, signed (negative = fainter than the template). */
  flux: number | null;
  fluxErr: number | null;
  /** Survey magnitude where given (ZTF magpsf: of |flux|), else AB mag of a positive flux. */
  mag: number | null;
  magErr: number | null;
  reliability: number | null;
  /** Direct-image (science) flux in nJy where the survey measures it (Rubin totFlux/scienceFlux). */
  scienceFlux: number | null;
  scienceFluxErr: number | null;
  ra: number | null;
  dec: number | null;
}

/** A non-detection: the survey looked and saw nothing above its limit. */
export interface UpperLimit {
  mjd: number;
  band: string;
  /** 5-sigma limiting AB magnitude of the difference image. */
  limitMag: number | null;
  /** 1-sigma flux noise in nJy (Rubin diaNoise; derived from limitMag where not given). */
  fluxNoise: number | null;
}

/** History in the alert plus the triggering detection, each list sorted by mjd, no duplicates. */
export interface Lightcurve {
  detections: Point[];
  forced: Point[];
  upperLimits: UpperLimit[];
}

/** Cutout images exactly as the record carries them (gzip FITS for ZTF, plain FITS for Rubin). */
export interface Cutouts {
  science?: Uint8Array;
  template?: Uint8Array;
  difference?: Uint8Array;
}

export interface Alert {
  survey: Survey;
  /** Writer schema full name as given to the adapter, e.g. `lsst.v10_0.alert`, `topLevelRecord`. */
  schema: string;
  /** Alert schema version where the record or schema says it (`10.0`, `4.02`, `0.9.1`), else null. */
  schemaVersion: string | null;
  /** Rubin ≤ v7 and ELaSTICC `alertId`; null where the schema has none. */
  alertId: bigint | null;
  objectId: bigint | string;
  objectKind: ObjectKind;
  /** Id of the triggering detection (diaSourceId / candid). */
  sourceId: bigint;
  /** Position of the triggering detection, degrees. */
  ra: number;
  dec: number;
  /** Time of the triggering detection (see {@link TimeScale}). */
  mjd: number;
  timeScale: TimeScale;
  band: string;
  flux: number | null;
  fluxErr: number | null;
  mag: number | null;
  magErr: number | null;
  reliability: number | null;
  /** Detection signal-to-noise: the survey's value, else |flux| / fluxErr. */
  snr: number | null;
  lightcurve: Lightcurve;
  cutouts: Cutouts;
  /** The decoded record, untouched. */
  record: Record<string, unknown>;
}

/** AB magnitude of 1 nJy: m = 31.4 − 2.5·log10(f / nJy). */
export const AB_ZERO_POINT_NJY = 31.4;

/** 2.5 / ln 10: converts a relative flux error to a magnitude error. */
const MAG_PER_LN = 2.5 / Math.LN10;

/** Flux in nJy of an AB magnitude. */
export function magToFlux(mag: number): number {
  return 10 ** ((AB_ZERO_POINT_NJY - mag) / 2.5);
}

/** AB magnitude of a flux in nJy; null unless the flux is positive. */
export function fluxToMag(flux: number | null): number | null {
  return flux !== null && flux > 0 ? AB_ZERO_POINT_NJY - 2.5 * Math.log10(flux) : null;
}

/** Magnitude error of a flux measurement; null unless the flux is positive. */
export function fluxErrToMagErr(flux: number | null, fluxErr: number | null): number | null {
  return flux !== null && fluxErr !== null && flux > 0 ? (MAG_PER_LN * fluxErr) / flux : null;
}

/** Flux error (nJy) of a magnitude error, for a flux of the given size. */
export function magErrToFluxErr(flux: number, magErr: number): number {
  return (Math.abs(flux) * magErr) / MAG_PER_LN;
}

/** Modified Julian Date of a Julian Date. */
export function jdToMjd(jd: number): number {
  return jd - 2400000.5;
}

/** |flux| / fluxErr, or null when either is missing or the error is not positive. */
export function signalToNoise(flux: number | null, fluxErr: number | null): number | null {
  return flux !== null && fluxErr !== null && fluxErr > 0 ? Math.abs(flux) / fluxErr : null;
}

/** A string key that is unique across surveys and object kinds: `lsst:object:1701…`. */
export function alertObjectKey(alert: Pick<Alert, 'survey' | 'objectKind' | 'objectId'>): string {
  return `${alert.survey}:${alert.objectKind}:${alert.objectId}`;
}

function byTime(a: { mjd: number; band: string }, b: { mjd: number; band: string }): number {
  return a.mjd - b.mjd || (a.band < b.band ? -1 : a.band > b.band ? 1 : 0);
}

/** Time, then band, then source id: a total order, so equal inputs sort the same however listed. */
function byTimeThenId(a: Point, b: Point): number {
  const t = byTime(a, b);
  if (t !== 0 || a.sourceId === b.sourceId) return t;
  if (a.sourceId === null) return -1;
  if (b.sourceId === null) return 1;
  return a.sourceId < b.sourceId ? -1 : 1;
}

/**
 * Sorts points by mjd (then band, then source id) and drops repeats: the same source id, or,
 * for points without one, the same mjd and band. The first occurrence wins, so callers list the
 * current detection first.
 */
export function dedupeAndSort(points: readonly Point[]): Point[] {
  const kept = mayRepeat(points) ? dropRepeats(points) : points.slice();
  return isSorted(kept) ? kept : kept.sort(byTimeThenId);
}

/**
 * False when every point has a distinct source id, the common case. Checked by sorting the ids
 * in a BigInt64Array (native, no hashing); only if that finds a repeat (or a point has no id)
 * does the exact Set-based pass run. An id outside int64 wraps and at worst sends the points to
 * that exact pass too.
 */
function mayRepeat(points: readonly Point[]): boolean {
  const ids = new BigInt64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const id = (points[i] as Point).sourceId;
    if (id === null) return true;
    ids[i] = id;
  }
  ids.sort();
  for (let i = 1; i < ids.length; i++) if (ids[i] === ids[i - 1]) return true;
  return false;
}

function dropRepeats(points: readonly Point[]): Point[] {
  const seenIds = new Set<bigint>();
  const seenTimes = new Set<string>();
  const kept: Point[] = [];
  for (const point of points) {
    if (point.sourceId !== null) {
      if (seenIds.has(point.sourceId)) continue;
      seenIds.add(point.sourceId);
    } else {
      const key = `${point.mjd}|${point.band}`;
      if (seenTimes.has(key)) continue;
      seenTimes.add(key);
    }
    kept.push(point);
  }
  return kept;
}

function isSorted(points: readonly Point[]): boolean {
  for (let i = 1; i < points.length; i++) if (byTimeThenId(points[i - 1] as Point, points[i] as Point) > 0) return false;
  return true;
}

/** Sorts upper limits by mjd and drops repeats of the same mjd and band. */
export function dedupeAndSortLimits(limits: readonly UpperLimit[]): UpperLimit[] {
  const seen = new Set<string>();
  const kept: UpperLimit[] = [];
  for (const limit of limits) {
    const key = `${limit.mjd}|${limit.band}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(limit);
  }
  return kept.sort(byTime);
}
