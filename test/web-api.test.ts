// The web app's accounts and REST API (src/web) over a real store of synthetic Rubin alerts and a
// filter service on the local Kafka, through Fastify's inject: sign up, log in, log out, cookie
// flags, session expiry and rotation, CSRF, API tokens, every /api/v1 route with its auth
// failures, bad input (malformed JSON, huge body, wrong content type, SQL that fails validation),
// cone search against a brute-force answer, exact 64-bit ids, and the OpenAPI document.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { FilterService } from '../src/service/filter-service.ts';
import type { Store } from '../src/store/index.ts';
import { apiRoutes } from '../src/web/api/api-plugin.ts';
import { webPlugin, type WebOptions } from '../src/web/app.ts';
import { SESSION_COOKIE } from '../src/web/auth/sessions.ts';
import { openApiPath } from '../src/web/openapi.ts';
import { Browser, withToken, type Json } from './web-api-helpers.ts';
import { openServiceFixture, type ServiceFixture } from './helpers/service-fixture.ts';

const prefix = `njtest-web-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const PASSWORD = 'correct horse battery';
let fixture: ServiceFixture;
let store: Store;
let service: FilterService;
let app: FastifyInstance;
/** Added to the real time: moves the web app's clock forward (session expiry). */
let clockOffsetMs = 0;

async function webApp(options: Partial<WebOptions> = {}): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false });
  await instance.register(webPlugin, { store, filters: service, now: () => new Date(Date.now() + clockOffsetMs), limits: { apiRequests: 100_000, loginFailuresPerAccount: 100_000, loginFailuresPerAddress: 100_000, signupAttempts: 100_000, sessionIdleMs: 30 * 86_400_000 }, ...options });
  await instance.ready();
  return instance;
}

before(async () => {
  fixture = await openServiceFixture({ prefix, alerts: { seed: 21, objects: 400, count: 1200 } });
  ({ store, service } = fixture);
  app = await webApp();
});

after(async () => {
  await app.close();
  await fixture.close();
});

let users = 0;
function email(): string {
  return `user${++users}-${randomBytes(3).toString('hex')}@example.org`;
}

async function signedIn(): Promise<{ browser: Browser; email: string }> {
  const browser = new Browser(app);
  const address = email();
  const answer = await browser.signUp(address, PASSWORD);
  assert.equal(answer.status, 303, answer.body);
  return { browser, email: address };
}

async function tokenFor(browser: Browser, name = 'tests'): Promise<string> {
  const created = await browser.api('POST', '/api/v1/tokens', { name });
  assert.equal(created.status, 201, created.body);
  return created.json().token as string;
}

describe('accounts', () => {
  test('sign up, log out, log in; cookies are signed, HttpOnly, SameSite=Lax, with an expiry', async () => {
    const browser = new Browser(app);
    const address = email();
    const signup = await browser.signUp(address, PASSWORD, 'Ann Astronomer');
    assert.equal(signup.status, 303);
    assert.equal(signup.headers.location, '/filters');
    const cookie = signup.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie !== undefined, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.maxAge, 14 * 86_400);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}~[0-9a-z]+\.[A-Za-z0-9_+/=-]+$/, 'id~last-used.signature');
    const user = await store.findUserByEmail(address);
    assert.ok(user !== null && user.passwordHash !== null);
    assert.match(user.passwordHash, /^scrypt\$32768\$8\$3\$/, 'scrypt with its parameters');
    assert.ok(!user.passwordHash.includes(PASSWORD));

    const me = await browser.request('GET', '/api/v1/me');
    assert.equal(me.status, 200);
    assert.deepEqual({ ...me.json(), createdAt: undefined }, { id: user.id, email: address, name: 'Ann Astronomer', createdAt: undefined, auth: 'session' });
    const account = await browser.request('GET', '/account');
    assert.equal(account.status, 200);
    assert.match(account.body, /Ann Astronomer/);
    assert.match(account.body, /Kafka credentials/);

    // Log out (a POST with the CSRF token): the session ends and its cookie is cleared.
    const csrf = Browser.csrf(account.body);
    const stolen = browser.cookies.get(SESSION_COOKIE) ?? '';
    const logout = await browser.request('POST', '/logout', { form: { _csrf: csrf } });
    assert.equal(logout.status, 303);
    assert.equal(browser.cookies.has(SESSION_COOKIE), false, 'cookie cleared');
    assert.equal((await browser.request('GET', '/api/v1/me')).status, 401);
    const replay = await app.inject({ method: 'GET', url: '/api/v1/me', cookies: { [SESSION_COOKIE]: stolen } });
    assert.equal(replay.statusCode, 401, 'the old cookie no longer works');

    assert.equal((await browser.logIn(address, 'wrong password!')).status, 401);
    assert.equal((await browser.logIn('nobody@example.org', PASSWORD)).status, 401);
    const login = await browser.logIn(address, PASSWORD);
    assert.equal(login.status, 303);
    assert.equal((await browser.request('GET', '/api/v1/me')).status, 200);
  });

  test('sign-up problems are shown by the field; an email is registered once', async () => {
    const browser = new Browser(app);
    const short = await browser.signUp('ann@example', 'short');
    assert.equal(short.status, 400);
    assert.match(short.body, /is not an email address/);
    assert.match(short.body, /at least 10 characters/);
    assert.equal(browser.cookies.has(SESSION_COOKIE), false);
    const { email: taken } = await signedIn();
    const again = await new Browser(app).signUp(taken.toUpperCase(), PASSWORD);
    assert.equal(again.status, 400);
    assert.match(again.body, /already exists/);
  });

  test('login starts a new session (rotation) and the one before stops working', async () => {
    const { browser, email: address } = await signedIn();
    const first = browser.cookies.get(SESSION_COOKIE);
    await browser.logIn(address, PASSWORD);
    const second = browser.cookies.get(SESSION_COOKIE);
    assert.ok(first !== undefined && second !== undefined && first !== second);
    const old = await app.inject({ method: 'GET', url: '/api/v1/me', cookies: { [SESSION_COOKIE]: first } });
    assert.equal(old.statusCode, 401);
    assert.equal((await browser.request('GET', '/api/v1/me')).status, 200);
  });

  test('a session expires after 14 days', async () => {
    const { browser } = await signedIn();
    clockOffsetMs = 13 * 86_400_000;
    try {
      assert.equal((await browser.request('GET', '/api/v1/me')).status, 200);
      clockOffsetMs = 14 * 86_400_000 + 60_000;
      assert.equal((await browser.request('GET', '/api/v1/me')).status, 401);
      const page = await browser.request('GET', '/account');
      assert.equal(page.status, 303);
      assert.equal(page.headers.location, '/login?next=%2Faccount');
    } finally {
      clockOffsetMs = 0;
    }
  });

  test('a tampered session cookie is refused', async () => {
    const { browser } = await signedIn();
    const value = browser.cookies.get(SESSION_COOKIE) ?? '';
    const [id, signature] = value.split('.');
    const forged = `${id?.slice(0, -1)}${id?.endsWith('A') ? 'B' : 'A'}.${signature}`;
    const answer = await app.inject({ method: 'GET', url: '/api/v1/me', cookies: { [SESSION_COOKIE]: forged } });
    assert.equal(answer.statusCode, 401);
  });

  test('pages need a user: /account redirects to the login page and back', async () => {
    const browser = new Browser(app);
    const page = await browser.request('GET', '/account');
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/login?next=%2Faccount');
    const address = email();
    await new Browser(app).signUp(address, PASSWORD);
    const csrf = await browser.csrfOf('/login?next=%2Faccount');
    const login = await browser.request('POST', '/login', { form: { email: address, password: PASSWORD, next: '/account', _csrf: csrf } });
    assert.equal(login.headers.location, '/account');
    const offsite = await browser.request('POST', '/login', { form: { email: address, password: PASSWORD, next: '//evil.example/x', _csrf: await browser.csrfOf('/account') } });
    assert.equal(offsite.headers.location, '/filters', 'no redirect to another site');
  });
});

describe('CSRF', () => {
  test('forms and API writes with the session cookie need the token; token calls do not', async () => {
    const { browser } = await signedIn();
    // Forms: no token, a wrong one, and the token of another browser are refused.
    assert.equal((await browser.request('POST', '/logout', { form: {} })).status, 403);
    assert.equal((await browser.request('POST', '/logout', { form: { _csrf: 'x'.repeat(43) } })).status, 403);
    const other = await signedIn();
    const otherToken = await other.browser.csrfOf('/account');
    assert.equal((await browser.request('POST', '/account/tokens', { form: { name: 'a', _csrf: otherToken } })).status, 403);
    assert.equal((await browser.request('GET', '/api/v1/me')).status, 200, 'still signed in');

    // The API with the session cookie.
    const bare = await browser.request('POST', '/api/v1/tokens', { json: { name: 'x' } });
    assert.equal(bare.status, 403);
    assert.match(bare.json().error as string, /CSRF/);
    const withHeader = await browser.api('POST', '/api/v1/tokens', { name: 'x' });
    assert.equal(withHeader.status, 201);

    // Login and sign-up forms are protected too (login CSRF).
    const fresh = new Browser(app);
    assert.equal((await fresh.request('POST', '/login', { form: { email: 'a@b.org', password: PASSWORD } })).status, 403);
    assert.equal((await fresh.request('POST', '/signup', { form: { email: email(), name: 'x', password: PASSWORD } })).status, 403);

    // An API token needs no CSRF token.
    const token = withHeader.json().token as string;
    assert.equal((await withToken(app, token, 'POST', '/api/v1/tokens', { name: 'y' })).status, 201);
  });
});

describe('API tokens', () => {
  test('created on the account page (shown once), used, listed without the secret, revoked', async () => {
    const { browser, email: address } = await signedIn();
    const csrf = await browser.csrfOf('/account');
    const page = await browser.request('POST', '/account/tokens', { form: { name: 'laptop', _csrf: csrf } });
    assert.equal(page.status, 200);
    const token = /<code class="mono new-token" id="new-token">(nj_[A-Za-z0-9_-]{43})<\/code>/.exec(page.body)?.[1];
    assert.ok(token !== undefined, 'the new token is on the page');
    assert.equal((await browser.request('GET', '/account')).body.includes(token), false, 'shown once only');

    const me = await withToken(app, token, 'GET', '/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.json().email, address);
    assert.equal(me.json().auth, 'token');

    const list = await withToken(app, token, 'GET', '/api/v1/tokens');
    const tokens = list.json().tokens as Json[];
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0]?.name, 'laptop');
    assert.equal(tokens[0]?.prefix, token.slice(0, 10));
    assert.ok(!list.body.includes(token), 'never the secret');
    assert.ok(tokens[0]?.lastUsedAt !== null, 'its use is recorded');

    const id = tokens[0]?.id as number;
    const revoke = await browser.request('POST', `/account/tokens/${id}/revoke`, { form: { _csrf: await browser.csrfOf('/account') } });
    assert.equal(revoke.status, 200);
    assert.match(revoke.body, /revoked/);
    const refused = await withToken(app, token, 'GET', '/api/v1/me');
    assert.equal(refused.status, 401);
    assert.match(refused.headers['www-authenticate'] as string, /Bearer/);

    // Revoking through the API; another user's token cannot be revoked.
    const second = await tokenFor(browser, 'script');
    const secondId = ((await withToken(app, second, 'GET', '/api/v1/tokens')).json().tokens as Json[])[0]?.id as number;
    const stranger = await signedIn();
    const strangerToken = await tokenFor(stranger.browser);
    assert.equal((await withToken(app, strangerToken, 'DELETE', `/api/v1/tokens/${secondId}`)).status, 404);
    assert.equal((await withToken(app, second, 'DELETE', `/api/v1/tokens/${secondId}`)).status, 200);
    assert.equal((await withToken(app, second, 'GET', '/api/v1/me')).status, 401);
  });

  test('malformed and unknown tokens get 401 with a JSON message', async () => {
    for (const header of ['Bearer nj_nope', 'Basic abc', `Bearer nj_${'A'.repeat(43)}`]) {
      const answer = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: header } });
      assert.equal(answer.statusCode, 401, header);
      assert.equal(typeof (JSON.parse(answer.body) as Json).error, 'string');
    }
  });
});

describe('API endpoints', () => {
  let token: string;
  let otherToken: string;
  before(async () => {
    token = await tokenFor((await signedIn()).browser);
    otherToken = await tokenFor((await signedIn()).browser);
  });

  test('every route but the column reference answers 401 without a user', async () => {
    for (const route of apiRoutes({} as never)) {
      const url = route.url.replace(':id', '1').replace(':survey', 'lsst').replace(':objectId', '1');
      const query = route.url === '/api/v1/cone' ? '?ra=1&dec=1&radius=1' : '';
      const answer = await app.inject({ method: route.method, url: url + query, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }) });
      if (route.auth === false) assert.equal(answer.statusCode, 200, route.url);
      else assert.equal(answer.statusCode, 401, `${route.method} ${route.url}: ${answer.body}`);
      assert.match(answer.headers['content-type'] as string, /^application\/json/);
    }
  });

  test('query: rows with exact 64-bit ids, a row limit, and located problems for bad SQL', async () => {
    const answer = await withToken(app, token, 'POST', '/api/v1/query', { select: 'diaObjectId, objectId, nSources', where: 'nSources >= 2', limit: 5 });
    assert.equal(answer.status, 200, answer.body);
    const body = answer.json();
    assert.deepEqual(body.columns, ['diaObjectId', 'objectId', 'nSources']);
    const rows = body.rows as Json[];
    assert.equal(rows.length, 5);
    assert.equal(body.truncated, true);
    for (const row of rows) {
      assert.equal(typeof row.diaObjectId, 'bigint', 'big ids read back as BigInt');
      assert.equal(String(row.diaObjectId), row.objectId, 'the digits are exact');
      assert.ok(answer.body.includes(`"diaObjectId":${String(row.diaObjectId)}`), 'bare digits in the JSON');
    }
    assert.ok(rows.some((r) => (r.diaObjectId as bigint) > 2n ** 53n), 'ids beyond 2^53 are there');
    const objects = body.objects as Json[];
    assert.equal(objects[0]?.objectId, rows[0]?.objectId);

    const bad = await withToken(app, token, 'POST', '/api/v1/query', { select: 'diaObjectId', where: 'nSourcez > 3' });
    assert.equal(bad.status, 400);
    const problems = bad.json().problems as Json[];
    assert.equal(problems[0]?.part, 'where');
    assert.equal(problems[0]?.offset, 0);
    assert.match(problems[0]?.message as string, /nSourcez/);
    const hostile = await withToken(app, token, 'POST', '/api/v1/query', { select: 'diaObjectId', where: "1=1; DROP TABLE objects" });
    assert.equal(hostile.status, 400);
    assert.equal((hostile.json().problems as Json[])[0]?.part, 'where');
    const tooMany = await withToken(app, token, 'POST', '/api/v1/query', { select: 'diaObjectId', limit: 5000 });
    assert.equal(tooMany.status, 400);
  });

  test('an object with its lightcurve and alerts; 404 for an unknown one', async () => {
    const row = ((await withToken(app, token, 'POST', '/api/v1/query', { select: 'objectId, nSources', where: 'nSources >= 3', limit: 1 })).json().rows as Json[])[0];
    assert.ok(row !== undefined);
    const answer = await withToken(app, token, 'GET', `/api/v1/objects/lsst/${String(row.objectId)}`);
    assert.equal(answer.status, 200, answer.body);
    const body = answer.json();
    const object = body.object as Json;
    assert.equal(object.objectId, row.objectId);
    assert.equal(String(object.diaObjectId), row.objectId);
    const lightcurve = body.lightcurve as { detections: Json[] };
    assert.ok(lightcurve.detections.length >= 3, 'the detections');
    assert.equal(typeof lightcurve.detections[0]?.sourceId, 'bigint');
    assert.ok((body.alerts as Json[]).length >= 1);
    const missing = await withToken(app, token, 'GET', '/api/v1/objects/lsst/123');
    assert.equal(missing.status, 404);
    assert.equal((await withToken(app, token, 'GET', '/api/v1/objects/mars/123')).status, 400);
  });

  test('cone search finds exactly the objects a brute-force search finds, nearest first', async () => {
    const all = await store.queryObjects('SELECT objectId, ra, decl FROM objects', { rowLimit: 100_000 });
    const target = all.rows[7] as { objectId: string; ra: number; decl: number };
    const separation = (a: { ra: number; decl: number }, ra: number, dec: number): number => {
      const rad = Math.PI / 180;
      const h = Math.sin(((a.decl - dec) * rad) / 2) ** 2 + Math.cos(dec * rad) * Math.cos(a.decl * rad) * Math.sin(((a.ra - ra) * rad) / 2) ** 2;
      return (2 * Math.asin(Math.min(1, Math.sqrt(h)))) / rad * 3600;
    };
    // A centre a little off the target, and a radius that holds several objects.
    const ra = target.ra + 0.01;
    const dec = target.decl - 0.01;
    const distances = all.rows.map((r) => ({ id: r.objectId as string, d: separation(r as { ra: number; decl: number }, ra, dec) })).sort((a, b) => a.d - b.d);
    const radius = Math.min(3600, Math.max(120, (distances[4]?.d ?? 100) + 1));
    const expected = distances.filter((x) => x.d <= radius).map((x) => x.id);
    assert.ok(expected.length >= 1);
    const answer = await withToken(app, token, 'GET', `/api/v1/cone?ra=${ra}&dec=${dec}&radius=${radius}&limit=1000`);
    assert.equal(answer.status, 200, answer.body);
    const rows = answer.json().rows as Json[];
    assert.deepEqual(rows.map((r) => r.objectId), expected);
    for (const [i, r] of rows.entries()) assert.ok(Math.abs((r.separation as number) - (distances[i]?.d ?? NaN)) < 1e-3, 'separation in arcsec');
    // The object itself, at its exact position with a tiny radius.
    const exact = (await withToken(app, token, 'GET', `/api/v1/cone?ra=${target.ra}&dec=${target.decl}&radius=0.5`)).json().rows as Json[];
    assert.equal(exact[0]?.objectId, target.objectId);
    assert.ok((exact[0]?.separation as number) < 1e-6);
    for (const bad of ['ra=400&dec=0&radius=1', 'ra=1&dec=-91&radius=1', 'ra=1&dec=1&radius=0', 'ra=1&dec=1&radius=100000', 'ra=x&dec=1&radius=1', 'dec=1&radius=1']) {
      const refused = await withToken(app, token, 'GET', `/api/v1/cone?${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.equal(typeof refused.json().error, 'string');
    }
  });

  test('filters: create (a Kafka stream backfilled), list, show, update, validate, run, delete; others\' filters are off limits', async () => {
    const created = await withToken(app, token, 'POST', '/api/v1/filters', { name: 'bright api', select: 'diaObjectId, alertMag', where: 'alertMag < 23', output: 'kafka', public: false });
    assert.equal(created.status, 201, created.body);
    const saved = created.json();
    const filter = saved.filter as Json;
    const stream = saved.stream as Json;
    assert.ok(typeof filter.topic === 'string' && filter.topic.startsWith(`${prefix}_`));
    assert.ok((stream.records as number) > 0 && (stream.records as number) <= 10, 'up to 10 records put in the stream');
    const id = filter.id as number;

    const mine = (await withToken(app, token, 'GET', '/api/v1/filters')).json().filters as Json[];
    assert.deepEqual(mine.map((f) => f.id), [id]);
    assert.deepEqual((await withToken(app, otherToken, 'GET', '/api/v1/filters')).json().filters, []);
    const shown = await withToken(app, token, 'GET', `/api/v1/filters/${id}`);
    assert.equal(shown.status, 200);
    assert.equal((shown.json().stream as Json).topic, filter.topic);

    // Private: another user sees nothing; public: they may read it but not change or delete it.
    assert.equal((await withToken(app, otherToken, 'GET', `/api/v1/filters/${id}`)).status, 404);
    assert.equal((await withToken(app, otherToken, 'PUT', `/api/v1/filters/${id}`, { public: true })).status, 404);
    const published = await withToken(app, token, 'PUT', `/api/v1/filters/${id}`, { public: true, where: 'alertMag < 22' });
    assert.equal(published.status, 200, published.body);
    assert.equal((published.json().filter as Json).where, 'alertMag < 22');
    const seen = await withToken(app, otherToken, 'GET', `/api/v1/filters/${id}`);
    assert.equal(seen.status, 200);
    assert.equal((seen.json().filter as Json).ownerEmail, null, 'the owner\'s email is not shown to others');
    assert.ok(((await withToken(app, otherToken, 'GET', '/api/v1/filters/public')).json().filters as Json[]).some((f) => f.id === id));
    assert.equal((await withToken(app, otherToken, 'PUT', `/api/v1/filters/${id}`, { name: 'mine now' })).status, 403);
    assert.equal((await withToken(app, otherToken, 'DELETE', `/api/v1/filters/${id}`)).status, 403);

    // Bad filters: 400 with the problems located.
    const invalid = await withToken(app, token, 'POST', '/api/v1/filters', { name: 'broken', select: 'diaObjectId, alertMagg' });
    assert.equal(invalid.status, 400);
    const problem = (invalid.json().problems as Json[])[0];
    assert.equal(problem?.part, 'select');
    assert.equal(problem?.offset, 13);
    const unknownField = await withToken(app, token, 'POST', '/api/v1/filters', { name: 'x', select: 'diaObjectId', selct: 'oops' });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.json().error as string, /selct/);

    const validate = await withToken(app, token, 'POST', '/api/v1/filters/validate', { select: 'diaObjectId', where: 'alertMag <' });
    assert.equal(validate.status, 200);
    assert.equal(validate.json().valid, false);
    assert.equal((validate.json().problems as Json[])[0]?.part, 'where');
    assert.equal((await withToken(app, token, 'POST', '/api/v1/filters/validate', { select: 'diaObjectId' })).json().valid, true);

    const run = await withToken(app, token, 'POST', '/api/v1/filters/run', { select: 'diaObjectId, alertMag', where: 'alertMag < 22', limit: 3 });
    assert.equal(run.status, 200, run.body);
    const result = run.json();
    assert.deepEqual(result.columns, ['diaObjectId', 'alertMag']);
    assert.ok((result.rows as Json[]).length <= 3);
    assert.equal(typeof result.elapsedMs, 'number');
    assert.equal(typeof result.truncated, 'boolean');
    const badRun = await withToken(app, token, 'POST', '/api/v1/filters/run', { select: 'diaObjectId', where: 'alertMag < "x" AND' });
    assert.equal(badRun.status, 400);
    assert.ok(Array.isArray(badRun.json().problems));

    const counters = await withToken(app, token, 'GET', '/api/v1/counters');
    assert.equal(counters.status, 200);
    assert.deepEqual((counters.json().filters as Json[]).map((f) => f.id), [id]);
    assert.ok(Array.isArray(counters.json().pipeline));
    assert.equal((await withToken(app, token, 'GET', '/api/v1/counters?from=2026-13-01')).status, 400);

    const removed = await withToken(app, token, 'DELETE', `/api/v1/filters/${id}`);
    assert.equal(removed.status, 200, removed.body);
    assert.equal(removed.json().topicDeleted, true);
    assert.equal((await withToken(app, token, 'GET', `/api/v1/filters/${id}`)).status, 404);
  });

  test('the column reference lists every column with type, unit and meaning', async () => {
    const answer = await app.inject({ method: 'GET', url: '/api/v1/columns' });
    const body = JSON.parse(answer.body) as { tables: { name: string; columns: { name: string; type: string; unit: string | null; doc: string }[] }[]; functions: { name: string }[] };
    const columns = body.tables[0]?.columns ?? [];
    const mag = columns.find((c) => c.name === 'alertMag');
    assert.deepEqual(mag && { type: mag.type, unit: mag.unit }, { type: 'DOUBLE', unit: 'mag' });
    assert.ok(columns.every((c) => c.doc.length > 0));
    assert.ok(body.functions.some((f) => f.name === 'flux2mag'));
  });
});

describe('bad input', () => {
  let token: string;
  before(async () => {
    token = await tokenFor((await signedIn()).browser);
  });

  test('malformed JSON is 400 with a message and no stack; a huge body is 413; text is 415; unknown routes 404', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const malformed = await app.inject({ method: 'POST', url: '/api/v1/query', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"select": "diaObjectId",' });
    assert.equal(malformed.statusCode, 400);
    const body = JSON.parse(malformed.body) as Json;
    assert.match(body.error as string, /JSON/);
    assert.deepEqual(Object.keys(body), ['error']);
    assert.ok(!malformed.body.includes('    at '), 'no stack trace');

    const huge = await app.inject({ method: 'POST', url: '/api/v1/query', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ select: 'diaObjectId', where: `alertMag < ${'1'.repeat(2_000_000)}` }) });
    assert.equal(huge.statusCode, 413);
    assert.match((JSON.parse(huge.body) as Json).error as string, /over the limit/);

    const text = await app.inject({ method: 'POST', url: '/api/v1/query', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'select *' });
    assert.equal(text.statusCode, 415);
    const form = await app.inject({ method: 'POST', url: '/api/v1/query', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'select=diaObjectId' });
    assert.equal(form.statusCode, 415);

    const wrongType = await withToken(app, token, 'POST', '/api/v1/query', { select: { columns: 'diaObjectId' } });
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.json().error as string, /select/);

    const nowhere = await withToken(app, token, 'GET', '/api/v1/nowhere');
    assert.equal(nowhere.status, 404);
    assert.match(nowhere.json().error as string, /no API route/);
  });
});

describe('rate limits', () => {
  test('per user (API token or session), else per address: 429 with Retry-After', async () => {
    const limited = await webApp({ limits: { apiRequests: 5, apiWindowMs: 60_000, loginFailuresPerAccount: 100, loginFailuresPerAddress: 3 } });
    try {
      const ann = new Browser(limited);
      assert.equal((await ann.signUp(email(), PASSWORD)).status, 303);
      const bob = new Browser(limited);
      assert.equal((await bob.signUp(email(), PASSWORD)).status, 303);
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 7; i++) {
        last = await ann.request('GET', '/api/v1/me');
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      assert.ok(last !== undefined);
      assert.ok(Number(last.headers['retry-after']) > 0 && Number(last.headers['retry-after']) <= 60, `Retry-After ${String(last.headers['retry-after'])}`);
      assert.match(last.json().error as string, /too many requests/);
      // Bob, from the same address, has his own allowance.
      assert.equal((await bob.request('GET', '/api/v1/me')).status, 200);

      // Failed logins are throttled by address (test/web-security.test.ts has the details).
      const guesser = new Browser(limited);
      const attempts: number[] = [];
      for (let i = 0; i < 4; i++) attempts.push((await guesser.logIn(`someone${i}@example.org`, `guess number ${i}`)).status);
      assert.deepEqual(attempts, [401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('OpenAPI', () => {
  test('/api/openapi.json is an OpenAPI 3.1 document listing every route with its parameters', async () => {
    const answer = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(answer.statusCode, 200);
    const doc = JSON.parse(answer.body) as { openapi: string; paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; responses: Record<string, unknown>; requestBody?: unknown }>> };
    assert.equal(doc.openapi, '3.1.0');
    const routes = apiRoutes({} as never);
    assert.ok(routes.length >= 15);
    for (const route of routes) {
      const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      assert.ok(operation !== undefined, `${route.method} ${route.url} is documented`);
      for (const name of route.url.match(/:(\w+)/g) ?? []) assert.ok(operation.parameters.some((p) => p.name === name.slice(1) && p.in === 'path'), `${route.url}: ${name}`);
      assert.equal(operation.requestBody !== undefined, route.schema?.body !== undefined);
      assert.ok(Object.keys(operation.responses).length > 0);
    }
    const cone = doc.paths['/api/v1/cone']?.get;
    assert.deepEqual(cone?.parameters.map((p) => p.name), ['ra', 'dec', 'radius', 'limit']);
    // Every route Fastify serves under /api/v1 is in the document.
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) assert.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path} is served`);
    }
  });
});
