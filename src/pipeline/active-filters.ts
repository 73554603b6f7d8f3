// The active filters as the pipeline runs them, reloaded from the store whenever its
// filtersVersion() changes (checked at the start of every batch: one cheap query; and every
// second or two between batches by watchFilters, so that a filter saved through another process
// sharing the store reaches an idle broker too). Each filter
// is recompiled from its saved source (so a compiler fix applies to every saved filter); one
// that no longer compiles is skipped and logged with its id, and the others run. Filters
// whose settings did not change keep their compiled form, stream encoder and checked topic.
import type { Admin } from '@platformatic/kafka';
import { ensureFilterTopic, type FilterTopicOptions } from '../delivery/filter-output.ts';
import { isKafkaOutput, type KafkaOutput } from '../delivery/output-modes.ts';
import { createStreamEncoder, type StreamEncoder } from '../delivery/stream-encoder.ts';
import { filterTopicName } from '../delivery/topic-name.ts';
import type { Catalog } from '../filters/catalog.ts';
import { isFilterErrors, parseFilter, type CompiledFilter } from '../filters/parse-filter.ts';
import type { Store, StoredFilter } from '../store/store.ts';
import type { Logger } from '../util/log.ts';
import { describeError } from '../kafka/errors.ts';
import { batchQuery, countQuery, type BatchQuery } from './batch-table.ts';
import { mapConcurrent } from './concurrency.ts';

export interface KafkaDelivery {
  readonly output: KafkaOutput;
  readonly topic: string;
  readonly encoder: StreamEncoder;
  /** Partitions of the topic (records of one object go to one partition when there are several). */
  readonly partitions: number;
}

export interface ActiveFilter {
  readonly stored: StoredFilter;
  readonly compiled: CompiledFilter;
  /** The filter with the batch row number added, as the engine runs it. */
  readonly query: BatchQuery;
  /** How many rows pass it, for a batch where its rows were cut at the row limit. */
  readonly count: CompiledFilter;
  /** For the Kafka outputs; null for none and email. */
  readonly kafka: KafkaDelivery | null;
}

export interface ActiveFiltersOptions {
  store: Store;
  admin: Admin;
  /** The catalog users' filters are compiled against (not the engine's, which has the row column). */
  catalog: Catalog;
  /** Topic prefix for a Kafka filter saved without a topic. */
  topicPrefix: string;
  /** Retention, partitions and record size limit of filter topics. */
  topicOptions?: FilterTopicOptions;
  log: Logger;
}

export interface Reload {
  /** Whether the filters were reloaded (the store's version changed). */
  reloaded: boolean;
  filters: readonly ActiveFilter[];
  /** Ids of active filters skipped because they no longer compile (or their topic is unusable). */
  skipped: readonly number[];
}

/** What makes a filter's compiled form, records and topic: a change of any means rebuilding it. */
function signature(f: StoredFilter): string {
  return JSON.stringify([f.updatedAt, f.name, f.ownerId, f.select, f.where, f.tables, f.output, f.topic]);
}

export class ActiveFilters {
  private readonly options: ActiveFiltersOptions;
  private version: number | undefined;
  private current: ActiveFilter[] = [];
  private skipped: number[] = [];
  private readonly built = new Map<number, { signature: string; filter: ActiveFilter }>();

  constructor(options: ActiveFiltersOptions) {
    this.options = options;
  }

  get filters(): readonly ActiveFilter[] {
    return this.current;
  }

  /** Reloads the filters if the store's filters changed since the last call (always on the first). */
  async refresh(): Promise<Reload> {
    const version = await this.options.store.filtersVersion();
    if (version === this.version) return { reloaded: false, filters: this.current, skipped: this.skipped };
    const stored = await this.options.store.listFilters({ activeOnly: true });
    const skipped: number[] = [];
    const built = await mapConcurrent(stored, 4, async (f) => {
      const sig = signature(f);
      const known = this.built.get(f.id);
      if (known !== undefined && known.signature === sig) return known.filter;
      const filter = await this.build(f);
      if (filter === undefined) skipped.push(f.id);
      return filter;
    });
    const filters = built.filter((f): f is ActiveFilter => f !== undefined);
    this.built.clear();
    for (const filter of filters) this.built.set(filter.stored.id, { signature: signature(filter.stored), filter });
    // Set last: a failure above (Kafka down while checking a topic) leaves the version unseen, so the next batch tries again.
    this.current = filters;
    this.skipped = skipped.sort((a, b) => a - b);
    this.version = version;
    return { reloaded: true, filters, skipped: this.skipped };
  }

  /** Forgets everything: the next refresh rebuilds every filter. */
  invalidate(): void {
    this.version = undefined;
    this.built.clear();
  }

  private async build(f: StoredFilter): Promise<ActiveFilter | undefined> {
    const { catalog, log } = this.options;
    const compiled = await parseFilter({ id: String(f.id), select: f.select, where: f.where, tables: [...f.tables] }, catalog);
    if (isFilterErrors(compiled)) {
      log.warn('filter skipped: it no longer compiles', { filterId: f.id, name: f.name, problems: compiled.map((e) => `${e.part} at ${e.offset}: ${e.message}`) });
      return undefined;
    }
    let kafka: KafkaDelivery | null = null;
    if (isKafkaOutput(f.output)) {
      let topic: string;
      try {
        topic = f.topic ?? filterTopicName(this.options.topicPrefix, f.ownerId, f.name);
      } catch (err) {
        log.warn('filter skipped: no usable topic name', { filterId: f.id, name: f.name, reason: (err as Error).message });
        return undefined;
      }
      let encoder: StreamEncoder;
      try {
        encoder = await createStreamEncoder(f.output, compiled, catalog, f.name);
      } catch (err) {
        log.warn('filter skipped: its records cannot be encoded', { filterId: f.id, name: f.name, output: f.output, reason: (err as Error).message });
        return undefined;
      }
      // Kafka failing here throws: the batch is retried, rather than the filter silently left out.
      const info = await ensureFilterTopic(this.options.admin, topic, this.options.topicOptions ?? {});
      kafka = { output: f.output, topic, encoder, partitions: info.partitions };
    }
    return { stored: f, compiled, query: batchQuery(compiled), count: countQuery(compiled), kafka };
  }
}

export interface FilterWatch {
  /** Stops polling; resolves once a reload under way has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `refresh` (the pipeline's reload, between batches) every intervalMs, one at a time, until
 * stopped. With several broker processes on one store, filters saved through any of them (its
 * web app or API, or `nightjar filter` on the store) reach the others within about intervalMs,
 * whether alerts arrive or not. A failure is logged once, until a reload succeeds again.
 */
export function watchFilters(options: { intervalMs: number; refresh: () => Promise<unknown>; log: Logger }): FilterWatch {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let failing = false;
  const tick = (): void => {
    running = options.refresh().then(
      () => {
        if (failing) options.log.info('filters reloaded again after failures');
        failing = false;
      },
      (err: unknown) => {
        if (!failing) options.log.warn('reloading the filters between batches failed; retrying', { error: describeError(err) });
        failing = true;
      },
    );
    void running.then(() => {
      if (!stopped) schedule();
    });
  };
  const schedule = (): void => {
    timer = setTimeout(tick, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
