// Filter-stream records as alerts, so `view` can plot them: Lasair's lite and full JSON records
// and Nightjar's Avro stream carry the lightcurve under `alert` ({diaSourcesList,
// diaForcedSourcesList}, see src/delivery/records.ts and avro-records.ts), not in a survey
// layout the adapters read.
//   full records hold the survey's own source records: they are put back into the survey's
//     layout (Rubin: diaSource + prvDiaSources + prvDiaForcedSources; ZTF: candidate +
//     prv_candidates + fp_hists) and read by the survey adapter, so nothing is re-derived here;
//   lite records (and anything the adapters refuse) give their points directly: psfFlux and
//     psfFluxErr in nJy, midpointMjdTai, band, reliability.
// Identity comes from the record's own fields (diaObjectId/objectId, diaSourceId/candid, ra,
// decl/dec); a lite record naming no source is given the latest point's id, else its object id.
import { AdapterError, toAlert } from '../formats/adapters/index.ts';
import { dedupeAndSort, fluxErrToMagErr, fluxToMag, signalToNoise, type Alert, type Point } from '../formats/alert.ts';

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const recs = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** An id as BigInt (JSON gives small integers as numbers, big ones and Avro longs as BigInt). */
function id(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return null;
}

function firstOf<T>(read: (v: unknown) => T | null, ...values: unknown[]): T | null {
  for (const v of values) {
    const got = read(v);
    if (got !== null) return got;
  }
  return null;
}

/** The `alert` part of a filter-stream record, or null for any other record. */
function lightcurvePart(record: Rec): { sources: Rec[]; forced: Rec[]; diaObject: Rec | null } | null {
  const part = record.alert;
  if (!isRec(part) || !Array.isArray(part.diaSourcesList)) return null;
  return { sources: recs(part.diaSourcesList), forced: recs(part.diaForcedSourcesList), diaObject: isRec(part.diaObject) ? part.diaObject : null };
}

/** True for Lasair lite/full records and Nightjar's Avro stream records (a lightcurve under `alert`). */
export function isStreamRecord(record: Rec): boolean {
  return lightcurvePart(record) !== null;
}

const timeOf = (s: Rec): number | null => firstOf(num, s.midpointMjdTai, s.midPointTai, s.mjd) ?? (num(s.jd) === null ? null : (num(s.jd) as number) - 2400000.5);

/** The source list in time order, the latest first (it becomes the triggering detection). */
function latestFirst(sources: readonly Rec[]): Rec[] {
  return [...sources].sort((a, b) => (timeOf(b) ?? -Infinity) - (timeOf(a) ?? -Infinity));
}

/** A full record put back into its survey's layout, or null when its sources are not a survey's own. */
function surveyLayout(record: Rec, part: NonNullable<ReturnType<typeof lightcurvePart>>): Rec | null {
  const [latest, ...rest] = latestFirst(part.sources);
  if (latest === undefined) return null;
  if ('diaSourceId' in latest && ('ra' in latest) && ('midpointMjdTai' in latest || 'midPointTai' in latest)) {
    return { diaSource: latest, prvDiaSources: rest, prvDiaForcedSources: part.forced, diaObject: part.diaObject };
  }
  if ('candid' in latest && 'magpsf' in latest && 'jd' in latest) {
    // Nightjar's ZTF full records keep the top-level values (objectId, schemavsn, ...) in diaObject.
    return { ...(part.diaObject ?? {}), objectId: part.diaObject?.objectId ?? record.objectId, candid: latest.candid, candidate: latest, prv_candidates: rest, fp_hists: part.forced };
  }
  return null;
}

function litePoint(s: Rec, idKey: 'diaSourceId' | 'diaForcedSourceId'): Point | null {
  const mjd = timeOf(s);
  const band = firstOf(text, s.band, s.filterName);
  if (mjd === null || band === null) return null;
  const flux = firstOf(num, s.psfFlux, s.psFlux);
  const fluxErr = firstOf(num, s.psfFluxErr, s.psFluxErr);
  return {
    sourceId: id(s[idKey]),
    mjd,
    band,
    flux,
    fluxErr,
    mag: fluxToMag(flux),
    magErr: fluxErrToMagErr(flux, fluxErr),
    reliability: num(s.reliability),
    scienceFlux: null,
    scienceFluxErr: null,
    ra: num(s.ra),
    dec: firstOf(num, s.dec, s.decl),
  };
}

/** A lite record's Alert: points as listed, identity from the record's own fields. */
function liteAlert(record: Rec, schemaName: string, part: NonNullable<ReturnType<typeof lightcurvePart>>): Alert {
  const detections = dedupeAndSort(part.sources.map((s) => litePoint(s, 'diaSourceId')).filter((p): p is Point => p !== null));
  const forced = dedupeAndSort(part.forced.map((s) => litePoint(s, 'diaForcedSourceId')).filter((p): p is Point => p !== null));
  const latest = detections.at(-1) ?? forced.at(-1);
  const diaSource = isRec(record.diaSource) ? record.diaSource : {};
  const objectId = firstOf(id, record.diaObjectId, diaSource.diaObjectId, part.diaObject?.diaObjectId, record.objectId) ?? firstOf(text, record.objectId, record.objectid);
  if (objectId === null) throw new AdapterError(schemaName, 'diaObjectId or objectId', 'missing', 'a stream record names no object');
  const sourceId = firstOf(id, record.diaSourceId, record.candid, diaSource.diaSourceId) ?? latest?.sourceId ?? (typeof objectId === 'bigint' ? objectId : null);
  if (sourceId === null) throw new AdapterError(schemaName, 'diaSourceId or candid', 'missing', 'a stream record names no source');
  const survey = record.survey === 'ztf' || typeof objectId === 'string' ? 'ztf' : 'lsst';
  return {
    survey,
    schema: schemaName,
    schemaVersion: null,
    alertId: null,
    objectId,
    objectKind: 'object',
    sourceId,
    ra: firstOf(num, record.ra, diaSource.ra, latest?.ra) ?? Number.NaN,
    dec: firstOf(num, record.dec, record.decl, diaSource.dec, latest?.dec) ?? Number.NaN,
    mjd: latest?.mjd ?? Number.NaN,
    timeScale: survey === 'ztf' ? 'UTC' : 'TAI',
    band: latest?.band ?? '',
    flux: latest?.flux ?? null,
    fluxErr: latest?.fluxErr ?? null,
    mag: latest?.mag ?? null,
    magErr: latest?.magErr ?? null,
    reliability: latest?.reliability ?? null,
    snr: signalToNoise(latest?.flux ?? null, latest?.fluxErr ?? null),
    lightcurve: { detections, forced, upperLimits: [] },
    cutouts: {},
    record,
  };
}

/**
 * The Alert of a filter-stream record ({@link isStreamRecord}); `record` of the result is the
 * stream record itself. Throws AdapterError when it names no object or source.
 */
export function streamRecordToAlert(record: Rec, schemaName: string): Alert {
  const part = lightcurvePart(record);
  if (part === null) throw new AdapterError(schemaName, 'alert.diaSourcesList', 'missing', 'not a filter-stream record');
  const layout = surveyLayout(record, part);
  if (layout !== null) {
    try {
      return { ...toAlert(layout, ''), schema: schemaName, record };
    } catch (err) {
      if (!(err instanceof AdapterError)) throw err;
      // Not quite the survey's layout after all: the lite reading still gives the lightcurve.
    }
  }
  return liteAlert(record, schemaName, part);
}

/** Any saved record as an Alert: filter-stream records by their lightcurve, survey alerts by their adapter. */
export function savedRecordToAlert(record: Rec, schemaName: string): Alert {
  return isStreamRecord(record) ? streamRecordToAlert(record, schemaName) : toAlert(record, schemaName);
}
