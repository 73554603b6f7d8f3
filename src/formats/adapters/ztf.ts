// ZTF alerts, schema 3.x and 4.x, as IPAC writes them (ztf.alert) and as brokers re-serialise
// them (Pitt-Google's rewritten header, Fink's Spark `topLevelRecord` files with added
// values). Layout: `candidate` (the triggering detection), `prv_candidates` (30 days of earlier
// detections, and non-detections with a null candid), `fp_hists` (forced photometry, 4.x),
// three `{fileName, stampData}` cutouts with gzip FITS.
//
// Conversions (ZTF magnitudes are AB, calibrated to PS1):
//   mjd  = jd − 2400000.5 (UTC, start of exposure)
//   band = fid 1/2/3 → g/r/i
//   flux = ±10^((31.4 − magpsf)/2.5) nJy, sign from isdiffpos ('t'/'1' +, 'f'/'0' −);
//          fluxErr = |flux|·sigmapsf·ln10/2.5; mag/magErr = magpsf/sigmapsf as given
//          (for a negative detection magpsf is the magnitude of |flux|)
//   forced flux = forcediffimflux·10^((31.4 − magzpsci)/2.5) nJy (−99999 = no measurement)
//   upper limit = diffmaglim (5 sigma)
import { dedupeAndSort, dedupeAndSortLimits, fluxToMag, fluxErrToMagErr, jdToMjd, magErrToFluxErr, magToFlux, AB_ZERO_POINT_NJY } from '../alert.ts';
import type { Alert, Point, Survey, UpperLimit } from '../alert.ts';
import { AdapterError } from './errors.ts';
import { childPlace, mapRecordItems, optCutout, optId, optNumber, optString, reqId, reqNumber, reqRecord, reqString, rootPlace, value } from './read.ts';
import type { Keys, Place, Rec } from './read.ts';

const MAG_PER_LN = 2.5 / Math.LN10;

/** ZTF's "no measurement" value in fp_hists. */
const ZTF_MISSING = -99999;

export interface ZtfLayoutOptions {
  survey: Survey;
  /** Field holding the object name (`objectId`; WINTER writes `objectid`). */
  objectIdKey: string;
  /** Band name of a filter id, or undefined for an unknown id. */
  band: (fid: number) => string | undefined;
  cutoutKeys: { science: Keys; template: Keys; difference: Keys };
  /**
   * Whether magpsf is an AB magnitude that can be turned into nJy. False for WINTER, whose
   * schema does not say which system its near-infrared magnitudes are in.
   */
  abMagnitudes: boolean;
}

const ZTF_BANDS: Readonly<Record<number, string>> = { 1: 'g', 2: 'r', 3: 'i' };

const ZTF: ZtfLayoutOptions = {
  survey: 'ztf',
  objectIdKey: 'objectId',
  band: (fid) => ZTF_BANDS[fid],
  cutoutKeys: { science: 'cutoutScience', template: 'cutoutTemplate', difference: 'cutoutDifference' },
  abMagnitudes: true,
};

/**
 * +1 or −1 from an isdiffpos value: ZTF writes 't'/'f' (older packets '1'/'0'), WINTER a
 * boolean, DECam an integer. Null when absent; AdapterError when unrecognised.
 */
export function diffSign(rec: Rec, place: Place): 1 | -1 | null {
  const v = value(rec, 'isdiffpos');
  if (v === null) return null;
  if (v === 't' || v === '1' || v === true || v === 1 || v === 1n) return 1;
  if (v === 'f' || v === '0' || v === false || v === 0 || v === 0n) return -1;
  const field = place.path === '' ? 'isdiffpos' : `${place.path}.isdiffpos`;
  throw new AdapterError(place.schema, field, 'invalid', `unrecognised value ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
}

function readBand(rec: Rec, place: Place, options: ZtfLayoutOptions): string {
  const fid = reqNumber(rec, 'fid', place);
  const band = options.band(fid);
  if (band === undefined) throw new AdapterError(place.schema, place.path === '' ? 'fid' : `${place.path}.fid`, 'invalid', `unknown filter id ${fid}`);
  return band;
}

/**
 * A detection. `required` is true for the triggering candidate: there a missing isdiffpos is
 * an error; in the history it only leaves the flux unknown.
 */
function readDetection(rec: Rec, place: Place, sourceId: bigint, options: ZtfLayoutOptions, required: boolean): Point {
  const mag = required ? reqNumber(rec, 'magpsf', place) : optNumber(rec, 'magpsf', place);
  const magErr = required ? reqNumber(rec, 'sigmapsf', place) : optNumber(rec, 'sigmapsf', place);
  const sign = diffSign(rec, place);
  if (required && sign === null) throw new AdapterError(place.schema, place.path === '' ? 'isdiffpos' : `${place.path}.isdiffpos`, 'missing');
  const flux = options.abMagnitudes && mag !== null && sign !== null ? sign * magToFlux(mag) : null;
  return {
    sourceId,
    mjd: jdToMjd(reqNumber(rec, 'jd', place)),
    band: readBand(rec, place, options),
    flux,
    fluxErr: flux !== null && magErr !== null ? magErrToFluxErr(flux, magErr) : null,
    mag,
    magErr,
    reliability: optNumber(rec, ['drb', 'rb'], place),
    scienceFlux: null,
    scienceFluxErr: null,
    ra: optNumber(rec, 'ra', place),
    dec: optNumber(rec, 'dec', place),
  };
}

function readLimit(rec: Rec, place: Place, options: ZtfLayoutOptions): UpperLimit {
  const limitMag = optNumber(rec, 'diffmaglim', place);
  return {
    mjd: jdToMjd(reqNumber(rec, 'jd', place)),
    band: readBand(rec, place, options),
    limitMag,
    fluxNoise: limitMag !== null && options.abMagnitudes ? magToFlux(limitMag) / 5 : null,
  };
}

function forcedFlux(rec: Rec, key: string, zeroPoint: number | null, place: Place): number | null {
  const dn = optNumber(rec, key, place);
  if (dn === null || dn === ZTF_MISSING || zeroPoint === null) return null;
  return dn * 10 ** ((AB_ZERO_POINT_NJY - zeroPoint) / 2.5);
}

function readForced(rec: Rec, place: Place, options: ZtfLayoutOptions): Point {
  const zeroPoint = optNumber(rec, 'magzpsci', place);
  const flux = forcedFlux(rec, 'forcediffimflux', zeroPoint, place);
  const fluxErr = forcedFlux(rec, 'forcediffimfluxunc', zeroPoint, place);
  return {
    sourceId: null,
    mjd: jdToMjd(reqNumber(rec, 'jd', place)),
    band: readBand(rec, place, options),
    flux,
    fluxErr,
    mag: fluxToMag(flux),
    magErr: fluxErrToMagErr(flux, fluxErr),
    reliability: null,
    scienceFlux: null,
    scienceFluxErr: null,
    ra: null,
    dec: null,
  };
}

/** Builds the Alert from a record in the ZTF layout (ZTF itself, WINTER). */
export function ztfLayoutToAlert(record: Rec, schema: string, options: ZtfLayoutOptions): Alert {
  const place = rootPlace(schema);
  const candidate = reqRecord(record, 'candidate', place);
  const candidatePlace = childPlace(place, 'candidate');
  const objectId = reqString(record, options.objectIdKey, place);
  // The top-level candid is the alert's; Fink's Spark files and old packets may only have the candidate's.
  const sourceId = optId(record, 'candid', place) ?? reqId(candidate, 'candid', candidatePlace);
  const current = readDetection(candidate, candidatePlace, sourceId, options, true);

  const detections = [current];
  const limits: UpperLimit[] = [];
  mapRecordItems(record, 'prv_candidates', place, (item, itemPlace) => {
    const candid = optId(item, 'candid', itemPlace);
    if (candid === null) limits.push(readLimit(item, itemPlace, options));
    else detections.push(readDetection(item, itemPlace, candid, options, false));
  });
  const forced = mapRecordItems(record, 'fp_hists', place, (item, itemPlace) => readForced(item, itemPlace, options));

  return {
    survey: options.survey,
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
    mag: current.mag,
    magErr: current.magErr,
    reliability: current.reliability,
    // The detection S/N implied by the magnitude error (= |flux|/fluxErr where flux is known).
    snr: current.magErr !== null && current.magErr > 0 ? MAG_PER_LN / current.magErr : null,
    lightcurve: { detections: dedupeAndSort(detections), forced: dedupeAndSort(forced), upperLimits: dedupeAndSortLimits(limits) },
    cutouts: {
      science: optCutout(record, options.cutoutKeys.science, place),
      template: optCutout(record, options.cutoutKeys.template, place),
      difference: optCutout(record, options.cutoutKeys.difference, place),
    },
    record,
  };
}

export function ztfToAlert(record: Rec, schema: string): Alert {
  return ztfLayoutToAlert(record, schema, ZTF);
}
