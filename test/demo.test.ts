// The README's first command, run as a user runs it: ./nightjar demo, stopped after 3 visits.
// It must start the broker with its example filters, stream the visits through it, account for
// every alert, and deliver filter records that read back exact (a 64-bit diaObjectId in digits).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createAdmin, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const id = randomBytes(3).toString('hex');
const topic = `nightjar-test-demo-${id}`;
const prefix = `nightjar-test-demo-${id}`;
const filterTopics = ['brighttransients', 'SN-likecandidates', 'highSNRAvro'].map((name) => `${prefix}_1${name}`);
let lease: Lease;
let dir: string;
before(async () => {
  lease = await acquireLocalKafka();
  dir = await mkdtemp(path.join(tmpdir(), 'nightjar-demo-'));
});
after(async () => {
  const admin = createAdmin(defaultSettings());
  for (const t of [topic, ...filterTopics]) await deleteTopic(admin, t).catch(() => false);
  await admin.close();
  await rm(dir, { recursive: true, force: true });
  await releaseLocalKafka(lease);
});

test('nightjar demo runs the broker with example filters on simulated visits and shows how to consume them', { timeout: 120_000 }, async () => {
  const args = ['demo', '--visits', '3', '--interval', '0', '--topic', topic, '--topic-prefix', prefix, '--http-port', '0', '--store', path.join(dir, 'demo.duckdb')];
  const { stdout } = await promisify(execFile)(path.join(repoRoot, 'nightjar'), args, { timeout: 110_000 });

  // What runs where: the broker's HTTP endpoints and the four example filters, three with topics.
  assert.match(stdout, /broker: metrics http:\/\/127\.0\.0\.1:\d+\/metrics, health http:\/\/127\.0\.0\.1:\d+\/health, filters API http:\/\/127\.0\.0\.1:\d+\/api\/filters/);
  for (const t of filterTopics) assert.ok(stdout.includes(`→ topic ${t}:`), `filter topic ${t} listed`);
  assert.match(stdout, /filter #4 "blue objects digest" \(email - daily digest\)/);
  // How to consume: seed 001's Python code on the plain stream, and the Avro stream with print.
  assert.ok(stdout.includes(`consumer.subscribe(['${filterTopics[0]}'])`));
  assert.ok(stdout.includes(`./nightjar print ${filterTopics[2]} --from earliest`));

  // Three visits sent; every alert taken by the broker, in batches whose counts add up.
  const sent = [...stdout.matchAll(/^simulator: (\d+) alerts? sent/gm)].map((m) => Number(m[1]));
  assert.equal(sent.length, 3, stdout);
  assert.equal([...stdout.matchAll(/^simulator: Observation \d done/gm)].length, 3);
  const total = sent.reduce((s, n) => s + n, 0);
  const batches = [...stdout.matchAll(/^broker: batch \d+: (\d+) alerts? in, (\d+) processed.*; matches: bright transients (\d+), SN-like candidates (\d+), high SNR Avro (\d+), blue objects digest (\d+)$/gm)];
  assert.ok(batches.length >= 1, stdout);
  assert.equal(batches.reduce((s, m) => s + Number(m[1]), 0), total);
  assert.equal(batches.reduce((s, m) => s + Number(m[2]), 0), total);
  assert.match(stdout, new RegExp(`^demo: 3 visits, ${total} alerts sent; broker: ${total} alerts in, ${total} processed, 0 dead letters$`, 'm'));

  // The counts per filter at the end agree with the batches, and the bright stream has records.
  const bright = batches.reduce((s, m) => s + Number(m[3]), 0);
  assert.ok(bright > 0, 'the first visits have bright transients');
  assert.match(stdout, new RegExp(`^filter #1 "bright transients": ${bright} matched, ${bright} records .* in ${filterTopics[0]}$`, 'm'));

  // The first record reads back in seed 001's plain shape, the 64-bit id exact.
  const line = stdout.split('\n').find((l) => l.startsWith(`first record of ${filterTopics[0]}: `));
  assert.ok(line !== undefined, stdout);
  const record = parse(line.slice(line.indexOf(': ') + 2)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record), ['diaObjectId', 'ra', 'decl', 'alertMag', 'alertBand', 'alertSnr', 'nSources', 'UTC']);
  assert.ok(typeof record.diaObjectId === 'bigint' && record.diaObjectId > 2n ** 53n, 'diaObjectId exact, beyond 2^53');
  assert.ok((record.alertMag as number) < 20 && (record.alertSnr as number) > 10, 'the record passes the filter');
  assert.match(stdout, /demo stopped/);
});
