// The cutout images of the store (schema-cutouts.ts): which alert's images each object keeps,
// how they are staged and upserted, and how they are read back. Each function runs on the
// connection it is given; duckdb-store.ts picks the connection and serialises the calls.
//
// Writing: one row per object of the batch (its newest alert that carries cutouts) is appended
// to a staging table and moved into object_cutouts by one upsert that replaces a stored row
// only with a newer alert's (the objects row's rule), so a replayed batch changes nothing.
//
// The bytes are stored as the alert carried them: in the BLOB columns (encoding 'raw': in-memory
// stores, and rows written before schema version 6), or, for a file store, in its segment files
// (encoding 'segment', cutout-segments.ts): the row then says where its images are, one after the
// other from `position` in `segment` (science, template, difference; a length null where absent).
//
// The bytes are stored as the alert carried them. Compressing was measured and not adopted:
// zstd level 1 shrinks Rubin cutouts only to 47% (noise-dominated float32 pixels) and costs
// ~5.6 s of CPU per 10,000 alerts on the 2-core dev machine, more than the whole store write
// without images (bench/store.ts --cutouts; see DEFAULT_CUTOUT_POLICY in src/pipeline/pipeline.ts).
import { BIGINT, BLOB, DOUBLE, INTEGER, VARCHAR, blobValue, type DuckDBBlobValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { Alert, Cutouts } from '../formats/alert.ts';
import { keyText, type BatchKeys } from './batch-rows.ts';
import type { StagingTable } from './staging.ts';
import type { StoredCutouts } from './store.ts';

export const CUTOUT_KINDS = ['science', 'template', 'difference'] as const;

/** How a row holds the alert's bytes (see schema-cutouts.ts): in its BLOB columns, or in a segment file. */
const RAW_ENCODING = 'raw';
const SEGMENT_ENCODING = 'segment';

/** Cutouts are staged per object, by the batch key index (stage_refs gives its objectRef). */
export const stageCutouts: StagingTable = {
  name: 'stage_cutouts',
  temporary: true,
  columns: [
    { name: 'keyIdx', type: INTEGER, sql: 'INTEGER' },
    { name: 'sourceId', type: BIGINT, sql: 'BIGINT' },
    { name: 'mjd', type: DOUBLE, sql: 'DOUBLE' },
    { name: 'encoding', type: VARCHAR, sql: 'VARCHAR' },
    ...CUTOUT_KINDS.map((kind) => ({ name: kind, type: BLOB, sql: 'BLOB' })),
    { name: 'segment', type: INTEGER, sql: 'INTEGER' },
    { name: 'position', type: BIGINT, sql: 'BIGINT' },
    ...CUTOUT_KINDS.map((kind) => ({ name: `${kind}Bytes`, type: INTEGER, sql: 'INTEGER' })),
  ],
};

/** The columns stageCutouts has after the BLOB ones (null for a raw row). */
const LOCATION_COLUMNS = 2 + CUTOUT_KINDS.length;

/** The staged rows, column by column in stageCutouts order. */
export interface CutoutColumns {
  count: number;
  columns: DuckDBValue[][];
}

function hasCutouts(cutouts: Cutouts | undefined): cutouts is Cutouts {
  return cutouts !== undefined && CUTOUT_KINDS.some((kind) => (cutouts[kind]?.length ?? 0) > 0);
}

/** Alert a is later than b: larger mjd, ties by larger source id (the objects row's rule). */
function isLater(a: Alert, b: Alert): boolean {
  return a.mjd !== b.mjd ? a.mjd > b.mjd : a.sourceId > b.sourceId;
}

function imageValue(bytes: Uint8Array | undefined): DuckDBBlobValue | null {
  return bytes === undefined || bytes.length === 0 ? null : blobValue(bytes);
}

/**
 * For each object of `keys`, its newest alert among `alerts` that carries a cutout (alerts of
 * other objects, and alerts without cutouts, are left out), by batch key index.
 */
export function newestCutoutAlerts(alerts: readonly Alert[], keys: BatchKeys): Map<number, Alert> {
  const index = new Map<string, number>();
  keys.objectId.forEach((objectId, i) => index.set(keyText(keys.survey[i], keys.objectKind[i], objectId), i));
  const newest = new Map<number, Alert>();
  for (const alert of alerts) {
    if (!hasCutouts(alert.cutouts)) continue;
    const keyIndex = index.get(keyText(alert.survey, alert.objectKind, alert.objectId));
    if (keyIndex === undefined) continue;
    const kept = newest.get(keyIndex);
    if (kept === undefined || isLater(alert, kept)) newest.set(keyIndex, alert);
  }
  for (const alert of newest.values()) {
    if (typeof alert.sourceId !== 'bigint') throw new Error(`cutouts of ${keyText(alert.survey, alert.objectKind, alert.objectId)}: sourceId is not a BigInt`);
    if (!Number.isFinite(alert.mjd)) throw new Error(`cutouts of ${keyText(alert.survey, alert.objectKind, alert.objectId)}, source ${alert.sourceId}: mjd ${alert.mjd} is not finite`);
  }
  return newest;
}

/** The images of a row, in the order a segment holds them (absent ones left out). */
export function imagesOf(alert: Alert): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const kind of CUTOUT_KINDS) {
    const bytes = alert.cutouts[kind];
    if (bytes !== undefined && bytes.length > 0) out.push(bytes);
  }
  return out;
}

/**
 * The rows to stage, with their bytes (encoding 'raw'): the BLOB columns only (the PostgreSQL
 * store's rows). rawStagedColumns adds the DuckDB staging table's location columns.
 */
export function cutoutRows(alerts: readonly Alert[], keys: BatchKeys): CutoutColumns {
  return rawCutoutColumns(newestCutoutAlerts(alerts, keys));
}

/** The BLOB columns of rows picked by newestCutoutAlerts. */
export function rawCutoutColumns(newest: ReadonlyMap<number, Alert>): CutoutColumns {
  const columns: DuckDBValue[][] = stageCutouts.columns.slice(0, -LOCATION_COLUMNS).map(() => []);
  const [keyIdx, sourceId, mjd, enc, ...images] = columns as [DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], ...DuckDBValue[][]];
  for (const [keyIndex, alert] of newest) {
    keyIdx.push(keyIndex);
    sourceId.push(alert.sourceId);
    mjd.push(alert.mjd);
    enc.push(RAW_ENCODING);
    CUTOUT_KINDS.forEach((kind, k) => (images[k] as DuckDBValue[]).push(imageValue(alert.cutouts[kind])));
  }
  return { count: newest.size, columns };
}

/** cutoutRows' columns as stageCutouts takes them (no locations). */
export function rawStagedColumns(rows: CutoutColumns): CutoutColumns {
  return { count: rows.count, columns: [...rows.columns, ...Array.from({ length: LOCATION_COLUMNS }, () => new Array<DuckDBValue>(rows.count).fill(null))] };
}

/**
 * The rows to stage for images appended to a segment (encoding 'segment'): `starts[i]` is where
 * the i-th row's first image went (rows in `newest` order, their images appended as imagesOf gives them).
 */
export function segmentStagedColumns(newest: ReadonlyMap<number, Alert>, starts: readonly { segment: number; position: number }[]): CutoutColumns {
  const columns: DuckDBValue[][] = stageCutouts.columns.map(() => []);
  const [keyIdx, sourceId, mjd, enc, science, template, difference, segment, position, ...lengths] = columns as DuckDBValue[][] as [
    DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], ...DuckDBValue[][],
  ];
  let i = 0;
  for (const [keyIndex, alert] of newest) {
    const start = starts[i++];
    if (start === undefined) throw new Error(`cutouts: ${newest.size} rows but ${starts.length} segment locations`);
    keyIdx.push(keyIndex);
    sourceId.push(alert.sourceId);
    mjd.push(alert.mjd);
    enc.push(SEGMENT_ENCODING);
    science.push(null);
    template.push(null);
    difference.push(null);
    segment.push(start.segment);
    position.push(BigInt(start.position));
    CUTOUT_KINDS.forEach((kind, k) => {
      const length = alert.cutouts[kind]?.length ?? 0;
      (lengths[k] as DuckDBValue[]).push(length === 0 ? null : length);
    });
  }
  return { count: newest.size, columns };
}

/** The keys of a list of alerts, each once, for writing cutouts outside a batch. */
export function alertKeys(alerts: readonly Alert[]): BatchKeys {
  const keys: BatchKeys = { survey: [], objectKind: [], objectId: [] };
  const seen = new Set<string>();
  for (const alert of alerts) {
    const text = keyText(alert.survey, alert.objectKind, alert.objectId);
    if (seen.has(text)) continue;
    seen.add(text);
    keys.survey.push(alert.survey);
    keys.objectKind.push(alert.objectKind);
    keys.objectId.push(String(alert.objectId));
  }
  return keys;
}

const newer = 'EXCLUDED.mjd > object_cutouts.mjd OR (EXCLUDED.mjd = object_cutouts.mjd AND EXCLUDED.sourceId > object_cutouts.sourceId)';

export const cutoutsSql = {
  createStage: `CREATE TEMP TABLE IF NOT EXISTS ${stageCutouts.name} (${stageCutouts.columns.map((c) => `"${c.name}" ${c.sql}`).join(', ')})`,
  /** stage_refs of the staged keys (stage_keys) that have objects; others get none, and their cutouts are dropped. */
  refsOfKnownKeys: 'INSERT INTO temp.stage_refs SELECT k.idx, r.ref FROM temp.stage_keys k JOIN object_refs r ON r.survey = k.survey AND r.objectKind = k.objectKind AND r.objectId = k.objectId',
  upsert: `INSERT INTO object_cutouts (objectRef, sourceId, mjd, encoding, science, template, difference, storedAt, segment, position, scienceBytes, templateBytes, differenceBytes)
    SELECT r.ref, s.sourceId, s.mjd, s.encoding, s.science, s.template, s.difference, now(), s.segment, s.position, s.scienceBytes, s.templateBytes, s.differenceBytes
    FROM temp.stage_cutouts s JOIN temp.stage_refs r ON r.idx = s.keyIdx
    ON CONFLICT (objectRef) DO UPDATE SET sourceId = EXCLUDED.sourceId, mjd = EXCLUDED.mjd, encoding = EXCLUDED.encoding,
      science = EXCLUDED.science, template = EXCLUDED.template, difference = EXCLUDED.difference, storedAt = EXCLUDED.storedAt,
      segment = EXCLUDED.segment, position = EXCLUDED.position, scienceBytes = EXCLUDED.scienceBytes, templateBytes = EXCLUDED.templateBytes,
      differenceBytes = EXCLUDED.differenceBytes
    WHERE ${newer}`,
  clearStage: `DELETE FROM temp.${stageCutouts.name}`,
  ofObject: 'SELECT sourceId, mjd, encoding, science, template, difference, segment, position, scienceBytes, templateBytes, differenceBytes FROM object_cutouts WHERE objectRef = $1',
  /** Live image bytes per segment. */
  liveBySegment: `SELECT segment, sum(coalesce(scienceBytes, 0) + coalesce(templateBytes, 0) + coalesce(differenceBytes, 0))::BIGINT FROM object_cutouts
    WHERE encoding = '${SEGMENT_ENCODING}' GROUP BY segment`,
  /** The rows whose images are in segment $1. */
  rowsInSegment: `SELECT objectRef, position, coalesce(scienceBytes, 0) + coalesce(templateBytes, 0) + coalesce(differenceBytes, 0) FROM object_cutouts
    WHERE encoding = '${SEGMENT_ENCODING}' AND segment = $1 ORDER BY position`,
  /** Points a row at its images' new place, if it still points at the old one (nothing else writes meanwhile: the writer queue). */
  moveRow: `UPDATE object_cutouts SET segment = $2, position = $3 WHERE objectRef = $1 AND encoding = '${SEGMENT_ENCODING}' AND segment = $4`,
};

function imageBytes(value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  return value instanceof Uint8Array ? value : (value as DuckDBBlobValue).bytes;
}

/** Reads an image range of a segment file (CutoutSegments.read). */
export type SegmentReader = (location: { segment: number; position: number; length: number }) => Promise<Uint8Array>;

/** The stored cutouts of the object with this objectRef, or null; `segments` reads those kept in segment files (null: an in-memory store). */
export async function readCutouts(c: DuckDBConnection, ref: bigint, where: string, segments: SegmentReader | null): Promise<StoredCutouts | null> {
  const reader = await c.runAndReadAll(cutoutsSql.ofObject, [ref]);
  const row = reader.getRows()[0];
  if (row === undefined) return null;
  const [sourceId, mjd, encoding, science, template, difference, segment, position, ...lengths] = row;
  const result: StoredCutouts = { sourceId: sourceId as bigint, mjd: mjd as number };
  if (encoding === RAW_ENCODING) {
    [science, template, difference].forEach((value, k) => {
      const image = imageBytes(value);
      if (image !== undefined) result[CUTOUT_KINDS[k] as (typeof CUTOUT_KINDS)[number]] = image;
    });
    return result;
  }
  // A later Nightjar that stores images another way must convert them here; this one cannot read them.
  if (encoding !== SEGMENT_ENCODING) throw new Error(`cutouts of ${where}: stored with encoding ${JSON.stringify(encoding)}, which this Nightjar cannot read`);
  if (segments === null) throw new Error(`cutouts of ${where}: kept in segment files, which an in-memory store has none of`);
  const sizes = lengths.map((l) => (l === null ? 0 : Number(l)));
  const total = sizes.reduce((a, b) => a + b, 0);
  let bytes: Uint8Array;
  try {
    bytes = await segments({ segment: Number(segment), position: Number(position), length: total });
  } catch (error) {
    const e = new Error(`cutouts of ${where}: ${(error as Error).message}`, { cause: error });
    throw Object.assign(e, { code: (error as NodeJS.ErrnoException).code });
  }
  let at = 0;
  CUTOUT_KINDS.forEach((kind, k) => {
    const size = sizes[k] as number;
    if (size > 0) result[kind] = bytes.subarray(at, at + size);
    at += size;
  });
  return result;
}
