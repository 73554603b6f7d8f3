// Offsets within one batch of consumed messages, shared by every consumer that commits batches.

/** A consumed message's place in the log. */
export interface Located {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** The message with the highest offset of each topic partition (committing it commits the partition up to there). */
export function lastPerPartition<T extends Located>(messages: readonly T[]): T[] {
  const last = new Map<string, T>();
  for (const m of messages) {
    const key = `${m.topic}\u0000${m.partition}`;
    const kept = last.get(key);
    if (kept === undefined || m.offset > kept.offset) last.set(key, m);
  }
  return [...last.values()];
}
