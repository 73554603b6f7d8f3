// The group reader (src/pipeline/group-reader.ts) that lets broker workers share partitions:
// which runs of partition ownership a new membership keeps; on a real Kafka, a partition whose
// offsets a previous owner's transaction still holds is read only once that transaction ends, from
// the offsets it committed; and after a rebalance a message may be processed (claimed) only by the
// member that still owns its partition, tagged with the new generation, while a batch claimed
// before the rebalance cannot commit its offsets (its transaction is aborted).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Admin, ConsumerGroupJoinPayload } from '@platformatic/kafka';
import { createAdmin, createConsumer, createProducer, type KafkaConsumer, type KafkaSettings } from '../src/kafka/connection.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { lastPerPartition } from '../src/kafka/partition-offsets.ts';
import { createTopic } from '../src/kafka/topics.ts';
import { TransactionAbortedError, TransactionalProducer } from '../src/kafka/transactions.ts';
import { GroupReader, nextMembership, type GroupStream } from '../src/pipeline/group-reader.ts';
import type { ConsumedMessage } from '../src/pipeline/pipeline.ts';
import type { Logger } from '../src/util/log.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

let kafka: Lease;
let settings: KafkaSettings;
let admin: Admin;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  kafka = await acquireLocalKafka();
  settings = { bootstrap: [kafka.bootstrap] };
  admin = createAdmin(settings, { retries: 0 });
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  if (kafka !== undefined) await releaseLocalKafka(kafka);
});

function join(generationId: number, memberId: string, assignments: [string, number[]][]): ConsumerGroupJoinPayload {
  return { groupId: 'g', memberId, generationId, assignments: assignments.map(([topic, partitions]) => ({ topic, partitions })) };
}

test('a membership keeps the runs of partitions owned in the generation before (or the same one) by the same member; anything else starts a run', () => {
  const first = nextMembership(undefined, join(4, 'm1', [['t', [0, 1, 2]]]), 1);
  assert.deepEqual([...first.runs.values()].map((r) => [r.partition, r.since]), [[0, 4], [1, 4], [2, 4]]);
  const next = nextMembership(first, join(5, 'm1', [['t', [1, 2, 3]]]), 1);
  assert.equal(next.runs.get('t\u00001'), first.runs.get('t\u00001'), 'partition 1 owned without a break: same run');
  assert.equal(next.runs.get('t\u00002'), first.runs.get('t\u00002'));
  assert.equal(next.runs.get('t\u00003')?.since, 5, 'partition 3 is new: a run from generation 5');
  assert.equal(next.runs.get('t\u00000'), undefined, 'partition 0 is gone');
  const same = nextMembership(next, join(5, 'm1', [['t', [1, 2, 3]]]), 1);
  assert.equal(same.runs.get('t\u00001'), first.runs.get('t\u00001'), 'the same generation again (a static member rejoining) keeps the runs');
  const skipped = nextMembership(next, join(7, 'm1', [['t', [1, 2, 3]]]), 1);
  assert.notEqual(skipped.runs.get('t\u00001'), first.runs.get('t\u00001'), 'a generation missed: the partition may have had another owner meanwhile');
  assert.equal(skipped.runs.get('t\u00001')?.since, 7);
  const otherMember = nextMembership(next, join(6, 'm2', [['t', [1]]]), 1);
  assert.notEqual(otherMember.runs.get('t\u00001'), first.runs.get('t\u00001'), 'a new member id (replaced in the group): new runs');
});

interface Captured {
  log: Logger;
  lines: string[];
}

function capture(): Captured {
  const lines: string[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (msg) => void lines.push(msg),
    warn: (msg) => void lines.push(msg),
    error: (msg) => void lines.push(msg),
    child: () => log,
  };
  return { log, lines };
}

function readerFor(consumer: KafkaConsumer, groupId: string, topics: string[], signal: AbortSignal, log: Logger): GroupReader {
  return new GroupReader({ groupId, client: consumer.client, open: async () => (await consumer.consume(topics)) as unknown as GroupStream, admin, signal, log, retryMs: 200 });
}

async function produce(topic: string, partitions: number, perPartition: number): Promise<void> {
  const producer = createProducer(settings);
  try {
    const messages = [];
    for (let p = 0; p < partitions; p++) for (let i = 0; i < perPartition; i++) messages.push({ topic, partition: p, value: Buffer.from(`p${p}-m${i}`) });
    await sendAll(producer, messages);
  } finally {
    await producer.close();
  }
}

/** The group's committed offset of each partition (-1 when none), pending transactional commits waited for. */
async function committedOffsets(group: string, topic: string, partitions: number): Promise<bigint[]> {
  const [offsets] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: Array.from({ length: partitions }, (_, p) => p) }] }], requireStable: true });
  const byPartition = new Map((offsets?.topics[0]?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
  return Array.from({ length: partitions }, (_, p) => byPartition.get(p) ?? -1n);
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);
}

test('a partition whose offsets an open transaction holds is read once the transaction ends, from the offset it committed', { timeout: 60_000 }, async () => {
  const topic = `reader-stable-${run}`;
  const group = `reader-stable-${run}`;
  await createTopic(admin, topic, 1);
  await produce(topic, 1, 20);

  // The previous owner: a transaction that commits the group's offset 10 (messages 0..9 done), left open.
  const previous = createProducer(settings, { transactionalId: `reader-previous-${run}` });
  cleanups.push(() => previous.close());
  const tx = await previous.beginTransaction();
  await tx.addConsumer({ groupId: group } as Parameters<typeof tx.addConsumer>[0]);
  const coordinatorId = [...(await admin.metadata({ topics: [] })).brokers.keys()][0];
  await tx.addOffset({ topic, partition: 0, offset: 9n, metadata: { consumer: { groupId: group, generationId: -1, memberId: '', coordinatorId } } } as unknown as Parameters<typeof tx.addOffset>[0]);

  const consumer = createConsumer(settings, { groupId: group, fromBeginning: true, groupInstanceId: 'r1' });
  cleanups.push(() => consumer.close());
  const stopper = new AbortController();
  cleanups.push(async () => stopper.abort());
  const { log, lines } = capture();
  const reader = readerFor(consumer, group, [topic], stopper.signal, log);
  await reader.start();
  const messages = reader[Symbol.asyncIterator]();
  const first = messages.next();
  assert.equal(await within(first, 3000), 'pending', 'nothing is read while the transaction holds the offsets');
  assert.ok(lines.some((l) => l.startsWith('waiting for the committed offsets')), `the wait is logged: ${lines.join('; ')}`);

  await tx.commit();
  const got: ConsumedMessage[] = [];
  const firstResult = await first;
  assert.ok(firstResult.done !== true);
  got.push(firstResult.value);
  while (got.length < 10) {
    const next = await messages.next();
    assert.ok(next.done !== true);
    got.push(next.value);
  }
  assert.deepEqual(got.map((m) => m.offset), Array.from({ length: 10 }, (_, i) => BigInt(10 + i)), 'read from the committed offset 10, in order');
  assert.equal(reader.dropped, 10, 'messages 0..9, which the stream read from before the commit, dropped');
  const m = got[0] as ConsumedMessage;
  assert.ok(reader.claim(m));
  assert.equal((m.metadata?.consumer as { generationId: number }).generationId, reader.generationId, 'a claimed message carries the present generation');
  stopper.abort();
});

test('after a rebalance a member claims only the messages of partitions it still owns, tagged with the new generation; the new owner reads the rest', { timeout: 90_000 }, async () => {
  const topic = `reader-rebalance-${run}`;
  const group = `reader-rebalance-${run}`;
  await createTopic(admin, topic, 2);
  await produce(topic, 2, 10);
  const stopper = new AbortController();
  cleanups.push(async () => stopper.abort());

  const a = createConsumer(settings, { groupId: group, fromBeginning: true, groupInstanceId: 'a' });
  cleanups.push(() => a.close());
  const readerA = readerFor(a, group, [topic], stopper.signal, capture().log);
  await readerA.start();
  const messagesA = readerA[Symbol.asyncIterator]();
  const readByA: ConsumedMessage[] = [];
  while (readByA.length < 20) {
    const next = await messagesA.next();
    assert.ok(next.done !== true);
    readByA.push(next.value);
  }
  const before = readerA.generationId;
  assert.deepEqual(readerA.owned().sort(), [`${topic}/0`, `${topic}/1`]);
  // A batch claimed now, under the first generation, whose commit comes after the rebalance.
  assert.ok(readByA.every((m) => readerA.claim(m)));
  const inFlight = readByA.map((m) => ({ ...m }));

  const b = createConsumer(settings, { groupId: group, fromBeginning: true, groupInstanceId: 'b' });
  cleanups.push(() => b.close());
  const readerB = readerFor(b, group, [topic], stopper.signal, capture().log);
  await readerB.start();
  const deadline = Date.now() + 30_000;
  while (readerA.owned().length !== 1 || readerB.owned().length !== 1) {
    assert.ok(Date.now() < deadline, `the partitions spread over the two members (a: ${readerA.owned().join()}, b: ${readerB.owned().join()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok((readerA.generationId ?? 0) > (before ?? 0), 'a new generation');
  const kept = readerA.owned()[0] as string;

  // Its transaction carries the old generation: Kafka refuses the offsets, nothing is committed.
  const transactions = new TransactionalProducer(settings, { transactionalId: `reader-a-${run}`, log: capture().log });
  cleanups.push(() => transactions.close());
  const commit = (messages: readonly ConsumedMessage[]): Promise<void> => transactions.run({ topics: [], send: async () => undefined, offsets: { groupId: group, messages: lastPerPartition(messages) } });
  await assert.rejects(commit(inFlight), TransactionAbortedError, 'a batch claimed under the old generation is not committed');
  assert.deepEqual(await committedOffsets(group, topic, 2), [-1n, -1n], 'no offset committed');
  for (const m of readByA) {
    const mine = `${m.topic}/${m.partition}` === kept;
    assert.equal(readerA.claim(m), mine, `${m.topic}/${m.partition}@${m.offset}: claimed only if a still owns the partition`);
    if (mine) assert.equal((m.metadata?.consumer as { generationId: number }).generationId, readerA.generationId, 'tagged with the new generation');
  }
  // Claimed again, what a still owns commits.
  const keptMessages = readByA.filter((m) => `${m.topic}/${m.partition}` === kept);
  await commit(keptMessages);
  const committed = await committedOffsets(group, topic, 2);
  const keptPartition = Number(kept.slice(kept.lastIndexOf('/') + 1));
  assert.equal(committed[keptPartition], 10n, 'the kept partition committed up to its last message');
  assert.equal(committed[1 - keptPartition], -1n, 'nothing committed for the partition a lost');

  const messagesB = readerB[Symbol.asyncIterator]();
  const readByB: ConsumedMessage[] = [];
  while (readByB.length < 10) {
    const next = await messagesB.next();
    assert.ok(next.done !== true);
    readByB.push(next.value);
  }
  const taken = readerB.owned()[0] as string;
  assert.notEqual(taken, kept);
  assert.deepEqual(readByB.map((m) => `${m.topic}/${m.partition}@${m.offset}`), Array.from({ length: 10 }, (_, i) => `${taken}@${i}`), 'b reads the partition it took over from the start (nothing was committed)');
  assert.ok(readByB.every((m) => readerB.claim(m)));
  stopper.abort();
});
