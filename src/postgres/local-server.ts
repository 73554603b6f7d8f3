// A local PostgreSQL server for development, tests and benchmarks (`nightjar postgres start`),
// made from the distribution's binaries (Debian: /usr/lib/postgresql/<version>/bin). It listens
// on 127.0.0.1 only, with password (SCRAM) authentication and no Unix socket; its files live in
// .data/postgres. PostgreSQL refuses to run as root, so under root the server and initdb run as
// the `postgres` system user (the package creates it) and the data folder is given to that user.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { UserError } from '../util/errors.ts';

const run = promisify(execFile);

export const DEFAULT_POSTGRES_PORT = 15432;
const DATABASE = 'nightjar';
const USER = 'nightjar';

export interface LocalPostgresConfig {
  readonly port: number;
  /** .data/postgres: the cluster (pgdata), its log, and the password of the nightjar role. */
  readonly dataDir: string;
}

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** NIGHTJAR_POSTGRES_PORT, else 15432; data in <repo>/.data/postgres (NIGHTJAR_POSTGRES_DIR overrides). */
export function localPostgresConfig(env: NodeJS.ProcessEnv = process.env, root: string = repoRoot): LocalPostgresConfig {
  const raw = env.NIGHTJAR_POSTGRES_PORT?.trim();
  const port = raw ? Number(raw) : DEFAULT_POSTGRES_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`NIGHTJAR_POSTGRES_PORT must be a port number, got ${JSON.stringify(raw)}`);
  const dataDir = env.NIGHTJAR_POSTGRES_DIR?.trim() || path.join(root, '.data', 'postgres');
  return { port, dataDir: path.resolve(dataDir) };
}

function paths(config: LocalPostgresConfig): { pgdata: string; log: string; password: string; leasesDir: string; owner: string } {
  return {
    pgdata: path.join(config.dataDir, 'pgdata'),
    log: path.join(config.dataDir, 'server.log'),
    password: path.join(config.dataDir, 'password'),
    leasesDir: path.join(config.dataDir, 'leases'),
    owner: path.join(config.dataDir, 'started-by'),
  };
}

/** The folder of initdb/pg_ctl: NIGHTJAR_POSTGRES_BIN, else the newest /usr/lib/postgresql/<n>/bin, else PATH. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const configured = env.NIGHTJAR_POSTGRES_BIN?.trim();
  if (configured) return configured;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v) && existsSync(path.join(base, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions[0] === undefined ? null : path.join(base, versions[0], 'bin');
}

function binary(name: string): string {
  const dir = postgresBinDir();
  return dir === null ? name : path.join(dir, name);
}

/** Under root: the uid/gid of the postgres system user that runs the server. */
async function serverUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new UserError('PostgreSQL refuses to run as root and this system has no `postgres` user: install PostgreSQL from your distribution (scripts/install-postgres.sh), or run as another user');
  }
}

async function asServerUser(file: string, args: readonly string[], user: { uid: number; gid: number } | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user === null ? {} : { uid: user.uid, gid: user.gid }), env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => reject(new UserError(`cannot run ${file}: ${err.message} (install PostgreSQL: scripts/install-postgres.sh)`)));
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${path.basename(file)} ${args.join(' ')} exited with ${code}: ${output.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

export interface LocalPostgresStatus {
  running: boolean;
  port: number;
  /** The connection URL of the nightjar database (with its password), once the cluster exists. */
  url: string | null;
}

/** postgres://nightjar:<password>@127.0.0.1:<port>/<database> */
export function postgresUrl(config: LocalPostgresConfig, password: string, database: string = DATABASE): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${config.port}/${database}`;
}

async function readPassword(config: LocalPostgresConfig): Promise<string | null> {
  return readFile(paths(config).password, 'utf8').then((t) => t.trim(), () => null);
}

async function accepting(config: LocalPostgresConfig, password: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl(config, password, 'postgres'), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function localPostgresStatus(config: LocalPostgresConfig = localPostgresConfig()): Promise<LocalPostgresStatus> {
  const password = await readPassword(config);
  if (password === null) return { running: false, port: config.port, url: null };
  return { running: await accepting(config, password), port: config.port, url: postgresUrl(config, password) };
}

export interface StartResult {
  url: string;
  alreadyRunning: boolean;
}

/**
 * Creates the cluster on first use, starts the server if it is not running, and makes sure the
 * nightjar database exists. `owner` is recorded so that tests stop only a server they started.
 */
export async function startLocalPostgres(config: LocalPostgresConfig = localPostgresConfig(), owner: 'test' | 'user' = 'user'): Promise<StartResult> {
  const p = paths(config);
  const user = await serverUser();
  await mkdir(config.dataDir, { recursive: true });
  if (user !== null) await chown(config.dataDir, user.uid, user.gid);
  let password = await readPassword(config);
  if (password === null || !existsSync(path.join(p.pgdata, 'PG_VERSION'))) {
    password = randomBytes(18).toString('base64url');
    await rm(p.pgdata, { recursive: true, force: true });
    const pwfile = path.join(config.dataDir, 'initdb-password');
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    if (user !== null) await chown(pwfile, user.uid, user.gid);
    try {
      await asServerUser(binary('initdb'), ['-D', p.pgdata, '-U', USER, '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], user);
    } finally {
      await rm(pwfile, { force: true });
    }
    await writeFile(p.password, password + '\n', { mode: 0o600 });
  }
  if (await accepting(config, password)) return { url: postgresUrl(config, password), alreadyRunning: true };
  const options = [`-p ${config.port}`, "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", '-c max_connections=200', '-c fsync=on'].join(' ');
  await asServerUser(binary('pg_ctl'), ['-D', p.pgdata, '-l', p.log, '-o', options, '-w', '-t', '60', 'start'], user).catch(async (err: unknown) => {
    const log = await readFile(p.log, 'utf8').catch(() => '');
    throw new UserError(`PostgreSQL did not start on 127.0.0.1:${config.port}: ${(err as Error).message}${log ? `\n${log.trim().split('\n').slice(-5).join('\n')}` : ''}`);
  });
  await writeFile(p.owner, owner + '\n');
  await ensureDatabase(postgresUrl(config, password, 'postgres'), DATABASE);
  return { url: postgresUrl(config, password), alreadyRunning: false };
}

/** Who started the running server ('test' or 'user'), as startLocalPostgres recorded it. */
export async function localPostgresOwner(config: LocalPostgresConfig = localPostgresConfig()): Promise<string | null> {
  return readFile(paths(config).owner, 'utf8').then((t) => t.trim(), () => null);
}

export async function stopLocalPostgres(config: LocalPostgresConfig = localPostgresConfig()): Promise<boolean> {
  const p = paths(config);
  if (!existsSync(path.join(p.pgdata, 'postmaster.pid'))) return false;
  await asServerUser(binary('pg_ctl'), ['-D', p.pgdata, '-m', 'fast', '-w', 'stop'], await serverUser());
  return true;
}

/** Creates the database unless it exists (connecting through adminUrl, a URL of another database). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** Drops the database (connecting through adminUrl), ending its sessions. */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** The folder of test leases (see test/setup/local-postgres.ts). */
export function localPostgresLeasesDir(config: LocalPostgresConfig): string {
  return paths(config).leasesDir;
}
