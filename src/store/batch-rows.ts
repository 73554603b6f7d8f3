// A batch of alerts and objects rows → the column arrays the store stages: one row per object
// (the newest), the lightcurve points and upper limits without repeats, one row per alert.
// Pure: no database, so the rules (which row wins, what counts as a repeat) are tested alone.
import type { DuckDBValue } from '@duckdb/node-api';
import type { ObjectRow } from '../features/compute.ts';
import { batchColumns } from '../filters/batch-columns.ts';
import type { CatalogTable } from '../filters/catalog.ts';
import type { Alert, Point, UpperLimit } from '../formats/alert.ts';
import { POINT_VALUE_COLUMNS } from './schema.ts';
import type { StoreBatch } from './store.ts';

// pointRows writes the value columns by name, in this order.
if (POINT_VALUE_COLUMNS.join() !== 'flux,fluxErr,mag,magErr,reliability,scienceFlux,scienceFluxErr,ra,dec') throw new Error('POINT_VALUE_COLUMNS changed: update pointRows');

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** The objects that have alerts in the batch, by index; points and alerts refer to these indexes. */
export interface BatchKeys {
  survey: string[];
  objectKind: string[];
  objectId: string[];
}

// Numbers travel in typed arrays with NaN for null: DuckDB's vectors take them far faster than
// arrays of number | null, and the store turns NaN back into NULL (the Alert model has no NaN).

export interface PointColumns {
  count: number;
  keyIndex: Int32Array;
  /** 1 for forced photometry, 0 for a detection. */
  forced: Uint8Array;
  sourceId: (bigint | null)[];
  /** sourceId as 64-bit integers (0 where null), for bulk copies and hashing. */
  sourceIdInt64: BigInt64Array;
  /** 1 where sourceId is null. */
  sourceIdNull: Uint8Array;
  mjd: Float64Array;
  bandIndex: Int32Array;
  /** The points themselves: their values are read (by pointRows) only for those not stored yet. */
  point: Point[];
  /** How many points have no source id (deduplicated by time and band instead). */
  withoutId: number;
}

export interface LimitColumns {
  count: number;
  keyIndex: Int32Array;
  mjd: Float64Array;
  bandIndex: Int32Array;
  /** NaN = null. */
  limitMag: Float64Array;
  fluxNoise: Float64Array;
}

export interface AlertColumns {
  keyIndex: number[];
  sourceId: bigint[];
  alertId: (bigint | null)[];
  mjd: number[];
  band: string[];
  schema: string[];
  topic: (string | null)[];
  partition: (number | null)[];
  offset: (bigint | null)[];
}

/** A BIGINT column as 64-bit integers; rows where `isNull` is non-zero are NULL. */
export interface Int64Column {
  readonly int64: BigInt64Array;
  readonly isNull?: Uint8Array;
}

/** A staged column: values, a typed array of numbers (NaN = null for Float64Array), or 64-bit integers. */
export type ColumnValues = readonly DuckDBValue[] | Float64Array | Int32Array | Uint8Array | Int64Column;

export interface PreparedBatch {
  keys: BatchKeys;
  /** The newest row of each object in the batch, in order of first appearance. */
  objects: ObjectRow[];
  points: PointColumns;
  limits: LimitColumns;
  alerts: AlertColumns;
  /** Band names; points and limits hold indexes into this list. */
  bands: string[];
}

/** The key text of an object: survey and kind never contain ':', so it is unambiguous. */
export function keyText(survey: unknown, objectKind: unknown, objectId: unknown): string {
  return `${String(survey)}:${String(objectKind)}:${String(objectId)}`;
}

/**
 * Whether objects row `a` comes from a later alert than `b`: larger alertMjd, ties broken by
 * the larger alertSourceId; a missing value counts as the oldest. The store's upsert applies
 * the same rule in SQL.
 */
export function isNewerRow(a: ObjectRow, b: ObjectRow): boolean {
  const ma = typeof a.alertMjd === 'number' ? a.alertMjd : -Infinity;
  const mb = typeof b.alertMjd === 'number' ? b.alertMjd : -Infinity;
  if (ma !== mb) return ma > mb;
  const sa = typeof a.alertSourceId === 'bigint' ? a.alertSourceId : int64Min;
  const sb = typeof b.alertSourceId === 'bigint' ? b.alertSourceId : int64Min;
  return sa > sb;
}

function newestFirst(a: Alert, b: Alert): number {
  if (a.mjd !== b.mjd) return b.mjd - a.mjd;
  return a.sourceId === b.sourceId ? 0 : a.sourceId > b.sourceId ? -1 : 1;
}

function checkId(id: bigint, where: () => string): bigint {
  if (id < int64Min || id > int64Max) throw new Error(`${where()}: id ${id} is outside the 64-bit range`);
  return id;
}

function checkMjd(mjd: number, where: () => string): number {
  if (typeof mjd !== 'number' || !Number.isFinite(mjd)) throw new Error(`${where()}: mjd ${String(mjd)} is not a finite number`);
  return mjd;
}

function checkBand(band: string, where: () => string): string {
  if (typeof band !== 'string') throw new Error(`${where()}: band is not text`);
  return band;
}

function describeAlert(alert: Alert, index: number): string {
  return `alert ${index} (${keyText(alert.survey, alert.objectKind, alert.objectId)}, source ${String(alert.sourceId)})`;
}

/** Prepares a batch for staging; throws, naming the alert or row, if something cannot be stored. */
export function prepareBatch(batch: StoreBatch): PreparedBatch {
  const objects = newestRows(batch.objects);
  const keys: BatchKeys = { survey: [], objectKind: [], objectId: [] };
  const keyIndexes = new Map<string, number>();
  const groups: number[][] = [];
  batch.alerts.forEach((alert, index) => {
    const text = keyText(alert.survey, alert.objectKind, alert.objectId);
    let keyIndex = keyIndexes.get(text);
    if (keyIndex === undefined) {
      keyIndex = groups.length;
      keyIndexes.set(text, keyIndex);
      keys.survey.push(alert.survey);
      keys.objectKind.push(alert.objectKind);
      keys.objectId.push(String(alert.objectId));
      groups.push([]);
    }
    (groups[keyIndex] as number[]).push(index);
  });

  const bands = new Map<string, number>();
  let lastBand = '';
  let lastBandIndex = -1;
  const bandIndex = (band: string): number => {
    if (band === lastBand) return lastBandIndex;
    let i = bands.get(band);
    if (i === undefined) {
      i = bands.size;
      bands.set(band, i);
    }
    lastBand = band;
    lastBandIndex = i;
    return i;
  };
  let pointCapacity = 0;
  let limitCapacity = 0;
  for (const alert of batch.alerts) {
    pointCapacity += alert.lightcurve.detections.length + alert.lightcurve.forced.length;
    limitCapacity += alert.lightcurve.upperLimits.length;
  }
  const points: PointColumns = {
    count: 0,
    keyIndex: new Int32Array(pointCapacity),
    forced: new Uint8Array(pointCapacity),
    sourceId: [],
    sourceIdInt64: new BigInt64Array(pointCapacity),
    sourceIdNull: new Uint8Array(pointCapacity),
    mjd: new Float64Array(pointCapacity),
    bandIndex: new Int32Array(pointCapacity),
    point: [],
    withoutId: 0,
  };
  const limits: LimitColumns = {
    count: 0,
    keyIndex: new Int32Array(limitCapacity),
    mjd: new Float64Array(limitCapacity),
    bandIndex: new Int32Array(limitCapacity),
    limitMag: new Float64Array(limitCapacity),
    fluxNoise: new Float64Array(limitCapacity),
  };
  const alerts: AlertColumns = { keyIndex: [], sourceId: [], alertId: [], mjd: [], band: [], schema: [], topic: [], partition: [], offset: [] };

  groups.forEach((members, keyIndex) => {
    // Newest alert first: where two alerts carry the same point, the newest one's values are kept.
    const ordered = members.length === 1 ? members : members.slice().sort((i, j) => newestFirst(batch.alerts[i] as Alert, batch.alerts[j] as Alert));
    for (const forced of [false, true]) {
      const lists = ordered.map((i) => {
        const alert = batch.alerts[i] as Alert;
        return { alert, index: i, list: forced ? alert.lightcurve.forced : alert.lightcurve.detections };
      });
      addPoints(points, keyIndex, forced, lists, bandIndex);
    }
    addLimits(limits, keyIndex, ordered.map((i) => ({ alert: batch.alerts[i] as Alert, index: i })), bandIndex);
    const seenAlerts = new Set<bigint>();
    for (const i of ordered) {
      const alert = batch.alerts[i] as Alert;
      const where = (): string => describeAlert(alert, i);
      if (typeof alert.sourceId !== 'bigint') throw new Error(`${where()}: sourceId is not a BigInt`);
      checkId(alert.sourceId, where);
      if (seenAlerts.has(alert.sourceId)) continue;
      seenAlerts.add(alert.sourceId);
      const origin = batch.origins?.[i] ?? null;
      if (origin !== null && (!Number.isSafeInteger(origin.partition) || typeof origin.offset !== 'bigint')) {
        throw new Error(`${where()}: origin needs an integer partition and a BigInt offset`);
      }
      alerts.keyIndex.push(keyIndex);
      alerts.sourceId.push(alert.sourceId);
      alerts.alertId.push(alert.alertId === null ? null : checkId(alert.alertId, where));
      alerts.mjd.push(checkMjd(alert.mjd, where));
      alerts.band.push(checkBand(alert.band, where));
      alerts.schema.push(alert.schema);
      alerts.topic.push(origin?.topic ?? null);
      alerts.partition.push(origin?.partition ?? null);
      alerts.offset.push(origin?.offset ?? null);
    }
  });
  return { keys, objects, points: trimPoints(points), limits: trimLimits(limits), alerts, bands: [...bands.keys()] };
}

/** One row per object key, the newest by isNewerRow; checks that each row has its key. */
function newestRows(rows: readonly ObjectRow[]): ObjectRow[] {
  const newest = new Map<string, ObjectRow>();
  rows.forEach((row, index) => {
    for (const column of ['survey', 'objectKind', 'objectId']) {
      if (typeof row[column] !== 'string' || row[column] === '') throw new Error(`objects row ${index}: ${column} must be non-empty text, got ${String(row[column])}`);
    }
    const text = keyText(row.survey, row.objectKind, row.objectId);
    const kept = newest.get(text);
    if (kept === undefined || isNewerRow(row, kept)) newest.set(text, row);
  });
  return [...newest.values()];
}

interface PointList {
  alert: Alert;
  index: number;
  list: readonly Point[];
}

// Scratch space for allIdsDistinct, reused by every call (calls never overlap): allocating per
// object cost more than the check.
let idScratch = new BigInt64Array(1024);

/**
 * True when the lists' points all have distinct source ids, checked by sorting the ids
 * natively; a point without an id (deduplicated by time and band) also answers false.
 */
function allIdsDistinct(lists: readonly PointList[]): boolean {
  let total = 0;
  for (const { list } of lists) total += list.length;
  if (idScratch.length < total) idScratch = new BigInt64Array(Math.max(total, 2 * idScratch.length));
  let n = 0;
  for (const { list } of lists) {
    for (const point of list) {
      if (point.sourceId === null) return false;
      // An id outside int64 wraps here, at worst sending the points to the exact check; it is refused with context when stored.
      idScratch[n++] = point.sourceId;
    }
  }
  const ids = idScratch.subarray(0, n).sort();
  // Compared as 32-bit halves: reading a BigInt64Array element allocates a BigInt.
  const words = new Uint32Array(ids.buffer, ids.byteOffset, 2 * n);
  for (let i = 1; i < n; i++) if (words[2 * i] === words[2 * i - 2] && words[2 * i + 1] === words[2 * i - 1]) return false;
  return true;
}

function addPoints(out: PointColumns, keyIndex: number, forced: boolean, lists: readonly PointList[], bandIndex: (band: string) => number): void {
  const distinct = allIdsDistinct(lists);
  const seenIds = new Set<bigint>();
  const seenTimes = new Set<string>();
  for (const { alert, index, list } of lists) {
    for (let j = 0; j < list.length; j++) {
      const point = list[j] as Point;
      const id = point.sourceId;
      if (!distinct) {
        if (id !== null) {
          if (seenIds.has(id)) continue;
          seenIds.add(id);
        } else {
          const time = `${point.mjd}|${point.band}`;
          if (seenTimes.has(time)) continue;
          seenTimes.add(time);
        }
      }
      if ((id !== null && (id < int64Min || id > int64Max)) || !Number.isFinite(point.mjd) || typeof point.band !== 'string') {
        const where = () => `${describeAlert(alert, index)}: ${forced ? 'forced' : 'detections'}[${j}]`;
        if (id !== null) checkId(id, where);
        checkMjd(point.mjd, where);
        checkBand(point.band, where);
      }
      const n = out.count++;
      out.keyIndex[n] = keyIndex;
      out.forced[n] = forced ? 1 : 0;
      if (id === null) {
        out.withoutId++;
        out.sourceIdNull[n] = 1;
      } else {
        out.sourceIdInt64[n] = id;
      }
      out.sourceId.push(id);
      out.mjd[n] = point.mjd;
      out.bandIndex[n] = bandIndex(point.band);
      out.point.push(point);
    }
  }
}

function orNaN(value: number | null): number {
  return typeof value === 'number' ? value : NaN;
}

function trimPoints(p: PointColumns): PointColumns {
  const n = p.count;
  return {
    ...p,
    keyIndex: p.keyIndex.subarray(0, n),
    forced: p.forced.subarray(0, n),
    sourceIdInt64: p.sourceIdInt64.subarray(0, n),
    sourceIdNull: p.sourceIdNull.subarray(0, n),
    mjd: p.mjd.subarray(0, n),
    bandIndex: p.bandIndex.subarray(0, n),
  };
}

function trimLimits(l: LimitColumns): LimitColumns {
  const n = l.count;
  return { ...l, keyIndex: l.keyIndex.subarray(0, n), mjd: l.mjd.subarray(0, n), bandIndex: l.bandIndex.subarray(0, n), limitMag: l.limitMag.subarray(0, n), fluxNoise: l.fluxNoise.subarray(0, n) };
}

function addLimits(out: LimitColumns, keyIndex: number, alerts: readonly { alert: Alert; index: number }[], bandIndex: (band: string) => number): void {
  const seen = new Set<string>();
  for (const { alert, index } of alerts) {
    alert.lightcurve.upperLimits.forEach((limit: UpperLimit, j) => {
      const where = (): string => `${describeAlert(alert, index)}: upperLimits[${j}]`;
      const time = `${checkMjd(limit.mjd, where)}|${checkBand(limit.band, where)}`;
      if (seen.has(time)) return;
      seen.add(time);
      const n = out.count++;
      out.keyIndex[n] = keyIndex;
      out.mjd[n] = limit.mjd;
      out.bandIndex[n] = bandIndex(limit.band);
      out.limitMag[n] = orNaN(limit.limitMag);
      out.fluxNoise[n] = orNaN(limit.fluxNoise);
    });
  }
}

/**
 * The objects rows column by column in the table's column order, each value checked against
 * its documented type (64-bit columns must be BigInt); DOUBLE columns as Float64Array.
 */
export function objectColumns(table: CatalogTable, rows: readonly ObjectRow[]): ColumnValues[] {
  const others = batchColumns({ ...table, columns: table.columns.filter((c) => c.type !== 'DOUBLE') }, rows);
  let next = 0;
  return table.columns.map((column) => {
    if (column.type !== 'DOUBLE') return others[next++] as DuckDBValue[];
    const values = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const value = (rows[i] as ObjectRow)[column.name];
      if (value === null || value === undefined) values[i] = NaN;
      else if (typeof value === 'number') values[i] = value;
      else throw new Error(`batch for table ${table.name}, row ${i}, column ${column.name} (DOUBLE): expected a number, got ${typeof value}`);
    }
    return values;
  });
}

/** The points at the given row numbers, as the columns of stage_points (key index, forced, source id, mjd, band index, then POINT_VALUE_COLUMNS). */
export function pointRows(points: PointColumns, rows: readonly number[]): ColumnValues[] {
  const n = rows.length;
  const keyIndex = new Int32Array(n);
  const forced = new Uint8Array(n);
  const sourceId = new BigInt64Array(n);
  const sourceIdNull = new Uint8Array(n);
  const mjd = new Float64Array(n);
  const bandIndex = new Int32Array(n);
  const [flux, fluxErr, mag, magErr, reliability, scienceFlux, scienceFluxErr, ra, dec] = POINT_VALUE_COLUMNS.map(() => new Float64Array(n)) as [
    Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array,
  ];
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    const point = points.point[r] as Point;
    keyIndex[i] = points.keyIndex[r] as number;
    forced[i] = points.forced[r] as number;
    sourceId[i] = points.sourceIdInt64[r] as bigint;
    sourceIdNull[i] = points.sourceIdNull[r] as number;
    mjd[i] = point.mjd;
    bandIndex[i] = points.bandIndex[r] as number;
    flux[i] = orNaN(point.flux);
    fluxErr[i] = orNaN(point.fluxErr);
    mag[i] = orNaN(point.mag);
    magErr[i] = orNaN(point.magErr);
    reliability[i] = orNaN(point.reliability);
    scienceFlux[i] = orNaN(point.scienceFlux);
    scienceFluxErr[i] = orNaN(point.scienceFluxErr);
    ra[i] = orNaN(point.ra);
    dec[i] = orNaN(point.dec);
  }
  return [keyIndex, forced, { int64: sourceId, isNull: sourceIdNull }, mjd, bandIndex, flux, fluxErr, mag, magErr, reliability, scienceFlux, scienceFluxErr, ra, dec];
}
