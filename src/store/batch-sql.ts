// The statements that move a staged batch into the store (see staging.ts for the staging
// tables and duckdb-store.ts for their order, all in one transaction).
import { OBJECT_COLUMNS } from '../features/columns.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import { OBJECT_KEY_COLUMNS, POINT_VALUE_COLUMNS } from './schema.ts';

const objectColumnList = OBJECT_COLUMNS.map((c) => q(c.name)).join(', ');

/** The batch statements, written once. */
export const batchSql = (() => {
  const keys: readonly string[] = OBJECT_KEY_COLUMNS;
  const updated = OBJECT_COLUMNS.filter((c) => !keys.includes(c.name)).map((c) => `${q(c.name)} = EXCLUDED.${q(c.name)}`);
  // The newer-alert rule of isNewerRow (batch-rows.ts): later alertMjd, then larger alertSourceId; null is oldest.
  const mjd = (t: string): string => `coalesce(${t}.alertMjd, '-infinity'::DOUBLE)`;
  const source = (t: string): string => `coalesce(${t}.alertSourceId, -9223372036854775808)`;
  const newer = `${mjd('EXCLUDED')} > ${mjd('objects')} OR (${mjd('EXCLUDED')} = ${mjd('objects')} AND ${source('EXCLUDED')} > ${source('objects')})`;
  // Staged numbers carry NaN for null (see batch-rows.ts); the Alert model and the objects columns have no NaN.
  const orNull = (expression: string): string => `nullif(${expression}, 'NaN'::DOUBLE)`;
  const stagedObjectColumns = OBJECT_COLUMNS.map((c) => (c.type === 'DOUBLE' ? orNull(q(c.name)) : q(c.name))).join(', ');
  const pointValues = POINT_VALUE_COLUMNS.map((c) => orNull(`s.${q(c)}`)).join(', ');
  return {
    findRefs: 'SELECT k.idx, r.ref FROM temp.stage_keys k JOIN object_refs r ON r.survey = k.survey AND r.objectKind = k.objectKind AND r.objectId = k.objectId',
    upsertObjects: `INSERT INTO objects (${objectColumnList}) SELECT ${stagedObjectColumns} FROM temp.stage_objects ON CONFLICT (${keys.map(q).join(', ')}) DO UPDATE SET ${updated.join(', ')} WHERE ${newer}`,
    // Anti-joins rather than a unique index: one hash join that reads the points' integer key
    // columns per batch. Measured (2 cores, 400k staged points against 5M stored) at 0.16-0.3 s,
    // against 0.65-0.9 s for INSERT ... ON CONFLICT DO NOTHING with a primary key, which also
    // holds an index of every point in memory. Its cost grows with the points stored (about
    // 20 ns a row here); the PostgreSQL store is the one for tables of billions of points.
    newPoints: `SELECT s.row FROM temp.stage_point_keys s JOIN temp.stage_refs r ON r.idx = s.keyIdx
        WHERE s.sourceId IS NOT NULL AND NOT EXISTS (SELECT 1 FROM points p WHERE p.objectRef = r.ref AND p.forced = s.forced AND p.sourceId = s.sourceId)
      UNION ALL
      SELECT s.row FROM temp.stage_point_keys s JOIN temp.stage_refs r ON r.idx = s.keyIdx JOIN temp.stage_bands b ON b.idx = s.bandIdx
        WHERE s.sourceId IS NULL AND NOT EXISTS (SELECT 1 FROM points p WHERE p.sourceId IS NULL AND p.objectRef = r.ref AND p.forced = s.forced AND p.mjd = s.mjd AND p.band = b.band)`,
    insertPoints: `INSERT INTO points SELECT r.ref, s.forced, s.sourceId, s.mjd, b.band, ${pointValues}
      FROM temp.stage_points s JOIN temp.stage_refs r ON r.idx = s.keyIdx JOIN temp.stage_bands b ON b.idx = s.bandIdx`,
    insertLimits: `INSERT INTO upper_limits SELECT r.ref, s.mjd, b.band, ${orNull('s.limitMag')}, ${orNull('s.fluxNoise')}
      FROM temp.stage_limits s JOIN temp.stage_refs r ON r.idx = s.keyIdx JOIN temp.stage_bands b ON b.idx = s.bandIdx
      WHERE NOT EXISTS (SELECT 1 FROM upper_limits u WHERE u.objectRef = r.ref AND u.mjd = s.mjd AND u.band = b.band)`,
    insertAlerts: `INSERT INTO alerts SELECT r.ref, s.sourceId, s.alertId, s.mjd, s.band, s.${q('schema')}, s.topic, s.${q('partition')}, s.${q('offset')}, now()
      FROM temp.stage_alerts s JOIN temp.stage_refs r ON r.idx = s.keyIdx ON CONFLICT DO NOTHING`,
  };
})();
