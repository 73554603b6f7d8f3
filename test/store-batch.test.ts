// The store's batch writes and reads: the newer-alert rule for objects rows, idempotent
// replays, lightcurve points stored once, 64-bit ids exact, real alerts, atomic batches, and a
// file store that keeps everything across reopening and migrates its schema.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { OBJECT_COLUMNS } from '../src/features/columns.ts';
import { featuresForBatch, objectFeatures } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { alertObjectKey } from '../src/formats/alert.ts';
import type { Alert, Lightcurve, Point, UpperLimit } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { isNewerRow, prepareBatch } from '../src/store/batch-rows.ts';
import { openStore, SCHEMA_VERSION } from '../src/store/index.ts';
import type { Store, StoreBatch } from '../src/store/index.ts';
import { UserError } from '../src/util/errors.ts';
import type { Logger } from '../src/util/log.ts';
import { alert, OBJECT, point } from './helpers/store-fixtures.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');

function batchOf(...alerts: Alert[]): StoreBatch {
  return { alerts, objects: featuresForBatch(alerts) };
}

const key = { survey: 'lsst', objectKind: 'object', objectId: OBJECT } as const;

async function memoryStore(): Promise<Store> {
  return openStore({ path: ':memory:', threads: 1 });
}

describe('objects rows', () => {
  test('a newer alert replaces the row; an older alert replayed later does not', async () => {
    const store = await memoryStore();
    try {
      const first = point(61000.1);
      const second = point(61001.2);
      const older = alert({ trigger: first });
      const newer = alert({ trigger: second, history: [first] });
      assert.equal((await store.writeBatch(batchOf(older))).objectsWritten, 1);
      const replaced = await store.writeBatch(batchOf(newer));
      assert.deepEqual([replaced.objectsWritten, replaced.objectsKept], [1, 0]);
      assert.deepEqual(await store.getObject(key), objectFeatures(newer));
      const replay = await store.writeBatch(batchOf(older));
      assert.deepEqual([replay.objectsWritten, replay.objectsKept], [0, 1]);
      assert.deepEqual(await store.getObject(key), objectFeatures(newer), 'the older alert must not overwrite newer features');
    } finally {
      await store.close();
    }
  });

  test('at the same time, the larger source id wins', async () => {
    const store = await memoryStore();
    try {
      const small = point(61000.5);
      const large = { ...small, sourceId: (small.sourceId as bigint) + 10n, band: 'g' };
      await store.writeBatch(batchOf(alert({ trigger: large })));
      await store.writeBatch(batchOf(alert({ trigger: small })));
      assert.equal((await store.getObject(key))?.alertSourceId, large.sourceId);
      assert.equal((await store.getObject(key))?.alertBand, 'g');
    } finally {
      await store.close();
    }
  });

  test('within a batch, the newest row of an object wins wherever it is', async () => {
    const store = await memoryStore();
    try {
      const a = point(61000.1);
      const b = point(61002.1);
      const older = alert({ trigger: a });
      const newer = alert({ trigger: b, history: [a] });
      // Rows given oldest last and oldest first: the newer one is stored either way.
      for (const rows of [[objectFeatures(newer), objectFeatures(older)], [objectFeatures(older), objectFeatures(newer)]]) {
        await store.writeBatch({ alerts: [older, newer], objects: rows });
        assert.equal((await store.getObject(key))?.alertSourceId, b.sourceId);
      }
      assert.equal(isNewerRow(objectFeatures(newer), objectFeatures(older)), true);
      assert.equal(isNewerRow(objectFeatures(older), objectFeatures(newer)), false);
    } finally {
      await store.close();
    }
  });

  test('objects of different surveys or kinds with the same id are different objects; ZTF ids are text', async () => {
    const store = await memoryStore();
    try {
      const lsst = alert({ trigger: point(61000.1), objectId: 42n });
      const solar = alert({ trigger: point(61000.2), objectId: 42n, objectKind: 'solarSystem' });
      const ztf = alert({ trigger: point(61000.3), objectId: 'ZTF26aamcbly', survey: 'ztf' });
      await store.writeBatch(batchOf(lsst, solar, ztf));
      assert.equal((await store.counts()).objects, 3);
      assert.equal((await store.getObject({ survey: 'lsst', objectKind: 'object', objectId: '42' }))?.diaObjectId, 42n);
      assert.equal((await store.getObject({ survey: 'lsst', objectKind: 'solarSystem', objectId: 42n }))?.ssObjectId, 42n);
      const stored = await store.getObject({ survey: 'ztf', objectKind: 'object', objectId: 'ZTF26aamcbly' });
      assert.equal(stored?.objectId, 'ZTF26aamcbly');
      assert.equal(stored?.diaObjectId, null);
      assert.equal(await store.getObject({ survey: 'ztf', objectKind: 'object', objectId: 'ZTF26nothere' }), null);
      assert.equal((await store.lightcurve({ survey: 'lsst', objectKind: 'solarSystem', objectId: 42n })).detections.length, 1);
    } finally {
      await store.close();
    }
  });
});

describe('lightcurves', () => {
  test('points are stored once: by source id, and by time and band where there is no id', async () => {
    const store = await memoryStore();
    try {
      const d1 = point(61000.1);
      const d2 = point(61001.1, 'g');
      const d3 = point(61002.1);
      const f1 = point(61000.6, 'i');
      // ZTF-style forced photometry without ids: the same time and band is the same measurement.
      const p1 = point(61000.7, 'g', { sourceId: null, flux: -20 });
      const p1r = point(61000.7, 'r', { sourceId: null, flux: 30 });
      const p2 = point(61001.7, 'g', { sourceId: null });
      // Same id as a detection, but forced: a different measurement.
      const f2 = { ...point(61001.5), sourceId: d2.sourceId };
      const first = alert({ trigger: d2, history: [d1], forced: [f1, p1] });
      const second = alert({ trigger: d3, history: [d1, d2], forced: [f1, p1, p1r, f2, p2] });
      const r1 = await store.writeBatch(batchOf(first));
      const r2 = await store.writeBatch(batchOf(second));
      assert.deepEqual([r1.points, r2.points], [4, 4]);
      const lc = await store.lightcurve(key);
      assert.deepEqual(lc.detections, [d1, d2, d3]);
      assert.deepEqual(lc.forced, [f1, p1, p1r, f2, p2]);
      assert.deepEqual(lc.upperLimits, []);
    } finally {
      await store.close();
    }
  });

  test('two alerts of one object in one batch, and repeats inside one alert, give each point once', async () => {
    const store = await memoryStore();
    try {
      const d1 = point(61000.1);
      const d2 = point(61001.1);
      const p1 = point(61000.5, 'r', { sourceId: null });
      const older = alert({ trigger: d1, forced: [p1, { ...p1 }] });
      const newer = alert({ trigger: d2, history: [d1, { ...d1 }], forced: [p1] });
      const result = await store.writeBatch(batchOf(newer, older));
      assert.equal(result.points, 3);
      const lc = await store.lightcurve(key);
      assert.deepEqual(lc.detections, [d1, d2]);
      assert.deepEqual(lc.forced, [p1]);
    } finally {
      await store.close();
    }
  });

  test('upper limits are stored once per time and band, nulls kept as nulls', async () => {
    const store = await memoryStore();
    try {
      const l1: UpperLimit = { mjd: 60999.2, band: 'g', limitMag: 20.5, fluxNoise: 2000 };
      const l2: UpperLimit = { mjd: 60999.9, band: 'r', limitMag: null, fluxNoise: null };
      const d1 = point(61000.1, 'r', { flux: null, mag: null, ra: null, dec: null });
      await store.writeBatch(batchOf(alert({ trigger: d1, upperLimits: [l1] })));
      const r = await store.writeBatch(batchOf(alert({ trigger: point(61001.1), history: [d1], upperLimits: [l1, l2] })));
      assert.equal(r.upperLimits, 1);
      const lc = await store.lightcurve(key);
      assert.deepEqual(lc.upperLimits, [l1, l2]);
      assert.deepEqual(lc.detections[0], d1, 'null values stay null');
      assert.deepEqual(await store.lightcurve({ ...key, objectId: 1n }), { detections: [], forced: [], upperLimits: [] });
    } finally {
      await store.close();
    }
  });

  test('writing the same batch twice leaves the same state', async () => {
    const store = await memoryStore();
    try {
      const d1 = point(61000.1);
      const d2 = point(61001.1);
      const other = alert({ trigger: point(61000.3), objectId: OBJECT + 1n, upperLimits: [{ mjd: 61000, band: 'z', limitMag: 21, fluxNoise: 900 }] });
      const batch = batchOf(alert({ trigger: d2, history: [d1], forced: [point(61000.9, 'g', { sourceId: null })] }), other);
      const origins = [{ topic: 'lsst-alerts', partition: 3, offset: 17n }, null];
      const first = await store.writeBatch({ ...batch, origins });
      const snapshot = async (): Promise<unknown> => [await store.counts(), await store.getObject(key), await store.lightcurve(key), await store.alertsOf(key), await store.lightcurve(other)];
      const before = await snapshot();
      const second = await store.writeBatch({ ...batch, origins });
      assert.deepEqual(await snapshot(), before);
      assert.deepEqual([first.objectsWritten, first.points, first.upperLimits, first.alerts], [2, 4, 1, 2]);
      assert.deepEqual([second.objectsWritten, second.objectsKept, second.points, second.upperLimits, second.alerts], [0, 2, 0, 0, 0]);
      const empty = await store.writeBatch({ alerts: [], objects: [] });
      assert.deepEqual([empty.objectsWritten, empty.points, empty.alerts], [0, 0, 0]);
      assert.deepEqual(await snapshot(), before);
    } finally {
      await store.close();
    }
  });

  test('alerts keep their origin, newest first', async () => {
    const store = await memoryStore();
    try {
      const a = alert({ trigger: point(61000.1) });
      const b = alert({ trigger: point(61003.1) });
      await store.writeBatch({ alerts: [a, b], objects: featuresForBatch([a, b]), origins: [{ topic: 'raw', partition: 0, offset: 9_007_199_254_740_993n }, undefined] });
      const stored = await store.alertsOf(key);
      assert.deepEqual(stored.map((s) => s.sourceId), [b.sourceId, a.sourceId]);
      assert.deepEqual(stored[1]?.origin, { topic: 'raw', partition: 0, offset: 9_007_199_254_740_993n });
      assert.equal(stored[0]?.origin, null);
      assert.equal(stored[0]?.schema, 'lsst.v10_0.alert');
      assert.equal(stored[0]?.objectId, String(OBJECT));
      assert.ok(Date.parse(stored[0]?.storedAt ?? '') > Date.now() - 60_000);
      assert.equal((await store.alertsOf(key, 1)).length, 1);
    } finally {
      await store.close();
    }
  });
});

describe('64-bit ids', () => {
  test('ids above 2^53 come back exact as BigInt, up to 2^63 - 1', async () => {
    const store = await memoryStore();
    try {
      const biggest = 2n ** 63n - 1n;
      const trigger = point(61000.1, 'r', { sourceId: 2n ** 53n + 1n });
      const forced = point(61000.2, 'r', { sourceId: biggest });
      const a = { ...alert({ trigger, forced: [forced], objectId: biggest - 1n }), alertId: 2n ** 62n + 3n };
      await store.writeBatch(batchOf(a));
      const k = { survey: 'lsst', objectKind: 'object', objectId: biggest - 1n } as const;
      const row = await store.getObject(k);
      assert.equal(row?.diaObjectId, biggest - 1n);
      assert.equal(row?.objectId, String(biggest - 1n));
      assert.equal(row?.alertSourceId, 2n ** 53n + 1n);
      const lc = await store.lightcurve(k);
      assert.equal(lc.detections[0]?.sourceId, 2n ** 53n + 1n);
      assert.equal(lc.forced[0]?.sourceId, biggest);
      assert.equal((await store.alertsOf(k))[0]?.alertId, 2n ** 62n + 3n);
      const found = await store.queryObjects('SELECT diaObjectId, alertSourceId FROM objects WHERE diaObjectId = 9223372036854775806');
      assert.deepEqual(found.rows, [{ diaObjectId: biggest - 1n, alertSourceId: 2n ** 53n + 1n }]);
    } finally {
      await store.close();
    }
  });

  test('an id outside 64 bits or a number where a BigInt belongs is refused, naming the alert or row', async () => {
    const store = await memoryStore();
    try {
      const tooBig = alert({ trigger: point(61000.1), history: [point(60999, 'r', { sourceId: 2n ** 64n })] });
      await assert.rejects(store.writeBatch(batchOf(tooBig)), /alert 0 \(lsst:object:170028485706776685.*detections\[0\]: id 18446744073709551616 is outside the 64-bit range/);
      const a = alert({ trigger: point(61000.1) });
      const row = { ...objectFeatures(a), diaObjectId: 2 ** 60 };
      await assert.rejects(store.writeBatch({ alerts: [a], objects: [row] }), /row 0, column diaObjectId \(BIGINT\): 1152921504606847000 is not an exact integer; 64-bit values must be BigInt/);
      assert.deepEqual(await store.counts(), { objects: 0, points: 0, upperLimits: 0, alerts: 0, users: 0, filters: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('batches are atomic', () => {
  test('a batch that fails part-way leaves nothing behind, and the next batch works', async () => {
    const store = await memoryStore();
    try {
      const a = alert({ trigger: point(61000.1), forced: [point(61000.05)] });
      // The row's type error is found while staging, after the object's ref was added.
      const bad = { ...objectFeatures(a), nSources: 'five' };
      await assert.rejects(store.writeBatch({ alerts: [a], objects: [bad] }), (error: Error) => {
        assert.match(error.message, /writing a batch of 1 alerts and 1 objects rows failed: .*column nSources \(INTEGER\)/);
        return true;
      });
      assert.deepEqual(await store.counts(), { objects: 0, points: 0, upperLimits: 0, alerts: 0, users: 0, filters: 0 });
      const ok = await store.writeBatch(batchOf(a));
      assert.deepEqual([ok.objectsWritten, ok.points, ok.alerts], [1, 2, 1]);
      assert.equal((await store.lightcurve(key)).forced.length, 1);
    } finally {
      await store.close();
    }
  });

  test('prepareBatch refuses what cannot be stored before anything is written', () => {
    const a = alert({ trigger: point(61000.1), history: [point(Number.NaN)] });
    assert.throws(() => prepareBatch(batchOf(a)), /alert 0 .*detections\[0\]: mjd NaN is not a finite number/);
    assert.throws(() => prepareBatch({ alerts: [], objects: [{ ...objectFeatures(alert({ trigger: point(1) })), objectId: null }] }), /objects row 0: objectId must be non-empty text/);
  });
});

describe('real alerts', () => {
  const files = ['fink-client/datatest/lsst/part-2-918301.avro', 'fink-client/datatest/ztf/part-3-305711.avro'];
  let alerts: Alert[] = [];

  before(async () => {
    for (const file of files) alerts.push(...(await readAlertFile(path.join(dataDir, file))).map(({ record, schema }) => toAlert(record, schema.name)));
  });

  after(() => {
    alerts = [];
  });

  test('each stored lightcurve is the union of its alerts\' histories, and the row that of its newest alert', async () => {
    const store = await memoryStore();
    try {
      // Half the alerts, then all of them: the second batch repeats the first half.
      await store.writeBatch(batchOf(...alerts.slice(0, Math.ceil(alerts.length / 2))));
      await store.writeBatch(batchOf(...alerts));
      const byObject = new Map<string, Alert[]>();
      for (const a of alerts) byObject.set(alertObjectKey(a), [...(byObject.get(alertObjectKey(a)) ?? []), a]);
      assert.equal((await store.counts()).objects, byObject.size);
      for (const group of byObject.values()) {
        const lc = await store.lightcurve(group[0] as Alert);
        const expected = union(group.map((a) => a.lightcurve));
        assert.equal(lc.detections.length, expected.detections, `${alertObjectKey(group[0] as Alert)} detections`);
        assert.equal(lc.forced.length, expected.forced, 'forced');
        assert.equal(lc.upperLimits.length, expected.upperLimits, 'upper limits');
        const [newest] = featuresForBatch(group);
        assert.deepEqual(await store.getObject(group[0] as Alert), newest);
        assert.deepEqual((await store.alertsOf(group[0] as Alert)).map((s) => s.sourceId).sort(), [...new Set(group.map((a) => a.sourceId))].sort());
      }
      // A stored detection has the values the alert gave it.
      const sample = alerts[0] as Alert;
      const stored = (await store.lightcurve(sample)).detections.find((p) => p.sourceId === sample.sourceId);
      assert.deepEqual(stored, sample.lightcurve.detections.find((p) => p.sourceId === sample.sourceId));
    } finally {
      await store.close();
    }
  });
});

function union(lightcurves: Lightcurve[]): { detections: number; forced: number; upperLimits: number } {
  const count = (points: Point[]): number => new Set(points.map((p) => (p.sourceId === null ? `${p.mjd}|${p.band}` : `#${p.sourceId}`))).size;
  return {
    detections: count(lightcurves.flatMap((l) => l.detections)),
    forced: count(lightcurves.flatMap((l) => l.forced)),
    upperLimits: new Set(lightcurves.flatMap((l) => l.upperLimits.map((u) => `${u.mjd}|${u.band}`))).size,
  };
}

describe('file store', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-store-test-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a reopened file store has everything written before, at the current schema version', async () => {
    const file = path.join(dir, 'nested', 'store.duckdb');
    const d1 = point(61000.1);
    const a = alert({ trigger: point(61001.1), history: [d1], forced: [point(61000.5, 'g', { sourceId: null })] });
    let store = await openStore({ path: file });
    let lightcurve: Lightcurve;
    try {
      await store.writeBatch(batchOf(a));
      const user = await store.createUser({ email: 'ada@example.org', name: 'Ada' });
      await store.saveFilter({ ownerId: user.id, name: 'bright', select: 'objectId', where: 'alertMag < 19', output: 'kafka', topic: 'lasair_1bright' });
      await store.addFilterCounters([{ filterId: 1, night: '2025-11-21', matched: 3, records: 3, bytes: 900 }]);
      lightcurve = await store.lightcurve(key);
      await assert.rejects(openStore({ path: file }), (error: Error) => error instanceof UserError && /already open in this process/.test(error.message));
    } finally {
      await store.close();
    }
    store = await openStore({ path: file });
    try {
      assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
      assert.deepEqual(await store.getObject(key), objectFeatures(a));
      assert.deepEqual(await store.lightcurve(key), lightcurve);
      assert.equal((await store.findUserByEmail('ADA@example.org'))?.name, 'Ada');
      assert.equal((await store.getFilter(1))?.topic, 'lasair_1bright');
      assert.deepEqual((await store.filterCounters(1)).map((c) => c.bytes), [900]);
      const again = await store.writeBatch(batchOf(a));
      assert.deepEqual([again.objectsWritten, again.points, again.alerts], [0, 0, 0]);
    } finally {
      await store.close();
    }
    // Read-only: reads work, writes are refused.
    const reader = await openStore({ path: file, readOnly: true });
    try {
      assert.equal((await reader.getObject(key))?.alertSourceId, a.sourceId);
      assert.equal((await reader.queryObjects('SELECT count(*) AS n FROM objects')).rows[0]?.n, 1n);
      await assert.rejects(reader.writeBatch(batchOf(a)), /open read-only/);
      await assert.rejects(reader.createUser({ email: 'b@example.org', name: 'B' }), /open read-only/);
    } finally {
      await reader.close();
    }
  });

  test('an objects column added to columns.ts is added to an existing store; a changed type stops it from opening', async () => {
    const file = path.join(dir, 'migrate.duckdb');
    const a = alert({ trigger: point(61000.1) });
    let store = await openStore({ path: file });
    await store.writeBatch(batchOf(a));
    await store.close();
    // As if the store were written by a Nightjar without the alertSnr column.
    await withDuckDB(file, (sql) => sql('ALTER TABLE objects DROP COLUMN alertSnr'));
    const logged: [string, Record<string, unknown> | undefined][] = [];
    const log: Logger = {
      debug: () => undefined,
      info: (msg, fields) => logged.push([msg, fields]),
      warn: (msg, fields) => logged.push([msg, fields]),
      error: (msg, fields) => logged.push([msg, fields]),
      child: () => log,
    };
    store = await openStore({ path: file, log });
    try {
      assert.deepEqual(logged.map(([, fields]) => fields?.columns), [['alertSnr']]);
      const row = await store.getObject(key);
      assert.deepEqual(Object.keys(row ?? {}), OBJECT_COLUMNS.map((c) => c.name));
      assert.equal(row?.alertSnr, null, 'null until the next alert');
      assert.equal(row?.alertSourceId, a.sourceId);
      await store.writeBatch(batchOf(alert({ trigger: point(61002.1) })));
      assert.equal((await store.getObject(key))?.alertSnr, 20);
      const count = await store.queryObjects('SELECT count(*) AS n FROM objects');
      assert.equal(count.rows[0]?.n, 1n);
    } finally {
      await store.close();
    }
    await withDuckDB(file, (sql) => sql('ALTER TABLE objects ALTER COLUMN nSources TYPE BIGINT'));
    await assert.rejects(openStore({ path: file }), (error: Error) => error instanceof UserError && /column nSources is BIGINT, documented as INTEGER.*add a migration/.test(error.message));
    // Refusing left the file closed: it can be fixed and opened.
    await withDuckDB(file, (sql) => sql('ALTER TABLE objects ALTER COLUMN nSources TYPE INTEGER'));
    await (await openStore({ path: file })).close();
  });

  test('a store written by a newer Nightjar is refused', async () => {
    const file = path.join(dir, 'newer.duckdb');
    await (await openStore({ path: file })).close();
    await withDuckDB(file, (sql) => sql(`INSERT INTO schema_migrations VALUES (${SCHEMA_VERSION + 1}, 'from the future', now())`));
    await assert.rejects(openStore({ path: file }), new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this Nightjar understands \\(${SCHEMA_VERSION}\\)`));
    await assert.rejects(openStore({ path: path.join(dir, 'missing.duckdb'), readOnly: true }), /does not exist/);
  });
});

async function withDuckDB(file: string, work: (sql: (text: string) => Promise<unknown>) => Promise<unknown>): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    await work((text) => connection.run(text));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
