// The cutout images of the store (schema-cutouts.ts): which alert's images each object keeps,
// how they are staged and upserted, and how they are read back. Each function runs on the
// connection it is given; duckdb-store.ts picks the connection and serialises the calls.
//
// Writing: one row per object of the batch (its newest alert that carries cutouts) is appended
// to a staging table and moved into object_cutouts by one upsert that replaces a stored row
// only with a newer alert's (the objects row's rule), so a replayed batch changes nothing.
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

/** How the image columns of a row hold the alert's bytes (see schema-cutouts.ts); the only one written today. */
const RAW_ENCODING = 'raw';

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
  ],
};

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
 * The rows to stage: for each object of `keys`, its newest alert among `alerts` that carries a
 * cutout (alerts of other objects, and alerts without cutouts, are left out).
 */
export function cutoutRows(alerts: readonly Alert[], keys: BatchKeys): CutoutColumns {
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
  const columns: DuckDBValue[][] = stageCutouts.columns.map(() => []);
  const [keyIdx, sourceId, mjd, enc, ...images] = columns as [DuckDBValue[], DuckDBValue[], DuckDBValue[], DuckDBValue[], ...DuckDBValue[][]];
  for (const [keyIndex, alert] of newest) {
    if (typeof alert.sourceId !== 'bigint') throw new Error(`cutouts of ${keyText(alert.survey, alert.objectKind, alert.objectId)}: sourceId is not a BigInt`);
    if (!Number.isFinite(alert.mjd)) throw new Error(`cutouts of ${keyText(alert.survey, alert.objectKind, alert.objectId)}, source ${alert.sourceId}: mjd ${alert.mjd} is not finite`);
    keyIdx.push(keyIndex);
    sourceId.push(alert.sourceId);
    mjd.push(alert.mjd);
    enc.push(RAW_ENCODING);
    CUTOUT_KINDS.forEach((kind, k) => (images[k] as DuckDBValue[]).push(imageValue(alert.cutouts[kind])));
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
  upsert: `INSERT INTO object_cutouts SELECT r.ref, s.sourceId, s.mjd, s.encoding, s.science, s.template, s.difference, now()
    FROM temp.stage_cutouts s JOIN temp.stage_refs r ON r.idx = s.keyIdx
    ON CONFLICT (objectRef) DO UPDATE SET sourceId = EXCLUDED.sourceId, mjd = EXCLUDED.mjd, encoding = EXCLUDED.encoding,
      science = EXCLUDED.science, template = EXCLUDED.template, difference = EXCLUDED.difference, storedAt = EXCLUDED.storedAt
    WHERE ${newer}`,
  clearStage: `DELETE FROM temp.${stageCutouts.name}`,
  ofObject: 'SELECT sourceId, mjd, encoding, science, template, difference FROM object_cutouts WHERE objectRef = $1',
};

function imageBytes(value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  return value instanceof Uint8Array ? value : (value as DuckDBBlobValue).bytes;
}

/** The stored cutouts of the object with this objectRef, or null. */
export async function readCutouts(c: DuckDBConnection, ref: bigint, where: string): Promise<StoredCutouts | null> {
  const reader = await c.runAndReadAll(cutoutsSql.ofObject, [ref]);
  const row = reader.getRows()[0];
  if (row === undefined) return null;
  const [sourceId, mjd, encoding, ...images] = row;
  // A later Nightjar that stores images another way must convert them here; this one cannot read them.
  if (encoding !== RAW_ENCODING) throw new Error(`cutouts of ${where}: stored with encoding ${JSON.stringify(encoding)}, which this Nightjar cannot read`);
  const result: StoredCutouts = { sourceId: sourceId as bigint, mjd: mjd as number };
  CUTOUT_KINDS.forEach((kind, k) => {
    const image = imageBytes(images[k]);
    if (image !== undefined) result[kind] = image;
  });
  return result;
}
