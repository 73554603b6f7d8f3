// The Store contract on both implementations: each scenario runs on an in-memory DuckDB store
// and on a PostgreSQL store (a fresh database of the local server), must pass its own checks on
// both, and must give both the same answers — objects rows and the newer-alert rule, replays,
// lightcurves, alerts, 64-bit ids, real Rubin and ZTF alerts, cutouts, atomic batches, users,
// sessions, tokens, settings, Kafka users, filters and filtersVersion, counters, matches and
// email digest state, and queryObjects' limits and refusals.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { featuresForBatch, objectFeatures } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { alertObjectKey } from '../src/formats/alert.ts';
import type { Alert, UpperLimit } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { isPostgresUrl, openStore, StoreQueryError, utcNight } from '../src/store/index.ts';
import type { ObjectKey, Store, StoreBatch } from '../src/store/index.ts';
import { UserError } from '../src/util/errors.ts';
import { alert, match, MATCHED_OBJECT, OBJECT, point, resetSourceIds } from './helpers/store-fixtures.ts';
import { acquireLocalPostgres, freshDatabase, releaseLocalPostgres, type PostgresLease } from './setup/local-postgres.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');

let lease: PostgresLease;
let rubin: Alert[] = [];
let ztf: Alert[] = [];

before(async () => {
  lease = await acquireLocalPostgres();
  const read = async (file: string): Promise<Alert[]> => (await readAlertFile(path.join(dataDir, file))).map(({ record, schema }) => toAlert(record, schema.name));
  rubin = await read('fink-client/datatest/lsst/part-2-918301.avro');
  ztf = await read('fink-client/datatest/ztf/part-3-305711.avro');
});

after(async () => {
  await releaseLocalPostgres(lease);
});

/**
 * Runs the scenario on a DuckDB and a PostgreSQL store, each new; both must pass the
 * scenario's own assertions and return deep-equal results (data without wall-clock times).
 */
async function onBoth<T>(scenario: (store: Store) => Promise<T>): Promise<T> {
  const duck = await openStore({ path: ':memory:', threads: 1 });
  let duckResult: T;
  try {
    resetSourceIds();
    duckResult = await scenario(duck);
  } finally {
    await duck.close();
  }
  const db = await freshDatabase(lease);
  try {
    const pg = await openStore({ path: db.url });
    try {
      assert.equal(pg.sqlDialect, 'postgres');
      resetSourceIds();
      const pgResult = await scenario(pg);
      assert.deepEqual(pgResult, duckResult, 'PostgreSQL and DuckDB answer the same');
    } finally {
      await pg.close();
    }
  } finally {
    await db.drop();
  }
  return duckResult;
}

// ---- synthetic alerts -----------------------------------------------------------------------

function batchOf(alerts: Alert[], keepCutouts?: boolean): StoreBatch {
  return keepCutouts === undefined ? { alerts, objects: featuresForBatch(alerts) } : { alerts, objects: featuresForBatch(alerts), keepCutouts };
}

const key: ObjectKey = { survey: 'lsst', objectKind: 'object', objectId: OBJECT };
const keyOf = (a: Alert): ObjectKey => ({ survey: a.survey, objectKind: a.objectKind, objectId: a.objectId });

/** A write result without its timing. */
function counts(result: Awaited<ReturnType<Store['writeBatch']>>): Omit<typeof result, 'elapsedMs'> {
  const { elapsedMs, ...rest } = result;
  assert.ok(elapsedMs >= 0);
  return rest;
}

/** An object's stored state, without wall-clock times. */
async function objectState(store: Store, k: ObjectKey): Promise<unknown> {
  const alerts = (await store.alertsOf(k)).map(({ storedAt, ...rest }) => {
    assert.ok(Math.abs(Date.parse(storedAt) - Date.now()) < 600_000, `storedAt ${storedAt} is about now`);
    return rest;
  });
  return { row: await store.getObject(k), lightcurve: await store.lightcurve(k), alerts, cutouts: await store.cutouts(k) };
}

// ---- scenarios ------------------------------------------------------------------------------

describe('objects rows, lightcurves and alerts', () => {
  test('a newer alert replaces the row; an older one replayed later does not; at the same time the larger source id wins', async () => {
    await onBoth(async (store) => {
      const first = point(61000.1);
      const second = point(61001.2);
      const older = alert({ trigger: first });
      const newer = alert({ trigger: second, history: [first] });
      const results = [counts(await store.writeBatch(batchOf([older])))];
      results.push(counts(await store.writeBatch(batchOf([newer]))));
      assert.deepEqual(await store.getObject(key), objectFeatures(newer));
      const replay = counts(await store.writeBatch(batchOf([older])));
      assert.deepEqual([replay.objectsWritten, replay.objectsKept], [0, 1]);
      assert.deepEqual(await store.getObject(key), objectFeatures(newer), 'the older alert must not overwrite newer features');
      // Same mjd as the newer one, larger source id: it wins.
      const tie = alert({ trigger: { ...second, sourceId: (second.sourceId as bigint) + 1000n, band: 'g' }, history: [first] });
      results.push(counts(await store.writeBatch(batchOf([tie]))));
      assert.equal((await store.getObject(key))?.alertBand, 'g');
      // Within one batch the newest row wins wherever it is.
      const third = point(61003.3);
      const newest = alert({ trigger: third, history: [first, second] });
      results.push(counts(await store.writeBatch({ alerts: [newest, older], objects: [objectFeatures(newest), objectFeatures(older)] })));
      assert.equal((await store.getObject(key))?.alertSourceId, third.sourceId);
      return { results, state: await objectState(store, key) };
    });
  });

  test('points stored once (by source id, or by time and band without one), upper limits once, nulls kept', async () => {
    const state = await onBoth(async (store) => {
      const d1 = point(61000.1, 'r', { flux: null, mag: null, ra: null, dec: null });
      const d2 = point(61001.1, 'g');
      const d3 = point(61002.1);
      const f1 = point(61000.6, 'i');
      const p1 = point(61000.7, 'g', { sourceId: null, flux: -20 });
      const p1r = point(61000.7, 'r', { sourceId: null, flux: 30 });
      const p2 = point(61001.7, 'g', { sourceId: null });
      const f2 = { ...point(61001.5), sourceId: d2.sourceId };
      const l1: UpperLimit = { mjd: 60999.2, band: 'g', limitMag: 20.5, fluxNoise: 2000 };
      const l2: UpperLimit = { mjd: 60999.9, band: 'r', limitMag: null, fluxNoise: null };
      const first = alert({ trigger: d2, history: [d1], forced: [f1, p1, { ...p1 }], upperLimits: [l1] });
      const second = alert({ trigger: d3, history: [d1, d2, { ...d1 }], forced: [f1, p1, p1r, f2, p2], upperLimits: [l1, l2, { ...l2 }] });
      const r1 = counts(await store.writeBatch(batchOf([first])));
      const r2 = counts(await store.writeBatch(batchOf([second])));
      assert.deepEqual([r1.points, r2.points, r1.upperLimits, r2.upperLimits], [4, 4, 1, 1]);
      const lc = await store.lightcurve(key);
      assert.deepEqual(lc.detections, [d1, d2, d3]);
      assert.deepEqual(lc.forced, [f1, p1, p1r, f2, p2]);
      assert.deepEqual(lc.upperLimits, [l1, l2]);
      assert.deepEqual(await store.lightcurve({ ...key, objectId: 1n }), { detections: [], forced: [], upperLimits: [] });
      return [r1, r2, await objectState(store, key)];
    });
    assert.ok(Array.isArray(state));
  });

  test('a replayed batch changes nothing and counts nothing new; alerts keep their origin, newest first', async () => {
    await onBoth(async (store) => {
      const d1 = point(61000.1);
      const other = alert({ trigger: point(61000.3), objectId: OBJECT + 1n, upperLimits: [{ mjd: 61000, band: 'z', limitMag: 21, fluxNoise: 900 }] });
      const main = alert({ trigger: point(61001.1), history: [d1], forced: [point(61000.9, 'g', { sourceId: null })] });
      const batch = batchOf([main, other]);
      const origins = [{ topic: 'lsst-alerts', partition: 3, offset: 9_007_199_254_740_993n }, null];
      const first = counts(await store.writeBatch({ ...batch, origins }));
      const snapshot = async (): Promise<unknown> => [await store.counts(), await objectState(store, key), await objectState(store, keyOf(other))];
      const before = await snapshot();
      const second = counts(await store.writeBatch({ ...batch, origins }));
      assert.deepEqual(await snapshot(), before);
      assert.deepEqual([first.objectsWritten, first.points, first.upperLimits, first.alerts], [2, 4, 1, 2]);
      assert.deepEqual(second, { objectsWritten: 0, objectsKept: 2, points: 0, upperLimits: 0, alerts: 0, cutouts: 0 });
      const empty = counts(await store.writeBatch({ alerts: [], objects: [] }));
      assert.deepEqual(empty, { objectsWritten: 0, objectsKept: 0, points: 0, upperLimits: 0, alerts: 0, cutouts: 0 });
      const stored = await store.alertsOf(key);
      assert.deepEqual(stored[0]?.origin, { topic: 'lsst-alerts', partition: 3, offset: 9_007_199_254_740_993n });
      assert.equal((await store.alertsOf(keyOf(other)))[0]?.origin, null);
      const later = alert({ trigger: point(61005.5), history: [d1] });
      await store.writeBatch(batchOf([later]));
      assert.deepEqual((await store.alertsOf(key)).map((a) => a.sourceId), [later.sourceId, main.sourceId]);
      assert.equal((await store.alertsOf(key, 1)).length, 1);
      await assert.rejects(store.writeBatch({ ...batch, origins: [null] }), /1 origins for 2 alerts/);
      return [first, second, await snapshot()];
    });
  });

  test('64-bit ids come back exact as BigInt up to 2^63 - 1, through getObject, lightcurve, alertsOf and queryObjects', async () => {
    await onBoth(async (store) => {
      const biggest = 2n ** 63n - 1n;
      const trigger = point(61000.1, 'r', { sourceId: 2n ** 53n + 1n });
      const forced = point(61000.2, 'r', { sourceId: biggest });
      const a = { ...alert({ trigger, forced: [forced], objectId: biggest - 1n }), alertId: 2n ** 62n + 3n };
      await store.writeBatch(batchOf([a]));
      const k: ObjectKey = { survey: 'lsst', objectKind: 'object', objectId: biggest - 1n };
      const row = await store.getObject(k);
      assert.equal(row?.diaObjectId, biggest - 1n);
      assert.equal(row?.objectId, String(biggest - 1n));
      assert.equal(row?.alertSourceId, 2n ** 53n + 1n);
      assert.equal((await store.lightcurve(k)).forced[0]?.sourceId, biggest);
      assert.equal((await store.alertsOf(k))[0]?.alertId, 2n ** 62n + 3n);
      const found = await store.queryObjects('SELECT "diaObjectId", "alertSourceId" FROM objects WHERE "diaObjectId" = $1', { params: [biggest - 1n] });
      assert.deepEqual(found.rows, [{ diaObjectId: biggest - 1n, alertSourceId: 2n ** 53n + 1n }]);
      return objectState(store, k);
    });
  });

  test('a batch that fails part-way leaves nothing behind, and the next batch works', async () => {
    await onBoth(async (store) => {
      const a = alert({ trigger: point(61000.1), forced: [point(61000.05)] });
      const bad = { ...objectFeatures(a), nSources: 'five' };
      await assert.rejects(store.writeBatch({ alerts: [a], objects: [bad] }), /writing a batch of 1 alerts and 1 objects rows failed: .*column nSources \(INTEGER\)/);
      const tooBig = alert({ trigger: point(61000.1), history: [point(60999, 'r', { sourceId: 2n ** 64n })] });
      await assert.rejects(store.writeBatch(batchOf([tooBig])), /detections\[0\]: id 18446744073709551616 is outside the 64-bit range/);
      assert.deepEqual(await store.counts(), { objects: 0, points: 0, upperLimits: 0, alerts: 0, users: 0, filters: 0 });
      const ok = counts(await store.writeBatch(batchOf([a])));
      assert.deepEqual([ok.objectsWritten, ok.points, ok.alerts], [1, 2, 1]);
      return [ok, await objectState(store, key)];
    });
  });

  test('real Rubin and ZTF alerts: half, then all; every object the same on both stores', async () => {
    await onBoth(async (store) => {
      const alerts = [...rubin, ...ztf];
      const r1 = counts(await store.writeBatch(batchOf(alerts.slice(0, Math.ceil(alerts.length / 2)))));
      const r2 = counts(await store.writeBatch(batchOf(alerts)));
      const r3 = counts(await store.writeBatch(batchOf(alerts)));
      assert.deepEqual([r3.objectsWritten, r3.points, r3.upperLimits, r3.alerts], [0, 0, 0, 0]);
      const keys = [...new Map(alerts.map((a) => [alertObjectKey(a), keyOf(a)])).values()];
      assert.equal((await store.counts()).objects, keys.length);
      const states = [];
      for (const k of keys) states.push(await objectState(store, k));
      const sample = ztf[0] as Alert;
      const stored = (await store.lightcurve(sample)).detections.find((p) => p.sourceId === sample.sourceId);
      assert.deepEqual(stored, sample.lightcurve.detections.find((p) => p.sourceId === sample.sourceId));
      assert.ok((await store.lightcurve(sample)).upperLimits.length > 0, 'ZTF alerts carry upper limits');
      return { r1, r2, counts: await store.counts(), states };
    });
  });
});

describe('cutouts', () => {
  /** A later (or earlier) alert of the same object, its images told apart by a marker byte. */
  function variant(base: Alert, mjdShift: number, sourceShift: bigint, marker: number | null): Alert {
    const copy = structuredClone(base);
    copy.mjd = base.mjd + mjdShift;
    copy.sourceId = base.sourceId + sourceShift;
    const trigger = copy.lightcurve.detections.find((p) => p.sourceId === base.sourceId);
    if (trigger !== undefined) {
      trigger.sourceId = copy.sourceId;
      trigger.mjd = copy.mjd;
    }
    copy.lightcurve.detections.sort((a, b) => a.mjd - b.mjd);
    if (marker === null) copy.cutouts = {};
    else for (const kind of ['science', 'template', 'difference'] as const) {
      const bytes = copy.cutouts[kind];
      if (bytes !== undefined) bytes[bytes.length - 1] = marker;
    }
    return copy;
  }

  test('each object keeps its newest alert\'s images byte for byte; writeCutouts keeps those asked for, of stored objects only', async () => {
    await onBoth(async (store) => {
      const result = counts(await store.writeBatch(batchOf(rubin, true)));
      assert.equal(result.cutouts, new Set(rubin.map((a) => String(a.objectId))).size);
      for (const a of rubin) {
        const stored = await store.cutouts(keyOf(a));
        assert.equal(stored?.sourceId, a.sourceId);
        assert.deepEqual(Buffer.from(stored?.science ?? []), Buffer.from(a.cutouts.science ?? []));
        assert.deepEqual(Buffer.from(stored?.difference ?? []), Buffer.from(a.cutouts.difference ?? []));
      }
      assert.equal(counts(await store.writeBatch(batchOf(rubin, true))).cutouts, 0, 'a replay writes no image');
      const base = rubin[0] as Alert;
      const later = variant(base, 1, 10n, 1);
      const earlier = variant(base, -1, 5n, 3);
      const without = variant(base, 2, 30n, null);
      const written = [counts(await store.writeBatch(batchOf([later], true))).cutouts, counts(await store.writeBatch(batchOf([earlier], true))).cutouts];
      written.push(counts(await store.writeBatch(batchOf([without], true))).cutouts);
      assert.deepEqual(written, [1, 0, 0]);
      assert.equal((await store.cutouts(keyOf(base)))?.sourceId, later.sourceId);
      // Policy matched: after the batch, the images of the matched alerts only.
      const other = variant(rubin[1] as Alert, 3, 40n, 7);
      await store.writeBatch(batchOf([other]));
      assert.equal(await store.writeCutouts([other, variant(base, 5, 50n, 8)]), 2);
      assert.equal(await store.writeCutouts([other]), 0);
      const unknown = structuredClone(base);
      unknown.objectId = 42n;
      assert.equal(await store.writeCutouts([unknown]), 0, 'an object not stored keeps nothing');
      assert.equal(await store.cutouts({ survey: 'lsst', objectKind: 'object', objectId: 42n }), null);
      const states = [];
      for (const a of rubin) states.push(await objectState(store, keyOf(a)));
      return states;
    });
  });
});

describe('accounts', () => {
  test('users, sessions, API tokens, settings and Kafka users', async () => {
    await onBoth(async (store) => {
      const ada = await store.createUser({ email: 'Ada@Example.org', name: 'Ada Lovelace', passwordHash: 'scrypt$abc' });
      const bob = await store.createUser({ email: 'bob@example.org', name: 'Bob' });
      assert.deepEqual([ada.id, bob.id], [1, 2]);
      assert.deepEqual(await store.getUser(1), ada);
      assert.deepEqual(await store.findUserByEmail('ada@example.ORG'), ada);
      assert.equal(await store.getUser(99), null);
      await assert.rejects(store.createUser({ email: 'ADA@example.org', name: 'Impostor' }), (e: Error) => e instanceof UserError && /already exists/.test(e.message));
      await assert.rejects(store.createUser({ email: 'not an address', name: 'X' }), (e: Error) => e instanceof UserError && /not an email address/.test(e.message));
      const carol = await store.createUser({ email: 'carol@example.org', name: 'Carol' });
      assert.equal(carol.id, 3, 'a refused user takes no id');
      assert.equal(await store.setUserPassword(bob.id, 'scrypt$new'), true);
      assert.equal(await store.setUserPassword(77, 'scrypt$x'), false);

      const hash = (c: string): string => c.repeat(64);
      const now = new Date().toISOString();
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const session = await store.createSession({ idHash: hash('a'), userId: ada.id, expiresAt: later });
      await store.createSession({ idHash: hash('b'), userId: ada.id, expiresAt: '2020-01-01T00:00:00.000Z' });
      await store.createSession({ idHash: hash('c'), userId: bob.id, expiresAt: later });
      assert.deepEqual(await store.findSession(hash('a'), now), session);
      assert.equal(await store.findSession(hash('b'), now), null, 'expired');
      assert.equal(await store.findSession('not a hash', now), null);
      assert.equal(await store.deleteExpiredSessions(now), 1);
      assert.equal(await store.deleteSession(hash('c')), true);
      assert.equal(await store.deleteSession(hash('c')), false);
      assert.equal(await store.deleteUserSessions(ada.id), 1);

      const t1 = await store.createApiToken({ userId: ada.id, name: 'laptop', tokenHash: hash('d'), prefix: 'nj_abc' });
      const t2 = await store.createApiToken({ userId: ada.id, name: 'cluster', tokenHash: hash('e'), prefix: 'nj_def' });
      assert.deepEqual(await store.findApiToken(hash('d')), t1);
      await store.touchApiToken(t1.id, '2026-01-02T03:04:05.000Z');
      assert.equal((await store.findApiToken(hash('d')))?.lastUsedAt, '2026-01-02T03:04:05.000Z');
      assert.equal(await store.revokeApiToken(bob.id, t1.id, now), false, 'not his token');
      assert.equal(await store.revokeApiToken(ada.id, t1.id, '2026-01-03T00:00:00.000Z'), true);
      assert.equal(await store.revokeApiToken(ada.id, t1.id, now), false, 'already revoked');
      assert.equal(await store.findApiToken(hash('d')), null);
      const tokens = await store.listApiTokens(ada.id);
      assert.deepEqual(tokens.map((t) => [t.id, t.revokedAt]), [[t2.id, null], [t1.id, '2026-01-03T00:00:00.000Z']]);
      await assert.rejects(store.createApiToken({ userId: ada.id, name: 'x', tokenHash: 'short', prefix: 'nj' }), /hex SHA-256/);

      assert.equal(await store.getSetting('cookieSecret'), null);
      assert.equal(await store.settingOrInit('cookieSecret', 'first'), 'first');
      assert.equal(await store.settingOrInit('cookieSecret', 'second'), 'first', 'the first writer wins');

      assert.equal(await store.getKafkaUser(ada.id), null);
      const k1 = await store.saveKafkaUser({ userId: ada.id, username: 'nj-user-1', password: 'p1' });
      const k2 = await store.saveKafkaUser({ userId: ada.id, username: 'nj-user-1', password: 'p2' });
      assert.equal(k2.createdAt, k1.createdAt);
      assert.equal((await store.getKafkaUser(ada.id))?.password, 'p2');
      await store.saveKafkaUser({ userId: bob.id, username: 'nj-user-2', password: 'p3' });
      const kafkaUsers = (await store.listKafkaUsers()).map((u) => [u.userId, u.username, u.password]);
      assert.equal(await store.deleteKafkaUser(bob.id), true);
      assert.equal(await store.deleteKafkaUser(bob.id), false);

      const withoutTimes = <T extends { createdAt: string }>(x: T): Omit<T, 'createdAt'> => {
        const { createdAt, ...rest } = x;
        assert.ok(Math.abs(Date.parse(createdAt) - Date.now()) < 600_000);
        return rest;
      };
      return {
        users: [ada, bob, carol].map(withoutTimes),
        bob: withoutTimes((await store.getUser(bob.id)) as NonNullable<Awaited<ReturnType<Store['getUser']>>>),
        tokens: tokens.map(withoutTimes),
        kafkaUsers,
      };
    });
  });
});

describe('filters and counters', () => {
  test('filters are saved, replaced, listed and deleted; filtersVersion moves with each save and delete only', async () => {
    await onBoth(async (store) => {
      const owner = await store.createUser({ email: 'f@example.org', name: 'F' });
      const other = await store.createUser({ email: 'g@example.org', name: 'G' });
      const versions = [await store.filtersVersion()];
      const source = { ownerId: owner.id, name: 'bright', select: 'diaObjectId, ra, decl', where: 'alertMag < 19' };
      const saved = await store.saveFilter(source);
      assert.equal(saved.createdAt, saved.updatedAt);
      assert.deepEqual(await store.getFilter(saved.id), saved);
      versions.push(await store.filtersVersion());
      await new Promise((resolve) => setTimeout(resolve, 5));
      const changed = await store.saveFilter({ ...saved, where: 'alertMag < 18', tables: ['sherlock', 'watchlist'], public: true, output: 'kafka-lite', topic: 'lasair_1bright', description: 'brighter' });
      assert.equal(changed.createdAt, saved.createdAt);
      assert.ok(changed.updatedAt > saved.updatedAt);
      versions.push(await store.filtersVersion());
      await assert.rejects(store.saveFilter({ ...source, name: 'other', topic: 'lasair_1bright' }), (e: Error) => e instanceof UserError && /topic lasair_1bright is already used by filter \d+ \("bright"\)/.test(e.message));
      await assert.rejects(store.saveFilter({ ...source, ownerId: 77 }), (e: Error) => e instanceof UserError && /there is no user 77/.test(e.message));
      await assert.rejects(store.saveFilter({ ...source, id: 4242 }), (e: Error) => e instanceof UserError && /there is no filter 4242/.test(e.message));
      await assert.rejects(store.saveFilter({ ...source, output: 'fax' as never }), (e: Error) => e instanceof UserError && /output must be one of/.test(e.message));
      versions.push(await store.filtersVersion());
      const a = await store.saveFilter({ ...source, ownerId: other.id, name: 'other active public', public: true });
      const b = await store.saveFilter({ ...source, ownerId: other.id, name: 'other inactive', active: false, output: 'email' });
      const lists = [
        (await store.listFilters({ ownerId: other.id })).map((f) => f.id),
        (await store.listFilters({ ownerId: other.id, activeOnly: true })).map((f) => f.id),
        (await store.listFilters({ publicOnly: true })).map((f) => f.id),
        (await store.listFilters()).map((f) => f.id),
      ];
      await store.addFilterCounters([{ filterId: b.id, night: '2025-11-21', matched: 1 }]);
      assert.equal(await store.deleteFilter(b.id), true);
      assert.equal(await store.deleteFilter(b.id), false);
      assert.deepEqual(await store.filterCounters(b.id), []);
      versions.push(await store.filtersVersion());
      const c = await store.saveFilter({ ...source, name: 'after delete' });
      assert.ok(c.id > b.id, 'ids are not reused');
      const all = (await store.listFilters()).map(({ createdAt, updatedAt, ...rest }) => {
        assert.ok(Date.parse(updatedAt) >= Date.parse(createdAt));
        return rest;
      });
      assert.deepEqual(versions, [0, 1, 2, 2, 5]);
      assert.ok(a.public);
      return { versions, lists, all };
    });
  });

  test('filter and pipeline counters add up per night, within night ranges', async () => {
    await onBoth(async (store) => {
      const owner = await store.createUser({ email: 'c@example.org', name: 'C' });
      const f = await store.saveFilter({ ownerId: owner.id, name: 'counted', select: 'objectId', where: '' });
      await store.addFilterCounters([
        { filterId: f.id, night: '2025-11-21', matched: 5, records: 5, bytes: 1200 },
        { filterId: f.id, night: '2025-11-21', matched: 2, records: 1, bytes: 300, dropped: 1 },
        { filterId: f.id, night: '2025-11-22', matched: 1 },
      ]);
      await store.addFilterCounters([{ filterId: f.id, night: '2025-11-21', matched: 10, records: 10, bytes: 2 ** 40 }]);
      await store.addFilterCounters([]);
      assert.deepEqual(await store.filterCounters(f.id), [
        { filterId: f.id, night: '2025-11-21', matched: 17, records: 16, bytes: 2 ** 40 + 1500, dropped: 1 },
        { filterId: f.id, night: '2025-11-22', matched: 1, records: 0, bytes: 0, dropped: 0 },
      ]);
      await store.addPipelineCounters([{ night: '2025-11-21', alertsIn: 10_000, processed: 9_998, deadLetters: 2, batches: 1 }]);
      await store.addPipelineCounters([{ night: '2025-11-21', alertsIn: 10_000, processed: 10_000, batches: 1 }, { night: '2025-11-20', alertsIn: 5 }]);
      await store.addPipelineCounters([{ night: utcNight(new Date('2025-12-31T23:59:59Z')), batches: 1 }]);
      await assert.rejects(store.addPipelineCounters([{ night: '2025-02-30', alertsIn: 1 }]), /night must be a UTC date/);
      await assert.rejects(store.addFilterCounters([{ filterId: f.id, night: '2025-11-21', bytes: -1 }]), /must be a non-negative integer/);
      return {
        filter: [await store.filterCounters(f.id, { fromNight: '2025-11-22' }), await store.filterCounters(f.id, { toNight: '2025-11-21' }), await store.filterCounters(f.id, { fromNight: '2025-12-01' })],
        pipeline: [await store.pipelineCounters(), await store.pipelineCounters({ fromNight: '2025-11-21', toNight: '2025-11-21' })],
      };
    });
  });
});

describe('filter matches and email digests', () => {
  test('matches are recorded once, numbered in the order added over the whole table, paged, pruned; digest state round-trips', async () => {
    await onBoth(async (store) => {
      const owner = await store.createUser({ email: 'm@example.org', name: 'M' });
      const a = (await store.saveFilter({ ownerId: owner.id, name: 'a', select: 'objectId', where: '', output: 'kafka' })).id;
      const b = (await store.saveFilter({ ownerId: owner.id, name: 'b', select: 'objectId', where: '', output: 'email' })).id;
      const added = [await store.addFilterMatches([match(a, 1), match(b, 1), match(a, 2)])];
      added.push(await store.addFilterMatches([match(a, 1), match(b, 1), match(a, 2)]));
      added.push(await store.addFilterMatches([match(a, 3), match(a, 3), { ...match(a, 1), sourceId: 5n }]));
      added.push(await store.addFilterMatches([]));
      assert.deepEqual(added, [3, 0, 2, 0]);
      // Many at once: seq follows the order given.
      const many = Array.from({ length: 500 }, (_, i) => match(i % 2 === 0 ? a : b, 1000 + ((i * 7919) % 500), '2026-06-01T00:00:00.000Z'));
      assert.equal(await store.addFilterMatches(many), 500);
      const oldest = await store.filterMatches(a, { newestFirst: false, limit: 1000 });
      const all = [...oldest, ...(await store.filterMatches(b, { newestFirst: false, limit: 1000 }))].sort((x, y) => (x.seq < y.seq ? -1 : 1));
      assert.deepEqual(all.slice(-500).map((m) => m.objectId), many.map((m) => m.objectId), 'seq in the order given');
      assert.ok(oldest.every((m) => typeof m.seq === 'bigint'));
      const m1 = oldest[0];
      assert.deepEqual(m1?.row, { diaObjectId: MATCHED_OBJECT + 1n, gmag: 19.6, name: 'obj 1', flag: false, nothing: null });
      const second = oldest[1]?.seq ?? 0n;
      const paged = await store.filterMatches(a, { afterSeq: second, newestFirst: false, limit: 3 });
      assert.deepEqual(paged.map((m) => m.seq), oldest.slice(2, 5).map((m) => m.seq));
      const last = [await store.lastFilterMatchSeq(a), await store.lastFilterMatchSeq(a, { before: '2026-03-01T02:03:04.567Z' }), await store.lastFilterMatchSeq(9999)];
      assert.equal(last[0], oldest[oldest.length - 1]?.seq);
      assert.deepEqual(last.slice(1), [0n, 0n]);
      await assert.rejects(store.addFilterMatches([{ ...match(a, 9), sourceId: 9 as unknown as bigint }]), /filter match 0 .*sourceId must be a BigInt/);
      await assert.rejects(store.filterMatches(a, { limit: 0 }), /limit must be a positive integer/);

      assert.equal(await store.emailDigestState(b), null);
      const state = {
        filterId: b, sentThroughSeq: oldest[0]?.seq ?? 0n, emailSince: '2026-03-01T00:00:00.000Z', lastSentAt: '2026-03-01T02:03:04.567Z', failures: 2,
        lastError: 'connection refused', lastErrorAt: '2026-03-01T03:00:00.000Z', retryAt: '2026-03-01T03:01:00.000Z', filterErrorSentAt: null,
      };
      await store.saveEmailDigestState(state);
      assert.deepEqual(await store.emailDigestState(b), state);
      await store.saveEmailDigestState({ ...state, failures: 0, retryAt: null });
      const states = await store.emailDigestStates();
      // Pruning: the Kafka filter keeps only recent matches; the email filter keeps those not emailed yet.
      const pruned = [await store.pruneFilterMatches('2026-05-01T00:00:00.000Z'), await store.pruneFilterMatches('2026-05-01T00:00:00.000Z')];
      assert.deepEqual(pruned, [4, 0]);
      const left = [(await store.filterMatches(a, { limit: 1000 })).length, (await store.filterMatches(b, { limit: 1000 })).length];
      // Deleting a filter deletes its matches and digest state.
      assert.equal(await store.deleteFilter(b), true);
      assert.deepEqual([await store.filterMatches(b), await store.emailDigestState(b)], [[], null]);
      return { oldest, paged, last, states, pruned, left };
    });
  });
});

describe('queryObjects', () => {
  test('row limits, parameters and refusals are the same on both stores', async () => {
    await onBoth(async (store) => {
      const alerts = [...rubin, ...ztf];
      await store.writeBatch(batchOf(alerts));
      const n = (await store.counts()).objects;
      const sql = 'SELECT "objectId", "alertMjd", "nSources" FROM objects ORDER BY "alertMjd" DESC, "objectId"';
      const limited = await store.queryObjects(sql, { rowLimit: 3 });
      assert.deepEqual([limited.rows.length, limited.truncated], [3, true]);
      const exact = await store.queryObjects(sql, { rowLimit: n });
      assert.deepEqual([exact.rows.length, exact.truncated], [n, false]);
      const bound = await store.queryObjects('SELECT count(*) AS n FROM objects WHERE "nSources" >= $1 AND survey = $2', { params: [2, 'ztf'] });
      const refusals: string[] = [];
      for (const bad of ['SELECT 1 FROM objects; DROP TABLE objects', 'DELETE FROM objects', 'SELECT * FROM users', 'SELECT o."objectId" FROM objects o JOIN points p ON p."objectRef" = 1']) {
        await assert.rejects(store.queryObjects(bad), (e: Error) => {
          refusals.push(e instanceof StoreQueryError ? e.kind : 'other');
          return e instanceof StoreQueryError && e.kind === 'refused' && e.sql === bad;
        }, bad);
      }
      await assert.rejects(store.queryObjects('SELECT "objectId" FROM objects WHERE "nSources" >= $1'), (e: Error) => e instanceof StoreQueryError && e.kind === 'refused' && /1 parameters expected, 0 given/.test(e.message));
      await assert.rejects(store.queryObjects('SELECT nonsense FROM objects'), (e: Error) => e instanceof StoreQueryError && e.kind === 'error' && /nonsense/.test(e.message));
      assert.equal((await store.counts()).objects, n, 'nothing changed');
      return { columns: limited.columns, limited: limited.rows, exact: exact.rows, bound: bound.rows, refusals };
    });
  });
});

test('isPostgresUrl tells a PostgreSQL URL from a file path', () => {
  assert.equal(isPostgresUrl('postgres://u:p@127.0.0.1:15432/db'), true);
  assert.equal(isPostgresUrl('postgresql://u@host/db'), true);
  assert.equal(isPostgresUrl('/var/lib/nightjar/store.duckdb'), false);
  assert.equal(isPostgresUrl(':memory:'), false);
  assert.equal(isPostgresUrl('postgres.duckdb'), false);
});
