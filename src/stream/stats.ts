// The numbers `nightjar monitor` shows, computed from snapshots of a topic (and a consumer
// group) taken a known time apart. Pure functions: snapshots are gathered in topic-status.ts.
//
// Definitions:
// - messages in the topic: the sum over partitions of end offset − start offset (what is
//   retained now; transaction markers, if any producer used transactions, count too);
// - messages/s: growth of the summed end offsets between two snapshots, per second;
// - log bytes: the size on the broker of each partition's log (record batches as stored,
//   i.e. after producer compression, with Kafka's batch headers), as DescribeLogDirs reports
//   it for the largest replica; bytes/s is its growth per second. When retention deletes a
//   segment between two snapshots the size shrinks and no byte rate is given for that interval;
// - lag of a group on a partition: end − max(committed, start), the messages it has yet to
//   read (Kafka's tools show end − committed, which overstates it once retention passed the
//   committed offset); none when the group has committed nothing there.

export interface PartitionStatus {
  readonly partition: number;
  /** Oldest retained offset. */
  readonly start: bigint;
  /** Next offset to be written (the high watermark). */
  readonly end: bigint;
  /** Log size in bytes, or null when the broker did not tell (see TopicSnapshot.bytesProblem). */
  readonly logBytes: bigint | null;
  /** The group's committed offset (the next one it will read), or null when it has none; undefined without a group. */
  readonly committed?: bigint | null;
}

export interface GroupInfo {
  readonly id: string;
  /** Kafka's group state (Stable, Empty, Dead for an unknown group, ...), when described. */
  readonly state?: string;
  readonly members?: number;
}

export interface TopicSnapshot {
  readonly topic: string;
  /** When the snapshot was taken, ms since the epoch. */
  readonly time: number;
  readonly partitions: readonly PartitionStatus[];
  readonly group?: GroupInfo;
  /** Why log sizes are missing (e.g. not authorised to describe log dirs). */
  readonly bytesProblem?: string;
}

/** Messages retained in one partition. */
export function retained(p: PartitionStatus): bigint {
  return p.end - p.start;
}

/** Messages the group has yet to read on this partition; null when it committed nothing there (or no group). */
export function lag(p: PartitionStatus): bigint | null {
  if (p.committed === undefined || p.committed === null) return null;
  const from = p.committed > p.start ? p.committed : p.start;
  return p.end > from ? p.end - from : 0n;
}

export interface Totals {
  readonly partitions: number;
  /** Sum of retained messages. */
  readonly messages: bigint;
  /** Sum of end offsets: every message ever written (before retention). */
  readonly written: bigint;
  /** Sum of log sizes; null when any is unknown. */
  readonly logBytes: bigint | null;
  /** Sum of committed offsets over the partitions that have one; null without a group. */
  readonly committed: bigint | null;
  /** Sum of the known lags; null without a group or when no partition has a committed offset. */
  readonly lag: bigint | null;
  /** Partitions where the group has no committed offset (0 without a group). */
  readonly uncommittedPartitions: number;
}

export function totals(s: TopicSnapshot): Totals {
  let messages = 0n;
  let written = 0n;
  let logBytes: bigint | null = 0n;
  let committed: bigint | null = s.group === undefined ? null : 0n;
  let lagSum: bigint | null = null;
  let uncommitted = 0;
  for (const p of s.partitions) {
    messages += retained(p);
    written += p.end;
    logBytes = logBytes === null || p.logBytes === null ? null : logBytes + p.logBytes;
    if (s.group !== undefined) {
      const l = lag(p);
      if (l === null) uncommitted++;
      else {
        lagSum = (lagSum ?? 0n) + l;
        committed = (committed ?? 0n) + (p.committed as bigint);
      }
    }
  }
  return { partitions: s.partitions.length, messages, written, logBytes, committed, lag: lagSum, uncommittedPartitions: uncommitted };
}

export interface Rates {
  /** Seconds between the two snapshots. */
  readonly seconds: number;
  /** New messages per second (growth of the end offsets). */
  readonly messagesPerSecond: number;
  /** Growth of the log size per second; null when unknown or when retention shrank a log. */
  readonly bytesPerSecond: number | null;
  /** Growth of the group's committed offsets per second; null without a group on both. */
  readonly committedPerSecond: number | null;
}

/** The same partitions, indexed by partition number (a topic can gain partitions between snapshots). */
function byPartition(s: TopicSnapshot): Map<number, PartitionStatus> {
  return new Map(s.partitions.map((p) => [p.partition, p]));
}

/**
 * Rates between two snapshots of the same topic (and group); null when they are not at least
 * 1 ms apart. A partition added in between counts from offset 0 and size 0; the committed
 * rate counts only partitions with a committed offset in both snapshots.
 */
export function rates(before: TopicSnapshot, after: TopicSnapshot): Rates | null {
  const seconds = (after.time - before.time) / 1000;
  if (!(seconds >= 0.001)) return null;
  const old = byPartition(before);
  let newMessages = 0n;
  let newBytes: bigint | null = 0n;
  let committedDelta: bigint | null = before.group !== undefined && after.group !== undefined ? 0n : null;
  for (const p of after.partitions) {
    const q = old.get(p.partition);
    newMessages += p.end - (q?.end ?? 0n);
    const bytesBefore = q === undefined ? 0n : q.logBytes;
    if (newBytes !== null) {
      // A shrinking log lost a segment to retention: its growth in between is unknown.
      newBytes = p.logBytes === null || bytesBefore === null || p.logBytes < bytesBefore ? null : newBytes + (p.logBytes - bytesBefore);
    }
    if (committedDelta !== null && p.committed != null && q?.committed != null) committedDelta += p.committed - q.committed;
  }
  return {
    seconds,
    messagesPerSecond: Number(newMessages) / seconds,
    bytesPerSecond: newBytes === null ? null : Number(newBytes) / seconds,
    committedPerSecond: committedDelta === null ? null : Number(committedDelta) / seconds,
  };
}
