// Reading a consumer group's partitions across rebalances without processing an offset twice or
// skipping one: what lets several broker processes share the raw topics with exactly-once output.
//
// The library's message stream is not enough on its own. After a rebalance it rewinds to the
// committed offsets, but a fetch sent before the rebalance can land afterwards (tagged with the
// new generation, carrying data from the old position, and moving the stream's position past data
// nobody processed); a partition owned before, lost and won back keeps the position of the first
// time when the group has committed nothing for it; and it reads committed offsets without
// waiting for a transaction that is still committing (KIP-447's requireStable), so a partition
// taken over from a process whose last batch is half committed would be read from before it.
//
// So this reader keeps its own books, per partition and "run" (the generations during which this
// member owned the partition without a break):
// - every membership (each consumer:group:join) gets a new message stream, which starts from the
//   committed offsets; the previous one is closed once the new one is open (closing the only
//   stream of a topic would make the consumer rejoin the group), and the rest of its messages
//   count only for the runs this member still has;
// - before a stream is read, the partitions whose run begins with it are looked up in the
//   group's committed offsets with requireStable (waiting while another process's transaction
//   holding them is open: Kafka aborts it after its transaction timeout, or commits it);
// - within a run, offsets only go forward: a message below the run's next offset was delivered
//   already (a rewind), and is dropped;
// - when a batch is about to be processed (claim), each message must belong to a run this member
//   still has, and is tagged with the present generation and member id, which its transaction's
//   offset commit (TxnOffsetCommit) carries: if the group has moved on meanwhile, Kafka refuses
//   the commit, the transaction is aborted, and the batch is claimed again (and what is no longer
//   this member's is dropped: its new owner reads it from the committed offsets).
import type { Admin, ConsumerGroupJoinPayload } from '@platformatic/kafka';
import { describeError } from '../kafka/errors.ts';
import type { Logger } from '../util/log.ts';
import { sleep } from '../util/sleep.ts';
import type { ConsumedMessage } from './pipeline.ts';

/** A message stream of the consumer (the library's MessagesStream, reduced to what is used). */
export interface GroupStream extends AsyncIterable<ConsumedMessage> {
  close(): Promise<void>;
}

/** The consumer client's side that the reader watches (BytesConsumer). */
export interface GroupClient {
  readonly coordinatorId: number | null;
  on(event: 'consumer:group:join', listener: (payload: ConsumerGroupJoinPayload) => void): unknown;
  off(event: 'consumer:group:join', listener: (payload: ConsumerGroupJoinPayload) => void): unknown;
}

export interface GroupReaderOptions {
  groupId: string;
  client: GroupClient;
  /** Opens a message stream on the raw topics (consumer.consume): joins the group the first time. */
  open: () => Promise<GroupStream>;
  /** For the group's committed offsets, read with requireStable. */
  admin: Admin;
  /** Stops reading and waiting (the broker is stopping). */
  signal: AbortSignal;
  log: Logger;
  /** Pause between lookups of committed offsets while a transaction holds them (default 1000 ms). */
  retryMs?: number;
}

/** The generations this member has owned a partition without a break. */
interface Run {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  /** The generation the run began with. */
  readonly since: number;
  /** The lowest offset still to be delivered; undefined until the committed offset is known. */
  next: bigint | undefined;
}

interface Membership {
  readonly generationId: number;
  readonly memberId: string;
  readonly coordinatorId: number;
  /** By partition key: the runs of the partitions assigned to this member. */
  readonly runs: ReadonlyMap<string, Run>;
}

interface Opened {
  readonly stream: GroupStream;
  readonly membership: Membership;
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The runs of a new membership: a partition this member owned in the previous generation (or the
 * same one again) goes on with its run; any other begins a new one.
 */
export function nextMembership(previous: Membership | undefined, join: ConsumerGroupJoinPayload, coordinatorId: number): Membership {
  const generationId = join.generationId ?? -1;
  const unbroken = previous !== undefined && previous.memberId === join.memberId && generationId >= 0 && (generationId === previous.generationId || generationId === previous.generationId + 1);
  const runs = new Map<string, Run>();
  for (const { topic, partitions } of join.assignments ?? []) {
    for (const partition of partitions) {
      const key = keyOf(topic, partition);
      const kept = unbroken ? previous.runs.get(key) : undefined;
      runs.set(key, kept ?? { key, topic, partition, since: generationId, next: undefined });
    }
  }
  return { generationId, memberId: join.memberId, coordinatorId, runs };
}

export class GroupReader implements AsyncIterable<ConsumedMessage> {
  private readonly options: GroupReaderOptions;
  private membership: Membership | undefined;
  /** Streams opened, oldest first: the reader finishes one before it takes the next. */
  private readonly opened: Opened[] = [];
  private opening: Promise<void> = Promise.resolve();
  private pendingOpens = 0;
  private wake: (() => void) | undefined;
  private started = false;
  private failure: { error: unknown } | undefined;
  /** The run each delivered message was read in. */
  private readonly runOf = new WeakMap<ConsumedMessage, Run>();
  private readonly onJoin = (join: ConsumerGroupJoinPayload): void => this.joined(join);
  /** Messages dropped so far: delivered before (a rewind), or of a partition no longer owned. */
  dropped = 0;

  constructor(options: GroupReaderOptions) {
    this.options = options;
  }

  /** Joins the group (opening the first stream); the reader can then be iterated, once. */
  async start(): Promise<void> {
    this.options.client.on('consumer:group:join', this.onJoin);
    const stream = await this.options.open();
    this.started = true;
    if (this.membership === undefined) throw new Error(`the consumer of group ${this.options.groupId} opened a stream without joining the group`);
    this.opened.push({ stream, membership: this.membership });
    this.options.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Present generation of this member, as its transactions' offset commits carry it. */
  get generationId(): number | undefined {
    return this.membership?.generationId;
  }

  /** Partitions this member owns now, as "topic/partition". */
  owned(): string[] {
    return [...(this.membership?.runs.values() ?? [])].map((r) => `${r.topic}/${r.partition}`);
  }

  /**
   * Whether the message may be processed now: it was read in a run this member still has. If so,
   * it is tagged with the present membership, which its offset commit carries (see the file comment).
   */
  claim(message: ConsumedMessage): boolean {
    const run = this.runOf.get(message);
    const m = this.membership;
    if (run === undefined || m === undefined || m.runs.get(run.key) !== run) return false;
    // The coordinator only says where the commit is sent: the present one, should it have moved.
    const consumer = { groupId: this.options.groupId, generationId: m.generationId, memberId: m.memberId, coordinatorId: this.options.client.coordinatorId ?? m.coordinatorId };
    // The library's metadata object is shared by every message of a fetch: replaced, not changed.
    (message as { metadata?: Record<string, unknown> }).metadata = { ...message.metadata, consumer };
    return true;
  }

  private joined(join: ConsumerGroupJoinPayload): void {
    const coordinatorId = this.options.client.coordinatorId ?? -1;
    this.membership = nextMembership(this.membership, join, coordinatorId);
    const m = this.membership;
    this.options.log.info('group membership', { generation: m.generationId, member: m.memberId, partitions: this.owned() });
    // The first join happens inside start(), whose stream belongs to it.
    if (!this.started || this.options.signal.aborted) return;
    this.pendingOpens++;
    this.opening = this.opening.then(async () => {
      try {
        if (this.options.signal.aborted) return;
        const stream = await this.options.open();
        const previous = this.opened.at(-1);
        this.opened.push({ stream, membership: this.membership ?? m });
        // Closed only now: with no stream left on its topics the consumer would rejoin the group.
        void previous?.stream.close().catch(() => undefined);
      } catch (error) {
        this.failure ??= { error };
      } finally {
        this.pendingOpens--;
        this.wake?.();
      }
    });
  }

  private stop(): void {
    this.options.client.off('consumer:group:join', this.onJoin);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedMessage> {
    if (!this.started) throw new Error('GroupReader: start() first');
    for (;;) {
      const current = this.opened[0];
      if (current === undefined) {
        if (this.failure !== undefined) throw this.failure.error;
        if (this.pendingOpens === 0 || this.options.signal.aborted) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      // A membership superseded before its stream is read is not settled: its new runs' messages
      // are dropped below, and the next stream reads them again from the committed offsets.
      if (current.membership === this.membership) await this.settle(current.membership);
      for await (const message of current.stream) {
        const key = keyOf(message.topic, message.partition);
        const run = current.membership.runs.get(key);
        if (run === undefined || this.membership?.runs.get(key) !== run || run.next === undefined || message.offset < run.next) {
          this.dropped++;
          continue;
        }
        // Offsets a stream passes over: transaction markers and aborted records of a transactional
        // producer, compacted records; anything else would be data never processed (logged to tell).
        if (message.offset > run.next) this.options.log.debug('offsets passed over by the stream', { topic: run.topic, partition: run.partition, from: run.next, to: message.offset - 1n });
        run.next = message.offset + 1n;
        this.runOf.set(message, run);
        yield message;
      }
      this.opened.shift();
    }
  }

  /**
   * Looks up the committed offsets of the runs that begin with this membership (requireStable),
   * waiting while a transaction holds them. False when stopped or superseded meanwhile.
   */
  private async settle(membership: Membership): Promise<boolean> {
    const { admin, groupId, signal, log } = this.options;
    let waitingLogged = false;
    for (;;) {
      const unknown = [...membership.runs.values()].filter((r) => r.next === undefined);
      if (unknown.length === 0) return true;
      if (signal.aborted || membership !== this.membership) return false;
      const byTopic = new Map<string, number[]>();
      for (const r of unknown) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r.partition]);
      try {
        const groups = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }], requireStable: true });
        const committed = new Map<string, bigint>();
        for (const g of groups) for (const t of g.topics) for (const p of t.partitions) committed.set(keyOf(t.name, p.partitionIndex), p.committedOffset);
        // No committed offset: nothing of the partition was processed; the stream starts where the group's reset policy says.
        for (const r of unknown) r.next = (committed.get(r.key) ?? -1n) >= 0n ? (committed.get(r.key) as bigint) : 0n;
        if (waitingLogged) log.info('committed offsets of the partitions taken over are settled', { generation: membership.generationId });
        return true;
      } catch (error) {
        if (!waitingLogged) {
          waitingLogged = true;
          log.info('waiting for the committed offsets of the partitions taken over (a transaction of their previous owner is still open; Kafka aborts it after its timeout)', {
            generation: membership.generationId,
            partitions: unknown.map((r) => `${r.topic}/${r.partition}`),
            error: describeError(error),
          });
        }
        await sleep(this.options.retryMs ?? 1000, signal);
      }
    }
  }
}
