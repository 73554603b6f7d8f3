// One batch through the broker, stage by stage (docs: DESIGN.md "Data flow"):
//
//   filters reloaded if changed → decode + adapt + features (bad messages → dead letters)
//   → store (one transaction, idempotent) → batch table → every active filter
//   → [Kafka transaction: records to the filter topics + dead letters, acknowledged → matches
//      recorded in the store (idempotent) → input offsets] commit → counters
//
// The records and the input offsets are committed together (deliver.ts), so a crash anywhere
// loses nothing and duplicates nothing for consumers reading committed data: an unfinished
// batch's transaction is aborted (by the next process registering the same transactional id)
// and the batch processed again; the store writes before the commit are idempotent. The
// counters are written after the commit (not idempotent: counted once, or, on a crash right
// after the commit, not at all). Without a transactional producer the offsets are committed
// after the acknowledgements instead (at-least-once).
//
// Batches run one at a time under a mutex that the filter service shares (runExclusive), so a
// filter being saved and backfilled never interleaves with a batch's deliveries (nor with its
// transaction), and a batch always runs the filters as they were when it started.
import type { Admin } from '@platformatic/kafka';
import type { FilterTopicOptions } from '../delivery/filter-output.ts';
import { formatUtc } from '../delivery/records.ts';
import { DEFAULT_MAX_RECORD_BYTES } from '../delivery/stream-encoder.ts';
import { DEFAULT_TOPIC_PREFIX } from '../delivery/topic-name.ts';
import { catalog as objectsCatalog } from '../features/index.ts';
import type { Catalog } from '../filters/catalog.ts';
import type { FilterEngine } from '../filters/filter-engine.ts';
import type { Alert } from '../formats/alert.ts';
import type { BytesProducer } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import type { TransactionalProducer } from '../kafka/transactions.ts';
import { utcNight } from '../store/counters.ts';
import type { CutoutPolicy, FilterCounterDelta, Store } from '../store/store.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { ActiveFilters, type ActiveFilter, type Reload } from './active-filters.ts';
import { batchObjects, type BatchObjects } from './batch-table.ts';
import { DEAD_LETTER_KINDS, deadLetterMessage, sourceOf, type DeadLetterKind } from './dead-letters.ts';
import { decodeBatch, type DecodedBatch, type DecodeSettings } from './decode-stage.ts';
import { deliverAndCommit, type BatchCommit, type FilterDelivery } from './deliver.ts';
import type { InputMessage } from './input-message.ts';
import { partitionRanges, type PartitionRange } from './offsets.ts';
import { createPipelineMetrics, type PipelineMetrics } from './pipeline-metrics.ts';
import { runFilters } from './run-filters.ts';

/** A consumed message: committing it commits its partition up to and including it. */
export interface ConsumedMessage extends InputMessage {
  commit(): void | Promise<void>;
  /** The consumer group membership it was fetched under (a transaction commits its offset with it). */
  readonly metadata?: Record<string, unknown>;
}

export interface PipelineOptions {
  store: Store;
  /** The filter engine, created on batchCatalog(catalog) (it holds the batch row number). */
  engine: FilterEngine;
  /** Idempotent, acks=all (createProducer's default): the filter streams' producer without transactions. */
  producer?: BytesProducer;
  /**
   * Exactly-once: each batch's records, dead letters and input offsets go in one Kafka
   * transaction of this producer, committed for this consumer group (which must be the group
   * the messages were consumed by). Without it: at-least-once, offsets committed after the acks.
   */
  transactions?: { producer: TransactionalProducer; groupId: string };
  admin: Admin;
  decode: DecodeSettings;
  deadLetterTopic: string;
  /** Prefix of filter topics for filters saved without a topic (default "nightjar"). */
  topicPrefix?: string;
  /** Which alerts' cutout images the store keeps (see CutoutPolicy); default DEFAULT_CUTOUT_POLICY. */
  cutouts?: CutoutPolicy;
  /** The catalog users' filters are compiled against (default the objects table). */
  catalog?: Catalog;
  /** Rows delivered per filter per batch (default 1000, Lasair's). */
  rowLimit?: number;
  /** Time per filter per batch, ms (default 20000, Lasair's). */
  filterTimeLimitMs?: number;
  /** Largest record a filter stream carries (default 4,000,000 bytes). */
  maxRecordBytes?: number;
  /** Retention and partitions of filter topics the pipeline creates. */
  topicOptions?: Omit<FilterTopicOptions, 'maxRecordBytes'>;
  /** Filters whose records are produced at once (default 16). */
  deliveryConcurrency?: number;
  /** Crash tests only: how long each batch's transaction stays open before its commit (default 0). */
  holdTransactionMs?: number;
  metrics?: PipelineMetrics;
  log?: Logger;
  /** The clock for the UTC time in records and the counters' night (default: now). */
  now?: () => Date;
}

export interface FilterBatchReport {
  id: number;
  name: string;
  output: string;
  topic: string | null;
  matched: number;
  records: number;
  bytes: number;
  dropped: number;
  truncated: boolean;
  elapsedMs: number;
  /** Why the filter delivered nothing on this batch (failed or timed out). */
  error?: string;
}

export interface BatchReport {
  /** 1 for the broker's first batch. */
  number: number;
  messages: number;
  /** Alerts processed (stored and filtered). */
  processed: number;
  /** Objects in the batch table (one per object, from its newest alert). */
  objects: number;
  deadLetters: number;
  deadLettersByKind: Partial<Record<DeadLetterKind, number>>;
  filters: FilterBatchReport[];
  /** Active filters skipped (no longer compile), by id. */
  skippedFilters: readonly number[];
  filtersReloaded: boolean;
  partitions: PartitionRange[];
  /** Milliseconds per stage. */
  stages: { filtersReload: number; decode: number; store: number; filters: number; deliver: number; counters: number; commit: number };
  elapsedMs: number;
  /** Set when the offsets could not be committed (the batch may be processed again after a restart). */
  commitError?: string;
}

/**
 * Measured with bench/store.ts --cutouts (10,000-alert batches, Rubin cutouts of ~115 KB an
 * alert, 2 shared cores): keeping every alert's images took the store write from ~4 s to
 * ~40 s a batch (1.1 GB of images each; zstd would halve that for ~5.6 s of CPU), while the
 * images of 1,000 matched alerts (Lasair's row limit of one filter) took a median 4.3 s more,
 * in proportion to the matches. So by default only alerts a filter passed keep them.
 */
export const DEFAULT_CUTOUT_POLICY: CutoutPolicy = 'matched';

const STAGES = ['filtersReload', 'decode', 'store', 'filters', 'deliver', 'counters', 'commit'] as const;
/** A failing filter is logged at most this often (it fails on every batch until fixed). */
const FILTER_ERROR_LOG_MS = 60_000;

export class Pipeline {
  readonly metrics: PipelineMetrics;
  readonly filters: ActiveFilters;
  private readonly options: PipelineOptions;
  private readonly log: Logger;
  private readonly now: () => Date;
  private lock: Promise<unknown> = Promise.resolve();
  private batchNumber = 0;
  private readonly filterErrorLogged = new Map<number, number>();

  constructor(options: PipelineOptions) {
    if (options.producer === undefined && options.transactions === undefined) throw new Error('a pipeline needs a producer or a transactional producer');
    this.options = options;
    this.metrics = options.metrics ?? createPipelineMetrics();
    this.log = options.log ?? createLogger({ component: 'pipeline' });
    this.now = options.now ?? (() => new Date());
    this.filters = new ActiveFilters({
      store: options.store,
      admin: options.admin,
      catalog: options.catalog ?? objectsCatalog(),
      topicPrefix: options.topicPrefix ?? DEFAULT_TOPIC_PREFIX,
      topicOptions: { ...options.topicOptions, maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES },
      log: this.log,
    });
  }

  /**
   * Runs fn between batches: never while a batch is being processed, and the next batch waits
   * for it. The filter service saves and backfills filters through this.
   */
  readonly runExclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = this.lock.then(fn);
    this.lock = result.catch(() => undefined);
    return result;
  };

  /**
   * Processes one batch and commits its offsets. Throws, having committed nothing, when a stage
   * cannot complete (schema source unavailable: SchemaUnavailableError; Kafka or the store
   * failing); the batch should then be processed again.
   */
  processBatch(messages: readonly ConsumedMessage[]): Promise<BatchReport> {
    return this.runExclusive(() => this.process(messages));
  }

  private async process(messages: readonly ConsumedMessage[]): Promise<BatchReport> {
    const options = this.options;
    const { store, engine, producer } = options;
    const started = performance.now();
    const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as BatchReport['stages'];
    let mark = started;
    const lap = (stage: keyof BatchReport['stages']): void => {
      const t = performance.now();
      stages[stage] = t - mark;
      mark = t;
    };

    const reload = await this.refreshFilters();
    const filters = reload.filters;
    lap('filtersReload');

    // Let, not const: set to undefined once the matches are known, so that the batch's alerts
    // (with copies of their cutout images) are not kept through delivery, only the matches'.
    let decoded: DecodedBatch | undefined = await decodeBatch(messages, options.decode);
    let batch: BatchObjects | undefined = batchObjects(decoded.accepted);
    const processed = decoded.accepted.length;
    const objects = batch.objects.length;
    const decodeFailures = decoded.deadLetters;
    lap('decode');

    const cutouts = options.cutouts ?? DEFAULT_CUTOUT_POLICY;
    if (decoded.accepted.length > 0) {
      const alerts = decoded.accepted.map((a) => a.alert);
      await store.writeBatch({ alerts, objects: batch.objects, origins: decoded.accepted.map((a) => a.origin), keepCutouts: cutouts === 'all' });
    }
    lap('store');

    const rowLimit = options.rowLimit ?? 1000;
    const matches = batch.objects.length === 0 ? [] : await runFilters(engine, filters, batch, { rowLimit, timeLimitMs: options.filterTimeLimitMs ?? 20_000 });
    lap('filters');
    if (cutouts === 'matched' && matches.length > 0) {
      // The images of the alerts a filter passed, known only now: a write of their own, before
      // the commit and idempotent (a replayed batch writes them again, changing nothing).
      await store.writeCutouts(matches.flatMap((m) => m.alerts));
      stages.store += performance.now() - mark;
      mark = performance.now();
    }
    decoded = undefined;
    batch = undefined;

    const now = this.now();
    const deadLetters = decodeFailures.map((d) => deadLetterMessage(messages[d.index] as ConsumedMessage, d, options.deadLetterTopic));
    const commit: BatchCommit = options.transactions === undefined ? { kind: 'after-acks', producer: producer as BytesProducer } : { kind: 'transaction', ...options.transactions, admin: options.admin };
    const delivered = await deliverAndCommit(commit, matches, deadLetters, messages, {
      utc: formatUtc(now),
      maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      concurrency: options.deliveryConcurrency ?? 16,
      ...(options.holdTransactionMs === undefined ? {} : { holdTransactionMs: options.holdTransactionMs }),
      // Before the commit: idempotent, and lost if written after it and the process died between.
      beforeCommit: async (deliveries) => {
        // Every filter's delivered rows, for the web app's live view and the email digests (which
        // read them from the store on their own schedule: no batch waits for SMTP). Idempotent, so a
        // replayed batch records nothing twice.
        const matchedAt = now.toISOString();
        const recorded = deliveries.flatMap(({ matches: m }) =>
          m.rows.map((row, i) => {
            const alert = m.alerts[i] as Alert;
            return { filterId: m.filter.stored.id, objectId: String(alert.objectId), sourceId: alert.sourceId, mjd: alert.mjd, matchedAt, row: { ...row }, survey: alert.survey };
          }),
        );
        if (recorded.length > 0) await store.addFilterMatches(recorded);
      },
    });
    const { deliveries, commitError } = delivered;
    stages.deliver = delivered.deliverMs;
    stages.commit = delivered.commitMs;
    mark = performance.now();

    // After the commit: the counters are not idempotent, so a batch processed again (its first
    // attempt aborted) must not have counted; a crash right here loses one batch's counts. The
    // batch is committed, so a failure here is logged, never retried.
    const night = utcNight(now);
    const filterDeltas: FilterCounterDelta[] = deliveries
      .filter((d) => d.matches.matched > 0 || d.records > 0 || d.dropped > 0)
      .map((d) => ({ filterId: d.matches.filter.stored.id, night, matched: d.matches.matched, records: d.records, bytes: d.bytes, dropped: d.dropped }));
    try {
      if (filterDeltas.length > 0) await store.addFilterCounters(filterDeltas);
      await store.addPipelineCounters([{ night, alertsIn: messages.length, processed, deadLetters: decodeFailures.length, batches: 1 }]);
    } catch (err) {
      this.log.warn('counters of a committed batch not recorded', { partitions: partitionRanges(messages), error: describeError(err) });
    }
    lap('counters');

    const report: BatchReport = {
      number: ++this.batchNumber,
      messages: messages.length,
      processed,
      objects,
      deadLetters: decodeFailures.length,
      deadLettersByKind: countKinds(decodeFailures.map((d) => d.kind)),
      filters: deliveries.map(filterReport),
      skippedFilters: reload.skipped,
      filtersReloaded: reload.reloaded,
      partitions: partitionRanges(messages),
      stages,
      elapsedMs: performance.now() - started,
      ...(commitError === undefined ? {} : { commitError }),
    };
    this.record(report, messages, deliveries);
    this.logBatch(report, messages, decodeFailures, deliveries);
    return report;
  }

  /** Reloads the active filters if the store's changed (done at the start of every batch). */
  async refreshFilters(): Promise<Reload> {
    const reload = await this.filters.refresh();
    if (reload.reloaded) this.filtersChanged(reload.filters, reload.skipped);
    return reload;
  }

  /** Filter metrics follow the active set: info series replaced, removed filters' series dropped. */
  private filtersChanged(filters: readonly ActiveFilter[], skipped: readonly number[]): void {
    const m = this.metrics;
    m.filterInfo.reset();
    for (const f of filters) m.filterInfo.set({ filter: f.stored.id, name: f.stored.name, output: f.stored.output, topic: f.kafka?.topic ?? '' }, 1);
    m.filtersActive.set({}, filters.length);
    m.filtersSkipped.set({}, skipped.length);
    this.log.info('filters loaded', { active: filters.length, skipped: [...skipped], filters: filters.map((f) => ({ id: f.stored.id, name: f.stored.name, output: f.stored.output, topic: f.kafka?.topic ?? null })) });
  }

  private record(report: BatchReport, messages: readonly InputMessage[], deliveries: readonly FilterDelivery[]): void {
    const m = this.metrics;
    const perTopic = new Map<string, number>();
    let oldest: bigint | undefined;
    for (const msg of messages) {
      perTopic.set(msg.topic, (perTopic.get(msg.topic) ?? 0) + 1);
      if (oldest === undefined || msg.timestamp < oldest) oldest = msg.timestamp;
    }
    for (const [topic, n] of perTopic) m.alertsIn.inc({ topic }, n);
    m.alertsProcessed.inc({}, report.processed);
    for (const [reason, n] of Object.entries(report.deadLettersByKind)) m.deadLetters.inc({ reason }, n);
    m.batches.inc();
    m.batchSeconds.observe(report.elapsedMs / 1000);
    m.batchSize.observe(report.messages);
    if (oldest !== undefined && oldest > 0n) m.batchDelaySeconds.observe(Math.max(0, Date.now() - Number(oldest)) / 1000);
    for (const stage of STAGES) m.stageSeconds.inc({ stage }, report.stages[stage] / 1000);
    m.rate.add(report.messages);
    for (const d of deliveries) {
      const filter = d.matches.filter.stored.id;
      m.filterMatches.inc({ filter }, d.matches.matched);
      m.filterRecords.inc({ filter }, d.records);
      m.filterBytes.inc({ filter }, d.bytes);
      m.filterDropped.inc({ filter }, d.dropped);
      m.filterSeconds.inc({ filter }, d.matches.elapsedMs / 1000);
      if (d.matches.error !== undefined) m.filterErrors.inc({ filter, kind: d.matches.error.kind });
    }
    if (report.commitError !== undefined) m.commitFailures.inc();
  }

  private logBatch(report: BatchReport, messages: readonly InputMessage[], deadLetters: readonly { index: number; kind: DeadLetterKind; reason: string }[], deliveries: readonly FilterDelivery[]): void {
    if (deadLetters.length > 0) {
      const first = deadLetters[0] as { index: number; reason: string };
      this.log.warn('messages dead-lettered', {
        batch: report.number,
        count: deadLetters.length,
        byKind: report.deadLettersByKind,
        topic: this.options.deadLetterTopic,
        first: { source: sourceOf(messages[first.index] as InputMessage), reason: first.reason },
      });
    }
    const at = performance.now();
    for (const d of deliveries) {
      const id = d.matches.filter.stored.id;
      const problem = d.matches.error?.message ?? (d.failed > 0 ? `${d.failed} records could not be encoded: ${d.firstFailure ?? ''}` : undefined);
      if (problem === undefined) continue;
      const last = this.filterErrorLogged.get(id);
      if (last !== undefined && at - last < FILTER_ERROR_LOG_MS) continue;
      this.filterErrorLogged.set(id, at);
      this.log.warn('filter failed on a batch', { batch: report.number, filterId: id, name: d.matches.filter.stored.name, problem });
    }
    if (report.commitError !== undefined) this.log.warn('offsets not committed; the batch may be processed again after a restart', { batch: report.number, error: report.commitError });
    this.log.debug('batch', { batch: report.number, messages: report.messages, processed: report.processed, deadLetters: report.deadLetters, partitions: report.partitions, ms: Math.round(report.elapsedMs), stages: report.stages });
  }
}

function countKinds(kinds: readonly DeadLetterKind[]): Partial<Record<DeadLetterKind, number>> {
  const out: Partial<Record<DeadLetterKind, number>> = {};
  for (const kind of kinds) out[kind] = (out[kind] ?? 0) + 1;
  // Stable key order, as DEAD_LETTER_KINDS lists them.
  return Object.fromEntries(DEAD_LETTER_KINDS.filter((k) => out[k] !== undefined).map((k) => [k, out[k]]));
}

function filterReport(d: FilterDelivery): FilterBatchReport {
  const { filter, matched, truncated, elapsedMs, error } = d.matches;
  return {
    id: filter.stored.id,
    name: filter.stored.name,
    output: filter.stored.output,
    topic: filter.kafka?.topic ?? null,
    matched,
    records: d.records,
    bytes: d.bytes,
    dropped: d.dropped,
    truncated,
    elapsedMs,
    ...(error === undefined ? {} : { error: error.message }),
  };
}
