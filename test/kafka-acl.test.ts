// Private streams on a secure Kafka: SASL/SCRAM sign-in and ACLs. The test starts its own secure
// broker (its own ports and data folder; the shared plain one is never touched), gives two
// accounts Kafka credentials, and shows that account A reads its private filter's stream (with
// the AlertConsumer library and with `nightjar consume`), that account B is refused it with a
// one-line error but reads A's public filter, that a filter turned private is closed to B at
// once, that raw topics are closed to every account, that a wrong password and a foreign
// consumer group are refused clearly, and that the broker's start-up sync repairs the cluster.
// The pure rules (acls.ts) and the secure broker configuration are checked first, no broker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { securityLines } from '../src/cli/kafka-command.ts';
import { AlertConsumer } from '../src/client/consumer.ts';
import { accessError } from '../src/kafka/access-errors.ts';
import { clientSnippets } from '../src/kafka/access-snippets.ts';
import { createKafkaAccess, type KafkaAccess, type KafkaCredentials } from '../src/kafka/access.ts';
import { authorizerEnabled } from '../src/kafka/acls-sync.ts';
import { EVERY_ACCOUNT, accountPrincipal, aclKey, consumerGroupPrefix, diffAcls, filterTopicAcls, isManagedPrincipal, kafkaUsername, type AclBinding } from '../src/kafka/acls.ts';
import { createAdmin, createProducer, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { startLocalKafka, stopLocalKafka } from '../src/kafka/local-broker.ts';
import { localKafkaSettings } from '../src/kafka/local-admin.ts';
import {
  LOCAL_ADMIN_USER,
  localKafkaConfig,
  localKafkaPaths,
  parseProperties,
  renderServerProperties,
  repoRoot,
  scramFormatArguments,
  secureLocalKafkaConfig,
  type LocalKafkaConfig,
} from '../src/kafka/local-config.ts';
import { deleteScramCredentials, scramMechanisms } from '../src/kafka/scram.ts';
import { createTopic } from '../src/kafka/topics.ts';
import { createFilterService, type FilterService } from '../src/service/filter-service.ts';
import { openStore } from '../src/store/duckdb-store.ts';
import type { Store, StoredUser } from '../src/store/store.ts';
import { UserError } from '../src/util/errors.ts';
import { stringify } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
/** Beyond 2^53: must come back exact. */
const BIG_ID = 170587115523932323n;

// ---- the rules, no broker -----------------------------------------------------------------

describe('ACL rules (pure)', () => {
  test('usernames, principals and group prefixes come from the user id; one account cannot reach into another\'s groups', () => {
    assert.equal(kafkaUsername(7), 'nightjar-7');
    assert.equal(accountPrincipal(7), 'User:nightjar-7');
    assert.equal(consumerGroupPrefix(7), 'nightjar-7-');
    assert.ok(!'nightjar-70-laptop'.startsWith(consumerGroupPrefix(7)));
    assert.throws(() => kafkaUsername(-1));
    assert.throws(() => kafkaUsername(1.5));
  });

  test('a private topic is its owner\'s, a public one everyone\'s, no topic no ACL', () => {
    const keys = (bs: AclBinding[]): string[] => bs.map((b) => `${b.operation} ${b.resource}:${b.name} ${b.principal}`).sort();
    assert.deepEqual(keys(filterTopicAcls({ ownerId: 3, public: false, topic: 't3' })), ['DESCRIBE topic:t3 User:nightjar-3', 'READ topic:t3 User:nightjar-3']);
    assert.deepEqual(keys(filterTopicAcls({ ownerId: 3, public: true, topic: 't3' })), ['DESCRIBE topic:t3 User:*', 'READ topic:t3 User:*']);
    assert.deepEqual(filterTopicAcls({ ownerId: 3, public: true, topic: null }), []);
  });

  test('the diff creates what is missing and deletes only managed principals\' extras', () => {
    const acl = (principal: string, name = 't'): AclBinding => ({ resource: 'topic', name, pattern: 'literal', principal, operation: 'READ' });
    assert.ok(isManagedPrincipal(EVERY_ACCOUNT) && isManagedPrincipal('User:nightjar-12'));
    for (const other of ['User:nightjar-12x', 'User:monitor', 'User:admin', 'Group:nightjar-1']) assert.ok(!isManagedPrincipal(other), other);
    const { create, remove } = diffAcls([acl('User:nightjar-1'), acl('User:monitor'), acl(EVERY_ACCOUNT, 'raw')], [acl('User:nightjar-1'), acl('User:nightjar-2')]);
    assert.deepEqual(create.map(aclKey), [aclKey(acl('User:nightjar-2'))]);
    assert.deepEqual(remove.map(aclKey), [aclKey(acl(EVERY_ACCOUNT, 'raw'))]);
  });

  test('the account page\'s client settings: nightjar register and confluent_kafka, in the account\'s group prefix', () => {
    const credentials: KafkaCredentials = {
      userId: 7,
      username: 'nightjar-7',
      password: 'abc_DEF-123',
      mechanism: 'SCRAM-SHA-512',
      mechanisms: ['SCRAM-SHA-512', 'SCRAM-SHA-256'],
      securityProtocol: 'SASL_PLAINTEXT',
      bootstrap: '127.0.0.1:19192',
      groupPrefix: 'nightjar-7-',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    const s = clientSnippets(credentials, ['nightjar_7bright', 'nightjar_2public']);
    assert.equal(s.nightjarRegister, 'nightjar register --username nightjar-7 --password abc_DEF-123 --servers 127.0.0.1:19192 --group-id nightjar-7-mygroup --topics nightjar_7bright,nightjar_2public');
    assert.match(s.confluentKafka, /'sasl\.mechanism': "SCRAM-SHA-512",\n {4}'sasl\.username': "nightjar-7",\n {4}'sasl\.password': "abc_DEF-123",\n {4}'group\.id': "nightjar-7-mygroup"/);
    assert.match(s.confluentKafka, /consumer\.subscribe\(\["nightjar_7bright","nightjar_2public"\]\)/);
    assert.match(clientSnippets({ ...credentials, password: "it's" }, []).nightjarRegister, /--password 'it'\\''s' .*--topics '<topic>'/);
  });

  test('the secure broker: SASL/SCRAM on every listener, the authorizer, deny by default, its own port and data', () => {
    const config = secureLocalKafkaConfig({}, '/repo');
    assert.equal(config.port, 19192);
    assert.equal(config.dataDir, '/repo/.data/kafka-secure');
    assert.notEqual(config.dataDir, localKafkaConfig({}, '/repo').dataDir);
    assert.equal(secureLocalKafkaConfig({ NIGHTJAR_KAFKA_SECURE_PORT: '29500' }, '/repo').controllerPort, 29501);
    assert.throws(() => secureLocalKafkaConfig({ NIGHTJAR_KAFKA_SECURE_PORT: 'x' }), (e: unknown) => e instanceof UserError && e.message.includes('NIGHTJAR_KAFKA_SECURE_PORT'));
    const admin = { username: LOCAL_ADMIN_USER, password: 'p'.repeat(32) };
    const props = parseProperties(renderServerProperties(config, '/s', admin));
    assert.equal(props.get('listeners'), 'SASL_PLAINTEXT://127.0.0.1:19192,CONTROLLER://127.0.0.1:19193');
    assert.equal(props.get('listener.security.protocol.map'), 'CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT');
    assert.equal(props.get('sasl.enabled.mechanisms'), 'SCRAM-SHA-512,SCRAM-SHA-256');
    assert.equal(props.get('authorizer.class.name'), 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    assert.equal(props.get('allow.everyone.if.no.acl.found'), 'false');
    assert.equal(props.get('super.users'), 'User:admin');
    assert.throws(() => renderServerProperties(config, '/s'), /admin credentials/);
    assert.deepEqual(scramFormatArguments(admin), ['--add-scram', `SCRAM-SHA-512=[name=admin,password=${admin.password}]`, '--add-scram', `SCRAM-SHA-256=[name=admin,password=${admin.password}]`]);
    assert.throws(() => scramFormatArguments({ username: 'admin', password: 'short' }), UserError);
    // The plain broker is unchanged: no SASL, no authorizer.
    const plain = renderServerProperties(localKafkaConfig({}, '/repo'), '/s');
    assert.doesNotMatch(plain, /sasl|authorizer|super\.users/i);
    assert.deepEqual(securityLines(localKafkaConfig({}, '/repo')), []);
    assert.match(securityLines(config).join('\n'), /ACLs enforced[\s\S]*admin-credentials\.json/);
    assert.doesNotMatch(securityLines(config).join('\n'), new RegExp(admin.password));
  });
});

// ---- on a real secure broker -----------------------------------------------------------------

describe('private streams on a secure Kafka', { timeout: 600_000 }, () => {
  let config: LocalKafkaConfig;
  let adminSettings: KafkaSettings;
  let admin: Admin;
  let producer: BytesProducer;
  let store: Store;
  let access: KafkaAccess;
  let service: FilterService;
  let tmp: string;
  let ann: StoredUser;
  let bob: StoredUser;
  let annKafka: KafkaCredentials;
  let bobKafka: KafkaCredentials;
  let privateTopic: string;
  let publicTopic: string;
  let publicFilterId: number;
  const rawTopic = `nightjar-test-acl-raw-${run}`;

  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'nightjar-acl-test-'));
    const port = await freePortPair();
    config = { ...localKafkaConfig({}), port, controllerPort: port + 1, dataDir: path.join(tmp, 'kafka'), maxHeap: '512m', secure: true };
    await startLocalKafka(config, { owner: 'test', timeoutMs: 180_000 });
    adminSettings = await localKafkaSettings(config, 'acl-test');
    admin = createAdmin(adminSettings);
    producer = createProducer(adminSettings);
    store = await openStore({ path: ':memory:' });
    const made = await createKafkaAccess({ store, admin, adminSettings });
    assert.ok(made !== null, 'the secure broker enforces ACLs');
    access = made;
    service = createFilterService({ store, admin, producer, access });
    ann = await store.createUser({ email: 'ann@example.org', name: 'Ann' });
    bob = await store.createUser({ email: 'bob@example.org', name: 'Bob' });
    annKafka = await access.credentials(ann.id);
    bobKafka = await access.credentials(bob.id);
  });

  after(async () => {
    await service?.close().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    if (config !== undefined) await stopLocalKafka(config, { graceMs: 10_000 });
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  const as = (c: KafkaCredentials, password = c.password, mechanism: 'SCRAM-SHA-512' | 'SCRAM-SHA-256' = 'SCRAM-SHA-512'): KafkaSettings => ({
    bootstrap: c.bootstrap.split(','),
    sasl: { mechanism, username: c.username, password },
  });

  /** Reads up to n records of a topic with the consumer library, a fresh group in the account's prefix. */
  async function readAs(settings: KafkaSettings, topic: string, n: number, groupId = `${settings.sasl?.username}-g${randomBytes(3).toString('hex')}`): Promise<Record<string, unknown>[]> {
    let consumer: AlertConsumer;
    try {
      consumer = await AlertConsumer.create({ topics: [topic], groupId, settings });
    } catch (err) {
      throw accessError(settings, err, { topics: [topic], groupId }) ?? err;
    }
    try {
      return (await consumer.consume(n, 5000)).map((r) => r.value);
    } finally {
      await consumer.close();
    }
  }

  /** Signs in and lists the visible topics (no retries: a refusal is final); refusals as accessError's one-liners. */
  async function signIn(settings: KafkaSettings): Promise<string[]> {
    const client = createAdmin(settings, { retries: 0 });
    try {
      return await client.listTopics();
    } catch (err) {
      throw accessError(settings, err) ?? err;
    } finally {
      await client.close();
    }
  }

  async function produce(topic: string, records: Record<string, unknown>[]): Promise<void> {
    await producer.send({ messages: records.map((r) => ({ topic, value: Buffer.from(stringify(r)) })) });
  }

  test('each account gets its own SCRAM user, stored, in both mechanisms, with a READ ACL on its group prefix', async () => {
    assert.equal(annKafka.username, `nightjar-${ann.id}`);
    assert.equal(annKafka.mechanism, 'SCRAM-SHA-512');
    assert.equal(annKafka.securityProtocol, 'SASL_PLAINTEXT');
    assert.equal(annKafka.bootstrap, `127.0.0.1:${config.port}`);
    assert.equal(annKafka.groupPrefix, `nightjar-${ann.id}-`);
    assert.match(annKafka.password, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(annKafka.password, bobKafka.password);
    // Asking again gives the same credentials, not a new password.
    assert.deepEqual(await access.credentials(ann.id), annKafka);
    assert.deepEqual(await access.existingCredentials(ann.id), annKafka);
    assert.equal((await store.getKafkaUser(ann.id))?.password, annKafka.password);
    assert.deepEqual(await scramMechanisms(adminSettings, annKafka.username), ['SCRAM-SHA-512', 'SCRAM-SHA-256']);
    const groups = await admin.describeAcls({ filter: { resourceType: ResourceTypes.GROUP, resourceName: annKafka.groupPrefix, resourcePatternType: ResourcePatternTypes.PREFIXED, principal: null, host: null, operation: AclOperations.ANY, permissionType: AclPermissionTypes.ANY } });
    assert.deepEqual(groups.flatMap((r) => r.acls.map((a) => `${a.principal} ${a.operation}`)), [`User:${annKafka.username} ${AclOperations.READ}`]);
    await assert.rejects(access.credentials(9999), (e: unknown) => e instanceof UserError && /no user 9999/.test(e.message));
    // The secure broker's admin account file is the owner's only.
    assert.equal((await stat(localKafkaPaths(config).adminCredentials)).mode & 0o777, 0o600);
    assert.equal((await stat(localKafkaPaths(config).serverProperties)).mode & 0o777, 0o600);
  });

  test('a private filter\'s stream: the owner reads it, exact ids; another account is refused in one line', async () => {
    const saved = await service.add({ owner: ann.id, name: `secret ${run}`, select: 'diaObjectId, alertMag', where: 'alertMag < 19', output: 'kafka', public: false });
    assert.ok(saved.filter.topic !== null);
    privateTopic = saved.filter.topic;
    await produce(privateTopic, [{ diaObjectId: BIG_ID, alertMag: 18.5 }]);

    const annRead = await readAs(as(annKafka), privateTopic, 1);
    assert.deepEqual(annRead, [{ diaObjectId: BIG_ID, alertMag: 18.5 }]);
    // SCRAM-SHA-256 works with the same password.
    assert.equal((await readAs(as(annKafka, annKafka.password, 'SCRAM-SHA-256'), privateTopic, 1)).length, 1);

    await assert.rejects(readAs(as(bobKafka), privateTopic, 1), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, new RegExp(`user ${bobKafka.username} is not allowed to read topic ${privateTopic} \\(topic authorization failed\\)`));
      return true;
    });
  });

  test('nightjar consume: the owner reads the private stream; the other account gets a one-line refusal and no alert', async () => {
    const flags = (c: KafkaCredentials, password = c.password): string[] => ['--servers', c.bootstrap, '--sasl-username', c.username, '--sasl-password', password, '--topics', privateTopic, '--start-at', 'earliest', '--timeout', '3'];
    const ok = await nightjar(['consume', ...flags(annKafka), '--group-id', `${annKafka.groupPrefix}cli${run}`, '--limit', '1', '--format', 'json', '--save', '--outdir', path.join(tmp, 'saved')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /received 1 alert, saved 1/);

    const refused = await nightjar(['consume', ...flags(bobKafka), '--group-id', `${bobKafka.groupPrefix}cli${run}`, '--limit', '1', '--display']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^nightjar: .*${privateTopic}`));
    assert.doesNotMatch(refused.stdout, /\d{6,}/); // no alert shown

    const wrong = await nightjar(['consume', ...flags(annKafka, 'not-the-password'), '--group-id', `${annKafka.groupPrefix}cli${run}`, '--limit', '1']);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    assert.match(wrong.stderr, /invalid credentials|wrong username or password/);
  });

  test('Python confluent_kafka with the account page\'s settings reads the owner\'s stream; another account\'s gets TOPIC_AUTHORIZATION_FAILED', async () => {
    // The venv of the Python interoperability tests (built on first use, instant afterwards).
    const python = (await execText(path.join(repoRoot, 'scripts/python-env.sh'), [], 900_000)).trim().split('\n').at(-1) as string;
    const readFirst = async (c: KafkaCredentials): Promise<string> => {
      const program = [
        'import json',
        clientSnippets(c, [privateTopic], `py${run}`).confluentKafka,
        'msg = None',
        'for _ in range(30):',
        '    msg = consumer.poll(timeout=1)',
        '    if msg is not None: break',
        'if msg is None: print(json.dumps({"end": "timeout"}))',
        'elif msg.error(): print(json.dumps({"error": msg.error().name()}))',
        'else: print(msg.value().decode())',
        'consumer.close()',
      ].join('\n');
      return (await execText(python, ['-c', program], 90_000)).trim();
    };
    // Python ints are exact: the 64-bit id comes back digit for digit.
    assert.equal(await readFirst(annKafka), `{"diaObjectId":${BIG_ID},"alertMag":18.5}`);
    assert.equal(await readFirst(bobKafka), '{"error": "TOPIC_AUTHORIZATION_FAILED"}');
  });

  test('a public filter\'s stream is read by every account; made private, it is closed to the others at once', async () => {
    const saved = await service.add({ owner: ann.id, name: `shared ${run}`, select: 'diaObjectId, alertMag', where: 'alertMag < 21', output: 'kafka', public: true });
    assert.ok(saved.filter.topic !== null);
    publicTopic = saved.filter.topic;
    publicFilterId = saved.filter.id;
    await produce(publicTopic, [{ diaObjectId: BIG_ID + 1n, alertMag: 20.1 }]);
    assert.deepEqual(await readAs(as(bobKafka), publicTopic, 1), [{ diaObjectId: BIG_ID + 1n, alertMag: 20.1 }]);
    assert.equal((await readAs(as(annKafka), publicTopic, 1)).length, 1);

    await service.update(publicFilterId, { public: false });
    await assert.rejects(readAs(as(bobKafka), publicTopic, 1), /not allowed to read topic .* \(topic authorization failed\)/);
    assert.equal((await readAs(as(annKafka), publicTopic, 1)).length, 1);

    await service.update(publicFilterId, { public: true });
    assert.equal((await readAs(as(bobKafka), publicTopic, 1)).length, 1);
    // Listing the cluster's topics shows each account only what it may read.
    assert.deepEqual(await signIn(as(bobKafka)), [publicTopic]);
    assert.deepEqual((await signIn(as(annKafka))).sort(), [privateTopic, publicTopic].sort());
  });

  test('raw alert topics are readable by no account, only the broker\'s own; a group outside the prefix is refused', async () => {
    await createTopic(admin, rawTopic, 1);
    await produce(rawTopic, [{ diaObjectId: BIG_ID + 2n }]);
    for (const c of [annKafka, bobKafka]) {
      await assert.rejects(readAs(as(c), rawTopic, 1), /topic authorization failed/);
    }
    assert.equal((await readAs(adminSettings, rawTopic, 1, `admin-${run}`)).length, 1);
    await assert.rejects(readAs(as(annKafka), privateTopic, 1, `someone-else-${run}`), (e: unknown) => e instanceof UserError && e.message.includes(`may not use consumer group someone-else-${run} (group authorization failed): use a group id starting with "${annKafka.username}-"`));
  });

  test('a wrong password is refused with a clear one-line error', async () => {
    await assert.rejects(readAs(as(annKafka, 'wrong-password'), privateTopic, 1), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.equal(e.message, `Kafka at 127.0.0.1:${config.port} refused user ${annKafka.username}: wrong username or password (SCRAM-SHA-512 authentication failed)`);
      return true;
    });
  });

  test('a rotated password: the old one stops working, the new one works', async () => {
    const old = annKafka.password;
    annKafka = await access.rotatePassword(ann.id);
    assert.notEqual(annKafka.password, old);
    assert.equal((await store.getKafkaUser(ann.id))?.password, annKafka.password);
    await assert.rejects(signIn(as(annKafka, old)), /wrong username or password/);
    assert.equal((await readAs(as(annKafka), privateTopic, 1)).length, 1);
  });

  test('the start-up sync puts back lost credentials and ACLs and removes stray ones', async () => {
    // A lost credential (a replaced cluster), a lost ACL, and a stray ACL opening the raw topic.
    assert.equal(await deleteScramCredentials(adminSettings, bobKafka.username), true);
    await admin.deleteAcls({ filters: [{ resourceType: ResourceTypes.TOPIC, resourceName: privateTopic, resourcePatternType: ResourcePatternTypes.LITERAL, principal: null, host: null, operation: AclOperations.ANY, permissionType: AclPermissionTypes.ANY }] });
    const stray = { resourceType: ResourceTypes.TOPIC, resourceName: rawTopic, resourcePatternType: ResourcePatternTypes.LITERAL, principal: EVERY_ACCOUNT, host: '*', operation: AclOperations.READ, permissionType: AclPermissionTypes.ALLOW } as const;
    const operator = { ...stray, principal: 'User:monitor' };
    await admin.createAcls({ creations: [stray, { ...stray, operation: AclOperations.DESCRIBE }, operator] });
    assert.equal((await readAs(as(annKafka), rawTopic, 1)).length, 1, 'the stray ACL opened the raw topic');

    const report = await access.syncAll();
    assert.deepEqual(report.restoredUsers, [bobKafka.username]);
    assert.deepEqual(report.acls.created.map((b) => `${b.operation} ${b.name} ${b.principal}`).sort(), [`DESCRIBE ${privateTopic} User:${annKafka.username}`, `READ ${privateTopic} User:${annKafka.username}`]);
    assert.deepEqual(report.acls.removed.map((b) => `${b.operation} ${b.name} ${b.principal}`).sort(), [`DESCRIBE ${rawTopic} User:*`, `READ ${rawTopic} User:*`]);
    assert.equal((await readAs(as(annKafka), privateTopic, 1)).length, 1);
    assert.equal((await readAs(as(bobKafka), publicTopic, 1)).length, 1);
    await assert.rejects(readAs(as(annKafka), rawTopic, 1), /topic authorization failed/);
    // The operator's own ACL is not Nightjar's to remove.
    const left = await admin.describeAcls({ filter: { resourceType: ResourceTypes.TOPIC, resourceName: rawTopic, resourcePatternType: ResourcePatternTypes.LITERAL, principal: null, host: null, operation: AclOperations.ANY, permissionType: AclPermissionTypes.ANY } });
    assert.deepEqual(left.flatMap((r) => r.acls.map((a) => a.principal)), ['User:monitor']);
    // Nothing left to do the second time.
    assert.deepEqual(await access.syncAll(), { restoredUsers: [], acls: { created: [], removed: [] } });
  });

  test('removing a filter removes its topic\'s ACLs; removing an account removes its user', async () => {
    const removed = await service.remove(publicFilterId);
    assert.equal(removed.warning, undefined);
    const left = await admin.describeAcls({ filter: { resourceType: ResourceTypes.TOPIC, resourceName: publicTopic, resourcePatternType: ResourcePatternTypes.ANY, principal: null, host: null, operation: AclOperations.ANY, permissionType: AclPermissionTypes.ANY } });
    assert.deepEqual(left, []);
    assert.equal(await access.removeAccount(bob.id), true);
    assert.deepEqual(await scramMechanisms(adminSettings, bobKafka.username), []);
    assert.equal(await store.getKafkaUser(bob.id), null);
    await assert.rejects(signIn(as(bobKafka)), /wrong username or password/);
    assert.equal(await access.removeAccount(bob.id), false);
  });
});

describe('on the plain shared Kafka', { timeout: 180_000 }, () => {
  test('no authorizer: createKafkaAccess says so (null), nothing is granted', async () => {
    const lease = await acquireLocalKafka();
    const admin = createAdmin({ bootstrap: [lease.bootstrap] });
    const store = await openStore({ path: ':memory:' });
    try {
      assert.equal(await authorizerEnabled(admin), false);
      assert.equal(await createKafkaAccess({ store, admin, adminSettings: { bootstrap: [lease.bootstrap] } }), null);
    } finally {
      await store.close();
      await admin.close();
      await releaseLocalKafka(lease);
    }
  });
});

// ---- helpers ----------------------------------------------------------------------------

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nightjar(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NIGHTJAR_HOME: path.join(tmpdir(), `nightjar-acl-home-${run}`), NIGHTJAR_LOG_LEVEL: 'warn' };
  for (const name of Object.keys(env)) if (name.startsWith('NIGHTJAR_KAFKA_')) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Runs a program; resolves with its stdout, rejects with its stderr on failure. */
function execText(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Two free consecutive ports (broker, controller) on 127.0.0.1. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no two free consecutive ports found for the secure Kafka');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
