// Delivery of one batch: each Kafka filter's matches encoded in its output format and produced
// to its topic, and the batch's dead letters to the dead-letter topic, all awaited until Kafka
// acknowledges them (the producer is idempotent and acks=all). Only then may the input offsets
// be committed. Records of one filter go out in batch order; filters are sent side by side.
//
// Email filters only count their matches here: their digests are built by the email service
// from the matches it reads, not by the pipeline. Silent filters ('none') count matches too.
import { produceFilterRecords } from '../delivery/filter-output.ts';
import { encodeRows } from '../delivery/stream-encoder.ts';
import type { BytesProducer } from '../kafka/connection.ts';
import { sendAll, type OutgoingMessage } from '../kafka/produce.ts';
import type { Alert } from '../formats/alert.ts';
import { mapConcurrent } from './concurrency.ts';
import type { FilterMatches } from './run-filters.ts';

export interface DeliverOptions {
  /** The produced time written in every record, "YYYY-MM-DD HH:MM:SS". */
  utc: string;
  /** Largest record (key + value) sent; larger ones are dropped and counted. */
  maxRecordBytes: number;
  /** Filters whose records are in flight at once. */
  concurrency: number;
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

async function deliverFilter(producer: BytesProducer, m: FilterMatches, options: DeliverOptions): Promise<FilterDelivery> {
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
export async function deliverBatch(producer: BytesProducer, matches: readonly FilterMatches[], deadLetters: readonly OutgoingMessage[], options: DeliverOptions): Promise<FilterDelivery[]> {
  const [deliveries] = await Promise.all([
    mapConcurrent(matches, options.concurrency, (m) => deliverFilter(producer, m, options)),
    deadLetters.length > 0 ? sendAll(producer, deadLetters) : Promise.resolve([]),
  ]);
  return deliveries;
}
