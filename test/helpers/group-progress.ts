// What crash and shutdown tests ask Kafka about a broker's progress: whether its group has
// committed a whole topic, and how many records a topic holds when aborted transactions count.
import type { Admin } from '@platformatic/kafka';
import { createConsumer, type KafkaSettings } from '../../src/kafka/connection.ts';
import { endOffsets } from '../../src/kafka/topics.ts';

/** The group has committed every message now in the topic (pending transactional commits waited for). */
export async function caughtUp(admin: Admin, group: string, topic: string): Promise<boolean> {
  const ends = await endOffsets(admin, topic);
  const [offsets] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: ends.map((_, p) => p) }] }], requireStable: true });
  const committed = new Map((offsets?.topics[0]?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
  return ends.every((end, p) => (committed.get(p) ?? -1n) >= end);
}

/** Records in the topic as a read_uncommitted consumer sees them: committed, open and aborted ones. */
export async function countUncommitted(settings: KafkaSettings, admin: Admin, topic: string): Promise<number> {
  const ends = await endOffsets(admin, topic);
  if (ends.every((e) => e === 0n)) return 0;
  const consumer = createConsumer(settings, { groupId: `nightjar-test-uncommitted-${Date.now()}-${Math.random().toString(36).slice(2)}`, fromBeginning: true, isolation: 'read_uncommitted' });
  let n = 0;
  try {
    const stream = await consumer.consume([topic]);
    const atEnd = (): boolean => stream.readableLength === 0 && ends.every((end, p) => (stream.offsetsToFetch.get(`${topic}:${p}`) ?? 0n) >= end);
    const poll = setInterval(() => atEnd() && void stream.close().catch(() => undefined), 50);
    try {
      for await (const _ of stream) {
        n++;
        if (atEnd()) break;
      }
    } finally {
      clearInterval(poll);
    }
  } finally {
    await consumer.close().catch(() => undefined);
  }
  return n;
}
