// The web app served by a running broker, over a real port: the pages replace the JSON index,
// an account signs up and calls the API with a token over HTTP, alerts sent to the raw topic show
// in the counters, /api/filters is closed to anyone without the admin token (written 0600 next
// to the store), and `nightjar filter` still works against that broker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic, listTopics } from '../src/kafka/topics.ts';
import { startBroker, type RunningBroker } from '../src/pipeline/broker.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { parse } from '../src/util/json.ts';
import type { Logger } from '../src/util/log.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

type Json = Record<string, unknown>;
const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const PREFIX = `njtest-webb-${run}`;
const RAW = `${PREFIX}-raw`;
const DLQ = `${PREFIX}-dlq`;
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

let lease: Lease;
let admin: Admin;
let producer: BytesProducer;
let dir: string;
let storeFile: string;
let broker: RunningBroker;
let url: string;

before(async () => {
  lease = await acquireLocalKafka();
  const settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  await createTopic(admin, RAW, 1);
  dir = await mkdtemp(path.join(tmpdir(), 'nightjar-web-'));
  storeFile = path.join(dir, 'store.duckdb');
  broker = await startBroker({ kafka: settings, topics: [RAW], groupId: `${PREFIX}-g`, store: storeFile, httpPort: 0, web: {}, topicPrefix: PREFIX, deadLetterTopic: DLQ, batchMs: 300, decode: { schemas: builtinSchemas() }, log: quiet });
  assert.ok(broker.http !== null);
  url = broker.http.url;
});

after(async () => {
  await broker.stop().catch(() => undefined);
  for (const topic of await listTopics(admin)) if (topic.startsWith(PREFIX)) await deleteTopic(admin, topic).catch(() => false);
  await producer.close();
  await admin.close();
  await rm(dir, { recursive: true, force: true });
  await releaseLocalKafka(lease);
});

function nightjar(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** Cookies of a real HTTP client: name=value pairs from Set-Cookie, sent back. */
class Jar {
  readonly values = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair === undefined || at < 0) continue;
      const value = pair.slice(at + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.values.delete(pair.slice(0, at));
      else this.values.set(pair.slice(0, at), value);
    }
  }
  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

test('the broker serves the web app; accounts, tokens and the API work over HTTP; counters follow the stream', { timeout: 120_000 }, async () => {
  const home = await fetch(`${url}/`);
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /^text\/html/, 'the pages replace the JSON index');
  assert.equal((await fetch(`${url}/health`)).status, 200, '/health stays');
  assert.match(await (await fetch(`${url}/metrics`)).text(), /nightjar_/);

  // Sign up through the form over HTTP.
  const jar = new Jar();
  const form = await fetch(`${url}/signup`);
  jar.take(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const address = `web-${run}@example.org`;
  const signup = await fetch(`${url}/signup`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({ email: address, name: 'Web Tester', password: 'a long enough password', _csrf: csrf }).toString(),
  });
  assert.equal(signup.status, 303);
  jar.take(signup);
  assert.ok(jar.values.has('nightjar_session'));
  const cookieLine = signup.headers.getSetCookie().find((l) => l.startsWith('nightjar_session='));
  assert.match(cookieLine ?? '', /HttpOnly/);
  assert.match(cookieLine ?? '', /SameSite=Lax/);

  // A token from the account page's CSRF token, then the API with the token only.
  const account = await fetch(`${url}/account`, { headers: { cookie: jar.header() } });
  const pageToken = /<meta name="csrf-token" content="([^"]+)">/.exec(await account.text())?.[1] ?? '';
  const created = await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/json', 'x-csrf-token': pageToken }, body: JSON.stringify({ name: 'http' }) });
  assert.equal(created.status, 201);
  const token = ((await created.json()) as Json).token as string;
  const auth = { authorization: `Bearer ${token}` };

  const filter = await fetch(`${url}/api/v1/filters`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'web bright', select: 'diaObjectId, alertMag', where: 'alertMag < 24', output: 'kafka' }) });
  assert.equal(filter.status, 201, await filter.clone().text());
  const saved = parse(await filter.text()) as { filter: { id: number; topic: string } };
  assert.ok(saved.filter.topic.startsWith(`${PREFIX}_`));

  // Alerts through the broker: the pipeline counters and the new filter's counters move.
  const schema = lsstAlertParsedSchema();
  const values = [...generateAlerts({ seed: 5, objects: 100, count: 200, cutouts: false })].map((record) => encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value);
  await sendAll(producer, values.map((value) => ({ topic: RAW, value })));
  const deadline = Date.now() + 60_000;
  let counters: { pipeline: { processed: number }[]; filters: { id: number; counters: { matched: number }[] }[]; live: { alertsIn: number } | null } | undefined;
  while (Date.now() < deadline) {
    counters = parse(await (await fetch(`${url}/api/v1/counters`, { headers: auth })).text()) as typeof counters;
    if ((counters?.pipeline.reduce((s, n) => s + n.processed, 0) ?? 0) >= values.length) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.ok(counters !== undefined);
  assert.equal(counters.pipeline.reduce((s, n) => s + n.processed, 0), values.length);
  assert.equal(counters.live?.alertsIn, values.length);
  const own = counters.filters.find((f) => f.id === saved.filter.id);
  assert.ok(own !== undefined && own.counters.reduce((s, c) => s + c.matched, 0) > 0, 'the filter matched some of them');

  // The query endpoint sees the ingested objects, ids exact.
  const query = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ select: 'diaObjectId, objectId', limit: 3 }) });
  const rows = (parse(await query.text()) as { rows: { diaObjectId: bigint; objectId: string }[] }).rows;
  assert.equal(rows.length, 3);
  for (const row of rows) assert.equal(String(row.diaObjectId), row.objectId);
});

test('/api/filters needs the admin token from <store>.admin-token (0600); nightjar filter reads it and still works', { timeout: 180_000 }, async () => {
  const file = `${storeFile}.admin-token`;
  assert.ok(existsSync(file));
  assert.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
  assert.equal(readFileSync(file, 'utf8').trim(), broker.adminToken);

  const open = await fetch(`${url}/api/filters`);
  assert.equal(open.status, 401, 'no token: refused');
  assert.equal(((await open.json()) as Json).error, 'unauthorized');
  const wrong = await fetch(`${url}/api/filters`, { headers: { 'x-nightjar-admin-token': 'guess' } });
  assert.equal(wrong.status, 401);
  // A web session or API token is no admin token either.
  const right = await fetch(`${url}/api/filters`, { headers: { 'x-nightjar-admin-token': broker.adminToken ?? '' } });
  assert.equal(right.status, 200);

  const add = await nightjar('filter', 'add', '--api', url, '--store', storeFile, '--owner', `cli-${run}@example.org`, '--name', 'cli faint', '--select', 'diaObjectId, alertMag', '--where', 'alertMag > 22');
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stderr, '', 'the API answered: no fallback to the store');
  assert.match(add.stdout, /"cli faint" saved/);
  const list = await nightjar('filter', 'list', '--api', url, '--store', storeFile, '--json');
  assert.equal(list.code, 0, list.stderr);
  const names = ((parse(list.stdout) as { filters: { name: string }[] }).filters).map((f) => f.name);
  assert.ok(names.includes('cli faint') && names.includes('web bright'), names.join(', '));

  // Without the token file (another store path) the CLI is refused with a clear message.
  const refused = await nightjar('filter', 'list', '--api', url, '--store', path.join(dir, 'elsewhere.duckdb'));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /admin token/);
});
