// Input offsets of a batch: which range of each partition it covers, and the commit that marks
// them done (the last message of each partition, i.e. its offset + 1 as the group's position).
import type { Admin } from '@platformatic/kafka';
import { describeError } from '../kafka/errors.ts';
import { lastPerPartition, type Located } from '../kafka/partition-offsets.ts';
import { sourceOf } from './dead-letters.ts';

export interface PartitionRange {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
  count: number;
}

/** The offsets each topic partition of the batch covers, sorted by topic and partition. */
export function partitionRanges(messages: readonly Located[]): PartitionRange[] {
  const ranges = new Map<string, PartitionRange>();
  for (const m of messages) {
    const key = `${m.topic}\u0000${m.partition}`;
    const r = ranges.get(key);
    if (r === undefined) {
      ranges.set(key, { topic: m.topic, partition: m.partition, first: m.offset, last: m.offset, count: 1 });
    } else {
      if (m.offset < r.first) r.first = m.offset;
      if (m.offset > r.last) r.last = m.offset;
      r.count++;
    }
  }
  return [...ranges.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/**
 * Commits the batch: each partition up to its last message. Returns why it failed, if it did
 * (a rebalance took the partition away, the group coordinator moved): the batch is delivered,
 * so the only consequence is that it may be processed again.
 */
export async function commitOffsets(messages: readonly (Located & { commit(): void | Promise<void> })[]): Promise<string | undefined> {
  const last = lastPerPartition(messages);
  const results = await Promise.allSettled(last.map(async (m) => m.commit()));
  const failed = results.map((r, i) => (r.status === 'rejected' ? `${sourceOf(last[i] as Located)}: ${describeError(r.reason)}` : undefined)).filter((f) => f !== undefined);
  return failed.length === 0 ? undefined : failed.join('; ');
}

/**
 * Whether the group's committed offsets already cover the batch (each partition past its last
 * message). Asked after a transaction's commit request failed: the offsets are part of the
 * transaction, so they tell whether it was applied. requireStable: pending transactional
 * offsets are waited for, not read as absent.
 */
export async function batchCommitted(admin: Admin, groupId: string, messages: readonly Located[]): Promise<boolean> {
  const last = lastPerPartition(messages);
  const byTopic = new Map<string, number[]>();
  for (const m of last) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.partition]);
  const groups = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }], requireStable: true });
  const committed = new Map<string, bigint>();
  for (const g of groups) for (const t of g.topics) for (const p of t.partitions) committed.set(`${t.name}\u0000${p.partitionIndex}`, p.committedOffset);
  return last.every((m) => (committed.get(`${m.topic}\u0000${m.partition}`) ?? -1n) > m.offset);
}
