// Store.queryObjects: a compiled filter (parseFilter with the documented catalog) runs unchanged
// against the stored objects and returns what the filter engine returns on the same objects;
// row and time limits hold; anything but a read of `objects` is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { catalog } from '../src/features/columns.ts';
import { featuresForBatch } from '../src/features/compute.ts';
import type { ObjectRow } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { FilterEngine, isFilterErrors, parseFilter } from '../src/filters/index.ts';
import type { CompiledFilter, FilterSource } from '../src/filters/index.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore, StoreQueryError } from '../src/store/index.ts';
import type { Store } from '../src/store/index.ts';

let store: Store;
let engine: FilterEngine;
let objects: ObjectRow[];

before(async () => {
  const alerts: Alert[] = [];
  for (const record of generateAlerts({ seed: 7, objects: 600, count: 3000, cutouts: false })) alerts.push(toAlert(record, 'lsst.v10_0.alert'));
  store = await openStore({ path: ':memory:', threads: 2 });
  // Three batches, so objects seen again are updated by the store's upsert.
  for (let start = 0; start < alerts.length; start += 1000) {
    const batch = alerts.slice(start, start + 1000);
    await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
  }
  // The newest row of every object: what the store should now hold.
  objects = featuresForBatch(alerts);
  engine = await FilterEngine.create(catalog());
  await engine.loadBatch('objects', objects);
});

after(async () => {
  await engine.close();
  await store.close();
});

async function compile(source: FilterSource): Promise<CompiledFilter> {
  const result = await parseFilter(source, catalog());
  if (isFilterErrors(result)) assert.fail(`filter did not compile: ${JSON.stringify(result)}`);
  return result;
}

const byObject = (a: Record<string, unknown>, b: Record<string, unknown>): number => String(a.objectId).localeCompare(String(b.objectId));

const filters: FilterSource[] = [
  { select: 'objectId, diaObjectId, ra, decl, nSources, alertMag', where: 'nSources >= 3 AND alertMag < 22' },
  { select: 'objectId, flux2mag(latestFlux_r) AS rmag, latestMag_g - latestMag_r AS colour', where: 'latestFlux_r > 0 AND latestFlux_g > 0' },
  { select: 'objectId, angdist(ra, decl, 60, -30) AS sep, sqrt(alertFlux) AS s', where: 'angdist(ra, decl, 60, -30) < 20000 OR alertSnr > 50' },
  { select: '*', where: 'riseRate_g > 0.05 OR fadeRate_r > 0.05' },
  { select: 'objectId, survey, objectKind, alertSourceId', where: '' },
];

test('a compiled filter runs unchanged against the store and returns what the filter engine returns', async () => {
  assert.equal((await store.counts()).objects, objects.length);
  for (const source of filters) {
    const filter = await compile(source);
    const [expected] = await engine.run([filter], { rowLimit: 100_000 });
    assert.equal(expected?.error, undefined, expected?.error?.message);
    const result = await store.queryObjects(filter.sql, { rowLimit: 100_000 });
    assert.ok((expected?.rows.length ?? 0) > 0, `${source.where}: the test filter should match something`);
    assert.deepEqual(result.columns, [...filter.columns]);
    assert.deepEqual(result.rows.sort(byObject), expected?.rows.sort(byObject), `${source.select} WHERE ${source.where}`);
    assert.equal(result.truncated, false);
  }
});

test('64-bit values stay BigInt and exact', async () => {
  const result = await store.queryObjects((await compile({ select: 'diaObjectId, alertSourceId', where: '' })).sql, { rowLimit: 5 });
  for (const row of result.rows) {
    assert.equal(typeof row.diaObjectId, 'bigint');
    assert.ok((row.diaObjectId as bigint) > 2n ** 53n);
    assert.equal(typeof row.alertSourceId, 'bigint');
  }
});

test('the row limit is respected and reported; newest first for a backfill', async () => {
  const filter = await compile({ select: 'objectId, alertMjd', where: '' });
  const limited = await store.queryObjects(filter.sql, { rowLimit: 7 });
  assert.equal(limited.rows.length, 7);
  assert.equal(limited.truncated, true);
  const exact = await store.queryObjects(filter.sql, { rowLimit: objects.length });
  assert.equal(exact.rows.length, objects.length);
  assert.equal(exact.truncated, false);
  // The backfill: the filter over the stored objects, the 10 newest.
  const newest = await store.queryObjects(`${filter.sql} ORDER BY "objects"."alertMjd" DESC`, { rowLimit: 10 });
  const expected = objects.map((o) => o.alertMjd as number).sort((a, b) => b - a).slice(0, 10);
  assert.deepEqual(newest.rows.map((r) => r.alertMjd), expected);
  assert.equal((await store.queryObjects(filter.sql)).rows.length, Math.min(1000, objects.length), 'default limit 1000');
});

test('parameters are bound', async () => {
  const result = await store.queryObjects('SELECT objectId FROM objects WHERE nSources >= $1 AND survey = $2', { params: [5, 'lsst'], rowLimit: 100_000 });
  assert.equal(result.rows.length, objects.filter((o) => (o.nSources as number) >= 5).length);
  await assert.rejects(store.queryObjects('SELECT objectId FROM objects WHERE nSources >= $1'), (e: Error) => e instanceof StoreQueryError && e.kind === 'refused' && /1 parameters expected, 0 given/.test(e.message));
});

test('a query past its time limit is stopped, and the store goes on', async () => {
  const started = performance.now();
  await assert.rejects(
    store.queryObjects('SELECT count(*) AS n FROM objects, range(100000000000) t(x) WHERE x % 7 = 3', { timeLimitMs: 200 }),
    (e: Error) => e instanceof StoreQueryError && e.kind === 'timeout' && /stopped after 200 ms/.test(e.message),
  );
  assert.ok(performance.now() - started < 10_000);
  assert.equal((await store.queryObjects('SELECT count(*) AS n FROM objects')).rows[0]?.n, BigInt(objects.length));
});

test('only one read-only SELECT of objects runs', async () => {
  const refused = async (sql: string, reason: RegExp): Promise<void> => {
    await assert.rejects(store.queryObjects(sql), (e: Error) => e instanceof StoreQueryError && e.kind === 'refused' && reason.test(e.message), sql);
  };
  await refused('SELECT 1 FROM objects; DROP TABLE objects', /expected one statement, got 2/);
  await refused('DELETE FROM objects', /only a SELECT/);
  await refused("INSERT INTO users VALUES (9, 'x@y', 'x', NULL, now())", /only a SELECT/);
  await refused('SELECT * FROM users', /it reads users; only objects may be read/);
  await refused('SELECT o.objectId FROM objects o JOIN points p ON p.objectRef = 1', /it reads points/);
  // A SELECT that would write (a sequence) fails: the transaction is read-only.
  await assert.rejects(store.queryObjects("SELECT nextval('object_ref_seq') FROM objects"), (e: Error) => e instanceof StoreQueryError && e.kind === 'error');
  await assert.rejects(store.queryObjects("SELECT * FROM read_csv('/etc/passwd')"), (e: Error) => e instanceof StoreQueryError && /disabled by configuration|Permission/.test(e.message));
  await assert.rejects(store.queryObjects('SELECT nonsense FROM objects'), (e: Error) => e instanceof StoreQueryError && e.kind === 'error' && /nonsense/.test(e.message));
  assert.equal((await store.counts()).objects, objects.length, 'nothing changed');
});
