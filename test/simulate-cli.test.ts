// `nightjar simulate` as a person runs it: a folder with night archives built from real alerts
// (one intact, one truncated) is replayed, the corrupt archive is named on stderr and skipped,
// the rest is sent, the exit status says something was skipped; and Ctrl-C stops cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { createAdmin, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';
import { consumeTopic } from './simulate-consume.ts';

const data = path.resolve(repoRoot, '../shared/data');
const MAIN = path.join(repoRoot, 'src/cli/main.ts');

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let work: string;
const topics: string[] = [];
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  work = await mkdtemp(path.join(tmpdir(), 'nightjar-simulate-cli-'));
});

after(async () => {
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await admin.close();
  await releaseLocalKafka(lease);
  await rm(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStdout` may act on the output as it comes (e.g. send Ctrl-C). */
function nightjar(args: string[], onStdout?: (stdout: string, stderr: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
      env: { ...process.env, NIGHTJAR_REGISTRY_STORE: path.join(work, 'registry.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, stderr, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('a folder of night archives: the corrupt archive is reported by name and skipped, the rest is sent (exit 2)', { timeout: 120_000 }, async () => {
  const topic = `nightjar-test-simulate-cli-${run}`;
  topics.push(topic);
  const staging = path.join(work, 'staging');
  const replay = path.join(work, 'replay');
  await mkdir(replay, { recursive: true });
  const sourceDirs = { NITE60924: path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro'), NITE60776: path.join(data, 'fink-broker/datasim/rubin_test_data_7_4_avro') };
  let good = 0;
  for (const [night, dir] of Object.entries(sourceDirs)) {
    await mkdir(path.join(staging, night), { recursive: true });
    const files = (await readdir(dir)).sort().slice(0, 6);
    for (const f of files) await copyFile(path.join(dir, f), path.join(staging, night, f));
    execFileSync('tar', ['-czf', path.join(staging, `${night}.tar.gz`), night], { cwd: staging });
    if (night === 'NITE60924') good = files.length;
  }
  await copyFile(path.join(staging, 'NITE60924.tar.gz'), path.join(replay, 'NITE60924.tar.gz'));
  const whole = await readFile(path.join(staging, 'NITE60776.tar.gz'));
  await writeFile(path.join(replay, 'NITE60776.tar.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
  // A loose ZTF alert next to them: container files need no schema source.
  await copyFile(path.join(data, 'boom/alerts/ztf/2695378462115010012.avro'), path.join(replay, 'ztf.avro'));

  const result = await nightjar(['simulate', '--topic', topic, '--data', replay, '--fast', '--encoding', 'container', '--partitions', '2', '--display', 'diaSource.diaSourceId']);
  assert.equal(result.code, 2, `exit status 2 (something skipped); stderr:\n${result.stderr}`);
  assert.match(result.stderr, new RegExp(`nightjar simulate: skipped ${path.join(replay, 'NITE60776.tar.gz').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt gzip data: unexpected end of file; archive skipped`));
  assert.equal(result.stderr.match(/skipped /g)?.length, 2, 'one skip line (and the summary)');

  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines[0], `Total alert available (${replay}): ${good + 1}`);
  assert.equal(lines[1], `Total alert to be sent: ${good + 1}`);
  assert.match(lines[2]!, /^t0: \d+\.\d+$/);
  for (let i = 3; i < lines.length; i += 3) {
    assert.match(lines[i]!, /^Observation start: t0 \+ : \d+\.\d\d seconds$/);
    assert.match(lines[i + 1]!, /^\d+ alerts sent \(\S+ to \S+\)$/);
    assert.equal(lines[i + 2], `Observation ${(i - 3) / 3 + 1} done...`);
  }
  const messages = await consumeTopic(settings, topic, good + 1);
  assert.equal(messages.length, good + 1);
});

test('Ctrl-C stops after the observation in flight is acknowledged (exit 130); the in-process registry serves the ids meanwhile', { timeout: 120_000 }, async () => {
  const topic = `nightjar-test-simulate-int-${run}`;
  topics.push(topic);
  let served: Promise<unknown> | undefined;
  const result = await nightjar(['simulate', '--topic', topic, '--synthetic', '5000', '--no-cutouts', '--alerts-per-observation', '200', '--interval', '5'], (stdout, stderr, child) => {
    if (served === undefined && stdout.includes('Observation 1 done...')) {
      // While the replay waits for its next observation, a consumer can fetch the schema by id.
      const url = /schema registry: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      served = fetch(`${url}/schemas/ids/1000`).then((r) => r.json()).finally(() => child.kill('SIGINT'));
    }
  });
  assert.equal(result.code, 130, result.stderr);
  assert.equal((await served as { schema: string }).schema, lsstAlertParsedSchema().text);
  assert.match(result.stderr, /schema registry: http:\/\/127\.0\.0\.1:\d+ \(in-process/);
  const lines = result.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['Total alert available (synthetic, seed 42): 5000', 'Total alert to be sent: 5000']);
  assert.equal(lines.at(-1), 'Interrupted: 200 of 5000 alerts sent');
  const messages = await consumeTopic(settings, topic, 200);
  assert.equal(messages.length, 200, 'exactly the acknowledged alerts are in the topic');
  assert.ok(messages.every((m) => m.value[0] === 0 && m.value.readUInt32BE(1) === 1000), 'Confluent frames, id 1000 (lsst.v10_0)');
  const store = JSON.parse(await readFile(path.join(work, 'registry.json'), 'utf8')) as { subjects: Record<string, number[]> };
  assert.deepEqual(store.subjects[`${topic}-value`], [1000], 'registered under <topic>-value, kept in the store file');
});
