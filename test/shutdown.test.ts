// Graceful shutdown of `nightjar broker` (a child process, as systemd or Kubernetes stop it):
// SIGTERM in the middle of the stream lets the batch under way finish and commit, closes
// everything and exits 0; a restart goes on where it stopped. Afterwards the filter stream holds
// every alert exactly once (its filter passes every object; one alert per batch, so one record
// per alert), and no transaction was aborted: nothing was cut off mid-batch. SIGINT (Ctrl-C)
// does the same. SIGTERM during start-up also ends in a clean stop.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Admin } from '@platformatic/kafka';
import { toAlert } from '../src/formats/adapters/index.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { createTopic } from '../src/kafka/topics.ts';
import { createFilterService } from '../src/service/filter-service.ts';
import { openStore } from '../src/store/duckdb-store.ts';
import { parse } from '../src/util/json.ts';
import { NightjarChild } from './helpers/child-broker.ts';
import { caughtUp, countUncommitted } from './helpers/group-progress.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { readTopic } from './pipeline-helpers.ts';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const RAW = `nightjar-test-shutdown-raw-${run}`;
const GROUP = `nightjar-test-shutdown-${run}`;
const PREFIX = `nightjar-test-shutdown-${run}`;
const ALERTS = 80;

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let dir: string;
const children: NightjarChild[] = [];

before(async () => {
  lease = await acquireLocalKafka();
  settings = { bootstrap: [lease.bootstrap] };
  admin = createAdmin(settings);
  dir = await mkdtemp(path.join(tmpdir(), 'nightjar-shutdown-'));
});

after(async () => {
  for (const c of children) await c.kill9().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  if (lease !== undefined) await releaseLocalKafka(lease);
});

function broker(store: string, env: NodeJS.ProcessEnv = {}): NightjarChild {
  const child = new NightjarChild(
    ['broker', '--topics', RAW, '--group', GROUP, '--store', store, '--http-port', '0', '--topic-prefix', PREFIX, '--dead-letter-topic', `${PREFIX}-dlq`, '--batch-size', '1', '--batch-ms', '20', '--bootstrap', lease.bootstrap],
    env,
  );
  children.push(child);
  return child;
}

test('SIGTERM mid-stream finishes the batch, commits and exits 0; after a restart every alert is in the stream exactly once', { timeout: 300_000 }, async () => {
  const store = path.join(dir, 'store.duckdb');
  const opened = await openStore({ path: store });
  const producer = createProducer(settings);
  const service = createFilterService({ store: opened, admin, producer, topicPrefix: PREFIX });
  const saved = await service.add({ owner: 'shutdown@example.org', name: 'everything', select: 'objectId', output: 'kafka' });
  await service.close();
  await producer.close();
  await opened.close();
  const topic = saved.filter.topic ?? '';

  await createTopic(admin, RAW, 3);
  const simulator = new NightjarChild(['simulate', '--topic', RAW, '--synthetic', String(ALERTS), '--seed', '5', '--no-cutouts', '--fast', '--encoding', 'container', '--bootstrap', lease.bootstrap]);
  children.push(simulator);
  assert.equal((await simulator.exited).code, 0, simulator.stderr);
  const expected: string[] = [];
  for (const m of await readTopic(settings, admin, RAW)) {
    const [decoded] = await decodeMessage(m.value, m.key);
    const alert = toAlert(decoded?.record as Record<string, unknown>, decoded?.schema.name ?? '');
    expected.push(String(alert.objectId));
  }
  assert.equal(expected.length, ALERTS);

  // SIGTERM during start-up (filters loaded, consumer not yet in its group): a clean stop too.
  const early = broker(store, { NIGHTJAR_LOG_LEVEL: 'info' });
  await early.waitFor(/"msg":"filters loaded"/, 120_000, 'stderr');
  await early.signal('SIGTERM');
  const earlyExit = await early.exited;
  assert.equal(earlyExit.code, 0, `SIGTERM while starting exits 0\n${early.stderr.slice(-2000)}`);

  // Transactions held open 300 ms: the SIGTERM almost surely arrives inside one.
  const first = broker(store, { NIGHTJAR_TEST_HOLD_TRANSACTION_MS: '300' });
  await first.waitFor(/^batch 5:/m, 120_000);
  await first.signal('SIGTERM');
  const exit = await first.exited;
  assert.equal(exit.code, 0, `exit status 0 after SIGTERM\n${first.stderr.slice(-2000)}`);
  assert.match(first.stdout, /^broker stopped \(interrupted\): \d+ batches/m);
  const done = first.count(/^batch \d+:/);
  assert.ok(done >= 5 && done < ALERTS, `stopped mid-stream (${done} of ${ALERTS} batches)`);
  assert.equal(await caughtUp(admin, GROUP, RAW), false, 'there is more to do');
  const afterStop = await readTopic(settings, admin, topic);
  assert.equal(afterStop.length, done, 'every batch reported done is committed, the one under way included');

  // Ctrl-C (SIGINT) once the restarted broker has everything: the same clean stop.
  const second = broker(store);
  const deadline = Date.now() + 120_000;
  while (!(await caughtUp(admin, GROUP, RAW))) {
    assert.ok(second.running(), `the restarted broker runs\n${second.stderr.slice(-2000)}`);
    assert.ok(Date.now() < deadline, 'the restarted broker catches up within 2 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  await second.signal('SIGINT');
  assert.equal((await second.exited).code, 0, `exit status 0 after SIGINT\n${second.stderr.slice(-2000)}`);
  assert.equal(second.count(/^batch \d+:/), ALERTS - done, 'the restart processed exactly the rest');

  const records = await readTopic(settings, admin, topic);
  const got = records.map((m) => {
    const r = parse(m.value.toString('utf8')) as Record<string, unknown>;
    return String(r.objectId);
  });
  // One record per alert, for the alert's object: the same multiset of object ids as the input.
  assert.equal(got.length, ALERTS, 'one record per alert');
  assert.deepEqual(got.sort(), expected.sort(), 'every alert exactly once: none lost, none twice');
  assert.equal(await countUncommitted(settings, admin, topic), records.length, 'no aborted transaction: no batch was cut off');
});
