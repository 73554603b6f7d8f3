// Consumer lag of the broker's group, for nightjar_consumer_lag: per partition of the raw
// topics, the end offset minus the group's committed offset (minus the start offset where the
// group has committed nothing yet), read through the admin API every few seconds, away from
// the batch path. With several broker processes in one group this is the group's lag, the
// same in each of them.
import type { Admin } from '@platformatic/kafka';
import { describeError } from '../kafka/errors.ts';
import type { Logger } from '../util/log.ts';
import type { Gauge } from './metrics.ts';

const EARLIEST = -2n;
const LATEST = -1n;

export interface PartitionLag {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
  committed: bigint | null;
  lag: bigint;
}

/** Reads the lag of a group on some topics, once. */
export async function readLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  const partitionsOf = new Map<string, number[]>();
  for (const topic of topics) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    partitionsOf.set(topic, Array.from({ length: count }, (_, i) => i));
  }
  const offsets = async (timestamp: bigint): Promise<Map<string, bigint>> => {
    const listed = await admin.listOffsets({ topics: topics.map((name) => ({ name, partitions: (partitionsOf.get(name) ?? []).map((partitionIndex) => ({ partitionIndex, timestamp })) })) });
    const out = new Map<string, bigint>();
    for (const t of listed) for (const p of t.partitions) out.set(`${t.name}/${p.partitionIndex}`, p.offset);
    return out;
  };
  const [starts, ends, groups] = await Promise.all([
    offsets(EARLIEST),
    offsets(LATEST),
    admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: topics.map((name) => ({ name, partitionIndexes: partitionsOf.get(name) ?? [] })) }] }),
  ]);
  const committed = new Map<string, bigint>();
  for (const g of groups) {
    if (g.groupId !== groupId) continue;
    for (const t of g.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) committed.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
  }
  const out: PartitionLag[] = [];
  for (const topic of topics) {
    for (const partition of partitionsOf.get(topic) ?? []) {
      const key = `${topic}/${partition}`;
      const start = starts.get(key) ?? 0n;
      const end = ends.get(key) ?? 0n;
      const c = committed.get(key) ?? null;
      const position = c === null || c < start ? start : c;
      out.push({ topic, partition, start, end, committed: c, lag: end > position ? end - position : 0n });
    }
  }
  return out;
}

export interface LagMonitor {
  /** Reads the lag now and updates the gauge. */
  refresh(): Promise<void>;
  /** Stops the timer and waits for a reading under way. */
  stop(): Promise<void>;
}

export function startLagMonitor(options: { admin: Admin; groupId: string; topics: readonly string[]; gauge: Gauge; intervalMs: number; log: Logger }): LagMonitor {
  let failing = false;
  let stopped = false;
  let running: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= (async () => {
      try {
        const lags = await readLag(options.admin, options.groupId, options.topics);
        for (const l of lags) options.gauge.set({ topic: l.topic, partition: l.partition }, Number(l.lag));
        if (failing) options.log.info('consumer lag readable again');
        failing = false;
      } catch (err) {
        if (!failing && !stopped) options.log.warn('cannot read the consumer lag', { error: describeError(err) });
        failing = true;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void refresh(), options.intervalMs);
  timer.unref();
  void refresh();
  return {
    refresh,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
