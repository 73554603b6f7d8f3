// The broker process: one consumer group member on the raw alert topics, the store (a DuckDB
// file only this process writes, or a PostgreSQL database several share), the filter engine, one
// transactional producer for the filter streams and the dead letters, the filter service (saves
// and backfills run between batches), and the HTTP server for /metrics, /health and /api/filters.
// `nightjar broker` and the demo start it; tests start it in-process. Stopping lets the batch
// under way finish and commit, then closes everything in order.
//
// Scaling out: more broker processes with the same group id (and different instance names) share
// the raw topics' partitions (Kafka's consumer groups) and one PostgreSQL store (the embedded
// DuckDB store has one writer process). Rebalances move partitions between them without an
// offset processed twice or skipped (group-reader.ts, the transactions' offset commits carry the
// group generation); filters saved through any of them reach the others between batches
// (watchFilters); the store's counters and recorded matches add up.
import type { Admin } from '@platformatic/kafka';
import { DEFAULT_RETENTION_MS } from '../delivery/filter-output.ts';
import { DEFAULT_MAX_RECORD_BYTES } from '../delivery/stream-encoder.ts';
import { DEFAULT_TOPIC_PREFIX, filterTopicName } from '../delivery/topic-name.ts';
import { catalog as objectsCatalog } from '../features/index.ts';
import { FilterEngine } from '../filters/filter-engine.ts';
import { createAdmin, createConsumer, type BytesSender, type KafkaConsumer, type KafkaSettings } from '../kafka/connection.ts';
import { TransactionalProducer, transactionalIdFor } from '../kafka/transactions.ts';
import { describeError } from '../kafka/errors.ts';
import { DEFAULT_MAX_SEND_BYTES } from '../kafka/produce.ts';
import { createTopic, DEFAULT_MAX_MESSAGE_BYTES, rawTopicConfig, topicPartitions } from '../kafka/topics.ts';
import { startBrokerEmail, type BrokerEmailOptions, type RunningEmail } from '../email/broker-email.ts';
import { adminTokenPath, newAdminToken, removeAdminToken, writeAdminToken } from '../service/filter-api.ts';
import { createKafkaAccess, type KafkaAccess } from '../kafka/access.ts';
import { createFilterService, type FilterService } from '../service/filter-service.ts';
import { openStore } from '../store/index.ts';
import type { CutoutPolicy, Store } from '../store/store.ts';
import { clusterError, listClusterTopics, unknownTopicError } from '../stream/preflight.ts';
import { UserError } from '../util/errors.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { batchCatalog } from './batch-table.ts';
import type { DecodeSettings } from './decode-stage.ts';
import { startBrokerHttp, type BrokerHttp, type BrokerWebOptions, type Health } from './http-server.ts';
import { DEFAULT_BATCH_BYTES, runIngest, type IngestResult, type RetryPolicy } from './ingest.ts';
import { startLagMonitor, type LagMonitor } from './lag.ts';
import { MetricsRegistry } from './metrics.ts';
import { createPipelineMetrics, type PipelineMetrics } from './pipeline-metrics.ts';
import { watchFilters } from './active-filters.ts';
import { GroupReader, type GroupStream } from './group-reader.ts';
import { isPostgresUrl } from '../store/open-store.ts';
import { Pipeline, type BatchReport } from './pipeline.ts';
import { readAhead } from './read-ahead.ts';
import { messageBytes } from './dead-letters.ts';

export const DEFAULT_GROUP_ID = 'nightjar-broker';
export const DEFAULT_DEAD_LETTER_TOPIC = 'nightjar_dead_letters';
/** How often recorded filter matches older than the filter topics' retention are deleted. */
const MATCH_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Room for a dead letter's headers (reason, kind, source) above the message it carries. */
const DEAD_LETTER_HEADER_BYTES = 64 * 1024;
/**
 * Memory of the store's DuckDB: its default is 80% of the machine's RAM, which it fills with
 * cached blocks of a growing store. Changes not yet checkpointed stay in memory (the store
 * checkpoints when its write-ahead log reaches 256 MB). Cutout images no longer pass through
 * DuckDB (segment files), so 256 MiB and room for one batch's rows is enough: 512 MiB plus two
 * batches gave the same throughput and ~60 MB more RSS (bench/pipeline.ts --data real, 100
 * filters). Not used by the PostgreSQL store.
 */
function storeMemoryLimit(batchBytes: number): string {
  return `${Math.ceil((256 * 1024 * 1024 + batchBytes) / (1024 * 1024))}MiB`;
}
/**
 * The consumer reads ahead a quarter of a batch's bytes while a batch is processed: enough to
 * start the next batch at once, and the bytes read early cost memory and compete for the CPU.
 * With 128 MiB batches of real-size alerts (100 filters): read-ahead 128 MiB 781 alerts/s, RSS
 * 1,577 MB; 64 MiB 813/s, 1,338 MB; 32 MiB 835/s, 1,262 MB (bench/pipeline.ts --data real).
 */
export function readAheadBytes(batchBytes: number): number {
  return Math.max(1, Math.floor(batchBytes / 4));
}
/** The filter engine's DuckDB holds one batch table (~10 MB for 10,000 objects) and query results. */
const FILTER_ENGINE_MEMORY_LIMIT = '256MiB';
// One DuckDB thread per filter query: a batch table of 10,000 rows is too small to gain from
// splitting a scan, and the second thread only costs CPU the broker needs elsewhere (1000 filters
// on a synthetic batch of 10,000 objects: ~0.5 s of CPU with one thread, ~0.8-0.9 s with two, the
// same wall time; filters still run two at a time on their own connections).
const FILTER_ENGINE_THREADS = 1;
/**
 * The raw topics' consumer: a fetch brings at most 32 MiB (8 MiB per partition), and its stream
 * holds few messages; the read-ahead (read-ahead.ts), bounded by bytes, holds the rest.
 * bench/pipeline.ts reads with the same settings for the Kafka read ceiling.
 */
export const RAW_CONSUMER_FETCH = { highWaterMark: 64, maxBytes: 32 * 1024 * 1024, maxBytesPerPartition: 8 * 1024 * 1024 } as const;
/** How often the store is asked whether filters changed, between batches. */
export const DEFAULT_FILTER_POLL_MS = 1500;
/** Name of a broker process within its group when none is given. */
export const DEFAULT_INSTANCE = 'main';

export interface BrokerOptions {
  kafka: KafkaSettings;
  /** Raw alert topics; they must exist. */
  topics: readonly string[];
  /** Consumer group (default nightjar-broker). */
  groupId?: string;
  /**
   * This process's name within the group (default "main"), stable across its restarts: it is the
   * consumer's static group membership and, with the group id, the transactional id
   * ("<group>/<instance>") that fences a predecessor which has not died yet. Processes sharing
   * a group need different instance names.
   */
  instance?: string;
  /** Overrides the transactional id derived from the group and instance. */
  transactionalId?: string;
  /** Where a group without committed offsets starts (default earliest: nothing retained is skipped). */
  from?: 'earliest' | 'latest';
  /** A store file to open (and close at the end), or an open store (left open). */
  store: string | Store;
  /** HTTP port on 127.0.0.1 (0 picks a free one; null: no HTTP server). Default 18080. */
  httpPort?: number | null;
  /**
   * Serve the web app (pages, accounts, /api/v1) on the HTTP server; /api/filters then needs the
   * admin token, written to <store>.admin-token (0600) for a store file, kept in this process
   * only for a PostgreSQL store. Off when absent.
   */
  web?: Omit<BrokerWebOptions, 'store'>;
  topicPrefix?: string;
  deadLetterTopic?: string;
  /** Partitions of the dead-letter topic when it is created (default 1). */
  deadLetterPartitions?: number;
  batchSize?: number;
  batchMs?: number;
  /**
   * Most bytes of messages per batch (default DEFAULT_BATCH_BYTES, 128 MiB); also the most that
   * is read ahead while a batch is processed. Bounds the broker's memory with real-size alerts.
   */
  batchBytes?: number;
  /** Stop after this long without a message (tests, one-shot runs); default never. */
  idleMs?: number;
  decode: DecodeSettings;
  rowLimit?: number;
  filterTimeLimitMs?: number;
  /** Which alerts' cutout images the store keeps (default the pipeline's DEFAULT_CUTOUT_POLICY). */
  cutouts?: CutoutPolicy;
  maxRecordBytes?: number;
  /** Retention of filter topics, ms (default 7 days). */
  retentionMs?: number;
  /** Partitions of new filter topics (default 1). */
  filterPartitions?: number;
  /**
   * How long the group waits for a process that stopped answering (killed, hung) before giving
   * its partitions to the others (default the client's, 60 s). A process restarted with the same
   * instance name within this time takes its partitions back at once.
   */
  sessionTimeoutMs?: number;
  /**
   * How long Kafka lets a batch's transaction stay open before aborting it (default 60 s): a
   * process killed mid-batch holds its partitions' offsets that long, so whoever takes them over
   * waits that long at most. Must exceed the longest batch. Also the producer's request timeout.
   */
  transactionTimeoutMs?: number;
  /** How often filters are reloaded if changed, between batches (default DEFAULT_FILTER_POLL_MS). */
  filterPollMs?: number;
  /** How often the consumer lag is read (default 5000 ms). */
  lagIntervalMs?: number;
  retry?: Partial<RetryPolicy>;
  log?: Logger;
  onBatch?: (report: BatchReport) => void;
  /** Parallel filter queries (default 2: the engine's). */
  parallelQueries?: number;
  /** Crash tests only: how long each batch's transaction stays open before its commit (default 0). */
  holdTransactionMs?: number;
  /** Email digests and filter-error notices over SMTP (src/email); off when absent. */
  email?: BrokerEmailOptions;
}

export interface RunningBroker {
  readonly pipeline: Pipeline;
  readonly store: Store;
  readonly service: FilterService;
  readonly metrics: PipelineMetrics;
  readonly http: BrokerHttp | null;
  /** What /api/filters requires (X-Nightjar-Admin-Token) when the web app is served; else null. */
  readonly adminToken: string | null;
  /** The email sender, when email is configured. */
  readonly email: RunningEmail | null;
  /** Accounts' Kafka credentials and topic ACLs, on a cluster with an authorizer; else null. */
  readonly access: KafkaAccess | null;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly deadLetterTopic: string;
  readonly topicPrefix: string;
  /** Settles when ingest stops: aborted, idle, or failed (rejects). */
  readonly done: Promise<IngestResult>;
  health(): Health;
  /** Finishes the batch under way (committed), then closes everything; resolves with the ingest result. */
  stop(): Promise<IngestResult>;
}

/** How long closing a Kafka client may take when stopping (Kafka may be unreachable). */
const CLIENT_CLOSE_MS = 15_000;

function withinMs(work: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s; given up`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function check(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) throw new UserError(`${name} must be an integer of at least ${min}, not ${value}`);
}

async function preflight(admin: Admin, options: BrokerOptions, deadLetterTopic: string): Promise<void> {
  if (options.topics.length === 0) throw new UserError('give at least one raw alert topic to consume');
  if (options.topics.includes(deadLetterTopic)) throw new UserError(`the dead-letter topic ${deadLetterTopic} cannot also be an input topic`);
  const existing = await listClusterTopics(admin, options.kafka);
  for (const topic of options.topics) if (!existing.includes(topic)) throw unknownTopicError(topic, existing, options.kafka.bootstrap.join(','));
  try {
    // A dead letter carries the message it could not process (up to the message limit) plus
    // headers with the reason, and Kafka's limit applies to a whole record batch, which sendAll
    // fills up to DEFAULT_MAX_SEND_BYTES: the topic must take the larger, whatever the cluster's default.
    const deadLetterBytes = Math.max(options.decode.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_SEND_BYTES) + DEAD_LETTER_HEADER_BYTES;
    if ((await topicPartitions(admin, deadLetterTopic)) === undefined) {
      await createTopic(admin, deadLetterTopic, options.deadLetterPartitions ?? 1, { 'retention.ms': String(options.retentionMs ?? DEFAULT_RETENTION_MS), ...rawTopicConfig(deadLetterBytes) });
    }
  } catch (err) {
    throw clusterError(options.kafka, err);
  }
}

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  check(options.batchSize, 'batch size', 1);
  check(options.batchMs, 'batch wait (ms)', 1);
  check(options.batchBytes, 'batch bytes', 1);
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  check(options.rowLimit, 'row limit', 1);
  const log = options.log ?? createLogger({ component: 'broker' });
  const groupId = options.groupId ?? DEFAULT_GROUP_ID;
  const topicPrefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
  filterTopicName(topicPrefix, 0, 'x'); // a bad prefix fails now, not at the first Kafka filter
  const deadLetterTopic = options.deadLetterTopic ?? DEFAULT_DEAD_LETTER_TOPIC;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const startedAt = new Date().toISOString();

  // Everything opened is closed again, in reverse order, whether start-up completes or not.
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c.close();
      } catch (err) {
        log.warn(`closing the ${c.name} failed`, { error: describeError(err) });
      }
    }
  };

  const state: { status: Health['status']; detail?: string; batches: number; messages: number; lastBatchAt: string | null } = { status: 'starting', batches: 0, messages: 0, lastBatchAt: null };
  const health = (): Health => ({
    status: state.status,
    ...(state.detail === undefined ? {} : { detail: state.detail }),
    topics: options.topics,
    groupId,
    batches: state.batches,
    messages: state.messages,
    lastBatchAt: state.lastBatchAt,
    startedAt,
  });

  try {
    const admin = createAdmin(options.kafka, { role: 'broker-admin' });
    closers.push({ name: 'Kafka admin client', close: () => admin.close() });
    await preflight(admin, options, deadLetterTopic);

    let store: Store;
    if (typeof options.store === 'string') {
      const opened = await openStore({ path: options.store, memoryLimit: storeMemoryLimit(batchBytes) });
      closers.push({ name: 'store', close: () => opened.close() });
      store = opened;
    } else {
      store = options.store;
    }

    const catalog = objectsCatalog();
    const engine = await FilterEngine.create(batchCatalog(catalog), { memoryLimit: FILTER_ENGINE_MEMORY_LIMIT, threads: FILTER_ENGINE_THREADS, ...(options.parallelQueries === undefined ? {} : { parallelQueries: options.parallelQueries }) });
    closers.push({ name: 'filter engine', close: () => engine.close() });
    const instance = options.instance ?? DEFAULT_INSTANCE;
    const transactionalId = options.transactionalId ?? transactionalIdFor(groupId, instance);
    const producer = new TransactionalProducer(options.kafka, { transactionalId, role: 'broker', log: log.child({ component: 'transactions' }), ...(options.transactionTimeoutMs === undefined ? {} : { timeoutMs: options.transactionTimeoutMs }) });
    closers.push({ name: 'producer', close: () => withinMs(producer.close(), CLIENT_CLOSE_MS, 'closing the producer') });
    // Backfills run under the pipeline's lock (runExclusive), between batches: each send is a
    // transaction of its own on the same producer, so a backfill is visible whole or not at all.
    const backfillSender: BytesSender = {
      send: (sent) => producer.run({ topics: [...new Set(sent.messages.map((m) => m.topic))], send: (tx) => tx.send(sent) }),
    };

    const metrics = createPipelineMetrics(new MetricsRegistry());
    const topicOptions = { retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS, partitions: options.filterPartitions ?? 1 };
    const pipeline = new Pipeline({
      store,
      engine,
      transactions: { producer, groupId },
      admin,
      decode: options.decode,
      deadLetterTopic,
      topicPrefix,
      catalog,
      maxRecordBytes,
      topicOptions,
      metrics,
      log: log.child({ component: 'pipeline' }),
      ...(options.rowLimit === undefined ? {} : { rowLimit: options.rowLimit }),
      ...(options.cutouts === undefined ? {} : { cutouts: options.cutouts }),
      ...(options.filterTimeLimitMs === undefined ? {} : { filterTimeLimitMs: options.filterTimeLimitMs }),
      ...(options.holdTransactionMs === undefined ? {} : { holdTransactionMs: options.holdTransactionMs }),
    });
    // On a cluster with an authorizer (SASL/SCRAM and ACLs), every account's credentials and every
    // filter topic's ACLs are repaired at start and kept in step with the filters; null when open.
    const access = await createKafkaAccess({ store, admin, adminSettings: options.kafka, log: log.child({ component: 'access' }) });
    if (access !== null) await access.syncAll();
    const service = createFilterService({
      store,
      admin,
      ...(access === null ? {} : { access }),
      producer: backfillSender,
      topicPrefix,
      exclusive: pipeline.runExclusive,
      maxRecordBytes,
      retentionMs: topicOptions.retentionMs,
      partitions: topicOptions.partitions,
      log: log.child({ component: 'filters' }),
    });
    closers.push({ name: 'filter service', close: () => service.close() });

    // The email sender reads recorded matches from the store on its own schedule: batches never wait for SMTP.
    let email: RunningEmail | null = null;
    if (options.email !== undefined) {
      email = startBrokerEmail(options.email, { store, metrics, log: log.child({ component: 'email' }) });
      closers.push({ name: 'email sender', close: () => (email as RunningEmail).stop() });
    }

    // Recorded matches feed the web app's live tables and the email digests: they are kept as
    // long as the filter streams keep records (email filters' unsent ones until their digest).
    const pruneMatches = (): Promise<void> =>
      store.pruneFilterMatches(new Date(Date.now() - topicOptions.retentionMs).toISOString()).then(
        (deleted) => void (deleted > 0 && log.info('old filter matches pruned', { deleted })),
        (err: unknown) => log.warn('pruning old filter matches failed', { error: describeError(err) }),
      );
    let pruning = pruneMatches();
    const pruner = setInterval(() => void (pruning = pruning.then(pruneMatches)), MATCH_PRUNE_INTERVAL_MS);
    pruner.unref();
    closers.push({ name: 'match pruner', close: async () => {
      clearInterval(pruner);
      await pruning;
    } });

    const httpPort = options.httpPort === undefined ? 18080 : options.httpPort;
    let http: BrokerHttp | null = null;
    let adminToken: string | null = null;
    if (httpPort !== null && options.web !== undefined) {
      adminToken = newAdminToken();
      // A PostgreSQL store has no folder beside it to put the token in: it then stays in this
      // process (the API is closed to everyone else), and `nightjar filter --store <url>` works on
      // the store directly, which whoever can reach the database may do anyway.
      if (typeof options.store === 'string' && !isPostgresUrl(options.store)) {
        const file = adminTokenPath(store.location);
        writeAdminToken(file, adminToken);
        closers.push({ name: 'admin token file', close: async () => removeAdminToken(file) });
      }
    }
    if (httpPort !== null) {
      http = await startBrokerHttp({ port: httpPort, metrics, health, filters: service, ...(adminToken === null || options.web === undefined ? {} : { adminToken, web: { ...options.web, store, access } }) });
      closers.push({ name: 'HTTP server', close: () => (http as BrokerHttp).close() });
    }

    // Filters are loaded (and their topics made sure of) before the first message is taken, then
    // reloaded when they change: at each batch, and between batches on a timer (another process
    // sharing the store may change them while no alert arrives here).
    await pipeline.refreshFilters();
    const filterWatch = watchFilters({ intervalMs: options.filterPollMs ?? DEFAULT_FILTER_POLL_MS, refresh: () => pipeline.runExclusive(() => pipeline.refreshFilters()), log: log.child({ component: 'filters' }) });
    closers.push({ name: 'filter watch', close: () => filterWatch.stop() });

    const consumer: KafkaConsumer = createConsumer(options.kafka, {
      groupId,
      fromBeginning: (options.from ?? 'earliest') === 'earliest',
      autocommit: false,
      role: 'broker',
      // A restarted process takes its predecessor's partitions at once (no session timeout wait).
      groupInstanceId: instance,
      // While Kafka is unreachable (restarting), fetches and group requests keep retrying.
      retries: Number.MAX_SAFE_INTEGER,
      retryDelay: 1000,
      ...RAW_CONSUMER_FETCH,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs }),
    });
    // Leaving the group is retried while Kafka is unreachable: a stop must not wait for it forever.
    closers.push({ name: 'consumer', close: () => withinMs(consumer.close(), CLIENT_CLOSE_MS, 'leaving the consumer group') });
    const stopper = new AbortController();
    // Partitions follow the group's rebalances without an offset processed twice or skipped (group-reader.ts).
    const reader = new GroupReader({
      groupId,
      client: consumer.client,
      open: async () => (await consumer.consume([...options.topics])) as unknown as GroupStream,
      admin,
      signal: stopper.signal,
      log: log.child({ component: 'group' }),
    });
    try {
      await reader.start();
    } catch (err) {
      throw clusterError(options.kafka, err);
    }

    const lag = startLagMonitor({ admin, groupId, topics: options.topics, gauge: metrics.consumerLag, intervalMs: options.lagIntervalMs ?? 5000, log });
    // Before the consumer and admin close (closers run in reverse).
    closers.push({ name: 'lag monitor', close: (): Promise<void> => (lag as LagMonitor).stop() });

    state.status = 'running';
    log.info('broker started', { topics: options.topics, groupId, deadLetterTopic, topicPrefix, store: store.location, http: http?.url ?? null });
    const done = runIngest({
      pipeline,
      // The next batch's messages are read while one is processed (readAheadBytes).
      messages: readAhead(reader, { maxBytes: readAheadBytes(batchBytes), sizeOf: messageBytes }),
      batchBytes,
      maxMessageBytes: options.decode.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.batchMs === undefined ? {} : { batchMs: options.batchMs }),
      ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
      signal: stopper.signal,
      current: (m) => reader.claim(m),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      log: log.child({ component: 'ingest' }),
      onBatch: (report) => {
        state.batches++;
        state.messages += report.messages;
        state.lastBatchAt = new Date().toISOString();
        email?.sender.noteBatch(report.filters);
        options.onBatch?.(report);
      },
      onState: (s, detail) => {
        state.status = s === 'retrying' ? 'retrying' : s === 'failed' ? 'failed' : 'running';
        if (detail === undefined) delete state.detail;
        else state.detail = detail;
      },
    });
    done.then(
      () => {
        if (state.status !== 'failed') state.status = 'stopping';
      },
      (err: unknown) => {
        state.status = 'failed';
        state.detail = describeError(err);
      },
    );

    let stopping: Promise<IngestResult> | undefined;
    const stop = (): Promise<IngestResult> => {
      stopping ??= (async () => {
        stopper.abort();
        try {
          return await done;
        } finally {
          if (state.status !== 'failed') state.status = 'stopping';
          await closeAll();
          if (state.status !== 'failed') state.status = 'stopped';
          log.info('broker stopped', { batches: state.batches, messages: state.messages, droppedAfterRebalances: reader.dropped });
        }
      })();
      return stopping;
    };

    return { pipeline, store, service, metrics, http, adminToken, email, access, groupId, topics: options.topics, deadLetterTopic, topicPrefix, done, health, stop };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
