// Snapshots of a topic (and optionally a consumer group's position on it) through the Kafka
// Admin API, for `nightjar monitor`: start and end offsets (ListOffsets), log sizes
// (DescribeLogDirs, which needs DESCRIBE on the cluster where ACLs are on) and the group's
// committed offsets (OffsetFetch) and state (DescribeGroups). Nothing is consumed.
import type { Admin } from '@platformatic/kafka';
import type { KafkaSettings } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import { UserError } from '../util/errors.ts';
import { listClusterTopics, unknownTopicError } from './preflight.ts';
import type { GroupInfo, PartitionStatus, TopicSnapshot } from './stats.ts';

export interface TopicProbe {
  /** Takes one snapshot. Throws UserError when the topic is gone or the cluster does not answer. */
  snapshot(): Promise<TopicSnapshot>;
}

const EARLIEST = -2n;
const LATEST = -1n;

/**
 * A prober of one topic (and group). Log sizes are asked for once per snapshot until the
 * broker refuses; after a refusal they are reported missing with the reason, not retried.
 */
export function topicProbe(admin: Admin, settings: KafkaSettings, topic: string, groupId?: string): TopicProbe {
  let bytesProblem: string | undefined;
  const where = settings.bootstrap.join(',');

  const partitionCount = async (): Promise<number> => {
    const existing = await listClusterTopics(admin, settings);
    if (!existing.includes(topic)) throw unknownTopicError(topic, existing, where);
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount;
    if (count === undefined) throw new Error(`no metadata for topic ${topic} from ${where}`);
    return count;
  };

  const offsets = async (indexes: number[], timestamp: bigint): Promise<bigint[]> => {
    const listed = await admin.listOffsets({ topics: [{ name: topic, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
    const out = indexes.map(() => -1n);
    for (const t of listed) if (t.name === topic) for (const p of t.partitions) out[p.partitionIndex] = p.offset;
    const missing = out.findIndex((o) => o < 0n);
    if (missing >= 0) throw new Error(`${where} returned no ${timestamp === EARLIEST ? 'start' : 'end'} offset for ${topic} partition ${missing}`);
    return out;
  };

  /** Largest size over the replicas of each partition (the leader's, unless a follower is ahead). */
  const logSizes = async (indexes: number[]): Promise<(bigint | null)[]> => {
    if (bytesProblem !== undefined) return indexes.map(() => null);
    let brokers;
    try {
      brokers = await admin.describeLogDirs({ topics: [{ name: topic, partitions: indexes }] });
    } catch (err) {
      bytesProblem = `log sizes unavailable (DescribeLogDirs: ${describeError(err)})`;
      return indexes.map(() => null);
    }
    const sizes: (bigint | null)[] = indexes.map(() => null);
    for (const broker of brokers) {
      for (const dir of broker.results) {
        for (const t of dir.topics) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) {
            if (p.isFutureKey) continue; // a copy being moved between log dirs
            const known = sizes[p.partitionIndex];
            if (known === undefined) continue;
            if (known === null || p.partitionSize > known) sizes[p.partitionIndex] = p.partitionSize;
          }
        }
      }
    }
    return sizes;
  };

  const committed = async (id: string, indexes: number[]): Promise<(bigint | null)[]> => {
    const groups = await admin.listConsumerGroupOffsets({ groups: [{ groupId: id, topics: [{ name: topic, partitionIndexes: indexes }] }] });
    const out: (bigint | null)[] = indexes.map(() => null);
    for (const g of groups) {
      if (g.groupId !== id) continue;
      for (const t of g.topics) {
        if (t.name !== topic) continue;
        // -1: the group has committed nothing on this partition.
        for (const p of t.partitions) if (p.committedOffset >= 0n) out[p.partitionIndex] = p.committedOffset;
      }
    }
    return out;
  };

  const describeGroup = async (id: string): Promise<GroupInfo> => {
    const groups = await admin.describeGroups({ groups: [id] });
    const g = groups.get(id);
    return g === undefined ? { id } : { id, state: String(g.state), members: g.members.size };
  };

  return {
    async snapshot() {
      try {
        const count = await partitionCount();
        const indexes = Array.from({ length: count }, (_, i) => i);
        const time = Date.now();
        const [starts, ends, sizes, commits, group] = await Promise.all([
          offsets(indexes, EARLIEST),
          offsets(indexes, LATEST),
          logSizes(indexes),
          groupId === undefined ? undefined : committed(groupId, indexes),
          groupId === undefined ? undefined : describeGroup(groupId),
        ]);
        const partitions: PartitionStatus[] = indexes.map((partition) => {
          const base = { partition, start: starts[partition] as bigint, end: ends[partition] as bigint, logBytes: sizes[partition] ?? null };
          return commits === undefined ? base : { ...base, committed: commits[partition] ?? null };
        });
        return {
          topic,
          time,
          partitions,
          ...(group === undefined ? {} : { group }),
          ...(bytesProblem === undefined ? {} : { bytesProblem }),
        };
      } catch (err) {
        if (err instanceof UserError) throw err;
        throw new Error(`monitoring ${topic} on ${where} failed: ${describeError(err)}`, { cause: err });
      }
    },
  };
}
