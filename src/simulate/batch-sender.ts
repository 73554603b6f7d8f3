// Sending many pre-encoded messages fast and in order. Messages are cut into produce requests
// of bounded size (per partition: one record batch, which a broker caps at its message.max.bytes,
// ~1 MB by default), and several requests are kept in flight on the producer's connection
// instead of waiting for each acknowledgement. A broker handles the requests of one connection
// in the order they arrive, and the idempotent producer numbers every batch, so each partition
// still receives its messages in the order given.
import type { BytesProducer } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import { messageSize, type OutgoingMessage } from '../kafka/produce.ts';

export interface BatchSenderOptions {
  /** Largest record batch per partition in one request (default 1,000,000 bytes: any broker's default accepts it). */
  readonly maxPartitionBytes?: number;
  /** Largest request, all partitions together (default 16 MiB). */
  readonly maxRequestBytes?: number;
  /** Bytes sent but not yet acknowledged before new sends wait (default 64 MiB). */
  readonly maxInFlightBytes?: number;
  /** Requests sent but not yet acknowledged before new sends wait (default 16). */
  readonly maxInFlightRequests?: number;
  /** Called as each request is acknowledged. */
  readonly onAcked?: (messages: number, bytes: number) => void;
}

export interface Submission {
  /** Messages handed to the producer (fewer than given when the signal stopped the submission). */
  readonly issued: number;
  /** Resolves when every issued message is acknowledged; rejects with the first send failure. */
  readonly acked: Promise<void>;
}

interface Request {
  readonly messages: OutgoingMessage[];
  readonly bytes: number;
}

/** Cuts messages, in order, into requests within the per-partition and per-request limits. */
export function planRequests(messages: readonly OutgoingMessage[], maxPartitionBytes: number, maxRequestBytes: number): Request[] {
  const requests: Request[] = [];
  let current: OutgoingMessage[] = [];
  let total = 0;
  let perPartition = new Map<string, number>();
  for (const m of messages) {
    const size = messageSize(m);
    const partition = `${m.topic}:${m.partition ?? -1}`;
    const inPartition = perPartition.get(partition) ?? 0;
    if (current.length > 0 && ((inPartition > 0 && inPartition + size > maxPartitionBytes) || total + size > maxRequestBytes)) {
      requests.push({ messages: current, bytes: total });
      current = [];
      total = 0;
      perPartition = new Map();
    }
    current.push(m);
    total += size;
    perPartition.set(partition, (perPartition.get(partition) ?? 0) + size);
  }
  if (current.length > 0) requests.push({ messages: current, bytes: total });
  return requests;
}

export class BatchSender {
  private readonly producer: BytesProducer;
  private readonly maxPartitionBytes: number;
  private readonly maxRequestBytes: number;
  private readonly maxInFlightBytes: number;
  private readonly maxInFlightRequests: number;
  private readonly onAcked: ((messages: number, bytes: number) => void) | undefined;
  private inFlightBytes = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private completed = 0;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];

  constructor(producer: BytesProducer, options: BatchSenderOptions = {}) {
    this.producer = producer;
    this.maxPartitionBytes = options.maxPartitionBytes ?? 1_000_000;
    this.maxRequestBytes = options.maxRequestBytes ?? 16 * 1024 * 1024;
    this.maxInFlightBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
    this.maxInFlightRequests = options.maxInFlightRequests ?? 16;
    this.onAcked = options.onAcked;
  }

  /** The first failed send, if any; later submissions fail with it. */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Sends the messages in order, waiting only while too much is in flight. Stops issuing when
   * the signal aborts (what was issued is still acknowledged, see `acked`).
   */
  async submit(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<Submission> {
    const pending: Promise<void>[] = [];
    let issued = 0;
    for (const request of planRequests(messages, this.maxPartitionBytes, this.maxRequestBytes)) {
      await this.waitForRoom(request.bytes);
      if (this.failure !== undefined) break;
      if (signal?.aborted) break;
      pending.push(this.issue(request));
      issued += request.messages.length;
    }
    const acked = Promise.all(pending).then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
    acked.catch(() => {}); // observed by the caller through `acked`; never an unhandled rejection
    return { issued, acked };
  }

  /** Waits for every request in flight. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.failure !== undefined) throw this.failure;
  }

  private issue(request: Request): Promise<void> {
    this.inFlightBytes += request.bytes;
    const sending = this.producer.send({ messages: request.messages }).then(
      () => {
        this.onAcked?.(request.messages.length, request.bytes);
      },
      (err: unknown) => {
        const topics = [...new Set(request.messages.map((m) => m.topic))].join(', ');
        this.failure ??= new Error(`sending ${request.messages.length} messages to ${topics} failed: ${describeError(err)}`, { cause: err });
      },
    );
    const tracked = sending.finally(() => {
      this.inFlight.delete(tracked);
      this.inFlightBytes -= request.bytes;
      this.completed++;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
    this.inFlight.add(tracked);
    return tracked;
  }

  private async waitForRoom(bytes: number): Promise<void> {
    for (;;) {
      if (this.failure !== undefined || this.inFlight.size === 0) return;
      // The first request goes alone: it sets up the idempotent producer id that the others share.
      const warmedUp = this.completed > 0;
      if (warmedUp && this.inFlight.size < this.maxInFlightRequests && this.inFlightBytes + bytes <= this.maxInFlightBytes) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
