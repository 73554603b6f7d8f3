// `nightjar postgres start|stop|status`: the local PostgreSQL server (src/postgres/local-server.ts)
// for development, tests and several broker workers sharing one store. Output is for people: one
// line per fact, as `nightjar kafka` prints them.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { localPostgresConfig, localPostgresStatus, postgresBinDir, startLocalPostgres, stopLocalPostgres, type LocalPostgresConfig } from '../postgres/local-server.ts';
import { UserError } from '../util/errors.ts';

const HELP = `
The server keeps its files in .data/postgres (NIGHTJAR_POSTGRES_DIR overrides) and listens on
127.0.0.1:15432 only (NIGHTJAR_POSTGRES_PORT), with a password kept in .data/postgres/password
(readable by you only). \`start\` prints the URL of its nightjar database: give it to every
broker process that should share the store, e.g.

  nightjar broker --topics RAW --store "$URL" --group workers --instance w1
  nightjar broker --topics RAW --store "$URL" --group workers --instance w2

PostgreSQL's server binaries come from the distribution (Debian/Ubuntu: the postgresql
package; scripts/install-postgres.sh installs it), or from NIGHTJAR_POSTGRES_BIN.`;

export function registerPostgresCommand(program: Command): void {
  const postgres = program
    .command('postgres')
    .description('run the local PostgreSQL server (127.0.0.1 only) that several broker processes can share as their store')
    .addHelpText('after', HELP);

  postgres
    .command('start')
    .description('create the server on first use and start it; does nothing if it already runs; prints the store URL')
    .action(async () => {
      const config = localPostgresConfig();
      requireBinaries();
      const result = await startLocalPostgres(config, 'user');
      say(result.alreadyRunning ? `PostgreSQL is already running on 127.0.0.1:${config.port}` : `PostgreSQL started on 127.0.0.1:${config.port}`);
      for (const line of useLines(config, result.url)) say(line);
    });

  postgres
    .command('stop')
    .description('stop the local server (fast shutdown: open sessions end); does nothing if it is stopped')
    .action(async () => {
      const config = localPostgresConfig();
      const wasRunning = (await localPostgresStatus(config)).running;
      const stopped = await stopLocalPostgres(config).catch((err: unknown) => {
        throw new UserError(`PostgreSQL could not be stopped: ${(err as Error).message}`);
      });
      say(stopped || wasRunning ? 'PostgreSQL stopped' : 'PostgreSQL is not running');
    });

  postgres
    .command('status')
    .description('say whether the local server runs, with its address and store URL (exit code 3 when stopped)')
    .action(async () => {
      const config = localPostgresConfig();
      const status = await localPostgresStatus(config);
      say(`status: ${status.running ? 'running' : 'stopped'}`);
      say(`address: 127.0.0.1:${status.port}`);
      if (status.url === null) say('store: none yet (`nightjar postgres start` creates it)');
      else for (const line of useLines(config, status.url)) say(line);
      if (!status.running) process.exitCode = 3;
    });
}

/** The URL to give --store, and where the server keeps its files. */
function useLines(config: LocalPostgresConfig, url: string): string[] {
  return [`store: ${url}`, `use it: nightjar broker --store '${url}' ...`, `data: ${show(config.dataDir)}`];
}

/** One clear line instead of a failed spawn deep inside start-up when PostgreSQL is not installed. */
function requireBinaries(): void {
  if (postgresBinDir() !== null) return;
  try {
    execFileSync('initdb', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new UserError('PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin, no initdb on PATH): run scripts/install-postgres.sh, or set NIGHTJAR_POSTGRES_BIN to the folder of its initdb and pg_ctl');
  }
}

/** A path relative to the current folder when it is inside it (shorter to read), else absolute. */
function show(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
