// Reading a Kafka topic as a stream of decoded alerts, for the stream tools (print,
// filter-stream, ...). One consumer group member; each message is decoded with decodeMessage
// and handed over with where it came from. A message that cannot be decoded is handed over
// too, with its DecodeError, so the caller reports it and goes on: one bad message never
// stops a stream.
//
//   const stream = await openAlertStream(settings, { topics: ['raw'], groupId: 'g', from: 'earliest', decode: { schemas } });
//   try {
//     for await (const m of stream) {
//       if (m.ok) for (const d of m.records) use(d.record);
//       else report(`${m.topic}/${m.partition}/${m.offset}: ${m.error.message}`);
//       await m.commit(); // only if offsets should be kept for the group
//     }
//   } finally {
//     await stream.close();
//   }
import { randomBytes } from 'node:crypto';
import type { Message } from '@platformatic/kafka';
import { builtinSchemas } from '../formats/builtin-schemas.ts';
import { DecodeError } from '../formats/errors.ts';
import { decodeMessage, type DecodedRecord, type DecodeOptions } from '../formats/message.ts';
import { createConsumer, type BytesStream, type KafkaConsumer, type KafkaSettings } from '../kafka/connection.ts';

export interface AlertStreamOptions {
  /** Topics to read. Check that they exist first (see checkTopics in preflight.ts): the local broker auto-creates topics. */
  readonly topics: readonly string[];
  /** Consumer group; see {@link ephemeralGroupId} for a one-off reader. */
  readonly groupId: string;
  /**
   * Where to start on a partition the group has no committed offset for: the oldest retained
   * message or only messages produced after joining (default). Committed offsets always win.
   */
  readonly from?: 'earliest' | 'latest';
  /**
   * Schema sources for decodeMessage (`source` is set per message to topic/partition/offset).
   * Default: Nightjar's built-in schemas (e.g. lsst.v10_0 as Confluent id 1000).
   */
  readonly decode?: Omit<DecodeOptions, 'source'>;
  /** End the iteration after this many ms without a message (endReason 'idle'). Default: wait forever. */
  readonly idleTimeoutMs?: number;
  /** Aborting ends the iteration cleanly (endReason 'aborted'), e.g. on Ctrl-C. */
  readonly signal?: AbortSignal;
  /** Client id suffix, e.g. 'print'. */
  readonly role?: string;
  /** Messages buffered ahead of the reader (library default 1024). */
  readonly highWaterMark?: number;
}

interface ConsumedBase {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Kafka message timestamp, ms since the epoch (-1 when the producer set none). */
  readonly timestamp: bigint;
  /** The message key, or null when it has none (or an empty one). */
  readonly key: Buffer | null;
  readonly value: Buffer;
  /** "topic/partition/offset", as decode errors name the message. */
  readonly source: string;
  /**
   * Commits this message's offset + 1 for the group (the group resumes after it). Commits
   * are coalesced per partition, so calling it for every message costs one request at a time.
   */
  commit(): Promise<void>;
}

/** A decoded message: one record for every encoding except containers, which may hold several. */
export interface ConsumedRecords extends ConsumedBase {
  readonly ok: true;
  readonly records: DecodedRecord[];
}

/** A message whose bytes could not be decoded. */
export interface ConsumedError extends ConsumedBase {
  readonly ok: false;
  readonly error: DecodeError;
}

export type ConsumedAlert = ConsumedRecords | ConsumedError;

/** Why an iteration ended: idle timeout, abort signal, or close() / the stream ending. */
export type EndReason = 'idle' | 'aborted' | 'closed';

export interface AlertStream extends AsyncIterable<ConsumedAlert> {
  readonly groupId: string;
  /** Set once the iteration has ended. */
  readonly endReason: EndReason | undefined;
  /** Leaves the group and closes the connections; safe to call more than once. */
  close(): Promise<void>;
}

/** A fresh group id for a reader that keeps no offsets (each run starts at `from`). */
export function ephemeralGroupId(role: string): string {
  return `nightjar-${role}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Joins the group and returns the stream. Only one iteration per stream. A schema source that
 * is unreachable (SchemaSourceError, not the message's fault) ends the iteration with that error.
 */
export async function openAlertStream(settings: KafkaSettings, options: AlertStreamOptions): Promise<AlertStream> {
  const consumer = createConsumer(settings, {
    groupId: options.groupId,
    fromBeginning: options.from === 'earliest',
    autocommit: false,
    role: options.role ?? 'stream',
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  });
  let messages: BytesStream;
  try {
    messages = await consumer.consume([...options.topics]);
  } catch (err) {
    await consumer.close().catch(() => undefined);
    throw err;
  }
  return new KafkaAlertStream(consumer, messages, options);
}

type BytesMessage = Message<Buffer, Buffer, Buffer, Buffer>;

class KafkaAlertStream implements AlertStream {
  readonly groupId: string;
  #endReason: EndReason | undefined;
  #closing: Promise<void> | undefined;
  #iterated = false;
  readonly #consumer: KafkaConsumer;
  readonly #messages: BytesStream;
  readonly #options: AlertStreamOptions;

  constructor(consumer: KafkaConsumer, messages: BytesStream, options: AlertStreamOptions) {
    this.#consumer = consumer;
    this.#messages = messages;
    this.#options = options;
    this.groupId = consumer.groupId;
  }

  get endReason(): EndReason | undefined {
    return this.#endReason;
  }

  close(): Promise<void> {
    this.#closing ??= this.#consumer.close();
    return this.#closing;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedAlert> {
    if (this.#iterated) throw new Error('an alert stream can be iterated only once');
    this.#iterated = true;
    const { signal, idleTimeoutMs } = this.#options;
    const decode = this.#options.decode ?? { schemas: builtinSchemas() };
    const end = (reason: EndReason): void => {
      this.#endReason ??= reason;
      // Ends the pending read: the library's stream then finishes (or rejects, ignored below).
      this.#messages.destroy();
    };
    const onAbort = (): void => end('aborted');
    if (signal?.aborted) return void end('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const reader = this.#messages[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = reader.next();
        let timer: NodeJS.Timeout | undefined;
        if (idleTimeoutMs !== undefined) timer = setTimeout(() => end('idle'), idleTimeoutMs);
        let result: IteratorResult<BytesMessage>;
        try {
          result = await next;
        } catch (err) {
          if (this.#endReason !== undefined) return;
          throw err;
        } finally {
          clearTimeout(timer);
        }
        if (result.done || this.#endReason !== undefined) return;
        const m = result.value;
        const source = `${m.topic}/${m.partition}/${m.offset}`;
        const value = m.value ?? Buffer.alloc(0);
        const base: ConsumedBase = {
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key !== undefined && m.key !== null && m.key.length > 0 ? m.key : null,
          value,
          source,
          commit: () => Promise.resolve(m.commit()),
        };
        let item: ConsumedAlert;
        try {
          // A tombstone (null value) or empty message would otherwise read as a bad schemaless body.
          if (value.length === 0) throw new DecodeError({ encoding: 'schemaless', offset: 0, reason: 'the message has no value (empty, or a tombstone)', source });
          item = { ...base, ok: true, records: await decodeMessage(value, base.key, { ...decode, source }) };
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          item = { ...base, ok: false, error: err };
        }
        yield item;
      }
    } finally {
      this.#endReason ??= 'closed';
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
