// AlertConsumer: the consumer client library. One consumer group member reading alert topics
// and handing back one decoded alert at a time, whatever the encoding: Lasair-style JSON
// (64-bit ids exact, as BigInt), Avro containers, Confluent wire format, schema-in-key and
// schemaless Avro (with a forced schema). Offsets are committed for what was handed back, so
// the same group id resumes after the last alert returned; a new one starts at `startAt`.
//
//   const consumer = await AlertConsumer.create({ topics: ['t'], groupId: 'me', settings });
//   try {
//     for (const alert of await consumer.consume(100, 5000)) use(alert.value);
//     await consumer.pollAndWrite('alerts/', 5000); // saved as <objectId>_<sourceId>.avro
//   } finally {
//     await consumer.close();
//   }
import type { ParsedSchema } from '../formats/avro-schema.ts';
import { builtinSchemas } from '../formats/builtin-schemas.ts';
import { looksLikeJsonObject } from '../formats/detect.ts';
import { DecodeError } from '../formats/errors.ts';
import type { SchemaSource } from '../formats/schema-source.ts';
import type { KafkaSettings } from '../kafka/connection.ts';
import { openAlertStream, type AlertStream, type ConsumedAlert } from '../stream/consume.ts';
import { parse } from '../util/json.ts';
import { summarise } from './alert-summary.ts';
import { saveAlert, type SaveFormat } from './save-alert.ts';

export type AlertFormat = 'json' | 'avro-container' | 'confluent' | 'schema-in-key' | 'schemaless';

/** One alert as handed back by {@link AlertConsumer.poll}. */
export interface ConsumedAlertRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Kafka message timestamp, ms since the epoch (-1 when the producer set none). */
  readonly timestamp: bigint;
  /** The message key (null when none); for schema-in-key messages, the schema's JSON text. */
  readonly key: Buffer | null;
  /** The decoded Avro record, or the parsed JSON object (integers beyond 2^53 as BigInt). */
  readonly value: Record<string, unknown>;
  readonly format: AlertFormat;
  /** The Avro writer schema; null for JSON messages. */
  readonly schema: ParsedSchema | null;
  /** The raw Avro body of the record (to save it with its schema); the whole value for JSON. */
  readonly bytes: Buffer;
  /** Index of the record within its message (a container may hold several); 0 otherwise. */
  readonly index: number;
}

export interface AlertConsumerOptions {
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly settings: KafkaSettings;
  /** Where a group with no committed offset starts (default 'earliest', as Lasair's clients). */
  readonly startAt?: 'earliest' | 'latest';
  /** Writer schema forced on schemaless messages. */
  readonly schema?: ParsedSchema;
  /** Resolves Confluent schema ids (default: Nightjar's built-in schemas). */
  readonly schemas?: SchemaSource;
  /** Called for each message that cannot be decoded (it is skipped, and committed). */
  readonly onUndecodable?: (error: DecodeError, where: string) => void;
  /** Aborting makes a waiting poll return null at once (e.g. on Ctrl-C); then close(). */
  readonly signal?: AbortSignal;
}

type Next = IteratorResult<ConsumedAlert>;

export class AlertConsumer {
  readonly groupId: string;
  /** Messages skipped because they could not be decoded. */
  undecodable = 0;
  readonly #stream: AlertStream;
  readonly #reader: AsyncIterator<ConsumedAlert>;
  readonly #options: AlertConsumerOptions;
  /** Records of the current message not yet handed back, and its commit. */
  #queue: ConsumedAlertRecord[] = [];
  #commitCurrent: { partitionKey: string; commit: () => Promise<void> } | undefined;
  /** A read still waiting on the stream when a poll timed out: the next poll takes it over. */
  #pending: Promise<Next> | undefined;
  #done = false;
  readonly #commits = new Map<string, Promise<void>>();
  #closing: Promise<void> | undefined;
  readonly #aborted: Promise<null>;

  private constructor(stream: AlertStream, options: AlertConsumerOptions) {
    this.#stream = stream;
    this.#reader = stream[Symbol.asyncIterator]();
    this.#options = options;
    this.groupId = stream.groupId;
    this.#aborted = aborted(options.signal);
  }

  /** Joins the group. Topics that do not exist should be checked first (see requireTopics in src/stream/preflight.ts). */
  static async create(options: AlertConsumerOptions): Promise<AlertConsumer> {
    if (options.topics.length === 0) throw new Error('AlertConsumer needs at least one topic');
    const stream = await openAlertStream(options.settings, {
      topics: options.topics,
      groupId: options.groupId,
      from: options.startAt ?? 'earliest',
      decode: { schemas: options.schemas ?? builtinSchemas(), schema: options.schema },
      role: 'client',
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return new AlertConsumer(stream, options);
  }

  /** The next alert, or null when none arrived within timeoutMs (or the consumer was stopped). */
  async poll(timeoutMs: number): Promise<ConsumedAlertRecord | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const queued = this.#queue.shift();
      if (queued !== undefined) {
        if (this.#queue.length === 0) this.#commitMessage();
        return queued;
      }
      if (this.#done) return null;
      const next = await this.#read(deadline - Date.now());
      if (next === null) return null;
      if (next.done === true) {
        this.#done = true;
        return null;
      }
      this.#accept(next.value);
    }
  }

  /** Up to n alerts: returns when n have arrived or timeoutMs passed without a new one. */
  async consume(n: number, timeoutMs: number): Promise<ConsumedAlertRecord[]> {
    const out: ConsumedAlertRecord[] = [];
    while (out.length < n) {
      const alert = await this.poll(timeoutMs);
      if (alert === null) break;
      out.push(alert);
    }
    return out;
  }

  /**
   * The next alert, saved into `dir` (which must exist) as `<objectId>_<sourceId>.avro` (or
   * .json: see save-alert.ts) before it is returned with the file's path; null on a timeout.
   * As fink-client's poll_and_write. As with poll, the offset is committed when the alert is
   * handed back, so a crash while its file is written loses that one alert for the group.
   */
  async pollAndWrite(dir: string, timeoutMs: number, format: SaveFormat = 'avro'): Promise<{ alert: ConsumedAlertRecord; file: string } | null> {
    const alert = await this.poll(timeoutMs);
    if (alert === null) return null;
    return { alert, file: await saveAlert(dir, alert, summarise(alert), format) };
  }

  /** Waits for the commits of everything returned so far, then leaves the group. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await Promise.all(this.#commits.values());
      } finally {
        await this.#stream.close();
      }
    })();
    return this.#closing;
  }

  /** Waits for the commits made so far (e.g. before reading the group's offsets). */
  async flushCommits(): Promise<void> {
    await Promise.all(this.#commits.values());
  }

  async #read(waitMs: number): Promise<Next | null> {
    this.#pending ??= this.#reader.next();
    const pending = this.#pending;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.max(0, waitMs));
    });
    try {
      const result = await Promise.race([pending, timeout, this.#aborted]);
      if (result !== null) this.#pending = undefined;
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  #accept(m: ConsumedAlert): void {
    const base = { topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp, key: m.key };
    this.#commitCurrent = { partitionKey: `${m.topic}/${m.partition}`, commit: m.commit };
    if (m.ok) {
      this.#queue = m.records.map((d, index) => ({
        ...base,
        value: d.record,
        format: d.encoding === 'container' ? 'avro-container' : (d.encoding as AlertFormat),
        schema: d.schema,
        bytes: d.bytes,
        index,
      }));
    } else if (looksLikeJsonObject(m.value)) {
      // JSON is not Avro: decodeMessage refuses it, and it is read here instead.
      const value = parseJsonObject(m.value);
      if (value !== null) this.#queue = [{ ...base, value, format: 'json', schema: null, bytes: m.value, index: 0 }];
    }
    if (this.#queue.length === 0) {
      this.undecodable++;
      if (!m.ok) {
        const error = m.error.encoding === 'json' ? new DecodeError({ encoding: 'json', offset: 0, reason: 'the message looks like JSON but is not a valid JSON object', source: m.source }) : m.error;
        this.#options.onUndecodable?.(error, m.source);
      }
      this.#commitMessage();
    }
  }

  #commitMessage(): void {
    const current = this.#commitCurrent;
    this.#commitCurrent = undefined;
    if (current === undefined) return;
    const pending = current.commit();
    pending.catch(() => undefined); // surfaced by close()/flushCommits()
    // Commits of one partition are coalesced by the library; keeping the latest is enough.
    this.#commits.set(current.partitionKey, pending);
  }
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value = parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Resolves to null once the signal aborts (never without one). */
function aborted(signal: AbortSignal | undefined): Promise<null> {
  if (signal === undefined) return new Promise<null>(() => undefined);
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }));
}
