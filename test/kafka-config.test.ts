// Unit tests of the pure parts of the Kafka layer: local broker configuration, connection
// settings from the environment, send splitting, error reading, status lines. No broker needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { statusLines } from '../src/cli/kafka-command.ts';
import { baseClientOptions, defaultSettings, parseBootstrap } from '../src/kafka/connection.ts';
import { describeError, hasKafkaErrorCode } from '../src/kafka/errors.ts';
import { javaMajorVersion } from '../src/kafka/local-broker.ts';
import {
  DEFAULT_KAFKA_PORT,
  MAX_MESSAGE_BYTES,
  kafkaPortFromEnv,
  kafkaVersionFromJars,
  localKafkaConfig,
  localKafkaPaths,
  newClusterId,
  parseProperties,
  renderLog4jConfig,
  renderServerProperties,
} from '../src/kafka/local-config.ts';
import { firstMavenError } from '../src/kafka/local-jars.ts';
import { messageSize, splitBySize, type OutgoingMessage } from '../src/kafka/produce.ts';
import { UserError } from '../src/util/errors.ts';

test('the broker port comes from NIGHTJAR_KAFKA_PORT, the controller takes the next one', () => {
  assert.equal(kafkaPortFromEnv({}), DEFAULT_KAFKA_PORT);
  assert.equal(DEFAULT_KAFKA_PORT, 19092);
  assert.equal(kafkaPortFromEnv({ NIGHTJAR_KAFKA_PORT: ' ' }), 19092);
  assert.equal(kafkaPortFromEnv({ NIGHTJAR_KAFKA_PORT: '29092' }), 29092);
  for (const bad of ['80', 'abc', '65535', '19092.5']) {
    assert.throws(() => kafkaPortFromEnv({ NIGHTJAR_KAFKA_PORT: bad }), (e: unknown) => e instanceof UserError && e.message.includes(`"${bad}"`));
  }
  const config = localKafkaConfig({ NIGHTJAR_KAFKA_PORT: '29092' }, '/repo');
  assert.equal(config.controllerPort, 29093);
  assert.equal(config.pomFile, '/repo/kafka/pom.xml');
  assert.equal(config.libsDir, '/repo/.cache/kafka/libs');
  assert.equal(config.dataDir, '/repo/.data/kafka');
});

test('server.properties: one KRaft node on loopback only, 10 MB messages, 7 days, RF 1', () => {
  const config = localKafkaConfig({}, '/repo');
  const text = renderServerProperties(config, '/repo/.data/kafka/storage');
  const props = parseProperties(text);
  assert.equal(props.get('process.roles'), 'broker,controller');
  assert.equal(props.get('listeners'), 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
  assert.equal(props.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:19092');
  assert.equal(props.get('controller.quorum.voters'), '1@127.0.0.1:19093');
  assert.doesNotMatch(text, /0\.0\.0\.0|localhost|::/);
  assert.equal(props.get('log.dirs'), '/repo/.data/kafka/storage');
  assert.ok(Number(props.get('message.max.bytes')) > MAX_MESSAGE_BYTES);
  assert.ok(Number(props.get('replica.fetch.max.bytes')) >= Number(props.get('message.max.bytes')));
  assert.equal(props.get('log.retention.hours'), '168');
  assert.equal(props.get('offsets.topic.replication.factor'), '1');
  assert.equal(props.get('transaction.state.log.replication.factor'), '1');
  assert.equal(props.get('transaction.state.log.min.isr'), '1');
  assert.equal(props.get('group.initial.rebalance.delay.ms'), '0');
  assert.equal(props.get('auto.create.topics.enable'), 'true');
});

test('log4j writes one rolling file in the logs folder', () => {
  const paths = localKafkaPaths(localKafkaConfig({}, '/repo'));
  const props = parseProperties(renderLog4jConfig(paths.logsDir));
  assert.equal(props.get('appender.file.fileName'), paths.serverLog);
  assert.equal(paths.serverLog, '/repo/.data/kafka/logs/server.log');
  assert.equal(props.get('rootLogger.level'), 'warn');
});

test('cluster ids look like Kafka uuids and never start with a dash', () => {
  const ids = new Set(Array.from({ length: 500 }, () => newClusterId()));
  assert.equal(ids.size, 500);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 16);
  }
});

test('properties, jar versions, java versions and Maven errors are read', () => {
  assert.deepEqual([...parseProperties('# c\ncluster.id=abc\n node.id = 1 \n\nversion=1\n')], [['cluster.id', 'abc'], ['node.id', '1'], ['version', '1']]);
  assert.equal(kafkaVersionFromJars(['kafka-clients-4.3.1.jar', 'kafka_2.13-4.3.1.jar']), '4.3.1');
  assert.equal(kafkaVersionFromJars(['kafka-clients-4.3.1.jar']), undefined);
  assert.equal(javaMajorVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime'), 17);
  assert.equal(javaMajorVersion('java version "1.8.0_402"'), 8);
  assert.equal(javaMajorVersion('openjdk version "21" 2023-09-19'), 21);
  assert.equal(javaMajorVersion('no version here'), undefined);
  const mvn = '\x1b[1;31m[ERROR]\x1b[m Failed to execute goal on project x: Could not find artifact a:b:jar:9\n[ERROR] \n[ERROR] Re-run Maven';
  assert.equal(firstMavenError(mvn), 'Failed to execute goal on project x: Could not find artifact a:b:jar:9');
  assert.equal(firstMavenError(''), 'no output');
});

test('bootstrap addresses are checked', () => {
  assert.deepEqual(parseBootstrap('a.example.org:9092, 10.0.0.1:9093,[::1]:9094'), ['a.example.org:9092', '10.0.0.1:9093', '[::1]:9094']);
  for (const bad of ['', ' , ', 'host', 'host:0', 'host:99999', 'http://host:9092']) {
    assert.throws(() => parseBootstrap(bad), UserError);
  }
});

test('default settings: the local broker unless NIGHTJAR_KAFKA_BOOTSTRAP says otherwise', () => {
  assert.deepEqual(defaultSettings({}), { bootstrap: ['127.0.0.1:19092'] });
  assert.deepEqual(defaultSettings({ NIGHTJAR_KAFKA_PORT: '29092' }), { bootstrap: ['127.0.0.1:29092'] });
  assert.deepEqual(defaultSettings({ NIGHTJAR_KAFKA_BOOTSTRAP: 'k1:9092,k2:9092', NIGHTJAR_KAFKA_PORT: '29092', NIGHTJAR_KAFKA_CLIENT_ID: 'me' }), {
    bootstrap: ['k1:9092', 'k2:9092'],
    clientId: 'me',
  });
  assert.throws(() => defaultSettings({ NIGHTJAR_KAFKA_BOOTSTRAP: 'nope' }), /NIGHTJAR_KAFKA_BOOTSTRAP "nope" is not host:port/);
});

test('SASL settings: mechanism checked, SCRAM-SHA-512 by default, both credentials required', () => {
  assert.deepEqual(defaultSettings({ NIGHTJAR_KAFKA_SASL_USERNAME: 'u', NIGHTJAR_KAFKA_SASL_PASSWORD: 'p' }).sasl, { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
  assert.deepEqual(defaultSettings({ NIGHTJAR_KAFKA_SASL_MECHANISM: 'plain', NIGHTJAR_KAFKA_SASL_USERNAME: 'u', NIGHTJAR_KAFKA_SASL_PASSWORD: '' }).sasl, { mechanism: 'PLAIN', username: 'u', password: '' });
  assert.throws(() => defaultSettings({ NIGHTJAR_KAFKA_SASL_MECHANISM: 'GSSAPI', NIGHTJAR_KAFKA_SASL_USERNAME: 'u', NIGHTJAR_KAFKA_SASL_PASSWORD: 'p' }), /must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/);
  assert.throws(() => defaultSettings({ NIGHTJAR_KAFKA_SASL_USERNAME: 'u' }), /needs both/);
});

test('TLS settings: a flag for system CAs, or PEM files that are read', async () => {
  assert.equal(defaultSettings({ NIGHTJAR_KAFKA_TLS: 'true' }).tls, true);
  assert.equal(defaultSettings({ NIGHTJAR_KAFKA_TLS: '0' }).tls, undefined);
  assert.throws(() => defaultSettings({ NIGHTJAR_KAFKA_TLS: 'maybe' }), /NIGHTJAR_KAFKA_TLS must be/);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-tls-'));
  try {
    const ca = path.join(dir, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    const tls = defaultSettings({ NIGHTJAR_KAFKA_TLS_CA: ca }).tls;
    assert.ok(typeof tls === 'object' && Buffer.isBuffer(tls.ca) && tls.ca.toString().startsWith('-----BEGIN CERTIFICATE-----'));
    assert.throws(() => defaultSettings({ NIGHTJAR_KAFKA_TLS_KEY: path.join(dir, 'missing.pem') }), /NIGHTJAR_KAFKA_TLS_KEY: cannot read .*missing\.pem/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('client options carry brokers, client id, SASL and TLS', () => {
  const options = baseClientOptions({ bootstrap: ['k:9093'], clientId: 'app', sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' }, tls: { ca: 'PEM' } }, 'consumer');
  assert.equal(options.clientId, 'app-consumer');
  assert.deepEqual(options.bootstrapBrokers, ['k:9093']);
  assert.deepEqual(options.sasl, { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' });
  assert.deepEqual(options.tls, { ca: 'PEM' });
  const plain = baseClientOptions({ bootstrap: ['k:9092'] });
  assert.equal(plain.clientId, 'nightjar');
  assert.equal(plain.sasl, undefined);
  assert.equal(plain.tls, undefined);
  assert.throws(() => baseClientOptions({ bootstrap: [] }), UserError);
});

test('sends are split in order under the size bound; an oversized message travels alone', () => {
  const m = (n: number, size: number): OutgoingMessage => ({ topic: 't', key: Buffer.from([n]), value: Buffer.alloc(size) });
  const messages = [m(0, 100), m(1, 100), m(2, 5000), m(3, 100), m(4, 100), m(5, 100)];
  const groups = splitBySize(messages, 300); // each small message counts 133 bytes
  assert.deepEqual(groups.flat(), messages, 'order and content preserved');
  assert.deepEqual(groups.map((g) => g.map((x) => x.key![0])), [[0, 1], [2], [3, 4], [5]]);
  for (const g of groups) assert.ok(g.length === 1 || g.reduce((a, x) => a + messageSize(x), 0) <= 300);
  assert.deepEqual(splitBySize([], 400), []);
});

test('nested client errors are read down to their Kafka codes and messages', () => {
  const inner = Object.assign(new Error('Topic with this name already exists.'), { apiCode: 36, serverErrorMessage: "Topic 't' already exists." });
  const outer = Object.assign(new AggregateError([Object.assign(new AggregateError([inner], 'Received response with error'), {})], 'Creating topics failed.'));
  assert.equal(hasKafkaErrorCode(outer, 36), true);
  assert.equal(hasKafkaErrorCode(outer, 3), false);
  assert.equal(hasKafkaErrorCode(new Error('x', { cause: inner }), 36), true);
  assert.equal(describeError(outer), "Topic with this name already exists. (Topic 't' already exists.)");
  assert.equal(describeError('plain'), 'plain');
});

test('status lines: one fact per line', () => {
  const running = statusLines({ running: true, processAlive: true, pid: 42, bootstrap: '127.0.0.1:19092', version: '4.3.1', clusterId: 'abc', owner: 'cli', startedAt: 'T', dataDir: '/d', logFile: '/d/logs/server.log' });
  assert.deepEqual(running.slice(0, 4), ['status: running', 'pid: 42', 'bootstrap: 127.0.0.1:19092', 'version: Kafka 4.3.1']);
  assert.ok(running.includes('data: /d'));
  const stopped = statusLines({ running: false, processAlive: false, bootstrap: '127.0.0.1:19092', dataDir: '/d', logFile: '/d/l', portTakenBy: 'other' });
  assert.equal(stopped[0], 'status: stopped');
  assert.ok(!stopped.some((l) => l.startsWith('pid:')));
  assert.equal(stopped.at(-1), 'note: another process listens on 127.0.0.1:19092');
});
