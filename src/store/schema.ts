// The store's tables as DuckDB DDL. The `objects` table is generated from OBJECT_COLUMNS
// (src/features/columns.ts), the one documentation of its columns, so the stored table, the
// filter catalog and docs/columns.md cannot drift apart; compiled filters name `objects` and
// its columns exactly as they appear here.
//
// Lightcurve points refer to their object by a small integer (object_refs.ref) rather than
// the three key strings: the points table is by far the largest, and integer keys keep its
// rows and its per-batch duplicate check small.
import { OBJECT_COLUMNS } from '../features/columns.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';

/** The columns that identify an object, in key order. */
export const OBJECT_KEY_COLUMNS = ['survey', 'objectKind', 'objectId'] as const;

export function objectsTableSql(): string {
  const columns = OBJECT_COLUMNS.map((c) => {
    const required = (OBJECT_KEY_COLUMNS as readonly string[]).includes(c.name) ? ' NOT NULL' : '';
    return `${q(c.name)} ${c.type}${required}`;
  });
  return `CREATE TABLE objects (${columns.join(', ')}, PRIMARY KEY (${OBJECT_KEY_COLUMNS.map(q).join(', ')}))`;
}

/** Point measurement columns after the key, shared by the points table and its staging table. */
export const POINT_VALUE_COLUMNS = ['flux', 'fluxErr', 'mag', 'magErr', 'reliability', 'scienceFlux', 'scienceFluxErr', 'ra', 'dec'] as const;

/** The tables of schema version 1, in creation order. */
export function initialSchema(): string[] {
  return [
    objectsTableSql(),
    // No index: looked up once per batch with one join, and only the store's single writer adds
    // rows, after finding the key absent in the same transaction.
    'CREATE SEQUENCE object_ref_seq START 1',
    'CREATE TABLE object_refs (survey VARCHAR NOT NULL, objectKind VARCHAR NOT NULL, objectId VARCHAR NOT NULL, ref BIGINT NOT NULL)',
    // Detections (forced = false) and forced photometry. Unique per (objectRef, forced,
    // sourceId), or (objectRef, forced, mjd, band) where sourceId is null; kept so by the
    // writer's anti-join rather than an index (see newPoints in duckdb-store.ts).
    `CREATE TABLE points (objectRef BIGINT NOT NULL, forced BOOLEAN NOT NULL, sourceId BIGINT, mjd DOUBLE NOT NULL, band VARCHAR NOT NULL, ${POINT_VALUE_COLUMNS.map((c) => `${q(c)} DOUBLE`).join(', ')})`,
    // Unique per (objectRef, mjd, band), kept so the same way.
    'CREATE TABLE upper_limits (objectRef BIGINT NOT NULL, mjd DOUBLE NOT NULL, band VARCHAR NOT NULL, limitMag DOUBLE, fluxNoise DOUBLE)',
    // One row per alert: provenance only; the photometry is in points.
    `CREATE TABLE alerts (objectRef BIGINT NOT NULL, sourceId BIGINT NOT NULL, alertId BIGINT, mjd DOUBLE NOT NULL, band VARCHAR NOT NULL, ${q('schema')} VARCHAR NOT NULL,
      topic VARCHAR, ${q('partition')} INTEGER, ${q('offset')} BIGINT, storedAt TIMESTAMPTZ NOT NULL, PRIMARY KEY (objectRef, sourceId))`,
    'CREATE SEQUENCE user_id_seq START 1',
    'CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL, passwordHash VARCHAR, createdAt TIMESTAMPTZ NOT NULL)',
    'CREATE SEQUENCE filter_id_seq START 1',
    `CREATE TABLE filters (id INTEGER PRIMARY KEY, ownerId INTEGER NOT NULL REFERENCES users (id), name VARCHAR NOT NULL, description VARCHAR NOT NULL,
      ${q('select')} VARCHAR NOT NULL, ${q('where')} VARCHAR NOT NULL, tables VARCHAR[] NOT NULL, public BOOLEAN NOT NULL, output VARCHAR NOT NULL,
      active BOOLEAN NOT NULL, topic VARCHAR, createdAt TIMESTAMPTZ NOT NULL, updatedAt TIMESTAMPTZ NOT NULL)`,
    'CREATE TABLE filter_counters (filterId INTEGER NOT NULL, night DATE NOT NULL, matched BIGINT NOT NULL, records BIGINT NOT NULL, bytes BIGINT NOT NULL, dropped BIGINT NOT NULL, PRIMARY KEY (filterId, night))',
    'CREATE TABLE pipeline_counters (night DATE PRIMARY KEY, alertsIn BIGINT NOT NULL, processed BIGINT NOT NULL, deadLetters BIGINT NOT NULL, batches BIGINT NOT NULL)',
    // Named numbers the store keeps; filtersVersion changes with every filter save or delete.
    'CREATE TABLE store_state (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL)',
    "INSERT INTO store_state VALUES ('filtersVersion', 0)",
  ];
}
