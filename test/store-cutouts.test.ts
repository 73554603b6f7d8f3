// The store's cutout images: each object keeps the images of its newest alert that carried any
// (larger mjd, ties by larger source id), bytes exact; a replayed batch changes nothing; the
// broker's policies map to the store as none (keepCutouts off), matched (writeCutouts of the
// matched alerts only) and all (keepCutouts on), and so does the broker (`--cutouts`) on the local
// Kafka; kept across reopening a file store; a backfill's rebuilt alert carries them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Admin } from '@platformatic/kafka';
import { fileURLToPath } from 'node:url';
import { featuresForBatch } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { startBroker } from '../src/pipeline/broker.ts';
import { loadStoredAlert } from '../src/service/stored-alert.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { CUTOUT_POLICIES, openStore, SCHEMA_VERSION } from '../src/store/index.ts';
import type { CutoutPolicy, ObjectKey, Store, StoreBatch } from '../src/store/index.ts';
import type { Logger } from '../src/util/log.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');

let rubin: Alert[] = [];

before(async () => {
  rubin = (await readAlertFile(path.join(dataDir, 'fink-client/datatest/lsst/part-2-918301.avro'))).map(({ record, schema }) => toAlert(record, schema.name));
  assert.ok(rubin.length >= 3, 'the sample has several real Rubin alerts');
  for (const a of rubin) assert.ok(a.cutouts.science !== undefined && a.cutouts.template !== undefined && a.cutouts.difference !== undefined, 'each real Rubin alert carries three cutouts');
});

function keyOf(alert: Alert): ObjectKey {
  return { survey: alert.survey, objectKind: alert.objectKind, objectId: alert.objectId };
}

function batchOf(alerts: Alert[], keepCutouts?: boolean): StoreBatch {
  return keepCutouts === undefined ? { alerts, objects: featuresForBatch(alerts) } : { alerts, objects: featuresForBatch(alerts), keepCutouts };
}

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
  if (marker === null) {
    copy.cutouts = {};
  } else {
    for (const kind of ['science', 'template', 'difference'] as const) {
      const bytes = copy.cutouts[kind];
      if (bytes !== undefined) bytes[bytes.length - 1] = marker;
    }
  }
  return copy;
}

function assertImagesOf(stored: Awaited<ReturnType<Store['cutouts']>>, alert: Alert, message?: string): void {
  assert.ok(stored !== null, message ?? 'cutouts stored');
  assert.equal(stored.sourceId, alert.sourceId, message);
  assert.equal(stored.mjd, alert.mjd, message);
  for (const kind of ['science', 'template', 'difference'] as const) {
    assert.deepEqual(stored[kind] === undefined ? undefined : Buffer.from(stored[kind]), alert.cutouts[kind] === undefined ? undefined : Buffer.from(alert.cutouts[kind]), `${kind} ${message ?? ''}`);
  }
}

async function memoryStore(): Promise<Store> {
  return openStore({ path: ':memory:', threads: 1 });
}

describe('cutouts kept with the batch (policy all)', () => {
  test('real Rubin alerts: each object keeps its alert\'s three FITS images byte for byte', async () => {
    const store = await memoryStore();
    try {
      const result = await store.writeBatch(batchOf(rubin, true));
      const objects = new Set(rubin.map((a) => String(a.objectId))).size;
      assert.equal(result.cutouts, objects);
      for (const alert of rubin) {
        const stored = await store.cutouts(keyOf(alert));
        assertImagesOf(stored, alert, `object ${alert.objectId}`);
        assert.equal(Buffer.from(stored?.science ?? []).subarray(0, 9).toString('latin1'), 'SIMPLE  =', 'a FITS file');
      }
      assert.equal(typeof (await store.cutouts(keyOf(rubin[0] as Alert)))?.sourceId, 'bigint');
      assert.equal(await store.cutouts({ survey: 'lsst', objectKind: 'object', objectId: 1n }), null, 'an unknown object has none');
    } finally {
      await store.close();
    }
  });

  test('the newest alert wins: later mjd, then larger source id; older or image-less alerts change nothing', async () => {
    const store = await memoryStore();
    try {
      const base = rubin[0] as Alert;
      const key = keyOf(base);
      const later = variant(base, 1, 10n, 1);
      const sameTimeLargerId = variant(base, 1, 20n, 2);
      const earlier = variant(base, -1, 5n, 3);
      const newestWithout = variant(base, 2, 30n, null);

      assert.equal((await store.writeBatch(batchOf([base], true))).cutouts, 1);
      assert.equal((await store.writeBatch(batchOf([later], true))).cutouts, 1);
      assertImagesOf(await store.cutouts(key), later, 'a later alert replaces');
      assert.equal((await store.writeBatch(batchOf([earlier], true))).cutouts, 0);
      assertImagesOf(await store.cutouts(key), later, 'an earlier alert arriving late does not replace');
      assert.equal((await store.writeBatch(batchOf([sameTimeLargerId], true))).cutouts, 1);
      assertImagesOf(await store.cutouts(key), sameTimeLargerId, 'same mjd: the larger source id wins');
      assert.equal((await store.writeBatch(batchOf([newestWithout], true))).cutouts, 0);
      assertImagesOf(await store.cutouts(key), sameTimeLargerId, 'an alert without cutouts leaves the stored ones');
      assert.equal((await store.getObject(key))?.alertSourceId, newestWithout.sourceId, 'while the objects row follows the newest alert');
    } finally {
      await store.close();
    }
  });

  test('within one batch the newest alert of each object wins wherever it is', async () => {
    const base = rubin[1] as Alert;
    const later = variant(base, 0.5, 7n, 9);
    for (const order of [[base, later], [later, base]]) {
      const store = await memoryStore();
      try {
        assert.equal((await store.writeBatch(batchOf(order, true))).cutouts, 1);
        assertImagesOf(await store.cutouts(keyOf(base)), later);
      } finally {
        await store.close();
      }
    }
  });

  test('a replayed batch writes nothing and changes nothing', async () => {
    const store = await memoryStore();
    try {
      const batch = batchOf(rubin, true);
      const first = await store.writeBatch(batch);
      assert.ok(first.cutouts > 0);
      const replay = await store.writeBatch(batch);
      assert.equal(replay.cutouts, 0);
      for (const alert of rubin) assertImagesOf(await store.cutouts(keyOf(alert)), alert);
    } finally {
      await store.close();
    }
  });
});

describe('policies none and matched', () => {
  test('none: a batch written without keepCutouts keeps no images', async () => {
    const store = await memoryStore();
    try {
      for (const keep of [undefined, false]) {
        const result = await store.writeBatch(batchOf(rubin, keep));
        assert.equal(result.cutouts, 0);
      }
      for (const alert of rubin) assert.equal(await store.cutouts(keyOf(alert)), null);
      assert.ok((await store.getObject(keyOf(rubin[0] as Alert))) !== null, 'the objects are stored');
    } finally {
      await store.close();
    }
  });

  test('matched: writeCutouts after the batch keeps only the given alerts\' images, idempotently', async () => {
    const store = await memoryStore();
    try {
      await store.writeBatch(batchOf(rubin));
      const matched = rubin.slice(0, 2);
      assert.equal(await store.writeCutouts(matched), 2);
      for (const alert of matched) assertImagesOf(await store.cutouts(keyOf(alert)), alert);
      for (const alert of rubin.slice(2)) assert.equal(await store.cutouts(keyOf(alert)), null, 'an unmatched object keeps none');
      assert.equal(await store.writeCutouts(matched), 0, 'a replay writes nothing');
      const older = variant(matched[0] as Alert, -1, -1n, 4);
      assert.equal(await store.writeCutouts([older]), 0, 'an older alert does not replace');
      assertImagesOf(await store.cutouts(keyOf(matched[0] as Alert)), matched[0] as Alert);
    } finally {
      await store.close();
    }
  });

  test('matched: alerts of objects the store does not have are skipped', async () => {
    const store = await memoryStore();
    try {
      assert.equal(await store.writeCutouts(rubin.slice(0, 1)), 0);
      assert.equal(await store.cutouts(keyOf(rubin[0] as Alert)), null);
      assert.equal(await store.writeCutouts([]), 0);
    } finally {
      await store.close();
    }
  });
});

test('a file store keeps the cutouts across reopening, read-only too', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-cutouts-'));
  const file = path.join(dir, 'store.duckdb');
  try {
    let store = await openStore({ path: file, threads: 1 });
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    assert.ok(SCHEMA_VERSION >= 5);
    await store.writeBatch(batchOf(rubin, true));
    await store.close();
    store = await openStore({ path: file, readOnly: true, threads: 1 });
    try {
      for (const alert of rubin) assertImagesOf(await store.cutouts(keyOf(alert)), alert);
    } finally {
      await store.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a backfill\'s rebuilt alert carries the stored cutouts of that same alert, not an older one\'s', async () => {
  const store = await memoryStore();
  try {
    const base = rubin[2] as Alert;
    await store.writeBatch(batchOf([base], true));
    const rebuilt = await loadStoredAlert(store, keyOf(base));
    assert.equal(rebuilt?.sourceId, base.sourceId);
    assert.deepEqual(Buffer.from(rebuilt?.cutouts.difference ?? []), Buffer.from(base.cutouts.difference ?? []));
    assert.equal(rebuilt?.cutouts.science?.length, base.cutouts.science?.length);
    const newer = variant(base, 1, 1n, null);
    await store.writeBatch(batchOf([newer], true));
    const again = await loadStoredAlert(store, keyOf(base));
    assert.equal(again?.sourceId, newer.sourceId);
    assert.deepEqual(again?.cutouts, {}, 'the images belong to an earlier alert');
  } finally {
    await store.close();
  }
});

describe('the broker keeps cutouts by its --cutouts policy (local Kafka)', () => {
  const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const RAW = `nightjar-test-cutouts-raw-${run}`;
  const DLQ = `nightjar-test-cutouts-dlq-${run}`;
  const ALERTS = 60;
  const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
  let lease: Lease | undefined;
  let settings: KafkaSettings;
  let admin: Admin | undefined;
  let producer: BytesProducer | undefined;
  let objectIds: string[] = [];

  before(async () => {
    lease = await acquireLocalKafka();
    settings = defaultSettings();
    admin = createAdmin(settings);
    producer = createProducer(settings);
    const schema = lsstAlertParsedSchema();
    const records = [...generateAlerts({ seed: 5, objects: 12, count: ALERTS, cutouts: true })];
    objectIds = [...new Set(records.map((r) => String((r.diaObject as Record<string, unknown>).diaObjectId)))];
    assert.ok(objectIds.length >= 4, 'several objects');
    await createTopic(admin, RAW, 1);
    await sendAll(producer, records.map((r) => ({ topic: RAW, value: encodeMessage(r, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value })));
  });

  after(async () => {
    for (const t of [RAW, DLQ]) if (admin !== undefined) await deleteTopic(admin, t).catch(() => false);
    await producer?.close();
    await admin?.close();
    if (lease !== undefined) await releaseLocalKafka(lease);
  });

  /** Runs a broker with the policy over the raw topic into a fresh store; returns the store, open. */
  async function brokerRun(policy: CutoutPolicy, matchedIds: readonly string[]): Promise<Store> {
    const store = await memoryStore();
    const owner = await store.createUser({ email: `cutouts-${policy}-${run}@example.org`, name: 'Ada' });
    await store.saveFilter({ ownerId: owner.id, name: 'two objects', select: 'objectId', where: `objectId IN (${matchedIds.map((id) => `'${id}'`).join(', ')})`, output: 'none' });
    const broker = await startBroker({
      kafka: settings, topics: [RAW], groupId: `nightjar-test-cutouts-${policy}-${run}`, store, httpPort: null, deadLetterTopic: DLQ,
      batchSize: 25, batchMs: 300, decode: { schemas: builtinSchemas() }, log: quiet, cutouts: policy,
    });
    try {
      const deadline = Date.now() + 60_000;
      while (broker.health().messages < ALERTS) {
        if (Date.now() > deadline) throw new Error(`policy ${policy}: ${broker.health().messages} of ${ALERTS} alerts processed in time`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await broker.stop();
    }
    return store;
  }

  for (const policy of CUTOUT_POLICIES) {
    test(`--cutouts ${policy}`, { timeout: 120_000 }, async () => {
      const matched = objectIds.slice(0, 2);
      const store = await brokerRun(policy, matched);
      try {
        for (const objectId of objectIds) {
          const key: ObjectKey = { survey: 'lsst', objectKind: 'object', objectId };
          const row = await store.getObject(key);
          assert.ok(row !== null, `object ${objectId} stored`);
          const stored = await store.cutouts(key);
          const expected = policy === 'all' || (policy === 'matched' && matched.includes(objectId));
          if (!expected) {
            assert.equal(stored, null, `${policy}: object ${objectId} keeps no images`);
            continue;
          }
          assert.ok(stored !== null, `${policy}: object ${objectId} keeps images`);
          assert.equal(stored.sourceId, row.alertSourceId, 'those of its newest alert');
          for (const kind of ['science', 'template', 'difference'] as const) assert.equal(Buffer.from(stored[kind] ?? []).subarray(0, 9).toString('latin1'), 'SIMPLE  =', `${kind} is FITS`);
        }
      } finally {
        await store.close();
      }
    });
  }
});
