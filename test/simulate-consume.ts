// Test helper: reads a topic from the beginning until a number of messages has arrived.
import { randomBytes } from 'node:crypto';
import { createConsumer, type KafkaSettings } from '../src/kafka/connection.ts';

export interface ConsumedMessage {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer;
}

/**
 * The first `count` messages of the topic (all partitions), then waits `settleMs` more to
 * catch any extra message (a duplicate would show as count + 1). Rejects after `timeoutMs`.
 */
export async function consumeTopic(settings: KafkaSettings, topic: string, count: number, options: { timeoutMs?: number; settleMs?: number } = {}): Promise<ConsumedMessage[]> {
  const consumer = createConsumer(settings, { groupId: `nightjar-test-${topic}-${randomBytes(3).toString('hex')}`, fromBeginning: true, maxWaitTime: 200 });
  const received: ConsumedMessage[] = [];
  try {
    const stream = await consumer.consume([topic]);
    const timer = setTimeout(() => stream.destroy(new Error(`timed out after ${received.length} of ${count} messages on ${topic}`)), options.timeoutMs ?? 60_000);
    let settle: NodeJS.Timeout | undefined;
    try {
      for await (const m of stream) {
        received.push({ partition: m.partition, offset: m.offset, key: m.key === undefined || m.key === null || m.key.length === 0 ? null : m.key, value: m.value });
        if (received.length === count) settle = setTimeout(() => stream.destroy(), options.settleMs ?? 500);
        if (received.length > count) break;
      }
    } catch (err) {
      if (received.length < count) throw err;
    } finally {
      clearTimeout(timer);
      clearTimeout(settle);
    }
  } finally {
    await consumer.close();
  }
  return received;
}
