// Reads a whole topic back: every partition from its start to its end offset at the time of the
// call, committed records only, with a fresh consumer group, handing each message to a callback
// as it comes (a topic of several GB is read without holding it). Transaction markers and
// aborted records take offsets too, so the end is found by the consumer's position, not by
// counting messages.
import type { Admin, Message } from '@platformatic/kafka';
import { createConsumer, type KafkaSettings } from './connection.ts';
import { endOffsets, startOffsets } from './topics.ts';

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface ReadTopicOptions {
  /** Give up (and reject) after this long; default 300 s. */
  timeoutMs?: number;
  /** Names the consumer in logs and its group id. */
  role?: string;
}

/** Calls onMessage for every committed message now in the topic; resolves with their number. */
export async function readWholeTopic(settings: KafkaSettings, admin: Admin, topic: string, onMessage: (m: RawMessage) => void, options: ReadTopicOptions = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const role = options.role ?? 'topic-reader';
  const [starts, ends] = [await startOffsets(admin, topic), await endOffsets(admin, topic)];
  if (ends.every((end, p) => end <= (starts[p] ?? 0n))) return 0;
  const consumer = createConsumer(settings, { groupId: `nightjar-${role}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, fromBeginning: true, role });
  let read = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void consumer.close().catch(() => undefined);
  }, timeoutMs);
  try {
    const stream = await consumer.consume([topic]);
    const atEnd = (): boolean => stream.readableLength === 0 && ends.every((end, p) => end <= (starts[p] ?? 0n) || (stream.offsetsToFetch.get(`${topic}:${p}`) ?? 0n) >= end);
    // Also checked between fetches: a fetch of markers only brings no message.
    const poll = setInterval(() => {
      if (atEnd()) void stream.close().catch(() => undefined);
    }, 50);
    try {
      for await (const m of stream) {
        onMessage(m);
        read++;
        if (atEnd()) break;
      }
    } finally {
      clearInterval(poll);
    }
  } finally {
    clearTimeout(timer);
    await consumer.close().catch(() => undefined);
  }
  if (timedOut) throw new Error(`read ${read} messages of ${topic} but not up to its end offsets (${ends.join(', ')}) within ${timeoutMs / 1000} s`);
  return read;
}
