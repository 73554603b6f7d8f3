// `./nightjar web` as a user runs it: alone over a store (pages and the API answer, nothing is
// ingested), and with --topics as the broker serving the web app (the same flags as `broker`;
// /api/filters then needs the admin token written beside the store). Ctrl-C stops both cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { createAdmin, defaultSettings } from '../src/kafka/connection.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { NightjarChild } from './helpers/child-broker.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const RAW = `nightjar-test-webcli-raw-${run}`;
const DLQ = `nightjar-test-webcli-dlq-${run}`;

let lease: Lease;
let admin: Admin;
let dir: string;
const children: NightjarChild[] = [];

before(async () => {
  lease = await acquireLocalKafka();
  admin = createAdmin(defaultSettings());
  dir = await mkdtemp(path.join(tmpdir(), 'nightjar-web-cli-'));
  await createTopic(admin, RAW, 1);
});

after(async () => {
  for (const c of children) await c.kill9();
  for (const t of [RAW, DLQ]) await deleteTopic(admin, t).catch(() => false);
  await admin?.close();
  await rm(dir, { recursive: true, force: true });
  if (lease !== undefined) await releaseLocalKafka(lease);
});

function start(args: string[]): NightjarChild {
  const child = new NightjarChild(args);
  children.push(child);
  return child;
}

async function urlOf(child: NightjarChild): Promise<string> {
  await child.waitFor(/web: (http:\/\/127\.0\.0\.1:\d+)\//);
  return (child.stdout.match(/web: (http:\/\/127\.0\.0\.1:\d+)\//) as RegExpMatchArray)[1] as string;
}

test('nightjar web alone serves the pages and the API over a store, and stops on Ctrl-C', async () => {
  const store = path.join(dir, 'alone.duckdb');
  const child = start(['web', '--store', store, '--http-port', '0']);
  const url = await urlOf(child);
  const home = await fetch(`${url}/`);
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await home.text(), /Nightjar/);
  const openapi = await fetch(`${url}/api/openapi.json`);
  assert.equal(openapi.status, 200);
  assert.ok(((await openapi.json()) as { paths: Record<string, unknown> }).paths['/api/v1/filters'] !== undefined);
  const anonymous = await fetch(`${url}/api/v1/filters`);
  assert.equal(anonymous.status, 401, 'the API needs a token or a session');
  await child.signal('SIGINT');
  assert.deepEqual(await child.exited, { code: 0, signal: null });
  assert.match(child.stdout, /web stopped/);
});

test('nightjar web --topics runs the broker with the web app; the filter API needs the admin token', async () => {
  const store = path.join(dir, 'broker.duckdb');
  const child = start(['web', '--topics', RAW, '--dead-letter-topic', DLQ, '--group', `nightjar-test-webcli-${run}`, '--store', store, '--http-port', '0', '--quiet']);
  const url = await urlOf(child);
  await child.waitFor(/broker: \d+ active filters/);
  assert.equal((await fetch(`${url}/signup`)).status, 200);
  assert.equal((await fetch(`${url}/health`)).status, 200);
  assert.equal((await fetch(`${url}/api/filters`)).status, 401, '/api/filters refuses a request without the admin token');
  assert.ok(existsSync(`${store}.admin-token`), 'the admin token is written beside the store');
  await child.signal('SIGTERM');
  assert.deepEqual(await child.exited, { code: 0, signal: null });
  assert.ok(!existsSync(`${store}.admin-token`), 'the admin token is removed when the broker stops');
});

test('nightjar web refuses a bad flag in one line', async () => {
  const child = start(['web', '--store', path.join(dir, 'bad.duckdb'), '--http-port', '70000']);
  const exit = await child.exited;
  assert.notEqual(exit.code, 0);
  assert.match(child.stderr, /--http-port must be at most 65535/);
  assert.doesNotMatch(child.stderr, /\n\s+at /, 'no stack trace');
});
