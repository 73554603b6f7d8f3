// A prepared batch (batch-rows.ts) written to the PostgreSQL store inside the caller's
// transaction: each table gets one or two set-based statements whose parameters are whole
// columns (binary arrays, postgres-arrays.ts) unnested server-side, never a statement per row.
//
// Several workers write at once. Unique indexes keep points, upper limits and alerts unique
// (ON CONFLICT DO NOTHING), and every statement takes its rows in key order, so two
// transactions lock shared rows in the same order; a deadlock that still happens is retried by
// the caller. The objects upsert locks each object's row, including when the stored row is
// newer and stays, so writers of one object take turns for the rest of the batch.
import type { DuckDBBlobValue, DuckDBValue } from '@duckdb/node-api';
import type pg from 'pg';
import { OBJECT_COLUMNS, catalog } from '../features/columns.ts';
import { batchColumns } from '../filters/batch-columns.ts';
import { primaryTable, type ColumnType } from '../filters/catalog.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import type { BatchKeys, PreparedBatch } from './batch-rows.ts';
import type { CutoutColumns } from './cutouts-sql.ts';
import { boolArray, byteaArray, float8Array, int4Array, int8Array, textArray } from './postgres-arrays.ts';
import { OBJECT_KEY_COLUMNS, POINT_VALUE_COLUMNS } from './schema.ts';
import { POSTGRES_TYPES } from './postgres-schema.ts';
import type { BatchWriteResult } from './store.ts';

type Client = Pick<pg.ClientBase, 'query'>;

const objectsTable = primaryTable(catalog());
// A stored image travels in statements of at most this many bytes (a parameter is limited to 1 GB).
const CUTOUT_BYTES_PER_STATEMENT = 64 * 1024 * 1024;
const BATCH_WORK_MEM = '64MB';

const arrayOf: Readonly<Record<ColumnType, (values: DuckDBValue[]) => Buffer>> = {
  VARCHAR: (v) => textArray(v as (string | null)[]),
  BIGINT: (v) => int8Array(v as (bigint | null)[]),
  INTEGER: (v) => int4Array(v as (number | null)[]),
  DOUBLE: (v) => float8Array(v as (number | null)[]),
  BOOLEAN: (v) => boolArray(v as (boolean | null)[]),
};

const sql = (() => {
  const cols = OBJECT_COLUMNS.map((c) => q(c.name));
  const unnestObjects = OBJECT_COLUMNS.map((c, i) => `$${i + 1}::${POSTGRES_TYPES[c.type]}[]`).join(', ');
  const keys: readonly string[] = OBJECT_KEY_COLUMNS;
  const updated = OBJECT_COLUMNS.filter((c) => !keys.includes(c.name)).map((c) => `${q(c.name)} = EXCLUDED.${q(c.name)}`);
  // The newer-alert rule of isNewerRow (batch-rows.ts): later alertMjd, then larger alertSourceId; null is oldest.
  const mjd = (t: string): string => `coalesce(${t}."alertMjd", '-infinity'::float8)`;
  const source = (t: string): string => `coalesce(${t}."alertSourceId", '-9223372036854775808'::bigint)`;
  const newer = `${mjd('EXCLUDED')} > ${mjd('objects')} OR (${mjd('EXCLUDED')} = ${mjd('objects')} AND ${source('EXCLUDED')} > ${source('objects')})`;
  const pointValues = POINT_VALUE_COLUMNS.map(q).join(', ');
  const keyTuple = 'unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(survey, kind, id, i)';
  return {
    findRefs: `SELECT (k.i - 1)::int4 AS i, r.ref FROM ${keyTuple} JOIN object_refs r ON r.survey = k.survey AND r."objectKind" = k.kind AND r."objectId" = k.id`,
    addRefs: `INSERT INTO object_refs (survey, "objectKind", "objectId") SELECT survey, kind, id FROM ${keyTuple} ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING`,
    upsertObjects: `INSERT INTO objects (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM unnest(${unnestObjects}) AS s(${cols.join(', ')})
      ORDER BY ${keys.map(q).join(', ')}
      ON CONFLICT (${keys.map(q).join(', ')}) DO UPDATE SET ${updated.join(', ')} WHERE ${newer}`,
    // Which of the batch's points are not stored yet (their row numbers i): only keys travel, the
    // values follow for the new points alone. Points with a source id, then those without.
    newPointsById: `SELECT i FROM unnest($1::int8[], $2::bool[], $3::int8[], $4::int4[]) AS u(ref, forced, sid, i)
      WHERE NOT EXISTS (SELECT 1 FROM points p WHERE p."objectRef" = u.ref AND p.forced = u.forced AND p."sourceId" = u.sid)`,
    newPointsByTime: `SELECT i FROM unnest($1::int8[], $2::bool[], $3::float8[], $4::int4[], $5::int4[]) AS u(ref, forced, mjd, b, i)
      WHERE NOT EXISTS (SELECT 1 FROM points p WHERE p."sourceId" IS NULL AND p."objectRef" = u.ref AND p.forced = u.forced AND p.mjd = u.mjd AND p.band = ($6::text[])[u.b + 1])`,
    insertPoints: `INSERT INTO points ("objectRef", forced, "sourceId", mjd, band, ${pointValues})
      SELECT ref, forced, sid, mjd, ($6::text[])[b + 1], ${pointValues}
      FROM unnest($1::int8[], $2::bool[], $3::int8[], $4::float8[], $5::int4[], ${POINT_VALUE_COLUMNS.map((_, i) => `$${i + 7}::float8[]`).join(', ')})
        AS t(ref, forced, sid, mjd, b, ${pointValues})
      ORDER BY 1, 2, 3, 4, 5 ON CONFLICT DO NOTHING`,
    insertLimits: `INSERT INTO upper_limits ("objectRef", mjd, band, "limitMag", "fluxNoise")
      SELECT ref, mjd, ($6::text[])[b + 1], lim, noise FROM unnest($1::int8[], $2::float8[], $3::int4[], $4::float8[], $5::float8[]) AS t(ref, mjd, b, lim, noise)
      ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING`,
    insertAlerts: `INSERT INTO alerts ("objectRef", "sourceId", "alertId", mjd, band, "schema", topic, "partition", "offset", "storedAt")
      SELECT ref, sid, aid, mjd, band, sch, topic, part, off, now()
      FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::int4[], $9::int8[]) AS t(ref, sid, aid, mjd, band, sch, topic, part, off)
      ORDER BY 1, 2 ON CONFLICT DO NOTHING`,
    // The objects row's rule: larger mjd, ties by larger source id; a replay changes nothing.
    upsertCutouts: `INSERT INTO object_cutouts ("objectRef", "sourceId", mjd, encoding, science, template, difference, "storedAt")
      SELECT ref, sid, mjd, enc, sci, tpl, dif, now() FROM unnest($1::int8[], $2::int8[], $3::float8[], $4::text[], $5::bytea[], $6::bytea[], $7::bytea[]) AS t(ref, sid, mjd, enc, sci, tpl, dif)
      ORDER BY 1
      ON CONFLICT ("objectRef") DO UPDATE SET "sourceId" = EXCLUDED."sourceId", mjd = EXCLUDED.mjd, encoding = EXCLUDED.encoding,
        science = EXCLUDED.science, template = EXCLUDED.template, difference = EXCLUDED.difference, "storedAt" = EXCLUDED."storedAt"
      WHERE EXCLUDED.mjd > object_cutouts.mjd OR (EXCLUDED.mjd = object_cutouts.mjd AND EXCLUDED."sourceId" > object_cutouts."sourceId")`,
  };
})();

/** Writes a prepared batch in the client's open transaction; returns what it added. */
export async function writePreparedBatch(client: Client, batch: PreparedBatch, cutouts: CutoutColumns | null): Promise<Omit<BatchWriteResult, 'elapsedMs'>> {
  // A batch's sorts (rows in key order) and joins fit in memory rather than spilling to disk.
  await client.query(`SET LOCAL work_mem = '${BATCH_WORK_MEM}'`);
  const refs = batch.keys.objectId.length === 0 ? [] : await objectRefs(client, batch.keys, true);
  const refOf = (keyIndex: number): bigint => refs[keyIndex] as bigint;

  let objectsWritten = 0;
  if (batch.objects.length > 0) {
    const columns = batchColumns(objectsTable, batch.objects);
    const params = objectsTable.columns.map((c, i) => arrayOf[c.type](columns[i] as DuckDBValue[]));
    objectsWritten = (await client.query(sql.upsertObjects, params)).rowCount ?? 0;
  }

  const bands = textArray(batch.bands);
  const { points, limits, alerts } = batch;
  let pointsAdded = 0;
  if (points.count > 0) {
    const ref = Array.from(points.keyIndex, refOf);
    const fresh = await newPoints(client, batch, ref, bands);
    if (fresh.length > 0) pointsAdded = (await client.query(sql.insertPoints, pointParams(batch, ref, fresh, bands))).rowCount ?? 0;
  }

  let upperLimits = 0;
  if (limits.count > 0) {
    const params = [int8Array(Array.from(limits.keyIndex, refOf)), float8Array(limits.mjd), int4Array(limits.bandIndex), float8Array(limits.limitMag), float8Array(limits.fluxNoise), bands];
    upperLimits = (await client.query(sql.insertLimits, params)).rowCount ?? 0;
  }

  let alertsAdded = 0;
  if (alerts.keyIndex.length > 0) {
    const params = [
      int8Array(alerts.keyIndex.map(refOf)), int8Array(alerts.sourceId), int8Array(alerts.alertId), float8Array(alerts.mjd), textArray(alerts.band),
      textArray(alerts.schema), textArray(alerts.topic), int4Array(alerts.partition), int8Array(alerts.offset),
    ];
    alertsAdded = (await client.query(sql.insertAlerts, params)).rowCount ?? 0;
  }

  const cutoutsWritten = cutouts === null ? 0 : await upsertCutouts(client, cutouts, refs);
  return { objectsWritten, objectsKept: batch.objects.length - objectsWritten, points: pointsAdded, upperLimits, alerts: alertsAdded, cutouts: cutoutsWritten };
}

/** The row numbers of the batch's points that are not stored yet, in batch order. */
async function newPoints(client: Client, batch: PreparedBatch, ref: readonly bigint[], bands: Buffer): Promise<number[]> {
  const { points } = batch;
  const withId: number[] = [];
  const withoutId: number[] = [];
  for (let i = 0; i < points.count; i++) (points.sourceId[i] === null ? withoutId : withId).push(i);
  const pick = <T>(rows: readonly number[], values: ArrayLike<T>): T[] => rows.map((i) => values[i] as T);
  const fresh: number[] = [];
  if (withId.length > 0) {
    const found = await client.query(sql.newPointsById, [int8Array(pick(withId, ref)), boolArray(pick(withId, points.forced)), int8Array(pick(withId, points.sourceId)), int4Array(withId)]);
    for (const row of found.rows as { i: number }[]) fresh.push(row.i);
  }
  if (withoutId.length > 0) {
    const found = await client.query(sql.newPointsByTime, [
      int8Array(pick(withoutId, ref)), boolArray(pick(withoutId, points.forced)), float8Array(pick(withoutId, points.mjd)), int4Array(pick(withoutId, points.bandIndex)), int4Array(withoutId), bands,
    ]);
    for (const row of found.rows as { i: number }[]) fresh.push(row.i);
  }
  return fresh.sort((a, b) => a - b);
}

/** The values of the points at rows `fresh`, as the parameters of insertPoints. */
function pointParams(batch: PreparedBatch, ref: readonly bigint[], fresh: readonly number[], bands: Buffer): Buffer[] {
  const { points } = batch;
  const n = fresh.length;
  const refs = new Array<bigint>(n);
  const forced = new Uint8Array(n);
  const sourceId = new Array<bigint | null>(n);
  const mjd = new Float64Array(n);
  const band = new Int32Array(n);
  const values = POINT_VALUE_COLUMNS.map(() => new Float64Array(n));
  for (let j = 0; j < n; j++) {
    const r = fresh[j] as number;
    const point = points.point[r];
    if (point === undefined) throw new Error(`point row ${r} of the batch is missing`);
    refs[j] = ref[r] as bigint;
    forced[j] = points.forced[r] as number;
    sourceId[j] = point.sourceId;
    mjd[j] = point.mjd;
    band[j] = points.bandIndex[r] as number;
    POINT_VALUE_COLUMNS.forEach((name, c) => {
      const value = point[name];
      (values[c] as Float64Array)[j] = typeof value === 'number' ? value : NaN;
    });
  }
  return [int8Array(refs), boolArray(forced), int8Array(sourceId), float8Array(mjd), int4Array(band), bands, ...values.map((v) => float8Array(v))];
}

/**
 * The object_refs number of each key, index for index; with `create`, keys never seen get one
 * (a key another worker adds at the same moment is read back once its transaction ends), else
 * unknown keys give null.
 */
export async function objectRefs(client: Client, keys: BatchKeys, create: boolean): Promise<(bigint | null)[]> {
  const refs = new Array<bigint | null>(keys.objectId.length).fill(null);
  const find = async (indexes: readonly number[]): Promise<void> => {
    const pick = <T>(values: readonly T[]): T[] => indexes.map((i) => values[i] as T);
    const params = [textArray(pick(keys.survey)), textArray(pick(keys.objectKind)), textArray(pick(keys.objectId))];
    for (const row of (await client.query(sql.findRefs, params)).rows as { i: number; ref: bigint }[]) refs[indexes[row.i] as number] = row.ref;
  };
  const all = keys.objectId.map((_, i) => i);
  await find(all);
  if (!create) return refs;
  const missing = all.filter((i) => refs[i] === null);
  if (missing.length === 0) return refs;
  const pick = <T>(values: readonly T[]): T[] => missing.map((i) => values[i] as T);
  await client.query(sql.addRefs, [textArray(pick(keys.survey)), textArray(pick(keys.objectKind)), textArray(pick(keys.objectId))]);
  await find(missing);
  const lost = missing.find((i) => refs[i] === null);
  if (lost !== undefined) throw new Error(`object ${keys.survey[lost]}:${keys.objectKind[lost]}:${keys.objectId[lost]} has no object_refs row right after it was added`);
  return refs;
}

/** Upserts staged cutouts (cutoutRows: by batch key index) of the objects that have a ref; returns the rows written. */
export async function upsertCutouts(client: Client, rows: CutoutColumns, refs: readonly (bigint | null)[]): Promise<number> {
  const [keyIdx, sourceId, mjd, encoding, science, template, difference] = rows.columns as [DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[]];
  const bytes = (value: DuckDBValue | undefined): Uint8Array | null => (value === null || value === undefined ? null : (value as DuckDBBlobValue).bytes);
  let written = 0;
  let chunk: number[] = [];
  let chunkBytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const rowsOf = <T>(column: DuckDBValue[], convert: (v: DuckDBValue | undefined) => T): T[] => chunk.map((i) => convert(column[i]));
    const params = [
      int8Array(chunk.map((i) => refs[keyIdx[i] as number] as bigint)),
      int8Array(rowsOf(sourceId, (v) => v as bigint)),
      float8Array(rowsOf(mjd, (v) => v as number)),
      textArray(rowsOf(encoding, (v) => v as string)),
      byteaArray(rowsOf(science, bytes)),
      byteaArray(rowsOf(template, bytes)),
      byteaArray(rowsOf(difference, bytes)),
    ];
    written += (await client.query(sql.upsertCutouts, params)).rowCount ?? 0;
    chunk = [];
    chunkBytes = 0;
  };
  for (let i = 0; i < rows.count; i++) {
    if (refs[keyIdx[i] as number] === null || refs[keyIdx[i] as number] === undefined) continue;
    const size = [science, template, difference].reduce((sum, column) => sum + (bytes(column[i])?.length ?? 0), 0);
    if (chunk.length > 0 && chunkBytes + size > CUTOUT_BYTES_PER_STATEMENT) await flush();
    chunk.push(i);
    chunkBytes += size;
  }
  await flush();
  return written;
}
