// The account page's Kafka credentials on a real secure Kafka (SASL/SCRAM and ACLs; the test
// starts its own broker on its own ports and data folder, as test/kafka-acl.test.ts does): the
// page makes and shows the account's username, password, mechanism, protocol, bootstrap, group
// prefix and client settings; the owner reads a private stream with them; the rotate button (a
// CSRF-protected POST) gives a new password that works while the old one is refused; no Kafka
// password reaches the logs. On an open Kafka the card says the streams are open.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import Fastify, { type FastifyInstance } from 'fastify';
import { AlertConsumer } from '../src/client/consumer.ts';
import { accessError } from '../src/kafka/access-errors.ts';
import { createKafkaAccess, type KafkaAccess } from '../src/kafka/access.ts';
import { createAdmin, createProducer, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { localKafkaSettings } from '../src/kafka/local-admin.ts';
import { startLocalKafka, stopLocalKafka } from '../src/kafka/local-broker.ts';
import { localKafkaConfig, type LocalKafkaConfig } from '../src/kafka/local-config.ts';
import { createFilterService, type FilterService } from '../src/service/filter-service.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { UserError } from '../src/util/errors.ts';
import { stringify } from '../src/util/json.ts';
import type { Logger } from '../src/util/log.ts';
import { webPlugin } from '../src/web/app.ts';
import { Browser, type Json } from './web-api-helpers.ts';

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const BIG_ID = 170587115523932323n;

let tmp: string;
let config: LocalKafkaConfig;
let adminSettings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let store: Store;
let access: KafkaAccess;
let service: FilterService;
const apps: FastifyInstance[] = [];
/** Every line the access manager logged. */
const logged: string[] = [];

function recordingLogger(base: Record<string, unknown> = {}): Logger {
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>): void => {
    logged.push(stringify({ level, msg, ...base, ...fields }));
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (fields) => recordingLogger({ ...base, ...fields }) };
}

async function freePortPair(): Promise<number> {
  const isFree = (port: number): Promise<boolean> => new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no two free consecutive ports for the secure Kafka');
}

async function webApp(withAccess: boolean): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(webPlugin, { store, filters: service, access: withAccess ? access : null, limits: { apiRequests: 100_000 } });
  await app.ready();
  apps.push(app);
  return app;
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'nightjar-web-kafka-'));
  const port = await freePortPair();
  config = { ...localKafkaConfig({}), port, controllerPort: port + 1, dataDir: path.join(tmp, 'kafka'), maxHeap: '512m', secure: true };
  await startLocalKafka(config, { owner: 'test', timeoutMs: 180_000 });
  adminSettings = await localKafkaSettings(config, 'web-kafka-test');
  admin = createAdmin(adminSettings);
  producer = createProducer(adminSettings);
  store = await openStore({ path: ':memory:' });
  const made = await createKafkaAccess({ store, admin, adminSettings, log: recordingLogger() });
  assert.ok(made !== null, 'the secure broker enforces ACLs');
  access = made;
  service = createFilterService({ store, admin, producer, access, topicPrefix: `njweb${run}` });
});

after(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
  await service?.close().catch(() => undefined);
  await producer?.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await store?.close().catch(() => undefined);
  if (config !== undefined) await stopLocalKafka(config, { graceMs: 10_000 });
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

/** The text of the element with this id in a page. */
function byId(page: string, id: string): string {
  const match = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page);
  if (match?.[1] === undefined) throw new Error(`no #${id} in the page`);
  return match[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Reads up to n records as this account (a fresh group in its prefix); refusals as one-line UserErrors. */
async function readAs(username: string, password: string, topic: string, n: number): Promise<Record<string, unknown>[]> {
  const settings: KafkaSettings = { bootstrap: adminSettings.bootstrap, sasl: { mechanism: 'SCRAM-SHA-512', username, password } };
  const groupId = `${username}-web${randomBytes(3).toString('hex')}`;
  let consumer: AlertConsumer;
  try {
    consumer = await AlertConsumer.create({ topics: [topic], groupId, settings });
  } catch (err) {
    throw accessError(settings, err, { topics: [topic], groupId }) ?? err;
  }
  try {
    return (await consumer.consume(n, 5000)).map((r) => r.value);
  } catch (err) {
    throw accessError(settings, err, { topics: [topic], groupId }) ?? err;
  } finally {
    await consumer.close().catch(() => undefined);
  }
}

test('the account page shows the Kafka credentials of a secure Kafka; rotate gives a new password and the old one is refused', { timeout: 300_000 }, async () => {
  const app = await webApp(true);
  const browser = new Browser(app);
  const email = `kafka-${run}@example.org`;
  assert.equal((await browser.signUp(email, 'a long enough passphrase')).status, 303);
  const user = await store.findUserByEmail(email) ?? assert.fail('no user');

  // A private Kafka filter of the account, with one record in its stream.
  const saved = await browser.api('POST', '/api/v1/filters', { name: `mine ${run}`, select: 'diaObjectId, alertMag', where: 'alertMag < 19', output: 'kafka', public: false });
  assert.equal(saved.status, 201, saved.body);
  const topic = (saved.json().filter as Json).topic as string;
  await producer.send({ messages: [{ topic, value: Buffer.from(stringify({ diaObjectId: BIG_ID, alertMag: 18.5 })) }] });

  const page = await browser.request('GET', '/account');
  assert.equal(page.status, 200);
  assert.equal(page.headers['cache-control'], 'no-store');
  const username = byId(page.body, 'kafka-username');
  const password = byId(page.body, 'kafka-password');
  assert.equal(username, `nightjar-${user.id}`);
  assert.match(password, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(password, (await store.getKafkaUser(user.id))?.password, 'the stored credentials');
  assert.equal(byId(page.body, 'kafka-mechanism'), 'SCRAM-SHA-512');
  assert.equal(byId(page.body, 'kafka-protocol'), 'SASL_PLAINTEXT');
  assert.equal(byId(page.body, 'kafka-bootstrap'), `127.0.0.1:${config.port}`);
  assert.equal(byId(page.body, 'kafka-group-prefix'), `nightjar-${user.id}-`);
  assert.match(page.body, /<details class="secret"><summary>Show password<\/summary><code id="kafka-password">/, 'hidden until the summary is clicked');
  const register = byId(page.body, 'kafka-register');
  assert.equal(register, `nightjar register --username ${username} --password ${password} --servers 127.0.0.1:${config.port} --group-id nightjar-${user.id}-mygroup --topics ${topic}`);
  assert.match(byId(page.body, 'kafka-python'), new RegExp(`'sasl\\.password': "${password}"`));
  // Viewing again shows the same credentials (made once).
  assert.equal(byId((await browser.request('GET', '/account')).body, 'kafka-password'), password);

  assert.deepEqual(await readAs(username, password, topic, 1), [{ diaObjectId: BIG_ID, alertMag: 18.5 }]);

  // Rotate: refused without the CSRF token; with it, a new password.
  const forged = await browser.request('POST', '/account/kafka/rotate', { form: {} });
  assert.equal(forged.status, 403);
  assert.equal((await store.getKafkaUser(user.id))?.password, password, 'a forged rotate changed nothing');
  const csrf = await browser.csrfOf('/account');
  const rotated = await browser.request('POST', '/account/kafka/rotate', { form: { _csrf: csrf } });
  assert.equal(rotated.status, 200);
  assert.match(rotated.body, /Your Kafka password was changed: the old one no longer works/);
  const fresh = byId(rotated.body, 'kafka-password');
  assert.match(fresh, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(fresh, password);
  assert.equal(byId((await browser.request('GET', '/account')).body, 'kafka-password'), fresh);

  assert.deepEqual(await readAs(username, fresh, topic, 1), [{ diaObjectId: BIG_ID, alertMag: 18.5 }]);
  await assert.rejects(readAs(username, password, topic, 1), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, new RegExp(`refused user ${username}: wrong username or password`));
    return true;
  });

  // The access manager logged the changes, never a password.
  assert.ok(logged.some((l) => l.includes('Kafka credentials rotated')), logged.join('\n'));
  for (const secret of [password, fresh]) assert.ok(!logged.some((l) => l.includes(secret)), 'a Kafka password in the logs');
});

test('on an open Kafka the card says the streams are open, and there is nothing to rotate', async () => {
  const app = await webApp(false);
  const browser = new Browser(app);
  assert.equal((await browser.signUp(`open-${run}@example.org`, 'a long enough passphrase')).status, 303);
  const page = await browser.request('GET', '/account');
  assert.match(page.body, /Kafka streams are open: any Kafka client reads them without a username or password/);
  assert.doesNotMatch(page.body, /kafka-password/);
  const rotate = await browser.request('POST', '/account/kafka/rotate', { form: { _csrf: Browser.csrf(page.body) } });
  assert.equal(rotate.status, 404);
});
