// `nightjar filter ...` when no broker API answers: it says so on stderr and works on the store
// file directly, with its own Kafka clients (the local Kafka). Also: a store held open by another
// process is reported with a hint instead of a crash.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { featuresForBatch } from '../src/features/index.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { createAdmin, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic, listTopics } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { retainedRecords } from '../src/service/filter-service.ts';
import { openStore } from '../src/store/index.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const prefix = `njtest-clistore-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let lease: Lease;
let admin: Admin;
let dir: string;
let storeFile: string;
let api: string;

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

before(async () => {
  lease = await acquireLocalKafka();
  admin = createAdmin(defaultSettings());
  dir = mkdtempSync(path.join(os.tmpdir(), 'nightjar-filter-cli-'));
  storeFile = path.join(dir, 'store.duckdb');
  const store = await openStore({ path: storeFile });
  const alerts = [...generateAlerts({ seed: 3, objects: 200, count: 800, cutouts: false })].map((r) => toAlert(r, 'lsst.v10_0.alert'));
  await store.writeBatch({ alerts, objects: featuresForBatch(alerts) });
  await store.close();
  api = `http://127.0.0.1:${await closedPort()}`;
});

after(async () => {
  for (const topic of await listTopics(admin)) if (topic.startsWith(prefix)) await deleteTopic(admin, topic).catch(() => false);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
  await releaseLocalKafka(lease);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function nightjar(...args: string[]): Promise<Run> {
  const all = ['--disable-warning=ExperimentalWarning', path.join(repoRoot, 'src/cli/main.ts'), 'filter', ...args, '--api', api, '--store', storeFile, '--topic-prefix', prefix];
  return new Promise((resolve) => {
    execFile(process.execPath, all, { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

test('without an API the command says so and works on the store file and Kafka directly', { timeout: 180_000 }, async () => {
  const fallback = `nightjar: no Nightjar API answers at ${api} (ECONNREFUSED); using the store ${storeFile} directly\n`;
  const add = await nightjar('add', '--owner', 'ann@example.org', '--name', 'direct', '--output', 'kafka-lite', '--select', 'objectId, alertMag', '--where', 'nSources >= 2');
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stderr, fallback);
  const topic = `${prefix}_1direct`;
  assert.match(add.stdout, new RegExp(`^filter 1 "direct" saved, owner ann@example\\.org \\(user 1\\)\\n {2}output: kafka stream with lite lightcurve → topic ${topic}\\n {2}stream: 0 old records deleted, 10 records put in`));
  assert.equal(await retainedRecords(admin, topic), 10);

  const list = await nightjar('list', '--json');
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stderr, fallback);
  assert.deepEqual((parse(list.stdout) as { filters: { name: string; topic: string }[] }).filters.map((f) => [f.name, f.topic]), [['direct', topic]]);

  const update = await nightjar('update', '1', '--where', 'nSources >= 4', '--json');
  assert.equal(update.code, 0, update.stderr);
  const saved = parse(update.stdout) as { stream: { deleted: number; records: number; rows: { objectId: string }[] } };
  assert.equal(saved.stream.deleted, 10);
  assert.equal(await retainedRecords(admin, topic), saved.stream.records);

  // The stored filter is what the next process sees.
  const check = await openStore({ path: storeFile, readOnly: true });
  try {
    const stored = await check.getFilter(1);
    assert.deepEqual([stored?.where, stored?.topic, stored?.output], ['nSources >= 4', topic, 'kafka-lite']);
  } finally {
    await check.close();
  }

  const remove = await nightjar('remove', '1');
  assert.equal(remove.code, 0, remove.stderr);
  assert.equal(remove.stdout, `filter 1 "direct" removed\n  topic ${topic} deleted\n`);
  assert.equal(await retainedRecords(admin, topic), null, 'the topic is gone');
});

test('a store held open by another process (the broker) is reported with a hint', { timeout: 60_000 }, async () => {
  const held = await openStore({ path: storeFile });
  try {
    const run = await nightjar('list');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot open store .*store\.duckdb/);
    assert.match(run.stderr, /pass --api with the address of its API/);
  } finally {
    await held.close();
  }
});
