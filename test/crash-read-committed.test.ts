// Reading committed data only (src/kafka/read-committed.ts): the records of aborted
// transactions never reach a read_committed consumer, also when one fetch holds several aborted
// transactions of the same producer (a broker restarted after crashes aborts one transaction
// per crash, all under its one transactional id) — which @platformatic/kafka alone lets through.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Admin } from '@platformatic/kafka';
import { createAdmin, createConsumer, createProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { dropAbortedRecords, type FetchedBatch } from '../src/kafka/read-committed.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

function data(producerId: bigint, firstOffset: bigint, count: number, transactional = true): FetchedBatch {
  return { producerId, firstOffset, lastOffsetDelta: count - 1, attributes: transactional ? TRANSACTIONAL : 0, records: Array.from({ length: count }, () => ({ key: null })) };
}

function marker(producerId: bigint, offset: bigint, commit: boolean): FetchedBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commit ? 1 : 0, 2);
  return { producerId, firstOffset: offset, lastOffsetDelta: 0, attributes: TRANSACTIONAL | CONTROL, records: [{ key }] };
}

test('every aborted transaction of a producer is dropped, committed ones and other producers kept', () => {
  const batches = [
    data(7n, 0n, 2), // aborted
    marker(7n, 2n, false),
    data(7n, 3n, 2), // committed
    marker(7n, 5n, true),
    data(8n, 6n, 1, false), // another producer, not transactional
    data(7n, 7n, 3), // aborted
    marker(7n, 10n, false),
    data(7n, 11n, 1), // committed
    marker(7n, 12n, true),
  ];
  const dropped = dropAbortedRecords({ abortedTransactions: [{ producerId: 7n, firstOffset: 7n }, { producerId: 7n, firstOffset: 0n }], records: batches });
  assert.equal(dropped, 5);
  assert.deepEqual(batches.map((b) => b.records.length), [0, 1, 2, 1, 1, 0, 1, 1, 1]);
  assert.deepEqual(batches.map((b) => b.firstOffset), [0n, 2n, 3n, 5n, 6n, 7n, 10n, 11n, 12n], 'batches stay, so the fetch position still moves past them');
});

test('an aborted transaction whose marker is beyond this fetch is dropped up to the end of the fetch', () => {
  const batches = [data(3n, 10n, 2), data(3n, 12n, 2)];
  assert.equal(dropAbortedRecords({ abortedTransactions: [{ producerId: 3n, firstOffset: 10n }], records: batches }), 4);
});

test('nothing listed as aborted: nothing dropped', () => {
  const batches = [data(1n, 0n, 2), marker(1n, 2n, true)];
  assert.equal(dropAbortedRecords({ abortedTransactions: null, records: batches }), 0);
  assert.equal(dropAbortedRecords({ abortedTransactions: [], records: batches }), 0);
  assert.equal(batches[0]?.records.length, 2);
});

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
const topic = `nightjar-test-read-committed-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

before(async () => {
  lease = await acquireLocalKafka();
  settings = { bootstrap: [lease.bootstrap] };
  admin = createAdmin(settings);
  await createTopic(admin, topic, 1);
});

after(async () => {
  await deleteTopic(admin, topic).catch(() => undefined);
  await admin.close();
  await releaseLocalKafka(lease);
});

async function readAll(isolation: 'read_committed' | 'read_uncommitted', wanted: number): Promise<string[]> {
  const consumer = createConsumer(settings, { groupId: `${topic}-${isolation}-${Math.random().toString(36).slice(2)}`, fromBeginning: true, isolation });
  const got: string[] = [];
  const timer = setTimeout(() => void consumer.close().catch(() => undefined), 8000);
  try {
    for await (const m of await consumer.consume([topic])) {
      got.push(m.value.toString());
      if (got.length >= wanted) break;
    }
  } finally {
    clearTimeout(timer);
    await consumer.close().catch(() => undefined);
  }
  return got;
}

test('on Kafka: three aborted and three committed transactions of one producer; read_committed sees only the committed', async () => {
  const producer = createProducer(settings, { transactionalId: `${topic}-tx` });
  try {
    for (let i = 0; i < 6; i++) {
      const tx = await producer.beginTransaction();
      await tx.send({ messages: [{ topic, value: Buffer.from(`t${i}a`), partition: 0 }, { topic, value: Buffer.from(`t${i}b`), partition: 0 }] });
      if (i % 2 === 0) await tx.abort();
      else await tx.commit();
    }
  } finally {
    await producer.close();
  }
  // Waits for more than there is (the consumer is closed after 5 s): nothing beyond the committed may come.
  assert.deepEqual(await readAll('read_committed', 7), ['t1a', 't1b', 't3a', 't3b', 't5a', 't5b']);
  assert.equal((await readAll('read_uncommitted', 12)).length, 12, 'the aborted records are in the log');
});
