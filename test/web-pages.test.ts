// The pages over HTTP (no browser): the web app on 127.0.0.1 over a store of synthetic Rubin
// alerts and the filter service on the local Kafka. Sign up, the builder's check and run
// endpoints (problems at the validator's offsets, results with exact ids), saving a Kafka filter
// through the form (the filter page then says its stream was reset with N records), the live
// matches stream (SSE) fed by store.addFilterMatches, lists and gallery de-duplication, object
// pages and search, the status page, and the escaping of user text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Admin } from '@platformatic/kafka';
import Fastify, { type FastifyInstance } from 'fastify';
import { endOffsets } from '../src/kafka/topics.ts';
import type { FilterService } from '../src/service/filter-service.ts';
import type { Store } from '../src/store/index.ts';
import { webPlugin } from '../src/web/app.ts';
import { dedupeGallery, plainNormalised } from '../src/web/pages/filter-lists.ts';
import { html, raw } from '../src/web/pages/html.ts';
import { MinuteHistory, metricSeries } from '../src/web/pages/status-data.ts';
import { problemSpan } from '../src/web/pages/sql-problems.ts';
import { matchedCounts } from '../src/web/pages/filter-page.ts';
import { createPipelineMetrics } from '../src/pipeline/pipeline-metrics.ts';
import type { StoredFilter } from '../src/store/store.ts';
import { openServiceFixture, type ServiceFixture } from './helpers/service-fixture.ts';

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const prefix = `njtest-pages-${run}`;

let fixture: ServiceFixture;
let admin: Admin;
let store: Store;
let service: FilterService;
let app: FastifyInstance;
let base: string;

/** A tiny browser: cookies kept between requests, the CSRF token read from the last page. */
class Browser {
  cookies = new Map<string, string>();
  csrf = '';

  async request(path: string, init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; location: string | null; headers: Headers }> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ _csrf: this.csrf, ...init.form }).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      headers['x-csrf-token'] = this.csrf;
      body = JSON.stringify(init.json);
    }
    const response = await fetch(`${base}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = (pair ?? '').indexOf('=');
      this.cookies.set((pair ?? '').slice(0, eq), (pair ?? '').slice(eq + 1));
    }
    const text = await response.text();
    const token = /<meta name="csrf-token" content="([^"]*)"/.exec(text)?.[1];
    if (token !== undefined && token !== '') this.csrf = token;
    return { status: response.status, text, location: response.headers.get('location'), headers: response.headers };
  }
}

before(async () => {
  fixture = await openServiceFixture({ prefix, alerts: { seed: 11, objects: 200, count: 1200, batchSize: 400 }, createMissingOwners: false });
  ({ admin, store, service } = fixture);
  app = Fastify({ logger: false });
  await app.register(webPlugin, { store, filters: service, metrics: createPipelineMetrics() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

after(async () => {
  await app.close();
  await fixture.close();
});

async function signedIn(name: string): Promise<Browser> {
  const b = new Browser();
  await b.request('/signup');
  const email = `${name}-${run}@example.org`;
  const r = await b.request('/signup', { form: { email, name, password: 'correct horse battery staple', next: '/filters' } });
  assert.equal(r.status, 303, `sign-up answered ${r.status}: ${r.text.slice(0, 300)}`);
  await b.request('/filters');
  return b;
}

test('html escapes interpolated text but not SafeHtml', () => {
  const name = '<script>alert("x")</script>&';
  assert.equal(html`<b>${name}</b>`.text, '<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;</b>');
  assert.equal(html`<i>${[html`<u>${'a<b'}</u>`, raw('<br>')]}</i>`.text, '<i><u>a&lt;b</u><br></i>');
  assert.equal(html`${null}${undefined}${false}${12n}`.text, '12');
});

test('problemSpan marks the word at the offset', () => {
  assert.deepEqual(problemSpan('nSources > 3 AND nSourcs > 1', 17), [17, 24]);
  assert.deepEqual(problemSpan('a >', 3), [3, 3]);
  assert.deepEqual(problemSpan('a > )', 4), [4, 5]);
});

test('gallery shows identical normalised filters once, the oldest', () => {
  const f = (id: number, select: string, where: string): StoredFilter => ({ id, ownerId: id, name: `f${id}`, description: '', select, where, tables: [], public: true, output: 'none', active: true, topic: null, createdAt: '', updatedAt: '' });
  const filters = [f(3, 'objectId', 'nSources > 2'), f(1, 'objectId ', 'nSources  >  2'), f(2, 'ra', '')];
  const entries = dedupeGallery(filters, (x) => plainNormalised(x.select, x.where, x.tables));
  assert.deepEqual(entries.map((e) => [e.filter.id, e.copies]), [[1, 2], [2, 1]]);
});

test('matched today and this week count UTC nights', () => {
  const now = new Date('2026-03-10T05:00:00Z');
  const c = (night: string, matched: number) => ({ filterId: 1, night, matched, records: 0, bytes: 0, dropped: 0 });
  assert.deepEqual(matchedCounts([c('2026-03-02', 100), c('2026-03-04', 5), c('2026-03-09', 7), c('2026-03-10', 3)], now), { today: 3, week: 15 });
});

test('per-minute history and metric series', () => {
  const h = new MinuteHistory(3);
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
  h.sample(100, t0);
  h.sample(130, t0 + 20_000);
  h.sample(150, t0 + 70_000);
  h.sample(5, t0 + 80_000); // a restart or a new day: not counted
  h.sample(9, t0 + 130_000);
  assert.deepEqual(h.perMinute(t0 + 130_000).map((m) => m.count), [30, 20, 4]);
  const m = createPipelineMetrics();
  m.alertsIn.inc({ topic: 'a"b' }, 5);
  m.alertsIn.inc({ topic: 'c' }, 2);
  assert.deepEqual(metricSeries(m.alertsIn), [{ labels: { topic: 'a"b' }, value: 5 }, { labels: { topic: 'c' }, value: 2 }]);
});

test('anonymous visitors see the public pages; private ones send them to log in', async () => {
  const b = new Browser();
  for (const path of ['/', '/gallery', '/objects', '/status', '/filters/new']) {
    const r = await b.request(path);
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    assert.match(r.text, /<header class="site-header">/);
    assert.match(r.text, /href="\/login/);
  }
  const mine = await b.request('/filters');
  assert.equal(mine.status, 303);
  assert.equal(mine.location, '/login?next=%2Ffilters');
  assert.match((await b.request('/filters/new')).text, /Log in to save/);
});

test('the builder checks and runs a filter: problems at their offsets, rows with exact ids', async () => {
  const b = await signedIn('builder');
  const where = 'nSources >= 2 AND nSourcs > 1';
  const checked = await b.request('/filters/check', { json: { select: 'objectId, diaObjectId, alertMag', where } });
  assert.equal(checked.status, 200);
  const problems = JSON.parse(checked.text).problems as { part: string; offset: number; message: string }[];
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.part, 'where');
  assert.equal(problems[0]?.offset, where.indexOf('nSourcs'));
  assert.match(problems[0]?.message ?? '', /nSourcs/);

  const bad = await b.request('/filters/run', { json: { select: 'objectId', where } });
  assert.equal(bad.status, 422);
  assert.equal(JSON.parse(bad.text).problems[0].offset, where.indexOf('nSourcs'));

  const ran = await b.request('/filters/run', { json: { select: 'objectId, diaObjectId, alertMag', where: 'nSources >= 2', rowLimit: 7 } });
  assert.equal(ran.status, 200, ran.text);
  const data = JSON.parse(ran.text) as { columns: string[]; rows: unknown[][]; objects: { survey: string; objectId: string }[]; truncated: boolean; units: (string | null)[] };
  assert.deepEqual(data.columns, ['objectId', 'diaObjectId', 'alertMag']);
  assert.deepEqual(data.units, [null, null, 'mag']);
  assert.equal(data.rows.length, 7);
  assert.equal(data.truncated, true);
  const stored = (await store.queryObjects('SELECT objectId, diaObjectId FROM objects WHERE nSources >= 2', { rowLimit: 10_000 })).rows;
  const byId = new Map(stored.map((r) => [String(r.objectId), r.diaObjectId]));
  for (const row of data.rows) {
    // diaObjectId went to the browser as text: the exact 64-bit digits.
    assert.equal(typeof row[1], 'string');
    assert.equal(row[1], (byId.get(String(row[0])) as bigint).toString());
  }
  assert.equal(data.objects[0]?.survey, 'lsst');

  const noCsrf = await fetch(`${base}/filters/run`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }, body: '{"select":"objectId"}' });
  assert.equal(noCsrf.status, 403);
});

test('saving a Kafka filter through the form resets its stream and the page says with how many records; matches arrive live', async () => {
  const b = await signedIn('saver');
  await b.request('/filters/new');
  const invalid = await b.request('/filters/new', { form: { select: 'objectId, alertMag', where: 'alertMag < 30 AND nSourcs > 1', name: 'Bright things', description: '', output: 'kafka' } });
  assert.equal(invalid.status, 422);
  assert.match(invalid.text, /class="problem"[^>]*data-part="where"/);
  assert.match(invalid.text, /<mark>nSourcs<\/mark>/);

  const saved = await b.request('/filters/new', { form: { select: 'objectId, diaObjectId, alertMag', where: 'nSources >= 1', name: 'Bright things <b>', description: 'A <i>test</i>', output: 'kafka', public: 'on' } });
  assert.equal(saved.status, 303, saved.text.slice(0, 500));
  const location = saved.location ?? '';
  const id = Number(/^\/filters\/(\d+)\?saved=/.exec(location)?.[1]);
  assert.ok(id > 0, location);
  const page = await b.request(location);
  assert.equal(page.status, 200);
  const filter = await store.getFilter(id);
  assert.ok(filter?.topic);
  const retained = (await endOffsets(admin, filter.topic)).reduce((s, o) => s + Number(o), 0);
  assert.equal(retained, 10);
  assert.match(page.text, new RegExp(`Its stream ${filter.topic} was reset: 0 old records were deleted and 10 records were put in it`));
  assert.match(page.text, /Bright things &lt;b&gt;/);
  assert.doesNotMatch(page.text, /<i>test<\/i>/);
  assert.match(page.text, /from confluent_kafka import Consumer/);
  assert.match(page.text, /AlertConsumer\.create/);
  // The message is shown once.
  assert.doesNotMatch((await b.request(location)).text, /was reset/);

  // Live matches: the SSE stream sends what the store records after the page's last seq.
  const controller = new AbortController();
  const response = await fetch(`${base}/filters/${id}/live?after=0`, { headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }, signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const big = 170587115523932323n;
  await store.addFilterMatches([{ filterId: id, objectId: big.toString(), sourceId: big + 1n, mjd: 61000.5, matchedAt: new Date().toISOString(), row: { objectId: big.toString(), diaObjectId: big, alertMag: 19.5 } }]);
  let text = '';
  const deadline = Date.now() + 10_000;
  while (!text.includes('event: match') && Date.now() < deadline) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  controller.abort();
  const data = /event: match\ndata: (.*)\n/.exec(text)?.[1];
  assert.ok(data, text);
  const match = JSON.parse(data) as { objectId: string; sourceId: string; row: Record<string, unknown> };
  assert.equal(match.sourceId, (big + 1n).toString());
  assert.equal(match.row.diaObjectId, big.toString());

  // The gallery lists it; another user sees it and can copy it, but not edit it.
  const other = await signedIn('other');
  assert.match((await other.request('/gallery')).text, new RegExp(`href="/filters/${id}"`));
  const theirs = await other.request(`/filters/${id}`);
  assert.match(theirs.text, /Copy into my filters/);
  assert.equal((await other.request(`/filters/${id}/edit`)).status, 404);
  const copy = await other.request(`/filters/new?from=${id}`);
  assert.match(copy.text, /Copied from/);
  assert.match(copy.text, /nSources &gt;= 1/);
  // The filter page after a match shows it; the search resolves the object id.
  assert.match((await b.request(`/filters/${id}`)).text, new RegExp(big.toString()));

  const deleted = await b.request(`/filters/${id}/delete`, { form: {} });
  assert.equal(deleted.status, 303);
  assert.match((await b.request(deleted.location ?? '')).text, /deleted/);
  assert.equal(await store.getFilter(id), null);
});

test('object pages: search by id redirects, cone search finds it, the page has the lightcurve', async () => {
  const b = new Browser();
  const [row] = (await store.queryObjects('SELECT objectId, ra, decl FROM objects ORDER BY nSources DESC LIMIT 1', { rowLimit: 1 })).rows;
  assert.ok(row);
  const found = await b.request(`/objects?id=${row.objectId}`);
  assert.equal(found.status, 303);
  assert.equal(found.location, `/objects/lsst/${row.objectId}`);
  const page = await b.request(found.location ?? '');
  assert.equal(page.status, 200);
  assert.match(page.text, /<svg role="img" aria-label="Lightcurve: flux/);
  assert.match(page.text, /id="detections-table"/);
  assert.match(page.text, /latestFlux_/);
  const cone = await b.request(`/objects?ra=${row.ra}&dec=${row.decl}&radius=5`);
  assert.match(cone.text, new RegExp(`>${row.objectId}</a>`));
  assert.match((await b.request('/objects?ra=400&dec=0')).text, /RA must be/);
  assert.equal((await b.request('/objects/lsst/123')).status, 404);
  const status = await b.request('/status/panel');
  assert.equal(status.status, 200);
  assert.match(status.text, /Alerts ingested per minute/);
});
