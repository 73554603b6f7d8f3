// Alert → one `objects` row (the columns of columns.ts), and a batch of alerts → one row per
// object from its newest alert. Pure: no I/O, no clock, the same alert always gives the same row.
import { alertObjectKey, fluxToMag } from '../formats/alert.ts';
import type { Alert, Point } from '../formats/alert.ts';
import { BANDS, COLOUR_PAIRS, bandIndex } from './bands.ts';
import { colour } from './colours.ts';
import { OBJECT_COLUMNS, bandColumn } from './columns.ts';
import { galacticFromEquatorial } from './galactic.ts';
import { OBSERVATORY_LONGITUDE, nightOf } from './nights.ts';
import { riseFade } from './rates.ts';
import { RELIABLE_THRESHOLD, medianOf } from './reliability.ts';
import { emptySeries, pushPoint } from './series.ts';
import type { FluxSeries } from './series.ts';
import { surveyObject } from './survey-object.ts';

/** A value of an `objects` column: BigInt for BIGINT, number for INTEGER and DOUBLE, string for VARCHAR. */
export type ObjectValue = bigint | number | string | boolean | null;

/** One `objects` row, keyed by the column names of OBJECT_COLUMNS (all of them, no others). */
export type ObjectRow = Record<string, ObjectValue>;

const N_BANDS = BANDS.length;

// Column names resolved once, not per alert.
const NAMES = {
  nSources: BANDS.map(bandColumn.nSources),
  latestFlux: BANDS.map(bandColumn.latestFlux),
  latestMjd: BANDS.map(bandColumn.latestMjd),
  latestMag: BANDS.map(bandColumn.latestMag),
  meanFlux: BANDS.map(bandColumn.meanFlux),
  riseRate: BANDS.map(bandColumn.riseRate),
  fadeRate: BANDS.map(bandColumn.fadeRate),
};
const COLOURS = COLOUR_PAIRS.map(([bluer, redder]) => ({ name: bandColumn.colour(bluer, redder), a: bandIndex(bluer), b: bandIndex(redder) }));

// Every column present, all null, in table order: each row starts as a copy, so a row always has
// exactly the documented columns whatever the alert lacks.
const EMPTY_ROW: Readonly<ObjectRow> = Object.fromEntries(OBJECT_COLUMNS.map((c) => [c.name, null]));

function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

// Reliability scores go here for the median: one buffer reused by every call (calls never
// overlap), since allocating a typed array per alert costs more than the median itself.
let scratchBuffer = new Float64Array(1024);

function scratch(size: number): Float64Array {
  if (scratchBuffer.length < size) scratchBuffer = new Float64Array(Math.max(size, 2 * scratchBuffer.length));
  return scratchBuffer;
}

function isTimeSorted(points: readonly Point[]): boolean {
  for (let i = 1; i < points.length; i++) if ((points[i] as Point).mjd < (points[i - 1] as Point).mjd) return false;
  return true;
}

/** The `objects` row for the alert's object, from the alert and the history it carries. */
export function objectFeatures(alert: Alert): ObjectRow {
  const given = alert.lightcurve.detections;
  // The Alert model promises time order; a hand-built alert might not keep it.
  const detections = isTimeSorted(given) ? given : given.slice().sort((p, q) => p.mjd - q.mjd);
  const longitude = OBSERVATORY_LONGITUDE[alert.survey];

  const counts = new Array<number>(N_BANDS).fill(0);
  const latest = new Array<Point | null>(N_BANDS).fill(null);
  const series: FluxSeries[] = BANDS.map(emptySeries);
  const reliabilities = scratch(detections.length);
  let nReliabilities = 0;
  let latestReliability: number | null = null;
  let nPositive = 0;
  let nReliable = 0;
  let nNights = 0;
  let lastNight = Number.NaN;

  for (const p of detections) {
    const flux = finite(p.flux);
    if (flux !== null && flux > 0) nPositive++;
    // Detections are in time order, so nights never go back: counting changes counts nights.
    const night = nightOf(p.mjd, longitude);
    if (night !== lastNight && Number.isFinite(night)) {
      nNights++;
      lastNight = night;
    }
    const reliability = finite(p.reliability);
    if (reliability !== null) {
      reliabilities[nReliabilities++] = reliability;
      latestReliability = reliability;
      if (reliability > RELIABLE_THRESHOLD) nReliable++;
    }
    const b = bandIndex(p.band);
    if (b < 0) continue;
    counts[b] = (counts[b] as number) + 1;
    latest[b] = p;
    if (flux !== null && flux > 0) pushPoint(series[b] as FluxSeries, p.mjd, flux);
  }

  const numericId = typeof alert.objectId === 'bigint' ? alert.objectId : null;
  const summary = surveyObject(alert);
  const fromSurvey = summary !== null && summary.ra !== null && summary.dec !== null;
  const ra = fromSurvey ? summary.ra : finite(alert.ra);
  const dec = fromSurvey ? summary.dec : finite(alert.dec);
  const galactic = ra !== null && dec !== null ? galacticFromEquatorial(ra, dec) : null;
  const alertFlux = finite(alert.flux);
  const first = detections[0];
  const last = detections[detections.length - 1];

  const row: ObjectRow = { ...EMPTY_ROW };
  row.objectId = String(alert.objectId);
  row.diaObjectId = alert.objectKind === 'object' ? numericId : null;
  row.ssObjectId = alert.objectKind === 'solarSystem' ? numericId : null;
  row.survey = alert.survey;
  row.objectKind = alert.objectKind;
  row.ra = ra;
  row.decl = dec;
  row.glon = galactic === null ? null : galactic.l;
  row.glat = galactic === null ? null : galactic.b;
  row.firstDiaSourceMjd = first === undefined ? null : finite(first.mjd);
  row.lastDiaSourceMjd = last === undefined ? null : finite(last.mjd);
  row.nSources = detections.length;
  row.nPositive = nPositive;
  row.nNights = nNights;
  row.nReliable = nReliable;
  row.nForced = alert.lightcurve.forced.length;
  row.latestReliability = latestReliability;
  row.medianReliability = medianOf(reliabilities, nReliabilities);

  for (let b = 0; b < N_BANDS; b++) {
    row[NAMES.nSources[b] as string] = counts[b] as number;
    const p = latest[b];
    if (p !== null && p !== undefined) {
      const flux = finite(p.flux);
      row[NAMES.latestFlux[b] as string] = flux;
      row[NAMES.latestMjd[b] as string] = finite(p.mjd);
      row[NAMES.latestMag[b] as string] = fluxToMag(flux);
    }
    if (summary !== null) row[NAMES.meanFlux[b] as string] = summary.meanFlux[b] ?? null;
    const { rise, fade } = riseFade(series[b] as FluxSeries);
    row[NAMES.riseRate[b] as string] = rise;
    row[NAMES.fadeRate[b] as string] = fade;
  }
  for (const c of COLOURS) row[c.name] = colour(series[c.a] as FluxSeries, series[c.b] as FluxSeries);

  row.alertSourceId = alert.sourceId;
  row.alertMjd = finite(alert.mjd);
  row.alertBand = alert.band;
  row.alertFlux = alertFlux;
  row.alertFluxErr = finite(alert.fluxErr);
  row.alertMag = fluxToMag(alertFlux);
  row.alertSnr = finite(alert.snr);
  return row;
}

/** Whether alert `a` is newer than `b`: later time, or the same time and a larger source id. */
function isNewer(a: Alert, b: Alert): boolean {
  return a.mjd > b.mjd || (a.mjd === b.mjd && a.sourceId > b.sourceId);
}

/**
 * The newest alert of each object in the batch (latest mjd, ties broken by the larger
 * sourceId), objects keyed by survey, kind and id, in the order each object first appears.
 */
export function newestPerObject(alerts: readonly Alert[]): Alert[] {
  const newest = new Map<string, Alert>();
  for (const alert of alerts) {
    const key = alertObjectKey(alert);
    const kept = newest.get(key);
    // Map.set on an existing key keeps its place: the order stays that of first appearance.
    if (kept === undefined || isNewer(alert, kept)) newest.set(key, alert);
  }
  return [...newest.values()];
}

/** One row per object in the batch, from its newest alert (see newestPerObject). */
export function featuresForBatch(alerts: readonly Alert[]): ObjectRow[] {
  return newestPerObject(alerts).map(objectFeatures);
}
