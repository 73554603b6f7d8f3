// The broker's Prometheus metrics (GET /metrics): what came in, what was processed or
// dead-lettered and why, batch sizes and latencies, consumer lag, and each filter's matches,
// records, bytes and drops. Filter series are labelled by filter id (stable across renames);
// nightjar_filter_info maps an id to its name, output and topic.
import { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.ts';
import { DEAD_LETTER_KINDS } from './dead-letters.ts';

/** Alerts per second over a sliding window of recent batches. */
export class RateWindow {
  private readonly windowMs: number;
  private readonly entries: { at: number; count: number }[] = [];
  private readonly startedAt: number;

  constructor(windowMs = 60_000, now: number = performance.now()) {
    this.windowMs = windowMs;
    this.startedAt = now;
  }

  add(count: number, now: number = performance.now()): void {
    this.entries.push({ at: now, count });
    this.prune(now);
  }

  /** Count per second over the window (or since the start, when that is shorter). */
  rate(now: number = performance.now()): number {
    this.prune(now);
    const span = Math.min(this.windowMs, now - this.startedAt);
    if (span <= 0) return 0;
    return (this.entries.reduce((sum, e) => sum + e.count, 0) * 1000) / span;
  }

  private prune(now: number): void {
    while (this.entries.length > 0 && (this.entries[0] as { at: number }).at < now - this.windowMs) this.entries.shift();
  }
}

export interface PipelineMetrics {
  readonly registry: MetricsRegistry;
  readonly alertsIn: Counter;
  readonly alertsProcessed: Counter;
  readonly deadLetters: Counter;
  readonly batches: Counter;
  readonly batchSeconds: Histogram;
  readonly batchSize: Histogram;
  readonly batchDelaySeconds: Histogram;
  readonly stageSeconds: Counter;
  readonly alertsPerSecond: Gauge;
  readonly consumerLag: Gauge;
  readonly batchRetries: Counter;
  readonly commitFailures: Counter;
  readonly filtersActive: Gauge;
  readonly filtersSkipped: Gauge;
  readonly filterInfo: Gauge;
  readonly filterMatches: Counter;
  readonly filterRecords: Counter;
  readonly filterBytes: Counter;
  readonly filterDropped: Counter;
  readonly filterErrors: Counter;
  readonly filterSeconds: Counter;
  readonly emailsSent: Counter;
  readonly emailFailures: Counter;
  readonly emailObjects: Counter;
  readonly emailFailingFilters: Gauge;
  readonly rate: RateWindow;
}

export function createPipelineMetrics(registry: MetricsRegistry = new MetricsRegistry()): PipelineMetrics {
  const m: PipelineMetrics = {
    registry,
    alertsIn: registry.counter('nightjar_alerts_in_total', 'Messages consumed from the raw alert topics (one alert each, except container files that hold several).', ['topic']),
    alertsProcessed: registry.counter('nightjar_alerts_processed_total', 'Alerts decoded, stored and run through the filters.'),
    deadLetters: registry.counter('nightjar_dead_letters_total', 'Messages sent to the dead-letter topic, by reason.', ['reason']),
    batches: registry.counter('nightjar_batches_total', 'Batches processed and committed.'),
    batchSeconds: registry.histogram('nightjar_batch_seconds', 'Time to process one batch: decode, store, filters, delivery, commit.', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
    batchSize: registry.histogram('nightjar_batch_size', 'Messages per batch.', [1, 10, 100, 500, 1000, 2500, 5000, 10000, 20000, 50000]),
    batchDelaySeconds: registry.histogram('nightjar_batch_delay_seconds', 'From the Kafka timestamp of the oldest message of a batch to the commit of the batch.', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600]),
    stageSeconds: registry.counter('nightjar_batch_stage_seconds_total', 'Time spent in each stage of the batches.', ['stage']),
    alertsPerSecond: registry.gauge('nightjar_alerts_per_second', 'Messages consumed per second over the last minute.'),
    consumerLag: registry.gauge('nightjar_consumer_lag', 'Messages not yet committed by the broker\'s group: end offset minus committed offset, per partition.', ['topic', 'partition']),
    batchRetries: registry.counter('nightjar_batch_retries_total', 'Batches retried (not committed, processed again), by reason.', ['reason']),
    commitFailures: registry.counter('nightjar_commit_failures_total', 'Offset commits that failed after a batch was delivered (its messages may be processed again).'),
    filtersActive: registry.gauge('nightjar_filters_active', 'Active filters run on every batch.'),
    filtersSkipped: registry.gauge('nightjar_filters_skipped', 'Active filters skipped because they no longer compile or their output cannot be set up.'),
    filterInfo: registry.gauge('nightjar_filter_info', 'One series per active filter, value 1: its name, output and topic.', ['filter', 'name', 'output', 'topic']),
    filterMatches: registry.counter('nightjar_filter_matches_total', 'Objects that passed the filter.', ['filter']),
    filterRecords: registry.counter('nightjar_filter_records_total', 'Records produced to the filter\'s topic and acknowledged.', ['filter']),
    filterBytes: registry.counter('nightjar_filter_bytes_total', 'Bytes (key + value) of the records produced.', ['filter']),
    filterDropped: registry.counter('nightjar_filter_dropped_total', 'Matches not delivered: over the row limit per batch, over the record size limit, or not encodable.', ['filter']),
    filterErrors: registry.counter('nightjar_filter_errors_total', 'Batches on which the filter failed or ran out of time.', ['filter', 'kind']),
    filterSeconds: registry.counter('nightjar_filter_seconds_total', 'Time spent running the filter on batches.', ['filter']),
    emailsSent: registry.counter('nightjar_emails_sent_total', 'Emails accepted by the SMTP server: digests of matches and filter-error notices.', ['kind']),
    emailFailures: registry.counter('nightjar_email_failures_total', 'Email sends that failed (retried with back-off): temporary (server unreachable, 4xx) or permanent (5xx: address refused).', ['kind', 'reason']),
    emailObjects: registry.counter('nightjar_email_objects_total', 'Objects listed in the digests sent.'),
    emailFailingFilters: registry.gauge('nightjar_email_failing_filters', 'Filters whose latest digest send failed (waiting to retry).'),
    rate: new RateWindow(),
  };
  for (const reason of DEAD_LETTER_KINDS) m.deadLetters.inc({ reason }, 0);
  for (const kind of ['digest', 'filter_error']) m.emailsSent.inc({ kind }, 0);
  m.emailFailingFilters.set({}, 0);
  return m;
}

/** The metrics in the Prometheus text format, with the rate brought up to now. */
export function renderMetrics(m: PipelineMetrics): string {
  m.alertsPerSecond.set({}, Math.round(m.rate.rate() * 100) / 100);
  return m.registry.render();
}
