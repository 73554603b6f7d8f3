// The Rubin alert layout, shared by every schema built on it: Rubin lsst.v3_0 … v11_1 (and
// Fink/Spark and Lasair re-serialisations of them), ELaSTICC/PLAsTiCC, and Roman RAPID. An
// alert is a triggering `diaSource`, its history (`prvDiaSources`, `prvDiaForcedSources`,
// `prvDiaNondetectionLimits` up to v7) and the `diaObject` / solar-system record.
// Field names changed between versions; each read lists every name a field has had:
//   midPointTai (≤ v4, ELaSTICC) → midpointMjdTai (v5+)     filterName → band
//   psFlux/psFluxErr → psfFlux/psfFluxErr                     decl → dec
//   totFlux/totFluxErr (≤ v4) → scienceFlux/scienceFluxErr (v5, v8+)
//   alertId (≤ v7) → top-level diaSourceId (v8+); ssObject (≤ v7) → ssSource (v8+)
import { dedupeAndSort, dedupeAndSortLimits, fluxErrToMagErr, fluxToMag, signalToNoise } from '../alert.ts';
import type { Alert, ObjectKind, Point, Survey, TimeScale, UpperLimit } from '../alert.ts';
import {
  childPlace, mapRecordItems, optBooleanOf, optBytes, optId, optNumber, optNumberOf, optRecord, presentKey, reqId, reqIdOf, reqNumber, reqNumberOf,
  reqRecord, reqString, reqStringOf, rootPlace,
} from './read.ts';
import type { Place, Rec } from './read.ts';

const TIME = ['midpointMjdTai', 'midPointTai', 'midpointMjd'] as const;
const BAND = ['band', 'filterName'] as const;
const DEC = ['dec', 'decl'] as const;
const FLUX = ['psfFlux', 'psFlux'] as const;
const FLUX_ERR = ['psfFluxErr', 'psFluxErr'] as const;
const SCIENCE_FLUX = ['scienceFlux', 'totFlux'] as const;
const SCIENCE_FLUX_ERR = ['scienceFluxErr', 'totFluxErr'] as const;

export interface RubinLayoutOptions {
  survey: Survey;
  schemaVersion: string | null;
  /** Factor from the record's flux unit to nJy: 1 for Rubin and RAPID, FLUXCAL→nJy for DESC sims. */
  fluxScale: number;
  /**
   * Roman RAPID writes psfFlux unsigned with a sign flag (`isNegative` in v0.2, `isdiffpos` in
   * v1.0); Rubin's psfFlux is already signed and its isNegative must not be applied again.
   */
  signFromFlag: boolean;
}

/** Rubin's single-letter bands are lower case; ELaSTICC writes `Y`. Other names stay as given. */
function normaliseBand(band: string): string {
  return band.length === 1 ? band.toLowerCase() : band;
}

function scaled(flux: number | null, scale: number): number | null {
  return flux === null ? null : flux * scale;
}

function isNegativeBySign(source: Rec, place: Place): boolean {
  return optBooleanOf(source.isNegative, 'isNegative', place) === true || optBooleanOf(source.isdiffpos, 'isdiffpos', place) === false;
}

// The hot loop: hundreds of history items per alert. Fields are loaded by name (every name a
// field has had, newest first) and only then checked; see read.ts.
function readPoint(s: Rec, place: Place, idKey: 'diaSourceId' | 'diaForcedSourceId', options: RubinLayoutOptions): Point {
  const scale = options.fluxScale;
  let flux = scaled(optNumberOf(s.psfFlux ?? s.psFlux, FLUX, place), scale);
  if (options.signFromFlag && flux !== null && flux > 0 && isNegativeBySign(s, place)) flux = -flux;
  const fluxErr = scaled(optNumberOf(s.psfFluxErr ?? s.psFluxErr, FLUX_ERR, place), scale);
  return {
    sourceId: reqIdOf(idKey === 'diaSourceId' ? s.diaSourceId : s.diaForcedSourceId, idKey, place),
    mjd: reqNumberOf(s.midpointMjdTai ?? s.midPointTai ?? s.midpointMjd, TIME, place),
    band: normaliseBand(reqStringOf(s.band ?? s.filterName, BAND, place)),
    flux,
    fluxErr,
    mag: fluxToMag(flux),
    magErr: fluxErrToMagErr(flux, fluxErr),
    reliability: optNumberOf(s.reliability, 'reliability', place),
    scienceFlux: scaled(optNumberOf(s.scienceFlux ?? s.totFlux, SCIENCE_FLUX, place), scale),
    scienceFluxErr: scaled(optNumberOf(s.scienceFluxErr ?? s.totFluxErr, SCIENCE_FLUX_ERR, place), scale),
    ra: optNumberOf(s.ra, 'ra', place),
    dec: optNumberOf(s.dec ?? s.decl, DEC, place),
  };
}

/** Rubin ≤ v7 non-detections: diaNoise is the 1-sigma flux noise; the limit is 5 sigma. */
function readLimit(limit: Rec, place: Place, options: RubinLayoutOptions): UpperLimit {
  const fluxNoise = scaled(optNumber(limit, 'diaNoise', place), options.fluxScale);
  return {
    mjd: reqNumber(limit, TIME, place),
    band: normaliseBand(reqString(limit, BAND, place)),
    limitMag: fluxNoise === null ? null : fluxToMag(5 * fluxNoise),
    fluxNoise,
  };
}

interface ObjectRef {
  objectId: bigint;
  objectKind: ObjectKind;
}

/**
 * The object an alert is about, in order: the triggering diaSource's diaObjectId, the
 * diaObject record's id, a solar-system id (diaSource.ssObjectId, ssSource, ssObject), and
 * failing all of those the diaSourceId itself. Spark-written records put 0 (and records of
 * nulls) where Rubin has null; optId treats 0 as absent.
 */
function resolveObject(record: Rec, source: Rec, sourceId: bigint, place: Place): ObjectRef {
  const sourcePlace = childPlace(place, 'diaSource');
  const fromSource = optId(source, 'diaObjectId', sourcePlace);
  if (fromSource !== null) return { objectId: fromSource, objectKind: 'object' };
  const diaObject = optRecord(record, 'diaObject', place);
  const fromObject = diaObject && optId(diaObject, 'diaObjectId', childPlace(place, 'diaObject'));
  if (fromObject) return { objectId: fromObject, objectKind: 'object' };
  const ssSource = optRecord(record, 'ssSource', place);
  const ssObject = optRecord(record, 'ssObject', place);
  const solar =
    optId(source, 'ssObjectId', sourcePlace) ??
    (ssSource && optId(ssSource, 'ssObjectId', childPlace(place, 'ssSource'))) ??
    (ssObject && optId(ssObject, 'ssObjectId', childPlace(place, 'ssObject')));
  if (solar) return { objectId: solar, objectKind: 'solarSystem' };
  return { objectId: sourceId, objectKind: 'source' };
}

/** Builds the Alert from a record in the Rubin layout. */
export function rubinLayoutToAlert(record: Rec, schema: string, options: RubinLayoutOptions): Alert {
  const place = rootPlace(schema);
  const source = reqRecord(record, 'diaSource', place);
  const sourcePlace = childPlace(place, 'diaSource');
  const sourceId = reqId(source, 'diaSourceId', sourcePlace);
  const current = readPoint(source, sourcePlace, 'diaSourceId', options);
  const { objectId, objectKind } = resolveObject(record, source, sourceId, place);
  const timeScale: TimeScale = presentKey(source, TIME) === 'midpointMjd' ? 'UTC' : 'TAI';

  // The current detection goes first so that it wins over a copy of itself in the history.
  const detections = [current, ...mapRecordItems(record, 'prvDiaSources', place, (item, itemPlace) => readPoint(item, itemPlace, 'diaSourceId', options))];
  const forced = mapRecordItems(record, 'prvDiaForcedSources', place, (item, itemPlace) => readPoint(item, itemPlace, 'diaForcedSourceId', options));
  const limits = mapRecordItems(record, 'prvDiaNondetectionLimits', place, (item, itemPlace) => readLimit(item, itemPlace, options));

  return {
    survey: options.survey,
    schema,
    schemaVersion: options.schemaVersion,
    alertId: optId(record, 'alertId', place),
    objectId,
    objectKind,
    sourceId,
    ra: reqNumber(source, 'ra', sourcePlace),
    dec: reqNumber(source, DEC, sourcePlace),
    mjd: current.mjd,
    timeScale,
    band: current.band,
    flux: current.flux,
    fluxErr: current.fluxErr,
    mag: current.mag,
    magErr: current.magErr,
    reliability: current.reliability,
    snr: optNumber(source, 'snr', sourcePlace) ?? signalToNoise(current.flux, current.fluxErr),
    lightcurve: { detections: dedupeAndSort(detections), forced: dedupeAndSort(forced), upperLimits: dedupeAndSortLimits(limits) },
    cutouts: {
      science: optBytes(record, 'cutoutScience', place),
      template: optBytes(record, ['cutoutTemplate', 'cutoutReference'], place),
      difference: optBytes(record, 'cutoutDifference', place),
    },
    record,
  };
}

/** `lsst.v10_0.alert` → `10.0`, `elasticc.v0_9_1.alert` → `0.9.1`; null without a `vX_Y` part. */
export function versionFromName(name: string): string | null {
  const match = /(?:^|\.)v(\d+(?:_\d+)*)(?:\.|$)/.exec(name);
  return match?.[1]?.replaceAll('_', '.') ?? null;
}
