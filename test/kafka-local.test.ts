// Integration tests on the real local Kafka: binary round trip through a consumer group, topic
// admin, and the broker manager's start/status (shared broker) and full lifecycle (a second
// broker on its own ports and data folder, so the shared one is never disturbed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import { createAdmin, createConsumer, createProducer, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { localKafkaStatus, resetLocalKafka, startLocalKafka, stopLocalKafka } from '../src/kafka/local-broker.ts';
import { localKafkaConfig, localKafkaPaths, repoRoot, type LocalKafkaConfig } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic, endOffsets, listTopics, startOffsets, topicPartitions } from '../src/kafka/topics.ts';
import { UserError } from '../src/util/errors.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const MiB = 1024 * 1024;
const HEADER = Buffer.from('n');

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
});

after(async () => {
  await admin.close();
  await releaseLocalKafka(lease);
});

/** Message i: a binary key (index + random tail), a value of varied size (some 1 MiB, one empty), a header. */
function makeMessage(topic: string, i: number): OutgoingMessage {
  const key = Buffer.concat([Buffer.from([0, 0xff, 0x80]), Buffer.alloc(4), randomBytes(i % 13)]);
  key.writeUInt32BE(i, 3);
  const size = i % 100 === 7 ? MiB : i === 3 ? 0 : (i * 7919) % 20_000;
  return { topic, key, value: randomBytes(size), headers: new Map([[HEADER, Buffer.from(String(i))]]) };
}

describe('binary messages through the real broker', () => {
  test('1,000 keyed messages (ten of 1 MiB) come back byte-identical, in order per partition', { timeout: 120_000 }, async () => {
    const topic = `nightjar-test-roundtrip-${run}`;
    const info = await createTopic(admin, topic, 3);
    assert.deepEqual(info, { name: topic, partitions: 3, created: true });

    const sent = Array.from({ length: 1000 }, (_, i) => makeMessage(topic, i));
    const producer = createProducer(settings);
    try {
      // 4 MiB per send: several sends, each with many records per partition batch.
      const results = await sendAll(producer, sent, 4 * MiB);
      assert.ok(results.length > 3, `expected several sends, got ${results.length}`);
    } finally {
      await producer.close();
    }

    const ends = await endOffsets(admin, topic);
    assert.equal(ends.length, 3);
    assert.equal(ends.reduce((a, b) => a + b, 0n), 1000n);
    assert.deepEqual(await startOffsets(admin, topic), [0n, 0n, 0n]);

    const consumer = createConsumer(settings, { groupId: `nightjar-test-group-${run}`, fromBeginning: true });
    const received: { partition: number; offset: bigint; key: Buffer; value: Buffer; header: Buffer | undefined }[] = [];
    try {
      const stream = await consumer.consume([topic]);
      const timer = setTimeout(() => stream.destroy(new Error(`timed out with ${received.length} of 1000 messages`)), 60_000);
      try {
        for await (const m of stream) {
          received.push({ partition: m.partition, offset: m.offset, key: m.key, value: m.value, header: [...m.headers].find(([k]) => k.equals(HEADER))?.[1] });
          if (received.length === 1000) break;
        }
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await consumer.close();
    }

    assert.equal(received.length, 1000);
    const seen = new Set<number>();
    const lastIndex = new Map<number, number>();
    const lastOffset = new Map<number, bigint>();
    const perPartition = [0n, 0n, 0n];
    for (const r of received) {
      const i = r.key.readUInt32BE(3);
      const original = sent[i];
      assert.ok(original, `unexpected key ${r.key.toString('hex')}`);
      assert.ok(!seen.has(i), `message ${i} received twice`);
      seen.add(i);
      assert.ok(r.key.equals(original.key!), `key of message ${i} differs`);
      assert.equal(r.value.length, original.value.length, `length of message ${i}`);
      assert.ok(r.value.equals(original.value), `bytes of message ${i} differ`);
      assert.equal(r.header?.toString(), String(i), `header of message ${i}`);
      // In order per partition: offsets and production order both increase.
      assert.ok(r.offset > (lastOffset.get(r.partition) ?? -1n), `offsets out of order on partition ${r.partition}`);
      assert.ok(i > (lastIndex.get(r.partition) ?? -1), `message ${i} after message ${lastIndex.get(r.partition)} on partition ${r.partition}`);
      lastOffset.set(r.partition, r.offset);
      lastIndex.set(r.partition, i);
      perPartition[r.partition]! += 1n;
    }
    assert.equal(seen.size, 1000);
    assert.deepEqual(perPartition, ends, 'messages per partition match the end offsets');
    assert.ok(perPartition.every((n) => n > 100n), `keys spread over all 3 partitions: ${perPartition.join(', ')}`);
    const bigOnes = received.filter((r) => r.value.length === MiB).length;
    assert.equal(bigOnes, 10);

    assert.equal(await deleteTopic(admin, topic), true);
  });

  test('a 10 MB message is accepted by the local broker', { timeout: 60_000 }, async () => {
    const topic = `nightjar-test-big-${run}`;
    await createTopic(admin, topic, 1);
    const value = randomBytes(10 * 1000 * 1000);
    const producer = createProducer(settings);
    try {
      await sendAll(producer, [{ topic, key: Buffer.from('big'), value }]);
    } finally {
      await producer.close();
    }
    const consumer = createConsumer(settings, { groupId: `nightjar-test-big-${run}`, fromBeginning: true });
    let digest = '';
    try {
      const stream = await consumer.consume([topic]);
      for await (const m of stream) {
        digest = createHash('sha256').update(m.value).digest('hex');
        break;
      }
    } finally {
      await consumer.close();
    }
    assert.equal(digest, createHash('sha256').update(value).digest('hex'));
    await deleteTopic(admin, topic);
  });
});

describe('topic administration', () => {
  test('createTopic is idempotent, deleteTopic and listTopics see the change', async () => {
    const topic = `nightjar-test-admin-${run}`;
    assert.equal(await topicPartitions(admin, topic), undefined);
    assert.deepEqual(await createTopic(admin, topic, 2, { 'retention.ms': 3_600_000 }), { name: topic, partitions: 2, created: true });
    // Asking again, even with another partition count, keeps the existing topic as it is.
    assert.deepEqual(await createTopic(admin, topic, 5), { name: topic, partitions: 2, created: false });
    assert.ok((await listTopics(admin)).includes(topic));
    assert.ok(!(await listTopics(admin)).some((t) => t.startsWith('__')), 'internal topics hidden by default');
    assert.deepEqual(await endOffsets(admin, topic), [0n, 0n]);
    const [described] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms'] }] });
    assert.equal(described?.configs.find((c) => c.name === 'retention.ms')?.value, '3600000');
    assert.equal(await deleteTopic(admin, topic), true);
    assert.equal(await deleteTopic(admin, topic), false);
    await assert.rejects(endOffsets(admin, topic), /does not exist/);
  });

  test('createTopic rejects a bad partition count with the topic name', async () => {
    await assert.rejects(createTopic(admin, `nightjar-test-bad-${run}`, 0), /nightjar-test-bad-.*partitions must be a positive integer/);
  });
});

const usesLocalBroker = !process.env.NIGHTJAR_KAFKA_BOOTSTRAP?.trim();

describe('the shared local broker', { skip: usesLocalBroker ? false : 'NIGHTJAR_KAFKA_BOOTSTRAP points at another cluster' }, () => {
  test('status reports it running with pid, address, version and data folder', async () => {
    const config = localKafkaConfig();
    const status = await localKafkaStatus(config);
    assert.equal(status.running, true);
    assert.equal(typeof status.pid, 'number');
    assert.equal(status.bootstrap, `127.0.0.1:${config.port}`);
    assert.match(status.version ?? '', /^4\.\d+\.\d+/);
    assert.match(status.clusterId ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.equal(status.dataDir, path.join(repoRoot, '.data', 'kafka'));
  });

  test('start twice is harmless: the same broker keeps running', async () => {
    const config = localKafkaConfig();
    const before = await localKafkaStatus(config);
    const again = await startLocalKafka(config);
    assert.equal(again.alreadyRunning, true);
    assert.equal(again.status.pid, before.pid);
    assert.equal(again.status.running, true);
  });

  test('the CLI prints one fact per line', async () => {
    const status = await localKafkaStatus(localKafkaConfig());
    const out = await nightjar(['kafka', 'status']);
    assert.equal(out.code, 0);
    assert.match(out.stdout, /^status: running$/m);
    assert.match(out.stdout, new RegExp(`^pid: ${status.pid}$`, 'm'));
    assert.match(out.stdout, new RegExp(`^bootstrap: ${status.bootstrap}$`, 'm'));
    assert.match(out.stdout, /^version: Kafka 4\.\d+\.\d+$/m);
    const start = await nightjar(['kafka', 'start']);
    assert.equal(start.code, 0);
    assert.equal(start.stdout, `Kafka is already running (pid ${status.pid}) on ${status.bootstrap}\n`);
  });
});

describe('broker lifecycle on a second broker with its own ports and data', { skip: usesLocalBroker ? false : 'uses the local broker tools' }, () => {
  let config: LocalKafkaConfig;

  before(async () => {
    const port = await freePortPair();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-kafka-lifecycle-'));
    config = { ...localKafkaConfig(), port, controllerPort: port + 1, dataDir };
  });

  after(async () => {
    await stopLocalKafka(config, { graceMs: 5000 });
    await rm(config.dataDir, { recursive: true, force: true });
  });

  test('stopped, port clash, start, start again, failed start, stop, stop again, reset', { timeout: 180_000 }, async () => {
    const stopped = await localKafkaStatus(config);
    assert.equal(stopped.running, false);
    assert.equal(stopped.pid, undefined);
    assert.equal(stopped.portTakenBy, undefined);

    // Something else on the controller port: one-line explanation, nothing started.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(config.controllerPort, '127.0.0.1', resolve));
    try {
      await assert.rejects(startLocalKafka(config), (err: unknown) => err instanceof UserError && new RegExp(`port ${config.controllerPort} on 127\\.0\\.0\\.1 \\(Kafka controller\\) is in use by another process`).test(err.message));
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    assert.equal((await localKafkaStatus(config)).running, false);

    const first = await startLocalKafka(config, { timeoutMs: 60_000 });
    assert.equal(first.alreadyRunning, false);
    assert.equal(first.formatted, true);
    assert.equal(first.status.running, true);
    assert.equal(first.status.bootstrap, `127.0.0.1:${config.port}`);
    const pid = first.status.pid!;

    // The broker listens on loopback only, and answers there.
    const admin2 = createAdmin({ bootstrap: [`127.0.0.1:${config.port}`] });
    try {
      const metadata = await admin2.metadata({ topics: [] });
      assert.deepEqual([...metadata.brokers.values()].map((b) => `${b.host}:${b.port}`), [`127.0.0.1:${config.port}`]);
    } finally {
      await admin2.close();
    }
    const properties = await readFile(localKafkaPaths(config).serverProperties, 'utf8');
    assert.match(properties, new RegExp(`^listeners=PLAINTEXT://127\\.0\\.0\\.1:${config.port},CONTROLLER://127\\.0\\.0\\.1:${config.controllerPort}$`, 'm'));

    const second = await startLocalKafka(config);
    assert.equal(second.alreadyRunning, true);
    assert.equal(second.status.pid, pid);

    const stop = await stopLocalKafka(config);
    assert.deepEqual(stop, { wasRunning: true, stopped: true, pid, killed: false });
    // The JVM is gone (it may linger a moment as a zombie child of this process) and the port is free.
    assert.equal((await localKafkaStatus(config)).processAlive, false);
    assert.equal(await canListen(config.port), true);
    assert.deepEqual(await stopLocalKafka(config), { wasRunning: false, stopped: false, killed: false });
    assert.equal((await localKafkaStatus(config)).running, false);

    // A broker that dies during start-up: a one-line error that points to the log, with the cause.
    const meta = localKafkaPaths(config).metaProperties;
    const original = await readFile(meta, 'utf8');
    await writeFile(meta, original.replace(/^node\.id=1$/m, 'node.id=2'));
    await assert.rejects(startLocalKafka(config, { timeoutMs: 60_000 }), (err: unknown) => err instanceof UserError && /exited during start-up; see .*server\.log.*: .+/.test(err.message));
    await writeFile(meta, original);
    assert.equal((await localKafkaStatus(config)).processAlive, false);

    // Warm start on existing storage: no format, same cluster.
    const warm = await startLocalKafka(config, { timeoutMs: 60_000 });
    assert.equal(warm.formatted, false);
    assert.equal(warm.status.clusterId, first.status.clusterId);

    const reset = await resetLocalKafka(config);
    assert.equal(reset.stopped, true);
    assert.equal(existsSync(localKafkaPaths(config).metaProperties), false);
    assert.equal(existsSync(localKafkaPaths(config).pidFile), false);
  });
});

/** Runs the real ./nightjar launcher. */
async function nightjar(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Two consecutive free loopback ports (broker, controller) away from the shared broker's. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 4000);
    if ((await canListen(port)) && (await canListen(port + 1))) return port;
  }
  throw new Error('no free pair of loopback ports found');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
