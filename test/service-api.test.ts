// The filter HTTP API (Fastify inject) over a real service, store and local Kafka: every route,
// 400 with located problems for a bad filter or a badly typed field, 404, 409, and 64-bit ids
// written as exact digits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { filterApiRoutes } from '../src/service/filter-api.ts';
import type { FilterService } from '../src/service/filter-service.ts';
import type { Store } from '../src/store/index.ts';
import { parse } from '../src/util/json.ts';
import { openServiceFixture, type ServiceFixture } from './helpers/service-fixture.ts';

type Json = Record<string, unknown>;

const prefix = `njtest-api-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let fixture: ServiceFixture;
let store: Store;
let service: FilterService;
let app: FastifyInstance;

before(async () => {
  fixture = await openServiceFixture({ prefix, alerts: { seed: 11, objects: 100, count: 300 } });
  ({ store, service } = fixture);
  app = Fastify({ logger: false });
  await app.register(filterApiRoutes, { service });
  await app.ready();
});

after(async () => {
  await app.close();
  await fixture.close();
});

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; json: Json; text: string }> {
  const response = await app.inject({ method, url, ...(body === undefined ? {} : { payload: body as Json }) });
  return { status: response.statusCode, json: parse(response.body) as Json, text: response.body };
}

test('POST, GET, PUT and DELETE a filter; the list filters by owner', { timeout: 60_000 }, async () => {
  const created = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'faint', select: 'objectId, alertMag', where: 'alertMag > 22', description: 'faint ones', public: true });
  assert.equal(created.status, 201, created.text);
  const filter = created.json.filter as Json;
  assert.deepEqual([filter.name, filter.output, filter.topic, filter.public, filter.active, filter.ownerEmail, filter.description], ['faint', 'none', null, true, true, 'ann@example.org', 'faint ones']);
  assert.equal(created.json.stream, null);
  const id = filter.id as number;

  const other = await call('POST', '/api/filters', { owner: 'bob@example.org', name: 'mine', select: 'objectId' });
  assert.equal(other.status, 201, other.text);
  const byNumber = await call('POST', '/api/filters', { owner: filter.ownerId, name: 'by id', select: 'objectId' });
  assert.deepEqual([byNumber.status, (byNumber.json.filter as Json).ownerEmail], [201, 'ann@example.org'], 'owner as a JSON number: the user id');
  assert.equal((await call('DELETE', `/api/filters/${(byNumber.json.filter as Json).id as number}`)).status, 200);

  const all = await call('GET', '/api/filters');
  assert.equal(all.status, 200);
  assert.deepEqual((all.json.filters as Json[]).map((f) => f.name), ['faint', 'mine']);
  const ann = await call('GET', '/api/filters?owner=ann%40example.org');
  assert.deepEqual((ann.json.filters as Json[]).map((f) => f.id), [id]);
  const byId = await call('GET', `/api/filters?owner=${filter.ownerId as number}`);
  assert.deepEqual((byId.json.filters as Json[]).map((f) => f.id), [id]);

  const shown = await call('GET', `/api/filters/${id}`);
  assert.equal(shown.status, 200);
  assert.equal((shown.json.filter as Json).where, 'alertMag > 22');
  assert.equal(shown.json.outputLabel, 'silent');
  assert.deepEqual(shown.json.counters, []);
  assert.deepEqual(shown.json.totals, { matched: 0, records: 0, bytes: 0, dropped: 0 });

  const changed = await call('PUT', `/api/filters/${id}`, { where: 'alertMag > 23', public: false });
  assert.equal(changed.status, 200, changed.text);
  assert.deepEqual([(changed.json.filter as Json).where, (changed.json.filter as Json).public], ['alertMag > 23', false]);

  const removed = await call('DELETE', `/api/filters/${id}`);
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.json, { id, name: 'faint', topic: null, topicDeleted: false });
  assert.equal((await call('GET', `/api/filters/${id}`)).status, 404);
  const again = await call('DELETE', `/api/filters/${id}`);
  assert.deepEqual([again.status, again.json.error, again.json.filterId], [404, 'not-found', id]);
  assert.equal((await call('PUT', `/api/filters/${id}`, { where: '' })).status, 404);
});

test('a Kafka filter\'s backfilled rows come back with 64-bit ids as exact digits', { timeout: 60_000 }, async () => {
  const created = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'ids', select: 'diaObjectId, alertSourceId', where: 'nSources >= 1', output: 'kafka' });
  assert.equal(created.status, 201, created.text);
  const stream = created.json.stream as Json;
  assert.equal(stream.records, 10);
  const rows = stream.rows as Json[];
  assert.equal(rows.length, 10);
  const stored = await store.queryObjects('SELECT diaObjectId, alertSourceId FROM objects ORDER BY alertMjd DESC NULLS LAST, survey, objectKind, objectId', { rowLimit: 10 });
  assert.deepEqual(rows, stored.rows);
  for (const row of stored.rows) {
    const id = row.diaObjectId as bigint;
    assert.ok(id > BigInt(Number.MAX_SAFE_INTEGER), 'ids beyond 2^53');
    assert.ok(created.text.includes(`"diaObjectId":${id}`), `${id} written as exact digits`);
  }
});

test('a bad filter is 400 with each problem\'s box, position and message; a mistyped or unknown field is 400 too', { timeout: 60_000 }, async () => {
  const bad = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'bad', select: 'diaObjectId, rra', where: 'alertMag < 19 AND nSourcs > 3' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid-filter');
  assert.deepEqual((bad.json.errors as Json[]).map((e) => [e.part, e.offset]), [['select', 13], ['where', 18]]);
  assert.match(String((bad.json.errors as Json[])[1]?.message), /did you mean "nSources"/);

  const typed = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'x', select: 'objectId', public: 'perhaps' });
  assert.equal(typed.status, 400);
  assert.deepEqual(typed.json.errors, [{ part: 'public', offset: 0, message: 'public must be boolean' }]);
  const output = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'x', select: 'objectId', output: 'pigeon' });
  assert.deepEqual((output.json.errors as Json[]).map((e) => e.part), ['output']);
  const missing = await call('POST', '/api/filters', { name: 'x', select: 'objectId' });
  assert.deepEqual([missing.status, (missing.json.errors as Json[])[0]?.part], [400, 'owner']);
  const unknown = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'x', select: 'objectId', selct: 'ra' });
  assert.deepEqual([unknown.status, unknown.json.error, unknown.json.message], [400, 'bad-request', 'unknown field "selct" in the request body']);
  const target = await call('POST', '/api/filters', { owner: 'ann@example.org', name: 'tables', select: 'objectId' });
  const tables = await call('PUT', `/api/filters/${(target.json.filter as Json).id as number}`, { tables: ['objects', 7, 'sherlok'] });
  assert.equal(tables.status, 400);
  // Fastify's coercion takes the 7 as the text "7", which is not a table either.
  assert.deepEqual((tables.json.errors as Json[]).map((e) => [e.part, e.offset, e.message]), [['tables', 1, 'unknown table "7"'], ['tables', 2, 'unknown table "sherlok"']]);
  const notJson = await app.inject({ method: 'POST', url: '/api/filters', headers: { 'content-type': 'application/json' }, payload: '{"owner": ' });
  assert.equal(notJson.statusCode, 400);
  assert.equal((parse(notJson.body) as Json).error, 'bad-request');
  assert.equal((await call('GET', '/api/filters/abc')).status, 400);
  assert.equal((await call('GET', '/api/filters/99999')).status, 404);
});

test('POST /api/filters/validate answers with the problems, if any', async () => {
  const good = await call('POST', '/api/filters/validate', { select: 'diaObjectId', where: 'alertMag < 19' });
  assert.deepEqual([good.status, good.json], [200, { valid: true, errors: [] }]);
  const bad = await call('POST', '/api/filters/validate', { select: 'diaObjectId', where: 'alertMag <', name: '!!', output: 'kafka' });
  assert.equal(bad.json.valid, false);
  assert.deepEqual((bad.json.errors as Json[]).map((e) => [e.part, e.offset]), [['name', 0], ['where', 10]]);
});

test('a name that maps to a taken topic is 409 with the topic and the filter that has it', { timeout: 60_000 }, async () => {
  const first = await call('POST', '/api/filters', { owner: 'carol@example.org', name: 'my stream', select: 'objectId', where: 'alertMag < 20', output: 'kafka-lite' });
  assert.equal(first.status, 201, first.text);
  const clash = await call('POST', '/api/filters', { owner: 'carol@example.org', name: 'mystream', select: 'objectId', output: 'kafka' });
  const firstFilter = first.json.filter as Json;
  assert.deepEqual([clash.status, clash.json.error, clash.json.topic, clash.json.filterId, clash.json.filterName], [409, 'topic-taken', firstFilter.topic, firstFilter.id, 'my stream']);
});
