// `nightjar filter-stream IN OUT --where ...`: the LSST prototype's filterStream on Nightjar's
// filter engine. Consume IN as a group member, in batches; decode each message, adapt it to
// the Alert model and compute its `objects` row; run the compiled condition on the batch in
// DuckDB; produce the original bytes (value, key, headers) of the matching messages to OUT;
// then, and only then, commit IN's offsets: at-least-once, so a crash between the produce and
// the commit repeats a batch rather than losing one. Messages that are not alerts are counted,
// reported on stderr and optionally dead-lettered; they never stop the stream.
import type { Message } from '@platformatic/kafka';
import { objectFeatures, type ObjectRow } from '../features/index.ts';
import { FilterEngine } from '../filters/index.ts';
import { AdapterError, isNonAlertSchema, toAlert } from '../formats/adapters/index.ts';
import type { ParsedSchema } from '../formats/avro-schema.ts';
import { builtinSchemas } from '../formats/builtin-schemas.ts';
import { DecodeError, SchemaSourceError } from '../formats/errors.ts';
import { decodeMessage } from '../formats/message.ts';
import type { SchemaSource } from '../formats/schema-source.ts';
import { createConsumer, createProducer, type KafkaConsumer, type KafkaSettings } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import { sendAll, type OutgoingMessage } from '../kafka/produce.ts';
import { createTopic, topicPartitions } from '../kafka/topics.ts';
import { UserError } from '../util/errors.ts';
import { lastPerPartition } from '../kafka/partition-offsets.ts';
import { batchRows, capMatches, matchedMessages, outputPartition } from './filter-stream-batch.ts';
import { Batcher, type Batch, type BatchEnd } from './filter-stream-batcher.ts';
import { compileCondition, defaultGroupId, type StreamCondition } from './filter-stream-condition.ts';
import { emptyCounts, summaryLine, type FilterStreamCounts } from './filter-stream-summary.ts';
import { clusterError, createToolAdmin, listClusterTopics, unknownTopicError } from './preflight.ts';

export interface FilterStreamOptions {
  readonly settings: KafkaSettings;
  readonly input: string;
  readonly output: string;
  /** The condition, in Nightjar's filter language over the `objects` columns (docs/columns.md). */
  readonly where: string;
  /** Consumer group; default: derived from the topics and the condition (see defaultGroupId). */
  readonly groupId?: string | undefined;
  /** Where a group without committed offsets starts. Default 'earliest'. */
  readonly from?: 'earliest' | 'latest' | undefined;
  /** Most messages per batch. Default 1000. */
  readonly batchSize?: number | undefined;
  /** Longest wait after a batch's first message before the batch is filtered. Default 500. */
  readonly batchMs?: number | undefined;
  /** Most messages produced per batch (the first ones in input order); default no cap. */
  readonly maxPerBatch?: number | undefined;
  /** Topic for messages that are not alerts, with a `nightjar-error` header giving the reason. */
  readonly deadLetter?: string | undefined;
  /** Stop after consuming this many messages. */
  readonly limit?: number | undefined;
  /** Stop after this long without a message. */
  readonly idleTimeoutMs?: number | undefined;
  /** Interval of the summary line; 0 = only the final one. Default 10000. */
  readonly progressMs?: number | undefined;
  /** Schema sources for decoding (default: Nightjar's built-in schemas; the CLI adds --registry/--schema-dir). */
  readonly decode?: { readonly schemas?: SchemaSource | undefined; readonly schema?: ParsedSchema | undefined } | undefined;
  /** Aborting stops after the current batch is produced and committed. */
  readonly signal?: AbortSignal | undefined;
  /** Receives the summary and error lines (default: stderr). */
  readonly report?: ((line: string) => void) | undefined;
}

export type StopReason = 'limit' | 'idle' | 'aborted' | 'ended';

export interface FilterStreamResult extends FilterStreamCounts {
  readonly groupId: string;
  readonly stoppedBy: StopReason;
  readonly elapsedMs: number;
  readonly inputPartitions: number;
  readonly outputPartitions: number;
}

/** Header of a dead-lettered message: why it was not filtered. */
export const ERROR_HEADER = 'nightjar-error';
/** Header of a dead-lettered message: where it was read, "topic/partition/offset". */
export const SOURCE_HEADER = 'nightjar-source';
/** Bad messages listed one by one on stderr; after that they are only counted. */
const LISTED_ERRORS = 1000;

type BytesMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type Judgement = { rows: ObjectRow[] } | { reason: string };

/** Runs until the limit, the idle timeout, the abort signal or the end of the stream. */
export async function runFilterStream(options: FilterStreamOptions): Promise<FilterStreamResult> {
  const settings = checked(options);
  const report = options.report ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const condition = await compileCondition(options.where);
  const groupId = options.groupId ?? defaultGroupId(options.input, options.output, condition.whereSql);
  const topics = await prepareTopics(options);
  report(`filter-stream: ${options.input} (${topics.input} partitions) → ${options.output} (${topics.output} partitions${topics.createdOutput ? ', created' : ''}), group ${groupId}, where ${condition.where.replace(/\s+/g, ' ').trim()}`);

  const engine = await FilterEngine.create(condition.catalog);
  const producer = createProducer(options.settings, { role: 'filter-stream' });
  let consumer: KafkaConsumer | undefined;
  let batcher: Batcher<BytesMessage> | undefined;
  const counts = emptyCounts();
  const started = performance.now();
  let progress: NodeJS.Timeout | undefined;
  try {
    consumer = createConsumer(options.settings, {
      groupId,
      fromBeginning: (options.from ?? 'earliest') === 'earliest',
      autocommit: false,
      role: 'filter-stream',
      ...(settings.batchSize > 1024 ? { highWaterMark: settings.batchSize } : {}),
    });
    batcher = new Batcher(await consumer.consume([options.input]));
    if (settings.progressMs > 0) {
      let last = { at: performance.now(), consumed: 0 };
      progress = setInterval(() => {
        const now = performance.now();
        report(`filter-stream: ${summaryLine(counts, { messages: counts.consumed - last.consumed, ms: now - last.at })}`);
        last = { at: now, consumed: counts.consumed };
      }, settings.progressMs);
      progress.unref();
    }
    const run = new BatchRunner({ ...options, decode: options.decode ?? { schemas: builtinSchemas() } }, settings, condition, engine, producer, topics, counts, report);
    const active: { from?: number; to?: number } = {};
    const stoppedBy = await consumeBatches(batcher, settings, options, counts, async (batch) => {
      active.from ??= batch.firstAt;
      await run.process(batch.items);
      active.to = performance.now();
    });
    const elapsedMs = performance.now() - started;
    // The rate while there were messages: from the first message to the end of the last batch.
    const activeMs = active.from === undefined || active.to === undefined ? 0 : active.to - active.from;
    report(`filter-stream: stopped (${describeStop(stoppedBy, settings)}): ${summaryLine(counts, { messages: counts.consumed, ms: activeMs })} while consuming`);
    return { ...counts, groupId, stoppedBy, elapsedMs, inputPartitions: topics.input, outputPartitions: topics.output };
  } finally {
    clearInterval(progress);
    batcher?.abandon();
    await consumer?.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    await engine.close();
  }
}

interface Settings {
  batchSize: number;
  batchMs: number;
  maxPerBatch: number | undefined;
  limit: number | undefined;
  idleTimeoutMs: number | undefined;
  progressMs: number;
}

function checked(options: FilterStreamOptions): Settings {
  const positiveInteger = (value: number | undefined, name: string): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new UserError(`${name} must be a positive integer, not ${value}`);
  };
  const positive = (value: number | undefined, name: string): void => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new UserError(`${name} must be a positive number, not ${value}`);
  };
  positiveInteger(options.batchSize, 'batch size');
  positiveInteger(options.maxPerBatch, 'max per batch');
  positiveInteger(options.limit, 'limit');
  positive(options.batchMs, 'batch wait');
  positive(options.idleTimeoutMs, 'timeout');
  if (options.progressMs !== undefined && !(options.progressMs >= 0)) throw new UserError(`progress interval must be 0 or more, not ${options.progressMs}`);
  if (options.input === options.output) throw new UserError(`the output topic must differ from the input topic (${options.input})`);
  if (options.deadLetter !== undefined && (options.deadLetter === options.input || options.deadLetter === options.output)) {
    throw new UserError(`the dead-letter topic must differ from the input and output topics (${options.deadLetter})`);
  }
  return {
    batchSize: options.batchSize ?? 1000,
    batchMs: options.batchMs ?? 500,
    maxPerBatch: options.maxPerBatch,
    limit: options.limit,
    idleTimeoutMs: options.idleTimeoutMs,
    progressMs: options.progressMs ?? 10_000,
  };
}

interface Topics {
  input: number;
  output: number;
  createdOutput: boolean;
}

/** IN must exist (the local broker would auto-create a misspelt one); OUT and the dead-letter topic are created with IN's partition count when missing. */
async function prepareTopics(options: FilterStreamOptions): Promise<Topics> {
  const { settings } = options;
  const admin = createToolAdmin(settings, 'filter-stream');
  try {
    const existing = await listClusterTopics(admin, settings);
    if (!existing.includes(options.input)) throw unknownTopicError(options.input, existing, settings.bootstrap.join(','));
    try {
      const input = await topicPartitions(admin, options.input);
      if (input === undefined) throw unknownTopicError(options.input, existing, settings.bootstrap.join(','));
      const output = await createTopic(admin, options.output, input);
      if (options.deadLetter !== undefined) await createTopic(admin, options.deadLetter, input);
      return { input, output: output.partitions, createdOutput: output.created };
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw clusterError(settings, err);
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function consumeBatches(
  batcher: Batcher<BytesMessage>,
  settings: Settings,
  options: FilterStreamOptions,
  counts: FilterStreamCounts,
  handle: (batch: Batch<BytesMessage>) => Promise<void>,
): Promise<StopReason> {
  for (;;) {
    if (options.signal?.aborted) return 'aborted';
    if (settings.limit !== undefined && counts.consumed >= settings.limit) return 'limit';
    const maxCount = settings.limit === undefined ? settings.batchSize : Math.min(settings.batchSize, settings.limit - counts.consumed);
    const batch = await batcher.next({ maxCount, maxWaitMs: settings.batchMs, idleMs: settings.idleTimeoutMs, signal: options.signal });
    if (batch.items.length > 0) await handle(batch);
    const stop = stopReason(batch.end);
    if (stop !== undefined) return stop;
  }
}

function stopReason(end: BatchEnd): StopReason | undefined {
  if (end === 'idle') return 'idle';
  if (end === 'aborted') return 'aborted';
  if (end === 'done') return 'ended';
  return undefined;
}

function describeStop(reason: StopReason, settings: Settings): string {
  switch (reason) {
    case 'limit':
      return `limit of ${settings.limit} messages`;
    case 'idle':
      return `no message for ${(settings.idleTimeoutMs ?? 0) / 1000} s`;
    case 'aborted':
      return 'interrupted; the last batch was produced and committed';
    case 'ended':
      return 'the stream closed';
  }
}

/** One batch: judge, filter, produce, commit. */
class BatchRunner {
  readonly #options: FilterStreamOptions;
  readonly #settings: Settings;
  readonly #condition: StreamCondition;
  readonly #engine: FilterEngine;
  readonly #producer: ReturnType<typeof createProducer>;
  readonly #topics: Topics;
  readonly #counts: FilterStreamCounts;
  readonly #report: (line: string) => void;

  constructor(options: FilterStreamOptions, settings: Settings, condition: StreamCondition, engine: FilterEngine, producer: ReturnType<typeof createProducer>, topics: Topics, counts: FilterStreamCounts, report: (line: string) => void) {
    this.#options = options;
    this.#settings = settings;
    this.#condition = condition;
    this.#engine = engine;
    this.#producer = producer;
    this.#topics = topics;
    this.#counts = counts;
    this.#report = report;
  }

  async process(messages: BytesMessage[]): Promise<void> {
    const judgements: Judgement[] = [];
    for (const m of messages) judgements.push(await judge(m, this.#options.decode));
    const { rows, messageOfRow } = batchRows(judgements.map((j) => ('rows' in j ? j.rows : null)));
    const matched = rows.length === 0 ? [] : matchedMessages(await this.#run(rows, messages), messageOfRow);
    const { kept, capped } = capMatches(matched, this.#settings.maxPerBatch);

    const outgoing: OutgoingMessage[] = [];
    for (const index of kept) {
      const m = messages[index] as BytesMessage;
      const key = keyOf(m);
      const partition = outputPartition(m.partition, key !== undefined, this.#topics.input, this.#topics.output);
      outgoing.push({ topic: this.#options.output, value: m.value, ...(key === undefined ? {} : { key }), ...(m.headers.size > 0 ? { headers: m.headers } : {}), ...(partition === undefined ? {} : { partition }) });
    }
    let errors = 0;
    judgements.forEach((j, index) => {
      if (!('reason' in j)) return;
      const m = messages[index] as BytesMessage;
      if (this.#counts.errors + errors < LISTED_ERRORS) this.#report(`filter-stream: skipped ${sourceOf(m)}: ${j.reason}`);
      else if (this.#counts.errors + errors === LISTED_ERRORS) this.#report(`filter-stream: more than ${LISTED_ERRORS} messages skipped; further ones are only counted${this.#options.deadLetter === undefined ? ' (--dead-letter keeps them)' : ''}`);
      errors++;
      if (this.#options.deadLetter !== undefined) outgoing.push(deadLetter(m, j.reason, this.#options.deadLetter));
    });

    // Everything this batch sends must be acknowledged before its offsets are committed.
    if (outgoing.length > 0) await sendAll(this.#producer, outgoing);
    await this.#commit(messages);

    const counts = this.#counts;
    counts.batches++;
    counts.consumed += messages.length;
    counts.matched += matched.length;
    counts.produced += kept.length;
    counts.capped += capped;
    counts.errors += errors;
    if (this.#options.deadLetter !== undefined) counts.deadLettered += errors;
  }

  async #run(rows: Record<string, unknown>[], messages: readonly BytesMessage[]): Promise<Record<string, unknown>[]> {
    await this.#engine.loadBatch('objects', rows);
    // Every row may match: allow them all (a container message can hold several alerts, so a
    // batch can have more rows than messages; the limit is otherwise constant, keeping the
    // engine's prepared statement).
    const rowLimit = Math.max(this.#settings.batchSize, rows.length);
    const [result] = await this.#engine.run([this.#condition.filter], { rowLimit });
    if (result === undefined) throw new Error('the filter engine returned no result');
    if (result.error !== undefined) {
      const first = messages[0];
      const where = first === undefined ? this.#options.input : `the batch from ${sourceOf(first)} on (${messages.length} messages)`;
      throw new UserError(`--where failed on ${where}: ${result.error.reason}; stopped without committing that batch (e.g. use TRY_CAST for values that may not convert)`);
    }
    return result.rows;
  }

  async #commit(messages: readonly BytesMessage[]): Promise<void> {
    const last = lastPerPartition(messages);
    try {
      await Promise.all(last.map((m) => m.commit()));
    } catch (err) {
      // The batch is produced; a failed commit means it may be produced again after a restart.
      this.#report(`filter-stream: committing offsets of ${last.map(sourceOf).join(', ')} failed (${describeError(err)}); these messages may be filtered again after a restart`);
    }
  }
}

/** A message's feature rows (one per alert it holds), or why it cannot be judged. */
async function judge(m: BytesMessage, decode: FilterStreamOptions['decode']): Promise<Judgement> {
  const source = sourceOf(m);
  if (m.value === undefined || m.value === null || m.value.length === 0) return { reason: 'message has no value' };
  let decoded;
  try {
    decoded = await decodeMessage(m.value, keyOf(m), { ...decode, source });
  } catch (err) {
    if (err instanceof DecodeError) return { reason: err.message };
    // An unreachable registry is not the message's fault: stop rather than skip every message.
    if (err instanceof SchemaSourceError) throw new UserError(`decoding ${source}: ${err.message}; stopped without committing that batch`);
    return { reason: `cannot decode: ${describe(err)}` };
  }
  if (decoded.length === 0) return { reason: 'the message holds no records' };
  const rows: ObjectRow[] = [];
  for (const [i, d] of decoded.entries()) {
    const which = decoded.length > 1 ? ` (record ${i})` : '';
    if (isNonAlertSchema(d.schema.name)) return { reason: `not an alert${which}: schema ${d.schema.name}` };
    try {
      rows.push(objectFeatures(toAlert(d.record, d.schema.name)));
    } catch (err) {
      return { reason: `not a usable alert${which}: ${describe(err)}` };
    }
  }
  return { rows };
}

function keyOf(m: BytesMessage): Buffer | undefined {
  return m.key === undefined || m.key === null ? undefined : m.key;
}

function sourceOf(m: { topic: string; partition: number; offset: bigint }): string {
  return `${m.topic}/${m.partition}/${m.offset}`;
}

function describe(err: unknown): string {
  if (err instanceof AdapterError) return err.message;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The message as it came, plus the reason and where it was read. */
function deadLetter(m: BytesMessage, reason: string, topic: string): OutgoingMessage {
  const headers = new Map<Buffer, Buffer>(m.headers);
  headers.set(Buffer.from(ERROR_HEADER), Buffer.from(reason));
  headers.set(Buffer.from(SOURCE_HEADER), Buffer.from(sourceOf(m)));
  const key = keyOf(m);
  return { topic, value: m.value ?? Buffer.alloc(0), headers, ...(key === undefined ? {} : { key }) };
}
