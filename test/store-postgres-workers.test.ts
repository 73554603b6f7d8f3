// The PostgreSQL store as several workers use it: stores on separate pools (as separate
// processes) writing overlapping batches at the same time end with exactly what one store
// writing them in order ends with; several stores opening a new database at once migrate it
// once; opening again changes nothing; objects columns are reconciled as in the DuckDB store;
// read-only opening; queryObjects' time limit and refusals; close() waits for work under way;
// and the password never shows, in the location or in any error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { featuresForBatch } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore, SCHEMA_VERSION, StoreQueryError } from '../src/store/index.ts';
import type { ObjectKey, Store } from '../src/store/index.ts';
import { openPostgresStore } from '../src/store/postgres-store.ts';
import { UserError } from '../src/util/errors.ts';
import type { Logger } from '../src/util/log.ts';
import { acquireLocalPostgres, freshDatabase, releaseLocalPostgres, type PostgresLease, type TestDatabase } from './setup/local-postgres.ts';

let lease: PostgresLease;
let alerts: Alert[] = [];

before(async () => {
  lease = await acquireLocalPostgres();
  for (const record of generateAlerts({ seed: 11, objects: 400, count: 4000, cutouts: false })) alerts.push(toAlert(record, 'lsst.v10_0.alert'));
});

after(async () => {
  alerts = [];
  await releaseLocalPostgres(lease);
});

/** Work with a fresh database, dropped afterwards. */
async function withDatabase(work: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await freshDatabase(lease);
  try {
    await work(db);
  } finally {
    await db.drop();
  }
}

async function sql(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

function quietLog(lines: [string, Record<string, unknown> | undefined][] = []): Logger {
  const log: Logger = {
    debug: () => undefined,
    info: (msg, fields) => lines.push([msg, fields]),
    warn: (msg, fields) => lines.push([msg, fields]),
    error: (msg, fields) => lines.push([msg, fields]),
    child: () => log,
  };
  return log;
}

/** Everything stored about the objects of `keys`, without wall-clock times or Kafka origins. */
async function contents(store: Store, keys: readonly ObjectKey[]): Promise<unknown> {
  const objects = [];
  for (const key of keys) {
    objects.push({
      row: await store.getObject(key),
      lightcurve: await store.lightcurve(key),
      alerts: (await store.alertsOf(key, 10_000)).map(({ storedAt: _storedAt, ...rest }) => rest),
    });
  }
  return { counts: await store.counts(), objects };
}

function batches(size: number): Alert[][] {
  const out: Alert[][] = [];
  for (let start = 0; start < alerts.length; start += size) out.push(alerts.slice(start, start + size));
  return out;
}

describe('several workers', () => {
  test('two stores writing overlapping batches at once end with the rows of one store writing them in order', async () => {
    const all = batches(500);
    const keys = [...new Map(alerts.map((a) => [`${a.survey}:${a.objectKind}:${String(a.objectId)}`, { survey: a.survey, objectKind: a.objectKind, objectId: a.objectId }])).values()];
    let reference: unknown;
    await withDatabase(async (db) => {
      const store = await openPostgresStore({ url: db.url, log: quietLog() });
      try {
        for (const batch of all) await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
        reference = await contents(store, keys);
      } finally {
        await store.close();
      }
    });
    await withDatabase(async (db) => {
      const [a, b] = await Promise.all([openPostgresStore({ url: db.url, log: quietLog() }), openPostgresStore({ url: db.url, log: quietLog() })]);
      assert.ok(a !== undefined && b !== undefined);
      try {
        // Worker a writes every batch in order, worker b the same batches newest first, each
        // alert list reversed: every object is written by both, concurrently, in both orders.
        const backwards = all.map((batch) => batch.slice().reverse()).reverse();
        const write = async (store: Store, list: Alert[][]): Promise<number> => {
          let alertsAdded = 0;
          for (const batch of list) alertsAdded += (await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) })).alerts;
          return alertsAdded;
        };
        const [byA, byB] = await Promise.all([write(a, all), write(b, backwards)]);
        assert.equal(byA + byB, alerts.length, 'each alert counted once, by whichever worker stored it first');
        assert.deepEqual(await contents(a, keys), reference);
        assert.deepEqual(await contents(b, keys), reference, 'both workers see the same store');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('filter matches added by two stores at once get distinct seqs, committed in seq order', async () => {
    await withDatabase(async (db) => {
      const [a, b] = await Promise.all([openPostgresStore({ url: db.url, log: quietLog() }), openPostgresStore({ url: db.url, log: quietLog() })]);
      try {
        const owner = await a.createUser({ email: 'w@example.org', name: 'W' });
        const filter = (await a.saveFilter({ ownerId: owner.id, name: 'f', select: 'objectId', where: '' })).id;
        const batch = (worker: string, n: number) => Array.from({ length: 50 }, (_, i) => ({
          filterId: filter, objectId: `${worker}${n}-${i}`, sourceId: BigInt(n * 1000 + i), mjd: 61000, matchedAt: new Date().toISOString(), row: { i },
        }));
        const seen: bigint[] = [];
        let watching = true;
        // A reader paging by afterSeq, as the web app's live view does, while the two write.
        const reader = (async () => {
          let after = 0n;
          while (watching || seen.length < 2000) {
            const page = await a.filterMatches(filter, { afterSeq: after, newestFirst: false, limit: 1000 });
            for (const m of page) seen.push(m.seq);
            if (page.length > 0) after = page[page.length - 1]?.seq ?? after;
            else if (!watching) break;
          }
        })();
        const write = async (store: Store, worker: string): Promise<number> => {
          let added = 0;
          for (let n = 0; n < 20; n++) added += await store.addFilterMatches(batch(worker, n));
          return added;
        };
        const added = await Promise.all([write(a, 'a'), write(b, 'b')]);
        watching = false;
        await reader;
        assert.deepEqual(added, [1000, 1000]);
        assert.equal(seen.length, 2000, 'the paging reader missed no match');
        assert.equal(new Set(seen).size, 2000);
        assert.equal(await b.lastFilterMatchSeq(filter), seen[seen.length - 1]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('stores opening a new database at once migrate it once; opening again changes nothing', async () => {
    await withDatabase(async (db) => {
      const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url: db.url, log: quietLog() })));
      try {
        for (const store of stores) assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      const migrations = await sql(db.url, 'SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(migrations.map((r) => r.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      const schema = async (): Promise<unknown> => [
        await sql(db.url, "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"),
        await sql(db.url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"),
        await sql(db.url, "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY proname, prosrc"),
      ];
      const before = await schema();
      const lines: [string, Record<string, unknown> | undefined][] = [];
      const again = await openStore({ path: db.url, log: quietLog(lines) });
      await again.close();
      assert.deepEqual(await schema(), before);
      assert.deepEqual(lines, [], 'nothing to report');
      assert.equal((await sql(db.url, 'SELECT count(*)::int AS n FROM schema_migrations'))[0]?.n, SCHEMA_VERSION);
    });
  });

  test('an objects column added to columns.ts is added to an existing store; a changed type stops it from opening', async () => {
    await withDatabase(async (db) => {
      const batch = alerts.slice(0, 50);
      let store = await openPostgresStore({ url: db.url, log: quietLog() });
      await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
      await store.close();
      await sql(db.url, 'ALTER TABLE objects DROP COLUMN "alertSnr"');
      const lines: [string, Record<string, unknown> | undefined][] = [];
      store = await openPostgresStore({ url: db.url, log: quietLog(lines) });
      try {
        assert.deepEqual(lines.map(([, fields]) => fields?.columns), [['alertSnr']]);
        const key = batch[0] as Alert;
        assert.equal((await store.getObject(key))?.alertSnr, null, 'null until the next alert');
      } finally {
        await store.close();
      }
      await sql(db.url, 'ALTER TABLE objects ALTER COLUMN "nSources" TYPE bigint');
      await assert.rejects(openPostgresStore({ url: db.url, log: quietLog() }), (e: Error) => e instanceof UserError && /column nSources is BIGINT, documented as INTEGER.*add a migration/.test(e.message));
      await sql(db.url, 'ALTER TABLE objects ALTER COLUMN "nSources" TYPE integer');
      await sql(db.url, `INSERT INTO schema_migrations VALUES (${SCHEMA_VERSION + 1}, 'from the future', now())`);
      await assert.rejects(openPostgresStore({ url: db.url, log: quietLog() }), new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this Nightjar understands \\(${SCHEMA_VERSION}\\)`));
    });
  });

  test('read-only: reads work, writes are refused, and a database not migrated yet is refused', async () => {
    await withDatabase(async (db) => {
      await assert.rejects(openStore({ path: db.url, readOnly: true }), (e: Error) => e instanceof UserError && /schema version 0, this Nightjar needs/.test(e.message));
      const writer = await openStore({ path: db.url, log: quietLog() });
      const batch = alerts.slice(0, 20);
      await writer.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
      await writer.settingOrInit('secret', 'x');
      await writer.close();
      const reader = await openStore({ path: db.url, readOnly: true });
      try {
        assert.ok((await reader.getObject(batch[0] as Alert)) !== null);
        assert.equal(await reader.settingOrInit('secret', 'y'), 'x');
        await assert.rejects(reader.settingOrInit('other', 'y'), /open read-only and has no setting other/);
        await assert.rejects(reader.writeBatch({ alerts: batch, objects: featuresForBatch(batch) }), (e: Error) => e instanceof UserError && /open read-only/.test(e.message));
        await assert.rejects(reader.createUser({ email: 'b@example.org', name: 'B' }), /open read-only/);
        await assert.rejects(reader.addPipelineCounters([{ night: '2026-01-01', batches: 1 }]), /open read-only/);
        await assert.rejects(reader.pruneFilterMatches('2026-01-01T00:00:00Z'), /open read-only/);
      } finally {
        await reader.close();
      }
    });
  });
});

describe('queryObjects on PostgreSQL', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await freshDatabase(lease);
    store = await openStore({ path: db.url, log: quietLog() });
    const batch = alerts.slice(0, 1000);
    await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('a query past its time limit is stopped, and the store goes on', async () => {
    const started = performance.now();
    await assert.rejects(
      store.queryObjects('SELECT count(*) AS n FROM objects, generate_series(1, 1000000000) g WHERE g % 7 = 3', { timeLimitMs: 300 }),
      (e: Error) => e instanceof StoreQueryError && e.kind === 'timeout' && /stopped after 300 ms/.test(e.message),
    );
    assert.ok(performance.now() - started < 10_000);
    assert.equal(typeof (await store.queryObjects('SELECT count(*) AS n FROM objects')).rows[0]?.n, 'bigint');
  });

  test('the filter helper functions are defined in the database', async () => {
    const result = await store.queryObjects('SELECT flux2mag(3631e9) AS m, flux2mag(-1) AS none FROM objects LIMIT 1');
    assert.ok(Math.abs((result.rows[0]?.m as number) - 0.0) < 0.01, `flux2mag(3631 Jy) is magnitude 0, got ${String(result.rows[0]?.m)}`);
    assert.equal(result.rows[0]?.none, null);
  });

  test('nothing but a read of objects runs: other tables, catalogs, writes in WITH, sequences', async () => {
    const n = (await store.counts()).objects;
    const refused = async (text: string, reason: RegExp): Promise<void> => {
      await assert.rejects(store.queryObjects(text), (e: Error) => e instanceof StoreQueryError && e.kind === 'refused' && reason.test(e.message), text);
    };
    await refused('SELECT * FROM objects WHERE EXISTS (SELECT 1 FROM pg_authid)', /it reads pg_authid/);
    await refused('WITH gone AS (DELETE FROM objects RETURNING 1) SELECT count(*) FROM gone', /only a SELECT/);
    await refused('TRUNCATE objects', /only a SELECT/);
    await refused('/* hidden */ UPDATE objects SET "nSources" = 0', /only a SELECT/);
    await refused('SELECT 1; COMMIT; DROP TABLE objects', /expected one statement/);
    await assert.rejects(store.queryObjects("SELECT nextval('object_refs_ref_seq') FROM objects"), (e: Error) => e instanceof StoreQueryError && e.kind === 'error' && /read-only/.test(e.message));
    assert.equal((await store.counts()).objects, n, 'nothing changed');
  });
});

describe('connections and passwords', () => {
  const password = (url: string): string => decodeURIComponent(new URL(url).password);

  test('the location and every error leave the password out, and name host, port and database', async () => {
    await withDatabase(async (db) => {
      const secret = password(db.url);
      assert.ok(secret.length > 8);
      const store = await openStore({ path: db.url, log: quietLog() });
      try {
        assert.ok(!store.location.includes(secret), store.location);
        assert.match(store.location, /^postgres:\/\/nightjar@127\.0\.0\.1:\d+\/nightjar_test_/);
        const a = alerts[0] as Alert;
        await assert.rejects(store.writeBatch({ alerts: [a], objects: [{ ...featuresForBatch([a])[0], nSources: 'x' }] }), (e: Error) => !e.message.includes(secret) && e.message.includes(store.location));
      } finally {
        await store.close();
      }
      const wrong = new URL(db.url);
      wrong.password = 'not-the-password';
      await assert.rejects(openStore({ path: wrong.toString() }), (e: Error) => e instanceof UserError && /127\.0\.0\.1:\d+\/nightjar_test_\w+: login refused/.test(e.message) && !e.message.includes('not-the-password'));
      const missing = new URL(db.url);
      missing.pathname = '/nightjar_no_such_database';
      await assert.rejects(openStore({ path: missing.toString() }), (e: Error) => e instanceof UserError && /nightjar_no_such_database: the database does not exist/.test(e.message) && !e.message.includes(secret));
      const closed = new URL(db.url);
      closed.port = '1';
      await assert.rejects(openStore({ path: closed.toString() }), (e: Error) => e instanceof UserError && /PostgreSQL at 127\.0\.0\.1:1\/nightjar_test_\w+: connection refused/.test(e.message) && !e.message.includes(secret));
      await assert.rejects(openStore({ path: `postgres://nightjar:${secret}@127.0.0.1:notaport/db` }), (e: Error) => e instanceof UserError && /not a valid PostgreSQL URL/.test(e.message) && !e.message.includes(secret));
      await assert.rejects(openStore({ path: `postgres://nightjar:${secret}@127.0.0.1:15432` }), (e: Error) => e instanceof UserError && /names no database/.test(e.message) && !e.message.includes(secret));
      const none = new URL(db.url);
      none.password = '';
      await assert.rejects(openStore({ path: none.toString() }), (e: Error) => e instanceof UserError && /login refused: the server asks for a password and the URL has none/.test(e.message));
      await assert.rejects(openStore({ path: `postgres://nightjar:${secret}%zz@127.0.0.1:15432/db` }), (e: Error) => e instanceof UserError && /malformed %-escape/.test(e.message) && !e.message.includes(secret));
    });
  });

  test('close() waits for the writes under way, then refuses new work', async () => {
    await withDatabase(async (db) => {
      const store = await openStore({ path: db.url, log: quietLog() });
      const batch = alerts.slice(0, 500);
      const writing = store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
      await store.close();
      assert.equal((await writing).alerts, 500, 'the write under way finished');
      await assert.rejects(store.counts(), /is closed/);
      assert.equal((await sql(db.url, 'SELECT count(*)::int AS n FROM alerts'))[0]?.n, 500);
    });
  });
});
