// The web app's security (issue 9, item 6) over a real store of synthetic Rubin alerts and the
// filter service on the local Kafka, through Fastify's inject: failed-login throttling per
// account and per address (successes never count), CSRF on every write route (found by listing
// the routes, so a new one cannot be missed), session idle and absolute expiry, rotation and
// logout, password change, the security headers and the pages' lack of inline code, secrets
// kept out of logs and error answers (a forced 500 shows an error id), and input size limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import type { FilterService } from '../src/service/filter-service.ts';
import type { Store } from '../src/store/index.ts';
import { webPlugin, type WebOptions } from '../src/web/app.ts';
import { LoginThrottle, lockDuration, lockMessage, waitText } from '../src/web/auth/login-throttle.ts';
import { sha256Hex } from '../src/web/auth/secrets.ts';
import { SESSION_COOKIE, parseSessionCookie } from '../src/web/auth/sessions.ts';
import { MAX_QUERY_STRING, MAX_SELECT_COLUMNS, MAX_SQL_LENGTH } from '../src/web/input-limits.ts';
import { redactSecrets } from '../src/web/redact.ts';
import { allowedStyleAttributes, styleHash } from '../src/web/security-headers.ts';
import { Browser, withToken, type Json } from './web-api-helpers.ts';
import { openServiceFixture, type ServiceFixture } from './helpers/service-fixture.ts';

const prefix = `njtest-websec-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const PASSWORD = 'correct horse battery';
let fixture: ServiceFixture;
let store: Store;
let service: FilterService;
/** Added to the real time: moves the web apps' clock forward. */
let clockOffsetMs = 0;
const now = (): Date => new Date(Date.now() + clockOffsetMs);
const apps: FastifyInstance[] = [];

/** A web app over the shared store; `routes` collects every route it registers. */
async function webApp(options: Partial<WebOptions> = {}, routes?: RouteOptions[]): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false });
  if (routes !== undefined) instance.addHook('onRoute', (route) => void routes.push(route));
  await instance.register(webPlugin, { store, filters: service, now, limits: { apiRequests: 100_000, signupAttempts: 100_000 }, ...options });
  await instance.ready();
  apps.push(instance);
  return instance;
}

before(async () => {
  fixture = await openServiceFixture({ prefix, alerts: { seed: 5, objects: 100, count: 300 } });
  ({ store, service } = fixture);
});

after(async () => {
  for (const app of apps) await app.close();
  await fixture.close();
});

let users = 0;
function email(): string {
  return `sec${++users}-${randomBytes(3).toString('hex')}@example.org`;
}

async function signedIn(app: FastifyInstance): Promise<{ browser: Browser; email: string }> {
  const browser = new Browser(app);
  const address = email();
  const answer = await browser.signUp(address, PASSWORD);
  assert.equal(answer.status, 303, answer.body);
  return { browser, email: address };
}

/** A login from a given client address, as a fresh browser (its own cookie and CSRF token). */
async function loginFrom(app: FastifyInstance, ip: string, address: string, password: string): Promise<{ status: number; body: string; retryAfter: string | undefined }> {
  const page = await app.inject({ method: 'GET', url: '/login', remoteAddress: ip });
  const csrf = Browser.csrf(page.body);
  const cookies = Object.fromEntries(page.cookies.map((c) => [c.name, c.value]));
  const answer = await app.inject({ method: 'POST', url: '/login', remoteAddress: ip, cookies, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ email: address, password, _csrf: csrf }).toString() });
  const retry = answer.headers['retry-after'];
  return { status: answer.statusCode, body: answer.body, retryAfter: typeof retry === 'string' ? retry : undefined };
}

describe('login throttling', () => {
  test('the rules: free failures, then a lock that doubles up to a maximum; forgotten after a while; bounded memory', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((f) => lockDuration(f, 3, 1000, 5000)), [0, 0, 0, 1000, 2000, 4000, 5000]);
    assert.equal(lockDuration(10_000, 3, 1000, 60_000), 60_000, 'no overflow with many failures');
    let t = 1_000_000;
    const throttle = new LoginThrottle({ accountFree: 2, addressFree: 4, lockMs: 1000, maxLockMs: 10_000, forgetMs: 60_000, maxKeys: 10 }, () => t);
    throttle.failed('Ann@Example.org ', '10.0.0.1');
    assert.equal(throttle.check('ann@example.org', '10.0.0.9'), null);
    throttle.failed('ann@example.org', '10.0.0.1');
    assert.deepEqual(throttle.check('ANN@example.org', '10.0.0.9'), { scope: 'account', until: t + 1000 }, 'the email is one account whatever its case');
    assert.equal(throttle.check('bob@example.org', '10.0.0.1'), null, 'the address has 2 of its 4');
    t += 1001;
    assert.equal(throttle.check('ann@example.org', '10.0.0.9'), null, 'the lock ran out');
    throttle.failed('ann@example.org', '10.0.0.2');
    assert.deepEqual(throttle.check('ann@example.org', '10.0.0.9'), { scope: 'account', until: t + 2000 }, 'doubled');
    throttle.succeeded('ann@example.org');
    assert.equal(throttle.check('ann@example.org', '10.0.0.9'), null, 'a success clears the account');
    throttle.failed('x@example.org', '10.0.0.1');
    throttle.failed('y@example.org', '10.0.0.1');
    assert.deepEqual(throttle.check('z@example.org', '10.0.0.1'), { scope: 'address', until: t + 1000 }, 'four failures from one address');
    throttle.succeeded('z@example.org');
    assert.notEqual(throttle.check('z@example.org', '10.0.0.1'), null, 'a success does not clear the address');
    t += 61_000;
    assert.equal(throttle.check('z@example.org', '10.0.0.1'), null, 'forgotten');
    for (let i = 0; i < 50; i++) throttle.failed(`u${i}@example.org`, `10.1.0.${i}`);
    assert.ok(throttle.size <= 10, `${throttle.size} keys kept`);
    assert.equal(waitText(1), '1 second');
    assert.equal(waitText(90_000), '2 minutes');
    assert.equal(waitText(3_900_000), '1 hour 5 minutes');
    assert.equal(lockMessage({ scope: 'account', until: Date.UTC(2026, 0, 1, 14, 5, 30) }, Date.UTC(2026, 0, 1, 14, 3, 0)), 'Too many failed logins for this account. Try again in 3 minutes (after 14:05:30 UTC).');
  });

  test('failed logins lock the account with 429, Retry-After and when to retry; the right password waits too; successes never count', async () => {
    const app = await webApp({ limits: { apiRequests: 100_000, signupAttempts: 100_000, loginFailuresPerAccount: 3, loginFailuresPerAddress: 1000, loginLockMs: 60_000 } });
    const address = email();
    assert.equal((await new Browser(app).signUp(address, PASSWORD)).status, 303);
    // Successful logins, many of them, from one address: never throttled.
    for (let i = 0; i < 8; i++) assert.equal((await loginFrom(app, '10.9.0.1', address, PASSWORD)).status, 303);

    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 3; i++) {
      last = await loginFrom(app, `10.9.1.${i}`, address, `wrong guess ${i}`);
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [401, 401, 429], 'the third failure locks the account, whatever the address');
    assert.equal(last?.retryAfter, '60');
    assert.match(last?.body ?? '', /Too many failed logins for this account\. Try again in 1 minute \(after \d\d:\d\d:\d\d UTC\)/);
    const right = await loginFrom(app, '10.9.2.1', address, PASSWORD);
    assert.equal(right.status, 429, 'locked: even the right password waits');
    assert.ok(Number(right.retryAfter) > 0 && Number(right.retryAfter) <= 60);
    // Another account from the same addresses is not affected.
    const other = email();
    assert.equal((await new Browser(app).signUp(other, PASSWORD)).status, 303);
    assert.equal((await loginFrom(app, '10.9.1.0', other, PASSWORD)).status, 303);

    clockOffsetMs += 61_000;
    try {
      // One more failure after the lock: the next lock is twice as long.
      const again = await loginFrom(app, '10.9.3.1', address, 'wrong again');
      assert.equal(again.status, 429);
      assert.equal(again.retryAfter, '120');
      clockOffsetMs += 121_000;
      assert.equal((await loginFrom(app, '10.9.3.1', address, PASSWORD)).status, 303, 'after the wait the right password works');
      assert.equal((await loginFrom(app, '10.9.3.1', address, 'a slip')).status, 401, 'and the success cleared the count');
    } finally {
      clockOffsetMs = 0;
    }
  });

  test('failed logins from one address lock that address, for every account; other addresses go on', async () => {
    const app = await webApp({ limits: { apiRequests: 100_000, signupAttempts: 100_000, loginFailuresPerAccount: 1000, loginFailuresPerAddress: 4, loginLockMs: 300_000 } });
    const address = email();
    assert.equal((await new Browser(app).signUp(address, PASSWORD)).status, 303);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await loginFrom(app, '10.8.0.1', `nobody${i}@example.org`, 'guess guess guess')).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const locked = await loginFrom(app, '10.8.0.1', address, PASSWORD);
    assert.equal(locked.status, 429);
    assert.match(locked.body, /Too many failed logins for your address\. Try again in 5 minutes/);
    assert.equal((await loginFrom(app, '10.8.0.2', address, PASSWORD)).status, 303);
  });
});

describe('CSRF', () => {
  test('every POST, PUT, PATCH and DELETE route refuses a session-cookie write without the token (routes listed from Fastify)', async () => {
    const routes: RouteOptions[] = [];
    const app = await webApp({}, routes);
    const { browser } = await signedIn(app);
    const unsafe = routes.flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ method: String(method), url: r.url })))
      .filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    const urls = unsafe.map((r) => `${r.method} ${r.url}`);
    for (const expected of ['POST /login', 'POST /signup', 'POST /logout', 'POST /account/tokens', 'POST /account/kafka/rotate', 'POST /account/password', 'POST /filters/new', 'POST /filters/:id/delete', 'POST /filters/check', 'POST /filters/run', 'POST /api/v1/filters', 'PUT /api/v1/filters/:id', 'DELETE /api/v1/tokens/:id']) {
      assert.ok(urls.includes(expected), `${expected} is among the routes: ${urls.join(', ')}`);
    }
    const me = (await browser.request('GET', '/api/v1/me')).json();
    for (const route of unsafe) {
      const url = route.url.replace(':id', '1').replace(':survey', 'lsst').replace(':objectId', '1');
      const api = url.startsWith('/api/');
      for (const token of [undefined, 'x'.repeat(43)]) {
        const answer = api
          ? await browser.request(route.method as 'POST', url, { json: { name: 'x', select: 'objectId' }, headers: token === undefined ? {} : { 'x-csrf-token': token } })
          : await browser.request(route.method as 'POST', url, { form: { name: 'x', select: 'objectId', ...(token === undefined ? {} : { _csrf: token }) } });
        assert.equal(answer.status, 403, `${route.method} ${route.url} with ${token === undefined ? 'no' : 'a wrong'} token: ${answer.status} ${answer.body.slice(0, 200)}`);
      }
    }
    // Nothing was done: still signed in, no token made.
    assert.deepEqual((await browser.request('GET', '/api/v1/me')).json(), me);
    assert.equal((await store.listApiTokens(me.id as number)).length, 0);
  });
});

describe('sessions', () => {
  test('an idle session ends (in the store too); use keeps it alive; it still ends at its absolute expiry', async () => {
    const app = await webApp({ limits: { apiRequests: 100_000, signupAttempts: 100_000, sessionIdleMs: 2 * 3_600_000, sessionDays: 1 } });
    const { browser } = await signedIn(app);
    const cookie = browser.cookies.get(SESSION_COOKIE) ?? assert.fail('no session cookie');
    const id = parseSessionCookie(cookie.slice(0, cookie.lastIndexOf('.')))?.id ?? assert.fail('malformed cookie');
    try {
      // Used every 1.5 hours: alive, the cookie's last-used stamp moving on each time.
      for (let h = 1.5; h <= 6; h += 1.5) {
        clockOffsetMs = h * 3_600_000;
        assert.equal((await browser.request('GET', '/api/v1/me')).status, 200, `after ${h} h`);
      }
      assert.notEqual(browser.cookies.get(SESSION_COOKIE), cookie, 'the stamp was refreshed');
      // Then 2 hours and a minute without use: ended, and deleted from the store.
      clockOffsetMs = 8 * 3_600_000 + 60_000;
      assert.equal((await browser.request('GET', '/api/v1/me')).status, 401);
      assert.equal(await store.findSession(sha256Hex(id), new Date().toISOString()), null, 'the idle session is gone from the store');
      clockOffsetMs = 6 * 3_600_000;
      assert.equal((await browser.request('GET', '/api/v1/me')).status, 401, 'turning the clock back does not revive it');

      // The absolute limit (1 day) holds however busy the session is.
      clockOffsetMs = 0;
      const busy = await signedIn(app);
      for (let h = 1; h <= 23; h += 1) {
        clockOffsetMs = h * 3_600_000;
        assert.equal((await busy.browser.request('GET', '/api/v1/me')).status, 200);
      }
      clockOffsetMs = 24 * 3_600_000 + 60_000;
      assert.equal((await busy.browser.request('GET', '/api/v1/me')).status, 401);
    } finally {
      clockOffsetMs = 0;
    }
  });

  test('login rotates the session id; logout ends it in the store; an old or forged cookie is refused', async () => {
    const app = await webApp();
    const { browser, email: address } = await signedIn(app);
    const first = browser.cookies.get(SESSION_COOKIE) ?? '';
    assert.equal((await browser.logIn(address, PASSWORD)).status, 303);
    const second = browser.cookies.get(SESSION_COOKIE) ?? '';
    assert.notEqual(parseSessionCookie(first.slice(0, first.lastIndexOf('.')))?.id, parseSessionCookie(second.slice(0, second.lastIndexOf('.')))?.id, 'a new id');
    const stolen = await app.inject({ method: 'GET', url: '/api/v1/me', cookies: { [SESSION_COOKIE]: first } });
    assert.equal(stolen.statusCode, 401, 'the id before the rotation is refused');
    const unsigned = await app.inject({ method: 'GET', url: '/api/v1/me', cookies: { [SESSION_COOKIE]: second.slice(0, second.lastIndexOf('.')) } });
    assert.equal(unsigned.statusCode, 401, 'an unsigned cookie is refused');
    const csrf = await browser.csrfOf('/account');
    assert.equal((await browser.request('POST', '/logout', { form: { _csrf: csrf } })).status, 303);
    const replay = await app.inject({ method: 'GET', url: '/account', cookies: { [SESSION_COOKIE]: second } });
    assert.equal(replay.statusCode, 303, 'after logout the copied cookie leads to the login page');
  });

  test('password change: needs the current password, ends every other session, rotates this one', async () => {
    const app = await webApp();
    const { browser, email: address } = await signedIn(app);
    const other = new Browser(app);
    assert.equal((await other.logIn(address, PASSWORD)).status, 303);
    const before = browser.cookies.get(SESSION_COOKIE) ?? '';
    const csrf = await browser.csrfOf('/account');
    const wrong = await browser.request('POST', '/account/password', { form: { _csrf: csrf, current: 'not my password', password: 'a brand new passphrase' } });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body, /the current password is wrong/);
    const ok = await browser.request('POST', '/account/password', { form: { _csrf: csrf, current: PASSWORD, password: 'a brand new passphrase' } });
    assert.equal(ok.status, 303);
    assert.notEqual(browser.cookies.get(SESSION_COOKIE), before, 'rotated');
    assert.equal((await browser.request('GET', '/api/v1/me')).status, 200, 'this browser stays signed in');
    assert.equal((await other.request('GET', '/api/v1/me')).status, 401, 'the other session ended');
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/me', cookies: { [SESSION_COOKIE]: before } })).statusCode, 401);
    assert.equal((await new Browser(app).logIn(address, PASSWORD)).status, 401);
    assert.equal((await new Browser(app).logIn(address, 'a brand new passphrase')).status, 303);
  });
});

describe('headers', () => {
  test('a strict CSP, no framing, nosniff, same-origin referrers; HSTS only behind https; no-store when signed in', async () => {
    const app = await webApp();
    const home = await app.inject({ method: 'GET', url: '/' });
    const csp = String(home.headers['content-security-policy']);
    for (const part of ["default-src 'self'", "script-src 'self'", "script-src-attr 'none'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(part), `${part} in ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // Inline style attributes: only the hashed ones.
    assert.match(csp, /style-src-attr 'unsafe-hashes' 'sha256-/);
    assert.ok(csp.includes(styleHash('background:#1a9850')));
    assert.equal(home.headers['x-content-type-options'], 'nosniff');
    assert.equal(home.headers['x-frame-options'], 'DENY');
    assert.equal(home.headers['referrer-policy'], 'same-origin');
    assert.equal(home.headers['strict-transport-security'], undefined, 'no HSTS over plain http');

    const secure = await webApp({ publicUrl: 'https://broker.example.org' });
    const answer = await secure.inject({ method: 'GET', url: '/' });
    assert.match(String(answer.headers['strict-transport-security']), /max-age=31536000/);

    const { browser } = await signedIn(app);
    for (const url of ['/account', '/filters', '/api/v1/me', '/objects']) {
      assert.equal((await browser.request('GET', url)).headers['cache-control'], 'no-store', url);
    }
    assert.match(String((await browser.request('GET', '/static/nightjar.css')).headers['cache-control']), /public/);
  });

  test('the pages have no inline script, event handler or unhashed style attribute', async () => {
    const app = await webApp();
    const { browser } = await signedIn(app);
    const saved = await browser.api('POST', '/api/v1/filters', { name: `page check ${randomBytes(2).toString('hex')}`, select: 'objectId, alertMag', where: 'nSources >= 1', output: 'none', public: true });
    assert.equal(saved.status, 201, saved.body);
    const filterId = ((saved.json().filter as Json).id as number);
    const object = (await store.queryObjects('SELECT objectId FROM objects LIMIT 1')).rows[0]?.objectId;
    const allowed = new Set(allowedStyleAttributes());
    const anonymous = new Browser(app);
    for (const url of ['/', '/login', '/signup', '/status']) {
      const page = await anonymous.request('GET', url);
      assert.equal(page.status, 200, url);
      assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle="/i, url);
    }
    const pages = ['/', '/account', '/filters', '/gallery', '/filters/new', `/filters/${filterId}`, `/filters/${filterId}/edit`, '/objects', `/objects/lsst/${String(object)}`, '/status', '/status/panel'];
    for (const url of pages) {
      const page = await browser.request('GET', url);
      assert.equal(page.status, 200, `${url}: ${page.body.slice(0, 200)}`);
      for (const script of page.body.matchAll(/<script\b([^>]*)>/g)) assert.match(script[1] ?? '', /\bsrc="\/static\/[^"]+"/, `${url}: inline script ${script[0]}`);
      assert.doesNotMatch(page.body, /\son[a-z]+\s*=/i, `${url}: an inline event handler`);
      assert.doesNotMatch(page.body, /javascript:/i, `${url}: a javascript: URL`);
      assert.doesNotMatch(page.body, /<style\b/i, `${url}: a style element`);
      for (const style of page.body.matchAll(/\sstyle="([^"]*)"/g)) assert.ok(allowed.has(style[1] ?? ''), `${url}: style="${style[1]}" is not an allowed (hashed) one`);
    }
  });
});

describe('secrets', () => {
  test('no password, session id, CSRF or API token in the logs or error answers; a 500 shows an error id, not a stack', async () => {
    // A store that fails on demand, with a driver-like message quoting what it was given.
    let failWith: string | null = null;
    const failing = new Proxy(store, {
      get(target, property) {
        if (property === 'listApiTokens' && failWith !== null) {
          const message = failWith;
          return async () => {
            throw new Error(message);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const app = await webApp({ store: failing });
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    const answers: string[] = [];
    const secrets: string[] = [];
    let errorIds: string[] = [];
    let csrf = '';
    try {
      const address = email();
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      secrets.push(password, wrong);
      const browser = new Browser(app);
      const signup = await browser.signUp(address, password);
      assert.equal(signup.status, 303);
      answers.push(signup.body);
      answers.push((await browser.logIn(address, wrong)).body);
      answers.push((await browser.logIn(address, password)).body);
      const cookie = browser.cookies.get(SESSION_COOKIE) ?? '';
      const sessionId = parseSessionCookie(cookie.slice(0, cookie.lastIndexOf('.')))?.id ?? assert.fail('no session');
      secrets.push(sessionId);
      // The CSRF token is in every page of the session (that is its job), never in a log.
      csrf = await browser.csrfOf('/account');
      const created = await browser.request('POST', '/account/tokens', { form: { name: 'laptop', _csrf: csrf } });
      const token = /id="new-token">([^<]+)</.exec(created.body)?.[1] ?? assert.fail('no token shown');
      secrets.push(token);
      const used = await withToken(app, token, 'GET', '/api/v1/me');
      assert.equal(used.status, 200);
      answers.push(used.body);
      answers.push((await withToken(app, `${token.slice(0, -1)}x`, 'GET', '/api/v1/me')).body);
      answers.push((await withToken(app, token, 'POST', '/api/v1/query', { select: 'objectId', where: `alertMag < ${password}` })).body);

      // Forced 500s: the page and the API. The error's text quotes the token and the session id.
      failWith = `connection lost while running query with ${token} for session ${cookie}`;
      const page = await browser.request('GET', '/account');
      const api = await withToken(app, token, 'GET', '/api/v1/tokens');
      failWith = null;
      assert.equal(page.status, 500);
      assert.equal(api.status, 500);
      for (const answer of [page.body, api.body]) {
        assert.doesNotMatch(answer, /connection lost|\s{4}at\s|\.ts:\d+/, 'no error text or stack in the answer');
        answers.push(answer);
      }
      const pageId = /logged with the id ([0-9a-f]{12})/.exec(page.body)?.[1] ?? assert.fail(`no error id in the 500 page: ${page.body.slice(0, 500)}`);
      const apiId = api.json().errorId as string;
      assert.match(apiId, /^[0-9a-f]{12}$/);
      errorIds = [pageId, apiId];
    } finally {
      process.stderr.write = write;
    }
    const logs = logged.join('');
    for (const id of errorIds) assert.ok(logs.includes(id), `error id ${id} is in the log`);
    assert.match(logs, /connection lost while running query with nj_\[redacted\] for session \[session redacted\]/);
    assert.ok(!logs.includes(csrf), 'the CSRF token is not in the logs');
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 6)}…) is in the logs`);
      for (const answer of answers) assert.ok(!answer.includes(secret), `a secret (${secret.slice(0, 6)}…) is in an answer: ${answer.slice(0, 300)}`);
    }
  });

  test('redaction masks tokens, bearer credentials, session cookies and password fields', () => {
    const token = `nj_${'a'.repeat(43)}`;
    assert.equal(redactSecrets(`bad token ${token}!`), 'bad token nj_[redacted]!');
    assert.equal(redactSecrets('Authorization: Bearer abc.def'), 'Authorization: Bearer [redacted]');
    assert.equal(redactSecrets(`cookie ${'A'.repeat(43)}~sz3k1a.sIgNaTuRe`), 'cookie [session redacted]');
    assert.equal(redactSecrets('email=a%40b.org&password=hunter22&next=%2F'), 'email=a%40b.org&password=[redacted]&next=%2F');
    assert.equal(redactSecrets('{"sasl.password": "s3cret", "user": "x"}'), '{"sasl.password": "[redacted]", "user": "x"}');
    assert.equal(redactSecrets('smtp_password=abc'), 'smtp_password=[redacted]');
  });
});

describe('input limits', () => {
  let app: FastifyInstance;
  let token: string;
  let browser: Browser;
  before(async () => {
    app = await webApp({ limits: { apiRequests: 100_000, signupAttempts: 100_000, apiBodyBytes: 64 * 1024 } });
    browser = (await signedIn(app)).browser;
    const created = await browser.api('POST', '/api/v1/tokens', { name: 'limits' });
    token = created.json().token as string;
  });

  test('bodies over the limit are 413, for the API, forms and the builder', async () => {
    const big = 'x'.repeat(70 * 1024);
    const api = await withToken(app, token, 'POST', '/api/v1/query', { select: 'objectId', where: big });
    assert.equal(api.status, 413);
    assert.match(api.json().error as string, /over the limit of 65536 bytes/);
    const form = await browser.request('POST', '/login', { form: { email: 'a@b.org', password: big } });
    assert.equal(form.status, 413);
    assert.match(form.body, /over the limit of 65536 bytes/);
    const builder = await browser.request('POST', '/filters/check', { json: { select: big }, headers: { 'x-csrf-token': await browser.csrfOf('/filters/new') } });
    assert.equal(builder.status, 413);
  });

  test('a long query string is 400 with a message, for the API and the pages', async () => {
    const long = `?q=${'a'.repeat(MAX_QUERY_STRING)}`;
    const api = await withToken(app, token, 'GET', `/api/v1/cone${long}`);
    assert.equal(api.status, 400);
    assert.match(api.json().error as string, new RegExp(`query string has ${MAX_QUERY_STRING + 2} bytes; at most ${MAX_QUERY_STRING}`));
    const page = await browser.request('GET', `/objects${long}`);
    assert.equal(page.status, 400);
    assert.match(page.body, /too long/);
  });

  test('SQL boxes over the length limit, too many columns, too many rows or alerts, a cone out of bounds: 400 with a message', async () => {
    const longWhere = `nSources > 0${' AND alertMag < 30'.repeat(Math.ceil(MAX_SQL_LENGTH / 18))}`;
    const query = await withToken(app, token, 'POST', '/api/v1/query', { select: 'objectId', where: longWhere });
    assert.equal(query.status, 400);
    assert.match(query.json().error as string, new RegExp(`/where: must NOT have more than ${MAX_SQL_LENGTH} characters`));
    const save = await withToken(app, token, 'POST', '/api/v1/filters', { name: 'long one', select: 'objectId', where: longWhere });
    assert.equal(save.status, 400);
    const csrf = await browser.csrfOf('/filters/new');
    const check = await browser.request('POST', '/filters/check', { json: { select: 'objectId', where: longWhere }, headers: { 'x-csrf-token': csrf } });
    assert.equal(check.status, 400);
    assert.match(check.json().error as string, new RegExp(`the WHERE box has [\\d,]+ characters; at most ${MAX_SQL_LENGTH.toLocaleString('en')} are allowed`));
    const form = await browser.request('POST', '/filters/new', { form: { _csrf: csrf, name: 'long', select: 'objectId', where: longWhere, output: 'none' } });
    assert.equal(form.status, 400);
    assert.match(form.body, /the WHERE box has [\d,]+ characters/);

    const wide = Array.from({ length: MAX_SELECT_COLUMNS + 1 }, (_, i) => `alertMag AS m${i}`).join(', ');
    const tooWide = await withToken(app, token, 'POST', '/api/v1/query', { select: wide });
    assert.equal(tooWide.status, 400, tooWide.body);
    assert.match(JSON.stringify(tooWide.json().problems), new RegExp(`asks for ${MAX_SELECT_COLUMNS + 1} columns; at most ${MAX_SELECT_COLUMNS}`));
    const run = await browser.request('POST', '/filters/run', { json: { select: wide }, headers: { 'x-csrf-token': csrf } });
    assert.equal(run.status, 422);
    assert.match(run.body, /at most 100 are allowed/);
    const fine = await withToken(app, token, 'POST', '/api/v1/query', { select: Array.from({ length: MAX_SELECT_COLUMNS }, (_, i) => `alertMag AS m${i}`).join(', '), limit: 2 });
    assert.equal(fine.status, 200, fine.body);

    const rows = await withToken(app, token, 'POST', '/api/v1/query', { select: 'objectId', limit: 1001 });
    assert.equal(rows.status, 400);
    assert.match(rows.json().error as string, /limit: must be <= 1000/);
    const alerts = await withToken(app, token, 'GET', '/api/v1/objects/lsst/1?alerts=1001');
    assert.equal(alerts.status, 400);
    for (const radius of ['0', '-1', '3600.5', 'NaN']) {
      const cone = await withToken(app, token, 'GET', `/api/v1/cone?ra=10&dec=10&radius=${radius}`);
      assert.equal(cone.status, 400, `radius ${radius}`);
      assert.match(cone.json().error as string, /radius/);
    }
    assert.equal((await withToken(app, token, 'GET', '/api/v1/cone?ra=10&dec=10&radius=3600')).status, 200);
  });
});
