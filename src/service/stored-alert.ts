// An object's newest alert as far as the store can rebuild it, for the records of a backfill
// (lite, full and Avro records read an Alert; see src/delivery/records.ts and avro-records.ts).
//
// The store keeps each object's `objects` row, its whole lightcurve and the provenance of its
// alerts, not the survey's records. So the rebuilt Alert has:
//   - identity and the triggering detection from the objects row (alertSourceId, alertMjd,
//     alertBand, alertFlux, alertFluxErr, alertMag, alertSnr) and that detection's stored
//     point (position, magErr, reliability); schema and alertId from the newest stored alert;
//   - lightcurve: every stored detection, forced measurement and upper limit of the object —
//     the object's whole stored history, which can be longer than the one alert carried;
//   - record: the stored objects row (plain values). The survey's own record (Rubin diaObject,
//     diaSource with all its fields, ZTF candidate) is not stored, so a backfilled
//     "full alert" JSON record carries diaObject = the objects row and the stored points under
//     Rubin names (diaSourceId, midpointMjdTai, band, psfFlux, psfFluxErr, reliability, ra,
//     dec) rather than the survey's full records. Records made by the pipeline from a live
//     alert carry the survey's records;
//   - cutouts: the stored images (Store.cutouts) when they came with this same alert (the
//     broker's --cutouts policy decides which alerts keep them), else none; schemaVersion: null (not stored);
//     timeScale: inferred from the survey (UTC for ZTF and WINTER, TAI otherwise — RAPID v0.2
//     alerts were UTC, which the store does not record).
// Lite records and the Avro stream's fields are complete: they read only what is listed above.
import type { ObjectRow } from '../features/compute.ts';
import { fluxErrToMagErr, type Alert, type Lightcurve, type ObjectKind, type Survey } from '../formats/alert.ts';
import type { ObjectKey, Store, StoredAlert, StoredCutouts } from '../store/store.ts';

/** Surveys whose object ids are 64-bit integers (BigInt in the Alert model); the others name objects by text. */
const NUMERIC_ID_SURVEYS: ReadonlySet<Survey> = new Set(['lsst', 'elasticc', 'plasticc', 'rapid']);
const UTC_SURVEYS: ReadonlySet<Survey> = new Set(['ztf', 'winter']);

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function big(value: unknown): bigint | null {
  return typeof value === 'bigint' ? value : null;
}

/** The Alert model's objectId for a stored key: BigInt where the survey numbers its objects. */
export function alertObjectId(survey: Survey, objectId: string | bigint): bigint | string {
  if (typeof objectId === 'bigint') return objectId;
  return NUMERIC_ID_SURVEYS.has(survey) && /^-?\d+$/.test(objectId) ? BigInt(objectId) : objectId;
}

/** The stored images as the Alert's cutouts, if they came with the alert `sourceId`; images of an older alert are left out. */
function cutoutsOf(stored: StoredCutouts | null | undefined, sourceId: bigint): Alert['cutouts'] {
  if (stored === null || stored === undefined || stored.sourceId !== sourceId) return {};
  const cutouts: Alert['cutouts'] = {};
  if (stored.science !== undefined) cutouts.science = stored.science;
  if (stored.template !== undefined) cutouts.template = stored.template;
  if (stored.difference !== undefined) cutouts.difference = stored.difference;
  return cutouts;
}

/**
 * The Alert rebuilt from what the store holds about an object (see the file comment); undefined
 * when the store has no objects row for it or no triggering detection.
 */
export function storedAlert(object: ObjectRow | null, lightcurve: Lightcurve, newest: StoredAlert | undefined, images?: StoredCutouts | null): Alert | undefined {
  if (object === null) return undefined;
  const survey = object.survey as Survey;
  const objectKind = object.objectKind as ObjectKind;
  const sourceId = big(object.alertSourceId) ?? newest?.sourceId;
  const mjd = num(object.alertMjd) ?? newest?.mjd;
  if (sourceId === undefined || mjd === undefined) return undefined;
  const trigger = lightcurve.detections.find((p) => p.sourceId === sourceId);
  const flux = num(object.alertFlux) ?? trigger?.flux ?? null;
  const fluxErr = num(object.alertFluxErr) ?? trigger?.fluxErr ?? null;
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) record[key] = value;
  return {
    survey,
    schema: newest?.schema ?? 'unknown',
    schemaVersion: null,
    alertId: newest?.alertId ?? null,
    objectId: alertObjectId(survey, String(object.objectId)),
    objectKind,
    sourceId,
    ra: trigger?.ra ?? num(object.ra) ?? 0,
    dec: trigger?.dec ?? num(object.decl) ?? 0,
    mjd,
    timeScale: UTC_SURVEYS.has(survey) ? 'UTC' : 'TAI',
    band: typeof object.alertBand === 'string' ? object.alertBand : (trigger?.band ?? newest?.band ?? ''),
    flux,
    fluxErr,
    mag: num(object.alertMag) ?? trigger?.mag ?? null,
    magErr: trigger?.magErr ?? fluxErrToMagErr(flux, fluxErr),
    reliability: trigger?.reliability ?? null,
    snr: num(object.alertSnr),
    lightcurve,
    cutouts: cutoutsOf(images, sourceId),
    record,
  };
}

/** Reads an object's row, lightcurve, newest alert and cutouts from the store and rebuilds its Alert. */
export async function loadStoredAlert(store: Store, key: ObjectKey): Promise<Alert | undefined> {
  const [object, lightcurve, alerts, images] = await Promise.all([store.getObject(key), store.lightcurve(key), store.alertsOf(key, 1), store.cutouts(key)]);
  return storedAlert(object, lightcurve, alerts[0], images);
}
