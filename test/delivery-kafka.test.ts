// Filter streams on the real local Kafka: topics with a 7-day retention and a record limit above
// the broker's 1 MB default, records produced byte for byte (full Rubin records over 1 MB
// included), records over the limit dropped and counted, a reset that leaves only new records,
// the backfill of at most 10 records, and renames.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { backfill, BACKFILL_RECORDS, DEFAULT_RETENTION_MS, ensureFilterTopic, moveFilterTopic, produceFilterRecords, resetFilterTopic, topicConfig } from '../src/delivery/filter-output.ts';
import { formatUtc, type FilterRow } from '../src/delivery/records.ts';
import { avroStreamEncoder, DEFAULT_MAX_RECORD_BYTES, jsonStreamEncoder, type EncodedRecord } from '../src/delivery/stream-encoder.ts';
import { avroStreamPlan } from '../src/delivery/avro-records.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { createAdmin, createConsumer, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic, endOffsets, listTopics, RECORD_BATCH_FRAMING_BYTES, startOffsets } from '../src/kafka/topics.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const data = path.resolve(repoRoot, '../shared/data');
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const topicNames: string[] = [];
const newTopic = (label: string): string => {
  const name = `nightjar-test-delivery-${label}-${run}`;
  topicNames.push(name);
  return name;
};

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let rubin: Alert[];

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  rubin = (await readAlertFile(path.join(data, 'fink-client/datatest/lsst/part-2-918301.avro'))).map((d) => toAlert(d.record, d.schema.name));
});

after(async () => {
  for (const name of topicNames) await deleteTopic(admin, name).catch(() => false);
  await producer.close();
  await admin.close();
  await releaseLocalKafka(lease);
});

/** Every record now retained in a one-partition topic, read from the start by a new group. */
async function readTopic(topic: string): Promise<{ key: Buffer | null; value: Buffer; offset: bigint }[]> {
  const [start] = await startOffsets(admin, topic);
  const [end] = await endOffsets(admin, topic);
  const expected = Number((end ?? 0n) - (start ?? 0n));
  if (expected === 0) return [];
  const consumer = createConsumer(settings, { groupId: `nightjar-test-delivery-read-${randomBytes(4).toString('hex')}`, fromBeginning: true });
  const out: { key: Buffer | null; value: Buffer; offset: bigint }[] = [];
  try {
    const stream = await consumer.consume([topic]);
    const timer = setTimeout(() => stream.destroy(new Error(`timed out after ${out.length} of ${expected} records of ${topic}`)), 60_000);
    try {
      for await (const m of stream) {
        out.push({ key: m.key ?? null, value: m.value, offset: m.offset });
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

function rowOf(alert: Alert): FilterRow {
  return alert.objectKind === 'object' ? { diaObjectId: alert.objectId, ra: alert.ra, decl: alert.dec } : { diaObjectId: null, ra: alert.ra, decl: alert.dec };
}

test('a filter topic gets 7 days of retention and a record limit above the broker default; a changed setting reaches an existing topic', { timeout: 60_000 }, async () => {
  const topic = newTopic('config');
  const info = await ensureFilterTopic(admin, topic);
  assert.deepEqual(info, { topic, created: true, partitions: 1, retentionMs: DEFAULT_RETENTION_MS, maxMessageBytes: DEFAULT_MAX_RECORD_BYTES + RECORD_BATCH_FRAMING_BYTES });
  let config = await topicConfig(admin, topic, ['retention.ms', 'max.message.bytes']);
  assert.equal(config.get('retention.ms'), String(7 * 24 * 3600 * 1000));
  assert.equal(config.get('max.message.bytes'), String(DEFAULT_MAX_RECORD_BYTES + RECORD_BATCH_FRAMING_BYTES));

  const again = await ensureFilterTopic(admin, topic, { retentionMs: 3_600_000, maxRecordBytes: 2_000_000 });
  assert.equal(again.created, false);
  config = await topicConfig(admin, topic, ['retention.ms', 'max.message.bytes']);
  assert.equal(config.get('retention.ms'), '3600000');
  assert.equal(config.get('max.message.bytes'), String(2_000_000 + RECORD_BATCH_FRAMING_BYTES));
});

test('full records of real Rubin alerts, over 1 MB included, arrive byte for byte; records over the limit are dropped and counted', { timeout: 120_000 }, async () => {
  const topic = newTopic('full');
  await ensureFilterTopic(admin, topic);
  const utc = formatUtc(new Date());
  const encoder = jsonStreamEncoder('kafka-full');
  const records = rubin.map((alert) => encoder.encode(rowOf(alert), alert, utc));
  const sizes = records.map((r) => r.value.length);
  assert.ok(sizes.some((s) => s > 1_048_588), 'the sample has a record over the broker\'s default limit');

  const counts = await produceFilterRecords(producer, topic, records);
  assert.deepEqual(counts, { records: records.length, bytes: sizes.reduce((a, b) => a + b, 0), dropped: 0, droppedBytes: 0 });
  const limit = 1_000_000;
  const small = await produceFilterRecords(producer, topic, records, { maxRecordBytes: limit });
  const over = sizes.filter((s) => s > limit);
  assert.equal(small.dropped, over.length);
  assert.equal(small.droppedBytes, over.reduce((a, b) => a + b, 0));
  assert.equal(small.records, records.length - over.length);

  const got = await readTopic(topic);
  const expected = [...records, ...records.filter((r) => r.value.length <= limit)];
  assert.equal(got.length, expected.length);
  got.forEach((m, i) => {
    assert.ok(m.value.equals((expected[i] as EncodedRecord).value), `record ${i} differs`);
    assert.equal(m.key, null);
  });
  const first = parse(got[0]?.value.toString() ?? '') as Record<string, unknown>;
  assert.equal(first.diaObjectId, rubin[0]?.objectId);
});

test('reset deletes the old records; a new group from the start sees only what came after', { timeout: 120_000 }, async () => {
  const topic = newTopic('reset');
  await ensureFilterTopic(admin, topic);
  const encoder = jsonStreamEncoder('kafka');
  const old = rubin.map((a) => encoder.encode({ ...rowOf(a), generation: 'old' }, a, formatUtc(new Date())));
  await produceFilterRecords(producer, topic, old);
  assert.equal(await resetFilterTopic(admin, topic), old.length);
  assert.equal(await resetFilterTopic(admin, topic), 0, 'nothing left to delete');
  assert.deepEqual(await startOffsets(admin, topic), [BigInt(old.length)]);

  const fresh = rubin.slice(0, 3).map((a) => encoder.encode({ ...rowOf(a), generation: 'new' }, a, formatUtc(new Date())));
  await produceFilterRecords(producer, topic, fresh);
  const got = await readTopic(topic);
  assert.deepEqual(got.map((m) => m.value.toString()), fresh.map((r) => r.value.toString()));
  assert.deepEqual(got.map((m) => m.offset), [7n, 8n, 9n]);
});

test('backfill empties the stream and puts in at most 10 records, skipping records over the limit', { timeout: 120_000 }, async () => {
  const topic = newTopic('backfill');
  const encoder = jsonStreamEncoder('kafka-lite');
  await ensureFilterTopic(admin, topic);
  await produceFilterRecords(producer, topic, rubin.map((a) => encoder.encode(rowOf(a), a, 'stale')));

  // 25 rows: the 7 real alerts' objects, then 18 rows whose alert is not stored.
  const rows: FilterRow[] = [...rubin.map((a, i) => ({ ...rowOf(a), n: i })), ...Array.from({ length: 18 }, (_, i) => ({ diaObjectId: 1000n + BigInt(i), ra: 0, decl: 0, n: 7 + i }))];
  const byRow = new Map(rows.slice(0, rubin.length).map((row, i) => [row, rubin[i]]));
  const producedAt = new Date(Date.UTC(2026, 0, 29, 11, 40, 14));
  const result = await backfill(admin, producer, topic, { rows, encoder, alertFor: (row) => byRow.get(row), producedAt, maxRecordBytes: 100_000 });
  // The lite records of the long-lived objects are over 100 kB: skipped, and later rows fill in.
  const liteSizes = rubin.map((a, i) => encoder.encode(rows[i] as FilterRow, a, '2026-01-29 11:40:14').value.length);
  const tooBig = liteSizes.filter((s) => s > 100_000).length;
  assert.ok(tooBig > 0 && tooBig < rubin.length, `lite sizes ${liteSizes.join(', ')}`);
  assert.equal(result.deleted, rubin.length);
  assert.equal(result.records, BACKFILL_RECORDS);
  assert.equal(result.dropped, tooBig);
  assert.equal(result.missingAlerts, BACKFILL_RECORDS + tooBig - rubin.length);
  assert.equal(result.failed, 0);

  const got = (await readTopic(topic)).map((m) => parse(m.value.toString()) as Record<string, unknown>);
  assert.equal(got.length, BACKFILL_RECORDS);
  const expectedRows = rows.filter((_, i) => i >= rubin.length || (liteSizes[i] as number) <= 100_000).slice(0, BACKFILL_RECORDS);
  assert.deepEqual(got.map((r) => r.n), expectedRows.map((r) => r.n));
  assert.ok(got.every((r) => r.UTC === '2026-01-29 11:40:14'));
  assert.equal(got.filter((r) => 'alert' in r).length, rubin.length - tooBig);

  // Fewer rows than the limit: all of them, and the earlier backfill is gone.
  const again = await backfill(admin, producer, topic, { rows: rows.slice(-2), encoder, alertFor: () => undefined });
  assert.equal(again.deleted, BACKFILL_RECORDS);
  assert.deepEqual((await readTopic(topic)).map((m) => (parse(m.value.toString()) as Record<string, unknown>).n), [23, 24]);
});

test('Avro backfill: key = schema, value decodes with it; a row that does not fit the schema is counted, not sent', { timeout: 120_000 }, async () => {
  const topic = newTopic('avro');
  const plan = avroStreamPlan('avro test', [{ name: 'diaObjectId', type: 'BIGINT' }, { name: 'ra', type: 'DOUBLE' }, { name: 'decl', type: 'DOUBLE' }]);
  const rows: FilterRow[] = [{ diaObjectId: 'not a number', ra: 1, decl: 2 }, ...rubin.map(rowOf)];
  const result = await backfill(admin, producer, topic, { rows, encoder: avroStreamEncoder(plan), alertFor: (row) => rubin[rows.indexOf(row) - 1] });
  assert.equal(result.failed, 1);
  assert.match(result.firstFailure ?? '', /column "diaObjectId"/);
  assert.equal(result.records, rubin.length);
  const got = await readTopic(topic);
  assert.equal(got.length, rubin.length);
  for (const [i, m] of got.entries()) {
    assert.equal(m.key?.toString(), plan.schema.text);
    const record = (await decodeMessage(m.value, m.key))[0]?.record as Record<string, unknown>;
    assert.equal(record.diaSourceId, rubin[i]?.sourceId);
  }
});

test('rename: the stream moves to the new topic with the same settings; the old topic is gone', { timeout: 60_000 }, async () => {
  const oldTopic = newTopic('old-name');
  const renamed = newTopic('new-name');
  await ensureFilterTopic(admin, oldTopic, { retentionMs: 86_400_000 });
  await produceFilterRecords(producer, oldTopic, [{ key: null, value: Buffer.from('{"x":1}'), objectKey: undefined }]);
  const info = await moveFilterTopic(admin, oldTopic, renamed, { retentionMs: 86_400_000 });
  assert.equal(info.created, true);
  const topics = await listTopics(admin);
  assert.ok(topics.includes(renamed));
  assert.ok(!topics.includes(oldTopic));
  assert.equal((await topicConfig(admin, renamed, ['retention.ms'])).get('retention.ms'), '86400000');
  assert.deepEqual(await readTopic(renamed), []);
  // Same name: nothing moves.
  assert.equal((await moveFilterTopic(admin, renamed, renamed, { retentionMs: 86_400_000 })).created, false);
});
