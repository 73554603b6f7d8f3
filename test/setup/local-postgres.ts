// Tests that need PostgreSQL lease the local server (src/postgres/local-server.ts) as they do
// Kafka: the first starts it, the last one out stops it if a test run started it. Each test gets
// a database of its own (freshDatabase), dropped when it is done.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dropDatabase, ensureDatabase, localPostgresConfig, localPostgresLeasesDir, localPostgresOwner, startLocalPostgres, stopLocalPostgres } from '../../src/postgres/local-server.ts';
import { liveLeases, takeLease } from './leases.ts';

export interface PostgresLease {
  /** URL of the server's nightjar database; NIGHTJAR_TEST_POSTGRES_URL when set (an external server). */
  url: string;
  file?: string;
}

export async function acquireLocalPostgres(): Promise<PostgresLease> {
  const external = process.env.NIGHTJAR_TEST_POSTGRES_URL?.trim();
  if (external) return { url: external };
  const config = localPostgresConfig();
  const file = await takeLease(localPostgresLeasesDir(config));
  try {
    const { url } = await startLocalPostgres(config, 'test');
    return { url, file };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

/** Drops the lease; stops the server if a test run started it and no live lease remains. */
export async function releaseLocalPostgres(lease: PostgresLease): Promise<void> {
  if (lease.file === undefined) return;
  await rm(lease.file, { force: true });
  const config = localPostgresConfig();
  if ((await liveLeases(localPostgresLeasesDir(config))) === 0 && (await localPostgresOwner(config)) === 'test') await stopLocalPostgres(config);
}

export interface TestDatabase {
  /** URL of a new, empty database. */
  url: string;
  drop(): Promise<void>;
}

/** A new empty database on the leased server, named nightjar_test_<random>. */
export async function freshDatabase(lease: PostgresLease, prefix = 'nightjar_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new URL(lease.url);
  admin.pathname = '/postgres';
  await ensureDatabase(admin.toString(), name);
  const url = new URL(lease.url);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => dropDatabase(admin.toString(), name) };
}
