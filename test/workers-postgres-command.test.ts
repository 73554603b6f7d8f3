// `nightjar postgres start|status` on the local server the tests share (never stopped here: other
// test files lease it), and the one-line error when PostgreSQL's binaries cannot be run.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { NightjarChild } from './helpers/child-broker.ts';
import { acquireLocalPostgres, releaseLocalPostgres, type PostgresLease } from './setup/local-postgres.ts';

let lease: PostgresLease;

before(async () => {
  lease = await acquireLocalPostgres();
});

after(async () => {
  if (lease !== undefined) await releaseLocalPostgres(lease);
});

async function nightjar(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = new NightjarChild(args, env);
  const exit = await child.exited;
  return { code: exit.code, stdout: child.stdout, stderr: child.stderr };
}

test('postgres start on a running server says so and prints the store URL; status says running, with the URL', { skip: process.env.NIGHTJAR_TEST_POSTGRES_URL ? 'an external server is used' : false }, async () => {
  const started = await nightjar(['postgres', 'start']);
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /^PostgreSQL is already running on 127\.0\.0\.1:\d+$/m);
  const url = /^store: (postgres:\/\/\S+)$/m.exec(started.stdout)?.[1];
  assert.equal(url, lease.url, 'the URL of the nightjar database');
  assert.match(started.stdout, /^use it: nightjar broker --store 'postgres:\/\/\S+' \.\.\.$/m);

  // The URL works: it is what --store takes.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    assert.equal((await client.query('SELECT 1 AS one')).rows[0]?.one, 1);
  } finally {
    await client.end();
  }

  const status = await nightjar(['postgres', 'status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^status: running$/m);
  assert.match(status.stdout, /^address: 127\.0\.0\.1:\d+$/m);
  assert.equal(/^store: (\S+)$/m.exec(status.stdout)?.[1], url);
});

test('status of a server never created says stopped (exit 3); start without runnable binaries fails in one line pointing at the install script', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-postgres-none-'));
  try {
    const env = { NIGHTJAR_POSTGRES_DIR: dir, NIGHTJAR_POSTGRES_PORT: '1', NIGHTJAR_POSTGRES_BIN: path.join(dir, 'no-such-bin') };
    const status = await nightjar(['postgres', 'status'], env);
    assert.equal(status.code, 3);
    assert.match(status.stdout, /^status: stopped$/m);
    assert.match(status.stdout, /^store: none yet/m);

    const started = await nightjar(['postgres', 'start'], env);
    assert.equal(started.code, 1);
    assert.equal(started.stderr.trim().split('\n').length, 1, `one line: ${started.stderr}`);
    assert.match(started.stderr, /^nightjar: cannot run .*initdb.*scripts\/install-postgres\.sh/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
