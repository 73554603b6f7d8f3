// The ingest loop: the consumer's messages cut into batches (closed at batchSize messages,
// batchBytes of messages or batchMs after the batch's first message, whichever comes first: a
// Rubin visit of ~10,000 alerts arrives as one burst, and with their cutouts 10,000 alerts are
// 1.3 GB), each processed and committed before the next is taken.
//
// A batch that cannot be completed is not committed and is processed again, from the start:
// - the schema registry does not answer: wait and retry for as long as it takes (the alerts are
//   fine, dead-lettering them would be wrong), backing off up to 30 s;
// - the batch's Kafka transaction was aborted (Kafka unreachable or restarting): the same, wait
//   and retry; nothing of the batch is visible, so the next attempt starts clean. Except when
//   another process took over this instance's transactional id (fenced): stop;
// - anything else (the store failing): retry a few times, then stop with the error; the
//   uncommitted batch is processed again by the next broker to start.
// Before each attempt, messages fetched under an older consumer group membership are dropped:
// after a rebalance the stream fetches them again from the committed offsets (if this member
// still owns their partition), and committing them under the old membership would be refused.
// Aborting (Ctrl-C, SIGTERM) lets the batch under way finish and commit, then stops.
import type { Batch, BatchEnd } from '../stream/filter-stream-batcher.ts';
import { Batcher } from '../stream/filter-stream-batcher.ts';
import { describeError, hasKafkaErrorCode } from '../kafka/errors.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../kafka/topics.ts';
import { messageBytes } from './dead-letters.ts';
import { TransactionAbortedError } from '../kafka/transactions.ts';
import type { Logger } from '../util/log.ts';
import { SchemaUnavailableError } from './decode-stage.ts';
import { partitionRanges } from './offsets.ts';
import type { BatchReport, ConsumedMessage, Pipeline } from './pipeline.ts';
import { sleep } from '../util/sleep.ts';

export interface RetryPolicy {
  /** Attempts at a batch for errors other than an unavailable schema source (default 5). */
  maxAttempts: number;
  /** First wait between attempts (default 1000 ms); doubles each time. */
  initialDelayMs: number;
  /** Longest wait between attempts (default 30000 ms). */
  maxDelayMs: number;
}

export type IngestState = 'running' | 'retrying' | 'stopped' | 'failed';

export interface IngestOptions {
  pipeline: Pipeline;
  messages: AsyncIterable<ConsumedMessage>;
  /** Most messages per batch (default 10000: a Rubin visit). */
  batchSize?: number;
  /**
   * Most bytes of messages (key + value + headers) per batch (default DEFAULT_BATCH_BYTES); a
   * batch may pass it by one message at most.
   */
  batchBytes?: number;
  /**
   * The largest message expected (default DEFAULT_MAX_MESSAGE_BYTES): a batch is read in steps
   * that cannot pass batchBytes even if every message were this large, so a larger message
   * can make a batch pass batchBytes by more than one message.
   */
  maxMessageBytes?: number;
  /** Longest wait after a batch's first message (default 1000 ms). */
  batchMs?: number;
  /** A batch also closes once no message came for this long (default DEFAULT_BATCH_QUIET_MS; never when longer than batchMs). */
  batchQuietMs?: number;
  /** Stop after this long without a message (default: never). */
  idleMs?: number;

  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  log: Logger;
  onBatch?: (report: BatchReport) => void;
  /** Told when the loop starts retrying a batch, resumes, stops or fails. */
  onState?: (state: IngestState, detail?: string) => void;
  /** Whether a message was fetched under the consumer's current group membership (default: all are). */
  current?: (message: ConsumedMessage) => boolean;
}

/** Kafka's PRODUCER_FENCED and INVALID_PRODUCER_EPOCH: a newer process has this transactional id. */
const FENCED_CODES = [90, 47];

function isFenced(err: unknown): boolean {
  return FENCED_CODES.some((code) => hasKafkaErrorCode(err, code));
}

export type IngestStop = 'aborted' | 'ended' | 'idle';

/**
 * Bytes of messages per batch by default: about 1,000 real-size Rubin alerts (134 kB with their
 * cutouts), 5,000 synthetic ones (27 kB). A batch is held about three times while it is
 * processed (its messages, the decoded alerts with copies of their cutouts, the next batch read
 * ahead), so this bounds most of the broker's memory (bench/pipeline.ts: 10,000-alert batches
 * of real-size alerts took the broker to 3.8 GB with no filters).
 */
export const DEFAULT_BATCH_BYTES = 128 * 1024 * 1024;

/**
 * A batch closes this long after the last message when no other came: the end of a burst. At
 * Rubin's cadence a visit's last alerts otherwise wait out batchMs (bench/latency.ts). Within a
 * burst messages come every few ms, even real-size ones fetched 32 MiB at a time.
 */
export const DEFAULT_BATCH_QUIET_MS = 200;

export interface BatchBounds {
  /** Most messages. */
  count: number;
  /** Most bytes of messages (passed by one message at most, see maxMessageBytes). */
  bytes: number;
  /** Longest wait after the batch's first message. */
  ms: number;
  /** The largest message expected: the step size of reading is bytes left / this. */
  maxMessageBytes: number;
  /**
   * Close the batch once no message came for this long (end 'time'): the tail of a burst (a
   * visit's last alerts) goes at once instead of waiting out `ms`. Default: only `ms` applies.
   */
  quietMs?: number | undefined;
  /** Give up waiting for a first message after this long (end 'idle'). */
  idleMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The next batch, closed at whichever bound comes first. The batcher bounds batches by count and
 * time; bytes are bounded by asking it for as many messages as could still fit if each were
 * maxMessageBytes, again and again, until the batch is full, its time is up, or the stream
 * ends. Every step ends at the batch's deadline (the batcher's own wait would start at the
 * step's first message). With quietMs, a step that gets no message within quietMs closes the
 * batch, and a step lasts at most quietMs after its first message (then the next step starts).
 */
export async function nextBatch(batcher: Batcher<ConsumedMessage>, bounds: BatchBounds): Promise<Batch<ConsumedMessage>> {
  const { signal } = bounds;
  const first = await batcher.next({ maxCount: 1, maxWaitMs: bounds.ms, idleMs: bounds.idleMs, signal });
  const items = first.items;
  if (items.length === 0 || first.firstAt === undefined) return first;
  const firstAt = first.firstAt;
  const batch = (end: BatchEnd): Batch<ConsumedMessage> => ({ items, end, firstAt });
  if (first.end !== 'full') return batch(first.end);
  let bytes = messageBytes(items[0] as ConsumedMessage);
  const deadline = firstAt + bounds.ms;
  for (;;) {
    if (items.length >= bounds.count || bytes >= bounds.bytes) return batch('full');
    const left = deadline - performance.now();
    if (left <= 0) return batch('time');
    const step = Math.min(bounds.count - items.length, Math.max(1, Math.floor((bounds.bytes - bytes) / bounds.maxMessageBytes)));
    const timeUp = new AbortController();
    const timer = setTimeout(() => timeUp.abort(), left);
    let part: Batch<ConsumedMessage>;
    try {
      const wait = bounds.quietMs === undefined ? { maxWaitMs: left } : { maxWaitMs: Math.min(left, bounds.quietMs), idleMs: bounds.quietMs };
      part = await batcher.next({ maxCount: step, ...wait, signal: signal === undefined ? timeUp.signal : AbortSignal.any([signal, timeUp.signal]) });
    } finally {
      clearTimeout(timer);
    }
    for (const m of part.items) {
      items.push(m);
      bytes += messageBytes(m);
    }
    if (part.end === 'aborted') return batch(signal?.aborted === true ? 'aborted' : 'time');
    // 'time' before the deadline: quietMs after the step's first message, messages still coming.
    if (part.end === 'full' || (part.end === 'time' && bounds.quietMs !== undefined)) continue;
    return batch(part.end === 'idle' ? 'time' : part.end);
  }
}

export interface IngestResult {
  batches: number;
  messages: number;
  stoppedBy: IngestStop;
}

function describeBatch(messages: readonly ConsumedMessage[]): string {
  return partitionRanges(messages).map((r) => `${r.topic}/${r.partition}/${r.first}..${r.last}`).join(', ');
}

/** Consumes, batches and processes until aborted, idle or the stream ends; rejects on a batch that keeps failing. */
export async function runIngest(options: IngestOptions): Promise<IngestResult> {
  const batchSize = options.batchSize ?? 10_000;
  const batchMs = options.batchMs ?? 1000;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const quietMs = (options.batchQuietMs ?? DEFAULT_BATCH_QUIET_MS) < batchMs ? (options.batchQuietMs ?? DEFAULT_BATCH_QUIET_MS) : undefined;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(Number.isSafeInteger(batchBytes) && batchBytes >= 1)) throw new Error(`batch bytes must be a positive integer, not ${batchBytes}`);
  if (!(Number.isSafeInteger(maxMessageBytes) && maxMessageBytes >= 1)) throw new Error(`the largest message size must be a positive integer, not ${maxMessageBytes}`);
  const retry: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000, ...options.retry };
  const { pipeline, signal } = options;
  const batcher = new Batcher(options.messages);
  const result: IngestResult = { batches: 0, messages: 0, stoppedBy: 'ended' };
  try {
    for (;;) {
      if (signal?.aborted) return { ...result, stoppedBy: 'aborted' };
      let batch: Batch<ConsumedMessage>;
      try {
        batch = await nextBatch(batcher, { count: batchSize, bytes: batchBytes, ms: batchMs, maxMessageBytes, quietMs, idleMs: options.idleMs, signal });
      } catch (err) {
        throw new Error(`consuming failed: ${describeError(err)}`, { cause: err });
      }
      if (batch.items.length > 0) {
        const report = await processWithRetries(pipeline, batch.items, retry, options);
        if (report === undefined) return { ...result, stoppedBy: 'aborted' };
        if (report !== 'dropped') {
          result.batches++;
          result.messages += batch.items.length;
          options.onBatch?.(report);
        }
        // Done with: its messages are not kept while the next batch is read.
        batch.items.length = 0;
      }
      if (batch.end === 'aborted') return { ...result, stoppedBy: 'aborted' };
      if (batch.end === 'idle') return { ...result, stoppedBy: 'idle' };
      if (batch.end === 'done') return { ...result, stoppedBy: 'ended' };
    }
  } finally {
    batcher.abandon();
  }
}

/**
 * The batch's report; 'dropped' when none of its messages belongs to the current membership any
 * more; undefined when aborted while waiting to retry (nothing committed).
 */
async function processWithRetries(pipeline: Pipeline, batch: ConsumedMessage[], retry: RetryPolicy, options: IngestOptions): Promise<BatchReport | 'dropped' | undefined> {
  let failures = 0;
  let delay = retry.initialDelayMs;
  let messages = batch;
  for (;;) {
    const current = options.current;
    if (current !== undefined) {
      const kept = messages.filter(current);
      if (kept.length < messages.length) {
        options.log.info('messages of an earlier group membership dropped (fetched again from the committed offsets)', { dropped: messages.length - kept.length, offsets: describeBatch(messages) });
        messages = kept;
      }
      if (messages.length === 0) return 'dropped';
    }
    try {
      const report = await pipeline.processBatch(messages);
      if (failures > 0) {
        options.log.info('batch processed after retrying', { attempts: failures + 1, offsets: describeBatch(messages) });
        options.onState?.('running');
      }
      return report;
    } catch (err) {
      const waitingForSchemas = err instanceof SchemaUnavailableError;
      const waitingForKafka = err instanceof TransactionAbortedError && !isFenced(err);
      failures++;
      const reason = waitingForSchemas ? 'schema-source-unavailable' : waitingForKafka ? 'transaction-aborted' : 'error';
      pipeline.metrics.batchRetries.inc({ reason });
      const message = describeError(err);
      if (!waitingForSchemas && !waitingForKafka && failures >= retry.maxAttempts) {
        options.onState?.('failed', message);
        throw new Error(`a batch failed ${failures} times (${describeBatch(messages)}), nothing of it committed: ${message}`, { cause: err });
      }
      options.onState?.('retrying', message);
      options.log.warn(waitingForSchemas ? 'schema source unavailable: batch not processed, retrying' : waitingForKafka ? 'batch transaction aborted, retrying' : 'batch failed, retrying', {
        attempt: failures,
        retryInMs: delay,
        offsets: describeBatch(messages),
        error: message,
      });
      await sleep(delay, options.signal);
      if (options.signal?.aborted) return undefined;
      delay = Math.min(retry.maxDelayMs, delay * 2);
    }
  }
}
