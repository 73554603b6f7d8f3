// Delivery of one batch: each Kafka filter's matches encoded in its output format and produced
// to its topic, and the batch's dead letters to the dead-letter topic, all awaited until Kafka
// acknowledges them (the producer is idempotent and acks=all). Records of one filter go out in
// batch order; filters are sent side by side.
//
// Then the batch is marked done, in one of two ways (BatchCommit):
// - 'transaction' (the broker): records, dead letters and the input offsets in one Kafka
//   transaction, committed together or not at all: a consumer reading committed data sees each
//   batch's records exactly once, whatever crashes;
// - 'after-acks': the input offsets committed after the acknowledgements (at-least-once: a
//   crash in between makes the batch's records appear twice).
//
// Email filters only count their matches here: their digests are built by the email service
// from the matches it reads, not by the pipeline. Silent filters ('none') count matches too.
import type { Admin } from '@platformatic/kafka';
import { produceFilterRecords } from '../delivery/filter-output.ts';
import { encodeRows } from '../delivery/stream-encoder.ts';
import type { Alert } from '../formats/alert.ts';
import type { BytesSender } from '../kafka/connection.ts';
import { lastPerPartition } from '../kafka/partition-offsets.ts';
import { sendAll, type OutgoingMessage } from '../kafka/produce.ts';
import type { CommittableMessage, TransactionalProducer } from '../kafka/transactions.ts';
import { sleep } from '../util/sleep.ts';
import { mapConcurrent } from './concurrency.ts';
import { batchCommitted, commitOffsets } from './offsets.ts';
import type { FilterMatches } from './run-filters.ts';

export interface DeliverOptions {
  /** The produced time written in every record, "YYYY-MM-DD HH:MM:SS". */
  utc: string;
  /** Largest record (key + value) sent; larger ones are dropped and counted. */
  maxRecordBytes: number;
  /** Filters whose records are in flight at once. */
  concurrency: number;
  /**
   * Crash tests only: keep the transaction open this long after the records are acknowledged,
   * so that a kill can be aimed at an open transaction (default 0).
   */
  holdTransactionMs?: number;
}

export interface FilterDelivery {
  readonly matches: FilterMatches;
  /** Records produced and acknowledged. */
  records: number;
  bytes: number;
  /** Matches not delivered: over the row limit, over the size limit, or not encodable. */
  dropped: number;
  /** Rows whose value did not fit the Avro schema (counted in dropped too). */
  failed: number;
  firstFailure?: string;
}

async function deliverFilter(producer: BytesSender, m: FilterMatches, options: DeliverOptions): Promise<FilterDelivery> {
  const overRowLimit = m.matched - m.rows.length;
  const kafka = m.filter.kafka;
  if (kafka === null || m.rows.length === 0) return { matches: m, records: 0, bytes: 0, dropped: kafka === null ? 0 : overRowLimit, failed: 0 };
  const alertOf = new Map<object, Alert>();
  m.rows.forEach((row, i) => alertOf.set(row, m.alerts[i] as Alert));
  const encoded = await encodeRows(kafka.encoder, m.rows, { alertFor: (row) => alertOf.get(row), utc: options.utc, maxRecordBytes: options.maxRecordBytes });
  const sent = await produceFilterRecords(producer, kafka.topic, encoded.records, { maxRecordBytes: options.maxRecordBytes, partitions: kafka.partitions });
  const out: FilterDelivery = {
    matches: m,
    records: sent.records,
    bytes: sent.bytes,
    dropped: overRowLimit + encoded.dropped + encoded.failed + sent.dropped,
    failed: encoded.failed,
  };
  if (encoded.firstFailure !== undefined) out.firstFailure = encoded.firstFailure;
  return out;
}

/** Produces every filter's records and the dead letters; resolves once Kafka has acknowledged all of them. */
export async function deliverBatch(producer: BytesSender, matches: readonly FilterMatches[], deadLetters: readonly OutgoingMessage[], options: DeliverOptions): Promise<FilterDelivery[]> {
  const [deliveries] = await Promise.all([
    mapConcurrent(matches, options.concurrency, (m) => deliverFilter(producer, m, options)),
    deadLetters.length > 0 ? sendAll(producer, deadLetters) : Promise.resolve([]),
  ]);
  return deliveries;
}

export type BatchCommit =
  | { kind: 'transaction'; producer: TransactionalProducer; groupId: string; admin: Admin }
  | { kind: 'after-acks'; producer: BytesSender };

/** A consumed message as the commit needs it: its place, its group membership, its own commit. */
export type CommitMessage = CommittableMessage & { commit(): void | Promise<void> };

export interface DeliveredBatch {
  deliveries: FilterDelivery[];
  /** Only 'after-acks': why the offsets could not be committed (the batch may then be processed again). */
  commitError?: string;
  deliverMs: number;
  commitMs: number;
}

/**
 * Delivers the batch and marks it done (see the top of this file). beforeCommit runs once every
 * record is acknowledged and before the offsets are committed (idempotent store writes that must
 * not be lost). Rejects when the batch was not committed: in 'transaction' mode nothing of it is
 * then visible to read-committed consumers, and it should be processed again.
 */
export async function deliverAndCommit(
  commit: BatchCommit,
  matches: readonly FilterMatches[],
  deadLetters: readonly OutgoingMessage[],
  messages: readonly CommitMessage[],
  options: DeliverOptions & { beforeCommit?: (deliveries: readonly FilterDelivery[]) => Promise<void> },
): Promise<DeliveredBatch> {
  const started = performance.now();
  if (commit.kind === 'after-acks') {
    const deliveries = await deliverBatch(commit.producer, matches, deadLetters, options);
    await options.beforeCommit?.(deliveries);
    const delivered = performance.now();
    const commitError = await commitOffsets(messages);
    return { deliveries, deliverMs: delivered - started, commitMs: performance.now() - delivered, ...(commitError === undefined ? {} : { commitError }) };
  }
  let delivered = started;
  const topics = new Set<string>(deadLetters.map((d) => d.topic));
  for (const m of matches) if (m.filter.kafka !== null && m.rows.length > 0) topics.add(m.filter.kafka.topic);
  const last = lastPerPartition(messages);
  const deliveries = await commit.producer.run({
    topics: [...topics],
    send: async (sender) => {
      const out = await deliverBatch(sender, matches, deadLetters, options);
      await options.beforeCommit?.(out);
      if ((options.holdTransactionMs ?? 0) > 0) await sleep(options.holdTransactionMs ?? 0);
      delivered = performance.now();
      return out;
    },
    offsets: { groupId: commit.groupId, messages: last },
    verify: () => batchCommitted(commit.admin, commit.groupId, last),
  });
  return { deliveries, deliverMs: delivered - started, commitMs: performance.now() - delivered };
}
