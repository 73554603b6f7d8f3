// The filter service on a real local Kafka and a store filled with synthetic Rubin alerts:
// saving a Kafka filter puts exactly the expected ≤ 10 records (computed here in JavaScript from
// the stored rows) in its stream; changing it empties the stream and refills it; renaming moves
// it; topic collisions, bad filters and unknown ids are typed errors; removing deletes the topic.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Admin } from '@platformatic/kafka';
import { featuresForBatch } from '../src/features/index.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { createAdmin, createConsumer, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { deleteTopic, endOffsets, listTopics, startOffsets } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { FilterNotFoundError, FilterValidationError, TopicTakenError } from '../src/service/errors.ts';
import { createFilterService, type FilterService } from '../src/service/filter-service.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

type Row = Record<string, unknown>;

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const prefix = `njtest-svc-${run}`;
const producedAt = new Date(Date.UTC(2026, 0, 29, 11, 40, 14));
const UTC = '2026-01-29 11:40:14';

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let store: Store;
let service: FilterService;
let objects: Row[];
/** Calls of the exclusive section, and whether two ever overlapped. */
const exclusiveLog = { calls: 0, active: 0, overlapped: false };

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  store = await openStore({ path: ':memory:' });
  const alerts = [...generateAlerts({ seed: 7, objects: 300, count: 1500, cutouts: false })].map((r) => toAlert(r, 'lsst.v10_0.alert'));
  for (let i = 0; i < alerts.length; i += 500) {
    const batch = alerts.slice(i, i + 500);
    await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
  }
  objects = (await store.queryObjects('SELECT * FROM objects', { rowLimit: 100_000 })).rows;
  service = createFilterService({
    store,
    admin,
    producer,
    topicPrefix: prefix,
    now: () => producedAt,
    exclusive: async (fn) => {
      exclusiveLog.calls++;
      if (exclusiveLog.active > 0) exclusiveLog.overlapped = true;
      exclusiveLog.active++;
      try {
        return await fn();
      } finally {
        exclusiveLog.active--;
      }
    },
  });
});

after(async () => {
  await service.close();
  for (const topic of await listTopics(admin)) if (topic.startsWith(prefix)) await deleteTopic(admin, topic).catch(() => false);
  await store.close();
  await producer.close();
  await admin.close();
  await releaseLocalKafka(lease);
});

/** The rows a filter should deliver, computed here: the condition in JavaScript, newest alert first, then by key, at most 10. */
function expectedRows(condition: (o: Row) => boolean, limit = 10): Row[] {
  const text = (v: unknown): string => String(v);
  return objects
    .filter(condition)
    .sort((a, b) => {
      const ma = a.alertMjd as number | null;
      const mb = b.alertMjd as number | null;
      if (ma !== mb) return ma === null ? 1 : mb === null ? -1 : mb - ma;
      for (const key of ['survey', 'objectKind', 'objectId']) {
        const [x, y] = [text(a[key]), text(b[key])];
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    })
    .slice(0, limit);
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const bright = (o: Row): boolean => (num(o.nSources) ?? 0) >= 3 && (num(o.alertMag) ?? Infinity) < 21;
const veryBright = (o: Row): boolean => (num(o.alertMag) ?? Infinity) < 19;

/** Every record in a one-partition topic, read from the start by a new consumer group. */
async function readTopic(topic: string): Promise<{ key: Buffer | null; value: Buffer }[]> {
  const [start] = await startOffsets(admin, topic);
  const [end] = await endOffsets(admin, topic);
  const expected = Number((end ?? 0n) - (start ?? 0n));
  if (expected === 0) return [];
  const consumer = createConsumer(settings, { groupId: `njtest-svc-read-${randomBytes(4).toString('hex')}`, fromBeginning: true });
  const out: { key: Buffer | null; value: Buffer }[] = [];
  try {
    const stream = await consumer.consume([topic]);
    const timer = setTimeout(() => stream.destroy(new Error(`timed out after ${out.length} of ${expected} records of ${topic}`)), 60_000);
    try {
      for await (const m of stream) {
        out.push({ key: m.key ?? null, value: m.value });
        if (out.length === expected) break;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

async function readJson(topic: string): Promise<Row[]> {
  return (await readTopic(topic)).map((m) => parse(m.value.toString('utf8')) as Row);
}

function plain(o: Row): Row {
  return { diaObjectId: o.diaObjectId, ra: o.ra, decl: o.decl, nSources: o.nSources, alertMag: o.alertMag, UTC };
}

const SELECT = 'diaObjectId, ra, decl, nSources, alertMag';

test('adding a Kafka filter puts exactly the expected 10 records in its new topic; changing WHERE empties it and puts the new matches in; renaming moves it', { timeout: 180_000 }, async () => {
  const first = expectedRows(bright);
  assert.equal(first.length, 10, 'the store has more than 10 matches');
  const before = exclusiveLog.calls;
  const added = await service.add({ owner: 'ann@example.org', name: 'Bright ones!', select: SELECT, where: 'nSources >= 3 AND alertMag < 21', output: 'kafka' });
  assert.equal(exclusiveLog.calls, before + 1, 'the save ran inside exclusive');
  const owner = await store.findUserByEmail('ann@example.org');
  assert.ok(owner !== null, 'the owner was created');
  const topic = `${prefix}_${owner.id}Brightones`;
  assert.equal(added.filter.topic, topic);
  assert.equal(added.filter.ownerEmail, 'ann@example.org');
  assert.ok(added.stream !== null);
  assert.equal(added.stream.records, 10);
  assert.equal(added.stream.deleted, 0);
  assert.equal(added.stream.previousTopic, null);
  assert.deepEqual(added.stream.rows, first.map((o) => ({ diaObjectId: o.diaObjectId, ra: o.ra, decl: o.decl, nSources: o.nSources, alertMag: o.alertMag })));
  const records = await readJson(topic);
  assert.deepEqual(records, first.map(plain));
  assert.equal(typeof records[0]?.diaObjectId, 'bigint', '64-bit ids exact');

  // Extra records from elsewhere, then a change of WHERE: only the new matches remain.
  await sendAll(producer, [1, 2, 3].map((n) => ({ topic, value: Buffer.from(`{"stale":${n}}`), partition: 0 })));
  const second = expectedRows(veryBright);
  assert.ok(second.length > 0 && second.length < 10, `fewer than 10 very bright objects (${second.length})`);
  const updated = await service.update(added.filter.id, { where: 'alertMag < 19' });
  assert.ok(updated.stream !== null);
  assert.equal(updated.stream.deleted, 13);
  assert.equal(updated.stream.records, second.length);
  assert.deepEqual(await readJson(topic), second.map(plain));
  assert.deepEqual(await startOffsets(admin, topic), [13n], 'the old records are deleted, not just skipped');

  // A description-only change leaves the stream alone.
  const quiet = await service.update(added.filter.id, { description: 'mag < 19' });
  assert.equal(quiet.stream, null);
  assert.deepEqual(await endOffsets(admin, topic), [BigInt(13 + second.length)]);

  // Rename: the records are in the new topic, the old topic is gone.
  const renamed = await service.update(added.filter.id, { name: 'very bright' });
  const newTopic = `${prefix}_${owner.id}verybright`;
  assert.equal(renamed.filter.topic, newTopic);
  assert.ok(renamed.stream !== null);
  assert.equal(renamed.stream.previousTopic, topic);
  assert.equal(renamed.stream.deleted, second.length);
  assert.deepEqual(await readJson(newTopic), second.map(plain));
  const topics = await listTopics(admin);
  assert.ok(topics.includes(newTopic));
  assert.ok(!topics.includes(topic), 'the old topic is deleted');
  assert.equal(exclusiveLog.overlapped, false);
});

test('lite, full and Avro streams carry each object\'s stored lightcurve', { timeout: 180_000 }, async () => {
  const expected = expectedRows(bright);
  const lite = await service.add({ owner: 'ann@example.org', name: 'lite', select: 'objectId, alertMag', where: 'nSources >= 3 AND alertMag < 21', output: 'kafka-lite' });
  assert.equal(lite.stream?.missingAlerts, 0);
  const liteRecords = await readJson(lite.filter.topic ?? '');
  assert.equal(liteRecords.length, 10);
  for (const [i, record] of liteRecords.entries()) {
    const o = expected[i] as Row;
    assert.equal(record.objectId, o.objectId);
    const curve = await store.lightcurve({ survey: 'lsst', objectKind: 'object', objectId: o.objectId as string });
    const alert = record.alert as { diaSourcesList: Row[]; diaForcedSourcesList: Row[] };
    assert.deepEqual(
      alert.diaSourcesList,
      curve.detections.map((p) => ({ psfFlux: p.flux, psfFluxErr: p.fluxErr, midpointMjdTai: p.mjd, band: p.band, reliability: p.reliability })),
    );
    assert.equal(alert.diaForcedSourcesList.length, curve.forced.length);
  }

  const full = await service.add({ owner: 'ann@example.org', name: 'full', select: 'diaObjectId', where: 'nSources >= 3 AND alertMag < 21', output: 'kafka-full' });
  const fullRecords = await readJson(full.filter.topic ?? '');
  assert.equal(fullRecords.length, 10);
  const firstFull = fullRecords[0]?.alert as { diaObject: Row; diaSourcesList: Row[] };
  assert.equal(firstFull.diaObject.diaObjectId, expected[0]?.diaObjectId, 'diaObject is the stored objects row');
  assert.equal(firstFull.diaObject.nSources, expected[0]?.nSources);
  const firstCurve = await store.lightcurve({ survey: 'lsst', objectKind: 'object', objectId: expected[0]?.objectId as string });
  assert.deepEqual(firstFull.diaSourcesList.map((s) => s.diaSourceId), firstCurve.detections.map((p) => p.sourceId));

  const avro = await service.add({ owner: 'ann@example.org', name: 'avro', select: 'diaObjectId, alertMag', where: 'nSources >= 3 AND alertMag < 21', output: 'kafka-avro' });
  const avroMessages = await readTopic(avro.filter.topic ?? '');
  assert.equal(avroMessages.length, 10);
  for (const [i, m] of avroMessages.entries()) {
    const record = (await decodeMessage(m.value, m.key))[0]?.record as Row;
    const o = expected[i] as Row;
    assert.equal(record.diaObjectId, o.diaObjectId);
    assert.equal(record.diaSourceId, o.alertSourceId, 'the triggering detection');
    assert.equal((record.diaSource as Row).psfFlux, o.alertFlux);
    assert.equal(record.UTC, UTC);
  }
});

test('a second filter whose name gives the same topic is refused with TopicTaken; nothing is saved', { timeout: 60_000 }, async () => {
  const first = await service.add({ owner: 'bob@example.org', name: 'a b', select: 'diaObjectId', where: 'alertMag < 19', output: 'kafka' });
  const count = (await service.list()).length;
  await assert.rejects(service.add({ owner: 'bob@example.org', name: 'ab', select: 'objectId', output: 'kafka' }), (error: unknown) => {
    assert.ok(error instanceof TopicTakenError);
    assert.equal(error.topic, first.filter.topic);
    assert.equal(error.otherFilterId, first.filter.id);
    return true;
  });
  // Renaming another filter onto it is refused too.
  const other = await service.add({ owner: 'bob@example.org', name: 'other', select: 'objectId', output: 'none' });
  await assert.rejects(service.update(other.filter.id, { name: '(ab)', output: 'kafka' }), TopicTakenError);
  assert.equal((await service.list()).length, count + 1);
  assert.equal((await service.show(other.filter.id)).filter.output, 'none', 'the refused update changed nothing');
});

test('bad SELECT and WHERE are refused with every problem, its box and its position; nothing is saved or created', { timeout: 60_000 }, async () => {
  const count = (await service.list()).length;
  const topicsBefore = (await listTopics(admin)).filter((t) => t.startsWith(prefix)).length;
  await assert.rejects(service.add({ owner: 'ann@example.org', name: 'bad', select: 'diaObjectId, rra', where: 'alertMag < 19 AND nSourcs > 3', output: 'kafka' }), (error: unknown) => {
    assert.ok(error instanceof FilterValidationError);
    assert.deepEqual(
      error.problems.map((p) => [p.part, p.offset]),
      [['select', 13], ['where', 18]],
    );
    assert.match(error.problems[1]?.message ?? '', /unknown column "nSourcs".*did you mean "nSources"/);
    return true;
  });
  await assert.rejects(service.add({ owner: 'ann@example.org', name: 'from', select: 'diaObjectId, ra FROM x', where: '' }), (error: unknown) => {
    assert.ok(error instanceof FilterValidationError);
    assert.deepEqual(error.problems.map((p) => [p.part, p.offset]), [['select', 16]]);
    assert.match(error.problems[0]?.message ?? '', /FROM is not allowed/);
    return true;
  });
  await assert.rejects(service.add({ owner: 'ann@example.org', name: 'types', select: 'diaObjectId', where: "lower(nSources) = 'a'" }), (error: unknown) => {
    assert.ok(error instanceof FilterValidationError);
    assert.equal(error.problems[0]?.part, 'where');
    assert.match(error.problems[0]?.message ?? '', /lower\(INTEGER\)/);
    return true;
  });
  await assert.rejects(service.add({ owner: 'ann@example.org', name: '!!!', select: 'diaObjectId', output: 'kafka' }), (error: unknown) => {
    assert.ok(error instanceof FilterValidationError);
    assert.deepEqual(error.problems.map((p) => p.part), ['name']);
    return true;
  });
  await assert.rejects(service.add({ owner: 'no-such-user', name: 'x', select: 'diaObjectId' }), (error: unknown) => error instanceof FilterValidationError && error.problems[0]?.part === 'owner');
  await assert.rejects(service.add({ owner: 999, name: 'x', select: 'diaObjectId' }), (error: unknown) => error instanceof FilterValidationError && /no user 999/.test(error.message));
  assert.equal((await service.list()).length, count);
  assert.equal((await listTopics(admin)).filter((t) => t.startsWith(prefix)).length, topicsBefore);

  assert.deepEqual(await service.validate({ select: 'diaObjectId', where: 'alertMag < 19' }), []);
  assert.deepEqual((await service.validate({ select: 'diaObjectId', where: 'alertMag <' })).map((p) => p.part), ['where']);

  // An update with a bad WHERE keeps the stored filter as it was.
  const ok = await service.add({ owner: 'ann@example.org', name: 'fine', select: 'diaObjectId', where: 'alertMag < 19' });
  await assert.rejects(service.update(ok.filter.id, { where: 'alertMag << 19' }), FilterValidationError);
  assert.equal((await service.show(ok.filter.id)).filter.where, 'alertMag < 19');
});

test('output away from Kafka deletes the topic; back to Kafka creates and fills it; remove deletes filter and topic', { timeout: 120_000 }, async () => {
  const added = await service.add({ owner: 'carol@example.org', name: 'switch', select: 'diaObjectId', where: 'alertMag < 19', output: 'kafka-lite' });
  const topic = added.filter.topic ?? '';
  assert.ok((await listTopics(admin)).includes(topic));

  const silent = await service.update(added.filter.id, { output: 'email' });
  assert.equal(silent.filter.topic, null);
  assert.equal(silent.deletedTopic, topic);
  assert.ok(!(await listTopics(admin)).includes(topic));

  const back = await service.update(added.filter.id, { output: 'kafka' });
  assert.equal(back.filter.topic, topic);
  assert.equal(back.stream?.records, expectedRows(veryBright).length);
  const shown = await service.show(added.filter.id);
  assert.deepEqual(shown.stream, { topic, retained: expectedRows(veryBright).length });
  assert.equal(shown.outputLabel, 'kafka stream');
  assert.deepEqual(shown.counters, []);

  const carol = await service.list({ owner: 'carol@example.org' });
  assert.deepEqual(carol.map((f) => f.id), [added.filter.id]);
  assert.deepEqual(await service.list({ owner: 'nobody@example.org' }), []);

  const removed = await service.remove(added.filter.id);
  assert.deepEqual(removed, { id: added.filter.id, name: 'switch', topic, topicDeleted: true });
  assert.equal(await store.getFilter(added.filter.id), null);
  assert.ok(!(await listTopics(admin)).includes(topic));
  await assert.rejects(service.remove(added.filter.id), FilterNotFoundError);
  await assert.rejects(service.show(added.filter.id), FilterNotFoundError);
  await assert.rejects(service.update(added.filter.id, { where: '' }), FilterNotFoundError);
});

test('when Kafka cannot be reached, a Kafka filter is not saved and a change is undone; the error says so', { timeout: 60_000 }, async () => {
  const closed = { ...settings, bootstrap: ['127.0.0.1:9'] };
  const deadAdmin = createAdmin(closed, { retries: 0 });
  const deadProducer = createProducer(closed);
  const offline = createFilterService({ store, admin: deadAdmin, producer: deadProducer, topicPrefix: prefix });
  try {
    const count = (await offline.list()).length;
    await assert.rejects(offline.add({ owner: 'dan@example.org', name: 'offline', select: 'diaObjectId', where: 'alertMag < 19', output: 'kafka' }), /filter "offline" was not saved: setting up its stream .* failed/);
    assert.equal((await offline.list()).length, count);
    // Without Kafka output nothing needs Kafka: saved.
    const silent = await offline.add({ owner: 'dan@example.org', name: 'offline', select: 'diaObjectId', where: 'alertMag < 19' });
    await assert.rejects(offline.update(silent.filter.id, { output: 'kafka', where: 'alertMag < 18' }), /was left unchanged/);
    const after = (await offline.show(silent.filter.id)).filter;
    assert.deepEqual([after.output, after.where, after.topic], ['none', 'alertMag < 19', null]);
  } finally {
    await offline.close();
    await deadProducer.close().catch(() => undefined);
    await deadAdmin.close().catch(() => undefined);
  }
});
