// Smaller surveys, read as far as their records allow (layouts learned from the writer
// schemas embedded in the sample files):
//   DECam DESIRT (desirt.alert)  ZTF-like: candidate {mjd, band, psfFlux [nJy], isdiffpos, …}, fp_hists
//   DECam DECAT (decat.object)   an object with triggersource + sources[] {mjd, filter, mag, flux [DN]}
//   WINTER (winter.alert)        ZTF layout, `objectid`, fid 0..3 = Y/J/H/K, snake_case cutouts
//   Roman RAPID (rapid.vXX_YY)   Rubin layout; psfFlux unsigned with isNegative (v0.2) / isdiffpos (v1.0)
//   ASKAP/VAST (askap.alert)     radio: candidate {jd, frequency [MHz], flux_peak [mJy/beam]}
import { dedupeAndSort, jdToMjd, magErrToFluxErr, magToFlux, signalToNoise } from '../alert.ts';
import type { Alert, Point } from '../alert.ts';
import { childPlace, mapRecordItems, optBytes, optCutout, optId, optNumber, optString, reqId, reqNumber, reqRecord, reqString, rootPlace } from './read.ts';
import type { Place, Rec } from './read.ts';
import { rubinLayoutToAlert, versionFromName } from './rubin-layout.ts';
import { diffSign, ztfLayoutToAlert } from './ztf.ts';

// ---- DECam: DESIRT ----

function desirtPoint(rec: Rec, place: Place, sourceId: bigint | null): Point {
  let flux = optNumber(rec, 'psfFlux', place);
  // psfFlux is nJy (forcediffimmag = 31.4 − 2.5·log10 psfFlux in the samples); isdiffpos 0 flips it.
  if (flux !== null && flux > 0 && diffSign(rec, place) === -1) flux = -flux;
  const fluxErr = optNumber(rec, 'psfFluxErr', place);
  const mag = optNumber(rec, 'forcediffimmag', place);
  return {
    sourceId,
    mjd: reqNumber(rec, 'mjd', place),
    band: reqString(rec, 'band', place),
    flux,
    fluxErr,
    mag,
    magErr: mag === null ? null : optNumber(rec, 'forcediffimmagunc', place),
    reliability: optNumber(rec, 'reliability', place),
    scienceFlux: null,
    scienceFluxErr: null,
    ra: optNumber(rec, 'ra', place),
    dec: optNumber(rec, 'dec', place),
  };
}

/** DECam alerts from the DESIRT survey (desirt.alert). MJD of the exposure, taken as UTC. */
export function desirtToAlert(record: Rec, schema: string): Alert {
  const place = rootPlace(schema);
  const candidate = reqRecord(record, 'candidate', place);
  const candidatePlace = childPlace(place, 'candidate');
  const sourceId = reqId(record, 'candid', place);
  const current = desirtPoint(candidate, candidatePlace, sourceId);
  const forced = mapRecordItems(record, 'fp_hists', place, (item, itemPlace) => desirtPoint(item, itemPlace, null));
  return {
    survey: 'decam',
    schema,
    schemaVersion: null,
    alertId: null,
    objectId: reqString(record, 'objectId', place),
    objectKind: 'object',
    sourceId,
    ra: reqNumber(candidate, 'ra', candidatePlace),
    dec: reqNumber(candidate, 'dec', candidatePlace),
    mjd: current.mjd,
    timeScale: 'UTC',
    band: current.band,
    flux: current.flux,
    fluxErr: current.fluxErr,
    mag: current.mag,
    magErr: current.magErr,
    reliability: current.reliability,
    snr: signalToNoise(current.flux, current.fluxErr),
    lightcurve: { detections: [current], forced: dedupeAndSort(forced), upperLimits: [] },
    cutouts: {
      science: optBytes(record, 'cutoutScience', place),
      template: optBytes(record, 'cutoutTemplate', place),
      difference: optBytes(record, 'cutoutDifference', place),
    },
    record,
  };
}

// ---- DECam: DECAT ----

/**
 * A DECAT source. `flux` is in image counts (mag = magzp − 2.5·log10 flux), so the nJy flux comes
 * from the calibrated magnitude, with the sign of the counts. `filter` is the FITS FILTER header,
 * e.g. "g DECam SDSS c0001 4720.0 1520.0"; the band is its first word.
 */
function decatPoint(rec: Rec, place: Place): Point {
  const mag = optNumber(rec, 'mag', place);
  const magErr = optNumber(rec, 'magerr', place);
  const counts = optNumber(rec, 'flux', place);
  const flux = mag === null ? null : (counts !== null && counts < 0 ? -1 : 1) * magToFlux(mag);
  const filter = reqString(rec, 'filter', place);
  return {
    sourceId: reqId(rec, 'sourceid', place),
    mjd: reqNumber(rec, 'mjd', place),
    band: filter.trim().split(/\s+/)[0] ?? filter,
    flux,
    fluxErr: flux !== null && magErr !== null ? magErrToFluxErr(flux, magErr) : null,
    mag,
    magErr,
    reliability: optNumber(rec, 'rb', place),
    scienceFlux: null,
    scienceFluxErr: null,
    ra: optNumber(rec, 'ra', place),
    dec: optNumber(rec, 'dec', place),
  };
}

/** DECam alerts from the DECAT pipeline (decat.object). MJD-OBS header times, UTC. */
export function decatToAlert(record: Rec, schema: string): Alert {
  const place = rootPlace(schema);
  const trigger = reqRecord(record, 'triggersource', place);
  const triggerPlace = childPlace(place, 'triggersource');
  const current = decatPoint(trigger, triggerPlace);
  const sourceId = reqId(trigger, 'sourceid', triggerPlace);
  const detections = [current, ...mapRecordItems(record, 'sources', place, decatPoint)];
  return {
    survey: 'decam',
    schema,
    schemaVersion: null,
    alertId: null,
    objectId: reqString(record, 'objectid', place),
    objectKind: 'object',
    sourceId,
    ra: reqNumber(trigger, 'ra', triggerPlace),
    dec: reqNumber(trigger, 'dec', triggerPlace),
    mjd: current.mjd,
    timeScale: 'UTC',
    band: current.band,
    flux: current.flux,
    fluxErr: current.fluxErr,
    mag: current.mag,
    magErr: current.magErr,
    reliability: current.reliability,
    snr: signalToNoise(current.flux, current.fluxErr),
    lightcurve: { detections: dedupeAndSort(detections), forced: [], upperLimits: [] },
    cutouts: {
      science: optBytes(trigger, 'scicutout', triggerPlace),
      template: optBytes(trigger, 'refcutout', triggerPlace),
      difference: optBytes(trigger, 'diffcutout', triggerPlace),
    },
    record,
  };
}

// ---- WINTER ----

const WINTER_BANDS: Readonly<Record<number, string>> = { 0: 'Y', 1: 'J', 2: 'H', 3: 'K' };

/**
 * WINTER (winter.alert): the ZTF layout with `objectid`, near-infrared filters and boolean
 * isdiffpos. Its schema does not say whether magpsf is AB or Vega (2MASS-calibrated), so no
 * nJy flux is derived: flux and fluxErr are null, mag/magErr are magpsf/sigmapsf.
 */
export function winterToAlert(record: Rec, schema: string): Alert {
  return ztfLayoutToAlert(record, schema, {
    survey: 'winter',
    objectIdKey: 'objectid',
    band: (fid) => WINTER_BANDS[fid],
    cutoutKeys: { science: 'cutout_science', template: 'cutout_template', difference: 'cutout_difference' },
    abMagnitudes: false,
  });
}

// ---- Roman RAPID ----

/** Roman alerts from RAPID (rapid.v00_02, rapid.v01_00): the Rubin layout, fluxes in nJy. */
export function rapidToAlert(record: Rec, schema: string): Alert {
  const declared = optString(record, 'schemaVersion', rootPlace(schema));
  return rubinLayoutToAlert(record, schema, {
    survey: 'rapid',
    schemaVersion: declared ?? versionFromName(schema),
    fluxScale: 1,
    signFromFlag: true,
  });
}

// ---- ASKAP / VAST ----

const NJY_PER_MJY = 1e6;

/**
 * An ASKAP measurement. The flux is the peak flux density (mJy/beam, = mJy for an unresolved
 * source) in nJy; the band is the observing frequency, e.g. `887.5MHz`. No magnitude: an AB
 * magnitude of a radio flux would only mislead optical filters.
 */
function askapPoint(rec: Rec, place: Place, sourceId: bigint): Point {
  const peak = optNumber(rec, 'flux_peak', place);
  const peakErr = optNumber(rec, 'flux_peak_err', place);
  const frequency = optNumber(rec, 'frequency', place);
  return {
    sourceId,
    mjd: jdToMjd(reqNumber(rec, 'jd', place)),
    band: frequency === null ? 'radio' : `${frequency}MHz`,
    flux: peak === null ? null : peak * NJY_PER_MJY,
    fluxErr: peakErr === null ? null : peakErr * NJY_PER_MJY,
    mag: null,
    magErr: null,
    reliability: null,
    scienceFlux: null,
    scienceFluxErr: null,
    ra: optNumber(rec, 'ra', place),
    dec: optNumber(rec, 'dec', place),
  };
}

/** ASKAP/VAST radio alerts (askap.alert). JD of the epoch, taken as UTC. */
export function askapToAlert(record: Rec, schema: string): Alert {
  const place = rootPlace(schema);
  const candidate = reqRecord(record, 'candidate', place);
  const candidatePlace = childPlace(place, 'candidate');
  const sourceId = optId(record, 'candid', place) ?? reqId(candidate, 'candid', candidatePlace);
  const current = askapPoint(candidate, candidatePlace, sourceId);
  const history = (key: string): Point[] =>
    mapRecordItems(record, key, place, (item, itemPlace) => askapPoint(item, itemPlace, reqId(item, 'candid', itemPlace)));
  const objectId = reqString(record, 'objectId', place);
  return {
    survey: 'askap',
    schema,
    schemaVersion: optString(record, 'schemavsn', place),
    alertId: null,
    objectId,
    objectKind: 'object',
    sourceId,
    ra: reqNumber(candidate, 'ra', candidatePlace),
    dec: reqNumber(candidate, 'dec', candidatePlace),
    mjd: current.mjd,
    timeScale: 'UTC',
    band: current.band,
    flux: current.flux,
    fluxErr: current.fluxErr,
    mag: null,
    magErr: null,
    reliability: null,
    snr: optNumber(candidate, 'snr', candidatePlace) ?? signalToNoise(current.flux, current.fluxErr),
    lightcurve: { detections: dedupeAndSort([current, ...history('prv_candidates')]), forced: dedupeAndSort(history('fp_hists')), upperLimits: [] },
    cutouts: {
      science: optCutout(record, 'cutoutScience', place),
      template: optCutout(record, 'cutoutTemplate', place),
      difference: optCutout(record, 'cutoutDifference', place),
    },
    record,
  };
}
