// The ingest loop: the consumer's messages cut into batches (closed at batchSize messages or
// batchMs after the batch's first message, whichever comes first: a Rubin visit of ~10,000
// alerts arrives as one burst), each processed and committed before the next is taken.
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
import type { Batch } from '../stream/filter-stream-batcher.ts';
import { Batcher } from '../stream/filter-stream-batcher.ts';
import { describeError, hasKafkaErrorCode } from '../kafka/errors.ts';
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
  /** Longest wait after a batch's first message (default 1000 ms). */
  batchMs?: number;
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
  const retry: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000, ...options.retry };
  const { pipeline, signal } = options;
  const batcher = new Batcher(options.messages);
  const result: IngestResult = { batches: 0, messages: 0, stoppedBy: 'ended' };
  try {
    for (;;) {
      if (signal?.aborted) return { ...result, stoppedBy: 'aborted' };
      let batch: Batch<ConsumedMessage>;
      try {
        batch = await batcher.next({ maxCount: batchSize, maxWaitMs: batchMs, idleMs: options.idleMs, signal });
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
