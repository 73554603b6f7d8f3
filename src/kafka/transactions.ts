// A transactional producer that outlives failures. Each unit of work (a batch's records and its
// input offsets, or a filter's backfill) runs in one Kafka transaction: committed whole, or
// aborted whole. The transactional id is stable across restarts of the same instance, so a new
// process fences its predecessor: Kafka aborts whatever transaction the dead one left open
// when the new one registers (InitProducerId), and refuses the old one's writes from then on.
//
// When a transaction cannot even be aborted (Kafka unreachable), the producer is replaced:
// the new one registers the same id again once Kafka answers, which makes Kafka abort the
// leftover. When the commit request fails, the outcome is unknown (it may have been applied);
// the caller can tell from the consumer group's committed offsets (verify), which are part of
// the transaction.
import type { Message, Producer } from '@platformatic/kafka';
import type { Logger } from '../util/log.ts';
import { createProducer, type BytesProducer, type BytesSender, type KafkaSettings } from './connection.ts';
import { describeError } from './errors.ts';

export interface TransactionalSetup {
  /** Stable per broker instance (see transactionalIdFor). */
  transactionalId: string;
  /** Request timeout, ms; also the transaction timeout Kafka enforces (default 60000). */
  timeoutMs?: number;
  role?: string;
  log: Logger;
}

/** A consumed message whose position a transaction commits for its consumer group. */
export interface CommittableMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** As the consumer stream sets it: metadata.consumer holds the group, generation and member. */
  readonly metadata?: Record<string, unknown>;
}

export interface TransactionWork<T> {
  /** Every topic the work sends to (all their partitions join the transaction up front). */
  topics: readonly string[];
  send: (sender: BytesSender) => Promise<T>;
  /** The consumer group and, per partition, the last message the transaction marks as done. */
  offsets?: { groupId: string; messages: readonly CommittableMessage[] };
  /** After a failed commit request: whether the transaction was committed after all. */
  verify?: () => Promise<boolean>;
}

/** Thrown when a transaction was aborted (or never begun); nothing of it is visible. */
export class TransactionAbortedError extends Error {
  override readonly name = 'TransactionAbortedError';
}

/** The transactional id of one broker instance: stable across its restarts. */
export function transactionalIdFor(groupId: string, instance: string): string {
  return `${groupId}/${instance}`;
}

export class TransactionalProducer {
  readonly transactionalId: string;
  private readonly settings: KafkaSettings;
  private readonly setup: TransactionalSetup;
  private producer: BytesProducer;
  private closed = false;

  constructor(settings: KafkaSettings, setup: TransactionalSetup) {
    this.settings = settings;
    this.setup = setup;
    this.transactionalId = setup.transactionalId;
    this.producer = this.create();
  }

  private create(): BytesProducer {
    return createProducer(this.settings, { transactionalId: this.transactionalId, timeout: this.setup.timeoutMs ?? 60_000, role: this.setup.role ?? 'transactional' });
  }

  /** Drops the current producer (its transaction state unknown) for a fresh one. */
  private async replace(): Promise<void> {
    const old = this.producer;
    this.producer = this.create();
    await old.close(true).catch(() => undefined);
  }

  /** Registers the transactional id now (InitProducerId) without starting a transaction in Kafka. */
  private async register(): Promise<void> {
    const probe = await this.producer.beginTransaction();
    await probe.cancel(); // local only: Kafka's side of a transaction starts with its first partition
  }

  /**
   * Runs the work in one transaction and commits it with the offsets. Rejects with
   * TransactionAbortedError (cause: the failure) when nothing of it became visible.
   */
  async run<T>(work: TransactionWork<T>): Promise<T> {
    if (this.closed) throw new Error(`transactional producer ${this.transactionalId} is closed`);
    const producer = this.producer;
    let tx;
    try {
      tx = await producer.beginTransaction();
    } catch (err) {
      await this.replace();
      throw new TransactionAbortedError(`beginning a transaction (${this.transactionalId}) failed: ${describeError(err)}`, { cause: err });
    }
    let committing = false;
    let result: T | undefined;
    try {
      if (work.topics.length > 0) await addAllPartitions(producer, tx, work.topics);
      result = await work.send(tx);
      if (work.offsets !== undefined && work.offsets.messages.length > 0) {
        // addConsumer reads only the group id.
        await tx.addConsumer({ groupId: work.offsets.groupId } as Parameters<typeof tx.addConsumer>[0]);
        // One at a time: the library merges concurrent offset commits of one producer into one.
        for (const m of work.offsets.messages) await tx.addOffset(m as unknown as Message<Buffer, Buffer, Buffer, Buffer>);
      }
      committing = true;
      await tx.commit();
      return result;
    } catch (err) {
      if (committing) {
        // The commit may have been applied: register again, which makes Kafka finish whatever it
        // holds of the transaction (a commit under way completes, an open one is aborted), then ask.
        await this.replace();
        await this.register().catch(() => undefined);
        if (work.verify !== undefined && (await work.verify().catch(() => false))) {
          this.setup.log.warn('transaction commit answered with an error but was applied', { transactionalId: this.transactionalId, error: describeError(err) });
          return result as T;
        }
        throw new TransactionAbortedError(`committing the transaction (${this.transactionalId}) failed: ${describeError(err)}`, { cause: err });
      }
      try {
        await tx.abort();
      } catch (abortErr) {
        this.setup.log.warn('aborting a transaction failed; registering the producer again (Kafka aborts it then)', { transactionalId: this.transactionalId, error: describeError(abortErr) });
        await this.replace();
      }
      throw new TransactionAbortedError(`transaction (${this.transactionalId}) aborted: ${describeError(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.producer.close(true);
  }
}

/**
 * Puts every partition of the topics into the transaction in one request before anything is
 * sent. Left to each send, concurrent sends to different topics would lose registrations: the
 * library merges concurrent AddPartitionsToTxn calls of a producer into the first one.
 */
async function addAllPartitions(producer: Producer<Buffer, Buffer, Buffer, Buffer>, tx: { addPartitions: (m: never, r: never) => Promise<void> }, topics: readonly string[]): Promise<void> {
  const metadata = await producer.metadata({ topics: [...topics] });
  const records: { topic: string; partition: number }[] = [];
  for (const topic of topics) {
    const info = metadata.topics.get(topic);
    if (info === undefined) throw new Error(`topic ${topic} not found in the cluster metadata`);
    for (let p = 0; p < info.partitionsCount; p++) records.push({ topic, partition: p });
  }
  await tx.addPartitions(metadata as never, records as never);
}
