// Reading committed data only. With isolation READ_COMMITTED a Kafka broker returns records up
// to the last stable offset, but it does not remove the records of aborted transactions: it
// lists them (producer id, first offset) beside the records, and the client must skip them up
// to each abort marker. @platformatic/kafka 2.12 keeps one range per producer id, so when one
// fetch holds several aborted transactions of the same producer (a transactional producer
// keeps its id across restarts) all but the last leak to the application. This consumer
// applies Kafka's rule to every fetch response, as the Java client does.
import { Consumer } from '@platformatic/kafka';

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
/** Control record key: int16 version, int16 type; type 0 is an abort marker, 1 a commit marker. */
const ABORT_MARKER = 0;

/** The parts of a fetched record batch this filter reads (RecordsBatch in the library). */
export interface FetchedBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  producerId: bigint;
  records: { key: Buffer | null }[];
}

export interface FetchedPartition {
  abortedTransactions?: readonly { producerId: bigint; firstOffset: bigint }[] | null;
  records?: FetchedBatch[] | null;
}

/**
 * Empties, in place, the record batches of aborted transactions in one fetched partition; returns
 * how many records it removed. Batches are emptied rather than removed so that the stream still
 * advances its fetch position past them.
 */
export function dropAbortedRecords(partition: FetchedPartition): number {
  const batches = partition.records;
  const aborted = [...(partition.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  if (!batches || aborted.length === 0) return 0;
  const abortedProducers = new Set<bigint>();
  let next = 0;
  let dropped = 0;
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (next < aborted.length && (aborted[next] as { firstOffset: bigint }).firstOffset <= lastOffset) {
      abortedProducers.add((aborted[next] as { producerId: bigint }).producerId);
      next++;
    }
    if ((batch.attributes & IS_CONTROL) !== 0) {
      const key = batch.records[0]?.key;
      if (key && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER) abortedProducers.delete(batch.producerId);
      continue;
    }
    if ((batch.attributes & IS_TRANSACTIONAL) !== 0 && abortedProducers.has(batch.producerId)) {
      dropped += batch.records.length;
      batch.records = [];
    }
  }
  return dropped;
}

interface FetchResponseLike {
  responses: { partitions: FetchedPartition[] }[];
}

type FetchCallback = (error: Error | null, response?: unknown) => void;

/** A Consumer whose fetches (READ_COMMITTED) never hand out records of aborted transactions. */
export class ReadCommittedConsumer<Key = Buffer, Value = Buffer, HeaderKey = Buffer, HeaderValue = Buffer> extends Consumer<Key, Value, HeaderKey, HeaderValue> {
  override fetch(...args: Parameters<Consumer<Key, Value, HeaderKey, HeaderValue>['fetch']>): ReturnType<Consumer<Key, Value, HeaderKey, HeaderValue>['fetch']> {
    type Result = ReturnType<Consumer<Key, Value, HeaderKey, HeaderValue>['fetch']>;
    const [options, callback] = args as unknown as [unknown, FetchCallback | undefined];
    const superFetch = super.fetch as unknown as (options: unknown, callback: FetchCallback) => void;
    const run = (done: FetchCallback): void =>
      superFetch.call(this, options, (error, response) => {
        if (!error && response !== undefined) {
          for (const topic of (response as FetchResponseLike).responses) for (const partition of topic.partitions) dropAbortedRecords(partition);
        }
        done(error, response);
      });
    if (callback !== undefined) {
      run(callback);
      return undefined as unknown as Result;
    }
    return new Promise<unknown>((resolve, reject) => run((error, response) => (error ? reject(error) : resolve(response)))) as Result;
  }
}
