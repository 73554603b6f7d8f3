// Schema versions of a store file. Each migration runs once, in its own transaction, and is
// recorded in schema_migrations; a later Nightjar adds migrations to the end of MIGRATIONS and
// never edits one that has shipped. After the migrations, the `objects` table is compared with
// OBJECT_COLUMNS: a column added there is added to the table (null until the object's next
// alert); any other difference needs a written migration and stops the store from opening.
import type { DuckDBConnection } from '@duckdb/node-api';
import { OBJECT_COLUMNS } from '../features/columns.ts';
import { quoteIdentifier } from '../filters/sql-text.ts';
import { UserError } from '../util/errors.ts';
import { accountsSchema } from './schema-accounts.ts';
import { cutoutLocationsSchema, cutoutsSchema } from './schema-cutouts.ts';
import { matchesSchema } from './schema-matches.ts';
import { kafkaUsersSchema } from './schema-kafka-users.ts';
import { initialSchema } from './schema.ts';

export interface Migration {
  version: number;
  description: string;
  statements(): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'objects, lightcurves, alerts, users, filters, counters', statements: initialSchema },
  { version: 2, description: 'filter matches and email digest state', statements: matchesSchema },
  { version: 3, description: 'web accounts: settings, sessions, API tokens', statements: accountsSchema },
  { version: 4, description: 'Kafka credentials of accounts', statements: kafkaUsersSchema },
  { version: 5, description: 'cutout images of each object\'s newest alert', statements: cutoutsSchema },
  { version: 6, description: 'cutout images of a file store in segment files beside it', statements: cutoutLocationsSchema },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

export interface MigrationReport {
  /** Version found (0 for a new store). */
  from: number;
  to: number;
  /** `objects` columns added to match OBJECT_COLUMNS. */
  addedColumns: string[];
}

const versionsTable = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, appliedAt TIMESTAMPTZ NOT NULL)';

/** The highest applied version, 0 if none. */
export async function currentVersion(connection: DuckDBConnection): Promise<number> {
  const exists = await connection.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'schema_migrations'");
  if (Number(exists.getRows()[0]?.[0] ?? 0) === 0) return 0;
  const reader = await connection.runAndReadAll('SELECT coalesce(max(version), 0) FROM schema_migrations');
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/** Brings the store at `location` up to SCHEMA_VERSION. */
export async function migrate(connection: DuckDBConnection, location: string): Promise<MigrationReport> {
  await connection.run(versionsTable);
  const from = await currentVersion(connection);
  if (from > SCHEMA_VERSION) {
    throw new UserError(`store ${location} has schema version ${from}, newer than this Nightjar understands (${SCHEMA_VERSION}): upgrade Nightjar`);
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    await inTransaction(connection, async () => {
      for (const statement of migration.statements()) await connection.run(statement);
      await connection.run('INSERT INTO schema_migrations VALUES ($1, $2, now())', [migration.version, migration.description]);
    }).catch((error: unknown) => {
      throw new Error(`store ${location}: migration to version ${migration.version} (${migration.description}) failed: ${(error as Error).message}`, { cause: error });
    });
  }
  const addedColumns = await inTransaction(connection, () => reconcileObjectColumns(connection, location));
  return { from, to: SCHEMA_VERSION, addedColumns };
}

/** Throws unless the store is at SCHEMA_VERSION with the objects columns of OBJECT_COLUMNS (for stores opened read-only). */
export async function checkSchema(connection: DuckDBConnection, location: string): Promise<void> {
  const version = await currentVersion(connection);
  if (version !== SCHEMA_VERSION) {
    throw new UserError(`store ${location} has schema version ${version}, this Nightjar needs ${SCHEMA_VERSION}: open it once read-write to migrate it`);
  }
  const { missing, problems } = compareObjectColumns(await objectsColumns(connection));
  if (missing.length > 0 || problems.length > 0) {
    throw new UserError(`store ${location}: the objects table does not match src/features/columns.ts (${[...missing.map((c) => `missing ${c.name}`), ...problems].join('; ')}): open it once read-write to migrate it`);
  }
}

interface StoredColumn {
  name: string;
  type: string;
}

async function objectsColumns(connection: DuckDBConnection): Promise<StoredColumn[]> {
  const reader = await connection.runAndReadAll(
    "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'objects' ORDER BY column_index",
  );
  return reader.getRows().map(([name, type]) => ({ name: String(name), type: String(type) }));
}

function compareObjectColumns(stored: readonly StoredColumn[]): { missing: typeof OBJECT_COLUMNS[number][]; problems: string[] } {
  const byName = new Map(stored.map((c) => [c.name.toLowerCase(), c]));
  const documented = new Set(OBJECT_COLUMNS.map((c) => c.name.toLowerCase()));
  const missing = OBJECT_COLUMNS.filter((c) => !byName.has(c.name.toLowerCase()));
  const problems: string[] = [];
  for (const column of OBJECT_COLUMNS) {
    const found = byName.get(column.name.toLowerCase());
    if (found !== undefined && found.type !== column.type) problems.push(`column ${column.name} is ${found.type}, documented as ${column.type}`);
  }
  for (const column of stored) if (!documented.has(column.name.toLowerCase())) problems.push(`column ${column.name} is no longer documented`);
  return { missing, problems };
}

async function reconcileObjectColumns(connection: DuckDBConnection, location: string): Promise<string[]> {
  const { missing, problems } = compareObjectColumns(await objectsColumns(connection));
  if (problems.length > 0) {
    throw new UserError(`store ${location}: the objects table differs from src/features/columns.ts (${problems.join('; ')}); add a migration to src/store/migrations.ts for this change`);
  }
  for (const column of missing) {
    await connection.run(`ALTER TABLE objects ADD COLUMN ${quoteIdentifier(column.name)} ${column.type}`);
  }
  return missing.map((c) => c.name);
}

/** Runs work in a transaction on the connection: committed if it succeeds, rolled back if it throws. */
export async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await connection.run('ROLLBACK');
    throw error;
  }
  await connection.run('COMMIT');
  return result;
}
