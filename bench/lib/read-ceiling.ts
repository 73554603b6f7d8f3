// The Kafka read ceiling: a bare consumer (the broker's client library, fetch settings and
// read-ahead, a consumer group of its own) reading a raw topic from the start as fast as it
// can, touching nothing but each message's size: no decoding, no store, no filters. No
// pipeline reading through Kafka on this machine can go faster.
import { createConsumer, type ConsumerSetup, type KafkaSettings } from '../../src/kafka/connection.ts';
import { messageBytes } from '../../src/pipeline/dead-letters.ts';
import { readAhead } from '../../src/pipeline/read-ahead.ts';
import { localServerPids, processCpuSeconds } from './process-stats.ts';

export interface ReadCeiling {
  messages: number;
  bytes: number;
  /** From the first message read to the last (joining the group and the first fetch left out: a rate, not a start-up time). */
  seconds: number;
  alertsPerSecond: number;
  mbPerSecond: number;
  /** CPU seconds over the same span: this process (the consumer) and the local Kafka (null when Kafka is not local). */
  cpuSeconds: { consumer: number; kafka: number | null };
}

/** CPU seconds of this process. */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export type FetchSettings = Pick<ConsumerSetup, 'highWaterMark' | 'maxBytes' | 'maxBytesPerPartition'>;

/**
 * Reads `messages` messages of `topic` from its start as a new consumer group, through a
 * read-ahead of readAheadBytes as the broker does (0: none); rejects after timeoutMs.
 */
export async function measureReadCeiling(kafka: KafkaSettings, topic: string, messages: number, groupId: string, fetch: FetchSettings, readAheadBytes: number, timeoutMs = 300_000): Promise<ReadCeiling> {
  const consumer = createConsumer(kafka, { groupId, fromBeginning: true, autocommit: false, role: 'bench-read-ceiling', ...fetch });
  try {
    const stream = await consumer.consume([topic]);
    let started = 0;
    const kafkaPid = localServerPids().kafka;
    const kafkaCpu = (): number | undefined => (kafkaPid === undefined ? undefined : processCpuSeconds(kafkaPid));
    let consumerCpuAtStart = 0;
    let kafkaCpuAtStart: number | undefined;
    const timer = setTimeout(() => stream.destroy(new Error(`read ${topic}: not all ${messages} messages within ${timeoutMs / 1000} s`)), timeoutMs);
    let count = 0;
    let bytes = 0;
    try {
      const source = readAheadBytes > 0 ? readAhead(stream, { maxBytes: readAheadBytes, sizeOf: messageBytes }) : stream;
      for await (const m of source) {
        if (count === 0) {
          started = performance.now();
          consumerCpuAtStart = ownCpuSeconds();
          kafkaCpuAtStart = kafkaCpu();
        }
        count++;
        bytes += messageBytes(m);
        if (count >= messages) break;
      }
    } finally {
      clearTimeout(timer);
    }
    const seconds = (performance.now() - started) / 1000;
    const consumerCpu = ownCpuSeconds() - consumerCpuAtStart;
    const kafkaCpuAtEnd = kafkaCpu();
    const kafka = kafkaCpuAtStart === undefined || kafkaCpuAtEnd === undefined ? null : kafkaCpuAtEnd - kafkaCpuAtStart;
    if (count < messages) throw new Error(`read ${topic}: the stream ended after ${count} of ${messages} messages`);
    // The first message only starts the clock.
    const after = count - 1;
    return { messages: count, bytes, seconds, alertsPerSecond: after / seconds, mbPerSecond: (bytes * after) / count / 1e6 / seconds, cpuSeconds: { consumer: consumerCpu, kafka } };
  } finally {
    await consumer.close();
  }
}
