// The filter service: adding, changing, removing, listing and showing users' filters, with their
// Kafka streams kept in step. The CLI (`nightjar filter ...`), the HTTP API (filter-api.ts) and
// later the web app all go through it.
//
// Streams (Lasair's rules, seed 001): a filter with a Kafka output writes to the topic
// filterTopicName(prefix, owner id, name). When such a filter is saved, or changed in a way
// that changes its records — its name (hence topic), SELECT, WHERE, tables or output — its
// stream's old records are deleted and the filter is run over the stored objects to put up to
// 10 records in at once (newest alerts first, see stored-matches.ts). A rename moves the stream
// to the new topic and deletes the old one. Changing only the description, public or active
// leaves the stream as it is. Backfilled records are not added to the filter's nightly
// counters, which count what the pipeline delivers.
//
// Removing a filter, or changing its output away from Kafka, deletes its topic at once. Lasair
// lets records age out over their 7 days instead; Nightjar deletes because the topic name is
// derived from the filter name and can be taken again by the next filter of that name, whose
// consumers must not receive the old filter's records, and because a topic no filter writes to
// is clutter nobody owns. A consumer of a removed stream gets "unknown topic".
//
// Consistency: one change at a time (an internal queue), and each change's store write and Kafka
// work run inside `exclusive`, which the broker supplies so they never interleave with a
// batch's deliveries. The store is written first; if the stream cannot then be set up (Kafka
// down, say), the store change is undone and the error says so, so a saved filter always has its
// stream. A failure halfway through a rename can leave the new topic created and the old one
// gone; saving the filter again repairs that.
//
// Owners: given by user id, or by email address — a user with that email is created when
// missing (createMissingOwners, default on: the CLI's convenience until the web app has
// accounts; the web app passes false).
import type { Admin } from '@platformatic/kafka';
import { backfill, BACKFILL_RECORDS, DEFAULT_RETENTION_MS, moveFilterTopic } from '../delivery/filter-output.ts';
import { STREAM_OUTPUT_LABELS, isKafkaOutput, type StreamOutput } from '../delivery/output-modes.ts';
import type { FilterRow } from '../delivery/records.ts';
import { DEFAULT_MAX_RECORD_BYTES, createStreamEncoder } from '../delivery/stream-encoder.ts';
import { DEFAULT_TOPIC_PREFIX, filterTopicName } from '../delivery/topic-name.ts';
import { emailStatus } from '../email/email-status.ts';
import { catalog as objectsCatalog } from '../features/columns.ts';
import type { Catalog } from '../filters/catalog.ts';
import type { CompiledFilter } from '../filters/parse-filter.ts';
import type { BytesSender } from '../kafka/connection.ts';
import { deleteTopic, endOffsets, startOffsets } from '../kafka/topics.ts';
import type { FilterInput, ObjectKey, Store, StoredFilter, StoredUser } from '../store/store.ts';
import { UserError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { FilterNotFoundError, FilterValidationError, TopicTakenError } from './errors.ts';
import { FilterValidator } from './filter-validation.ts';
import { loadStoredAlert } from './stored-alert.ts';
import { findStoredMatches } from './stored-matches.ts';
import type { FilterChanges, FilterDraft, FilterManager, FilterProblem, FilterView, ListOptions, NewFilter, RemoveResult, SaveResult, ShowResult, StreamReset } from './types.ts';

/** Runs fn when no batch is being delivered (the broker's mutex); by default fn simply runs. */
export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>;

export interface FilterServiceOptions {
  store: Store;
  /** Kafka admin client (topics, record deletion). */
  admin: Admin;
  /**
   * Sends backfilled records: an idempotent producer (createProducer), or, in the broker, a
   * sender that puts each send in a transaction of the pipeline's transactional producer.
   */
  producer: BytesSender;
  /** First part of every filter topic (default "nightjar"; Lasair's is "lasair"). */
  topicPrefix?: string;
  exclusive?: Exclusive;
  /** The clock for the UTC time in backfilled records (default: now). */
  now?: () => Date;
  /** Largest record put in a stream (default 4,000,000 bytes); also the topics' limit. */
  maxRecordBytes?: number;
  /** Retention of new and changed filter topics, ms (default 7 days). */
  retentionMs?: number;
  /** Partitions of a new filter topic (default 1). */
  partitions?: number;
  /** Records a saved or changed stream gets at once (default 10). */
  backfillRecords?: number;
  /** Time allowed for running a filter over the stored objects, ms (default the store's, 20 s). */
  backfillTimeLimitMs?: number;
  /** Create the user when an owner is given by an unknown email address (default true). */
  createMissingOwners?: boolean;
  /** The filter catalog (default the objects table of src/features). */
  catalog?: Catalog;
  /** Keeps the topics' Kafka ACLs in step (src/kafka/access.ts); absent on a cluster without ACLs. */
  access?: FilterAccessHook;
  log?: Logger;
}

/**
 * Told of every saved, changed or removed filter, after the store and the stream (KafkaAccess
 * implements it: private topics readable by their owner only, public ones by every account). A
 * failure undoes a save or change like a stream failure does, so a filter is never left more
 * readable than its setting says.
 */
export interface FilterAccessHook {
  filterChanged(before: StoredFilter | null, after: StoredFilter | null): Promise<unknown>;
}

export interface FilterService extends FilterManager {
  readonly topicPrefix: string;
  /** Waits for changes under way and frees the type checker; does not close the store or Kafka clients. */
  close(): Promise<void>;
}

/** Rows fetched per record wanted: spares for rows whose record is too big or cannot be encoded. */
const SPARE_ROWS_FACTOR = 4;

export function createFilterService(options: FilterServiceOptions): FilterService {
  return new Service(options);
}

class Service implements FilterService {
  readonly topicPrefix: string;
  private readonly store: Store;
  private readonly admin: Admin;
  private readonly producer: BytesSender;
  private readonly exclusive: Exclusive;
  private readonly now: () => Date;
  private readonly maxRecordBytes: number;
  private readonly retentionMs: number;
  private readonly partitions: number;
  private readonly backfillRecords: number;
  private readonly backfillTimeLimitMs: number | undefined;
  private readonly createMissingOwners: boolean;
  private readonly catalog: Catalog;
  private readonly validator: FilterValidator;
  private readonly log: Logger | undefined;
  private readonly access: FilterAccessHook | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FilterServiceOptions) {
    this.store = options.store;
    this.admin = options.admin;
    this.producer = options.producer;
    this.topicPrefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    // Checked now, so a bad prefix fails at start-up rather than at the first Kafka filter.
    filterTopicName(this.topicPrefix, 0, 'x');
    this.exclusive = options.exclusive ?? ((fn) => fn());
    this.now = options.now ?? (() => new Date());
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.partitions = options.partitions ?? 1;
    this.backfillRecords = options.backfillRecords ?? BACKFILL_RECORDS;
    if (!Number.isSafeInteger(this.backfillRecords) || this.backfillRecords < 1) throw new Error(`backfillRecords must be a positive integer, not ${this.backfillRecords}`);
    this.backfillTimeLimitMs = options.backfillTimeLimitMs;
    this.createMissingOwners = options.createMissingOwners ?? true;
    this.catalog = options.catalog ?? objectsCatalog();
    this.validator = new FilterValidator(this.catalog);
    this.log = options.log;
    this.access = options.access;
  }

  // ---- reading ------------------------------------------------------------------------

  async validate(draft: FilterDraft): Promise<FilterProblem[]> {
    const compiled = await this.validator.compile(draft);
    return Array.isArray(compiled) ? compiled : [];
  }

  async list(options: ListOptions = {}): Promise<FilterView[]> {
    let ownerId: number | undefined;
    if (options.owner !== undefined) {
      const owner = await this.findOwner(options.owner);
      if (owner === null) return [];
      ownerId = owner.id;
    }
    const filters = await this.store.listFilters(ownerId === undefined ? {} : { ownerId });
    const emails = new Map<number, string | null>();
    const views: FilterView[] = [];
    for (const filter of filters) {
      if (!emails.has(filter.ownerId)) emails.set(filter.ownerId, (await this.store.getUser(filter.ownerId))?.email ?? null);
      views.push({ ...filter, ownerEmail: emails.get(filter.ownerId) ?? null });
    }
    return views;
  }

  async show(id: number): Promise<ShowResult> {
    const filter = await this.getFilter(id);
    const counters = await this.store.filterCounters(filter.id);
    const totals = { matched: 0, records: 0, bytes: 0, dropped: 0 };
    for (const night of counters) {
      totals.matched += night.matched;
      totals.records += night.records;
      totals.bytes += night.bytes;
      totals.dropped += night.dropped;
    }
    let stream: ShowResult['stream'] = null;
    if (filter.topic !== null) {
      try {
        stream = { topic: filter.topic, retained: await retainedRecords(this.admin, filter.topic) };
      } catch (error) {
        stream = { topic: filter.topic, retained: null, error: (error as Error).message };
      }
    }
    const digest = await this.store.emailDigestState(filter.id);
    const email = digest === null ? null : emailStatus(digest);
    return { filter: await this.view(filter), outputLabel: STREAM_OUTPUT_LABELS[filter.output], stream, counters, totals, email };
  }

  // ---- changing -----------------------------------------------------------------------

  async add(input: NewFilter): Promise<SaveResult> {
    if (input === null || typeof input !== 'object') throw new FilterValidationError([{ part: 'name', offset: 0, message: 'a new filter needs an owner, a name and a SELECT' }]);
    const output: StreamOutput = input.output ?? 'none';
    const name = typeof input.name === 'string' ? input.name.trim() : input.name;
    const draft = { select: input.select, where: input.where ?? '', tables: input.tables ?? [], name, output };
    const compiled = await this.compileOrThrow({ ...draft, description: input.description, public: input.public, active: input.active }, true);
    return this.serial(async () => {
      const owner = await this.ownerFor(input.owner);
      const topic = isKafkaOutput(output) ? this.topicFor(owner.id, name) : null;
      if (topic !== null) await this.checkTopicFree(topic, undefined);
      return this.exclusive(async () => {
        const saved = await this.store.saveFilter({
          ownerId: owner.id,
          name,
          description: input.description ?? '',
          select: input.select,
          where: input.where ?? '',
          tables: input.tables ?? [],
          public: input.public ?? false,
          output,
          active: input.active ?? true,
          topic,
        });
        let stream: StreamReset | null = null;
        if (saved.topic !== null) {
          try {
            stream = await this.refillStream(saved, compiled, null);
            await this.access?.filterChanged(null, saved);
          } catch (error) {
            await this.store.deleteFilter(saved.id).catch(() => false);
            throw new Error(`filter "${name}" was not saved: setting up its stream ${saved.topic} failed: ${(error as Error).message}`, { cause: error });
          }
        }
        this.log?.info('filter added', { filterId: saved.id, name, owner: owner.email, output, topic, records: stream?.records ?? 0 });
        return { filter: { ...saved, ownerEmail: owner.email }, stream, deletedTopic: null };
      });
    });
  }

  async update(id: number, changes: FilterChanges): Promise<SaveResult> {
    if (changes === null || typeof changes !== 'object') throw new FilterValidationError([{ part: 'name', offset: 0, message: 'changes must be an object of the fields to change' }]);
    return this.serial(async () => {
      const current = await this.getFilter(id);
      const name = typeof changes.name === 'string' ? changes.name.trim() : (changes.name ?? current.name);
      const next: Omit<FilterInput, 'ownerId'> & { output: StreamOutput } = {
        id: current.id,
        name,
        description: changes.description ?? current.description,
        select: changes.select ?? current.select,
        where: changes.where ?? current.where,
        tables: changes.tables ?? current.tables,
        public: changes.public ?? current.public,
        output: changes.output ?? current.output,
        active: changes.active ?? current.active,
      };
      const compiled = await this.compileOrThrow({ ...next, name, tables: [...(next.tables ?? [])] }, true);
      const topic = isKafkaOutput(next.output) ? this.topicFor(current.ownerId, name) : null;
      if (topic !== null) await this.checkTopicFree(topic, current.id);
      const recordsChange =
        name !== current.name || next.select !== current.select || next.where !== current.where || next.output !== current.output || topic !== current.topic || !sameList(next.tables ?? [], current.tables);
      return this.exclusive(async () => {
        const saved = await this.store.saveFilter({ ...next, ownerId: current.ownerId, topic });
        let stream: StreamReset | null = null;
        let deletedTopic: string | null = null;
        try {
          if (saved.topic !== null && recordsChange) {
            stream = await this.refillStream(saved, compiled, current.topic);
          } else if (saved.topic === null && current.topic !== null) {
            deletedTopic = (await deleteTopic(this.admin, current.topic)) ? current.topic : null;
          }
          await this.access?.filterChanged(current, saved);
        } catch (error) {
          await this.store.saveFilter(inputOf(current)).catch(() => undefined);
          await this.access?.filterChanged(saved, current).catch(() => undefined);
          throw new Error(`filter ${current.id} ("${current.name}") was left unchanged: updating its stream ${saved.topic ?? current.topic ?? ''} failed: ${(error as Error).message}`, { cause: error });
        }
        this.log?.info('filter updated', { filterId: saved.id, name, output: saved.output, topic, previousTopic: current.topic, records: stream?.records ?? null });
        return { filter: await this.view(saved), stream, deletedTopic };
      });
    });
  }

  async remove(id: number): Promise<RemoveResult> {
    return this.serial(() =>
      this.exclusive(async () => {
        const filter = await this.getFilter(id);
        if (!(await this.store.deleteFilter(filter.id))) throw new FilterNotFoundError(filter.id);
        const result: RemoveResult = { id: filter.id, name: filter.name, topic: filter.topic, topicDeleted: false };
        if (filter.topic !== null) {
          try {
            result.topicDeleted = await deleteTopic(this.admin, filter.topic);
          } catch (error) {
            result.warning = `the filter was removed but its topic ${filter.topic} could not be deleted: ${(error as Error).message}`;
          }
          try {
            await this.access?.filterChanged(filter, null);
          } catch (error) {
            result.warning = `${result.warning === undefined ? 'the filter was removed but' : `${result.warning}; and`} the ACLs of its topic ${filter.topic} could not be removed: ${(error as Error).message}`;
          }
        }
        this.log?.info('filter removed', { filterId: filter.id, name: filter.name, topic: filter.topic, topicDeleted: result.topicDeleted });
        return result;
      }),
    );
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.validator.close();
  }

  // ---- helpers ------------------------------------------------------------------------

  /** Runs changes one at a time, in call order; a failed change does not stop the next. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn, fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async compileOrThrow(draft: FilterDraft & { description?: unknown; public?: unknown; active?: unknown }, nameRequired: boolean): Promise<CompiledFilter> {
    const compiled = await this.validator.compile(draft, nameRequired);
    if (Array.isArray(compiled)) throw new FilterValidationError(compiled);
    return compiled;
  }

  private async getFilter(id: number): Promise<StoredFilter> {
    if (!Number.isSafeInteger(id) || id < 1) throw new FilterNotFoundError(id);
    const filter = await this.store.getFilter(id);
    if (filter === null) throw new FilterNotFoundError(id);
    return filter;
  }

  private async view(filter: StoredFilter): Promise<FilterView> {
    return { ...filter, ownerEmail: (await this.store.getUser(filter.ownerId))?.email ?? null };
  }

  private topicFor(ownerId: number, name: string): string {
    try {
      return filterTopicName(this.topicPrefix, ownerId, name);
    } catch (error) {
      if (error instanceof UserError) throw new FilterValidationError([{ part: 'name', offset: 0, message: error.message }]);
      throw error;
    }
  }

  private async checkTopicFree(topic: string, selfId: number | undefined): Promise<void> {
    const other = (await this.store.listFilters()).find((f) => f.topic === topic && f.id !== selfId);
    if (other !== undefined) throw new TopicTakenError(topic, other.id, other.name);
  }

  /** The owner named by id or email, or null when there is none. Throws a validation error for something that is neither. */
  private async findOwner(owner: string | number): Promise<StoredUser | null> {
    const text = typeof owner === 'number' ? String(owner) : typeof owner === 'string' ? owner.trim() : '';
    if (/^\d+$/.test(text)) {
      const id = Number(text);
      return Number.isSafeInteger(id) ? this.store.getUser(id) : null;
    }
    if (!/^[^\s@]+@[^\s@]+$/.test(text)) throw new FilterValidationError([{ part: 'owner', offset: 0, message: `the owner must be an email address or a user id, not "${String(owner)}"` }]);
    return this.store.findUserByEmail(text);
  }

  private async ownerFor(owner: string | number): Promise<StoredUser> {
    const found = await this.findOwner(owner);
    if (found !== null) return found;
    const text = String(owner).trim();
    if (/^\d+$/.test(text) || !this.createMissingOwners) throw new FilterValidationError([{ part: 'owner', offset: 0, message: `there is no user ${text}` }]);
    try {
      return await this.store.createUser({ email: text, name: text.slice(0, text.indexOf('@')) });
    } catch (error) {
      // Created meanwhile by someone else (the web app, say): use that user.
      const again = await this.store.findUserByEmail(text);
      if (again !== null) return again;
      if (error instanceof UserError) throw new FilterValidationError([{ part: 'owner', offset: 0, message: error.message }]);
      throw error;
    }
  }

  /** Empties the filter's stream (moving it first if renamed) and puts up to backfillRecords records in. */
  private async refillStream(filter: StoredFilter, compiled: CompiledFilter, previousTopic: string | null): Promise<StreamReset> {
    const topic = filter.topic;
    if (topic === null || !isKafkaOutput(filter.output)) throw new Error(`filter ${filter.id} has no Kafka stream`);
    const moved = previousTopic !== null && previousTopic !== topic ? previousTopic : null;
    let deletedWithOldTopic = 0;
    if (moved !== null) {
      deletedWithOldTopic = (await retainedRecords(this.admin, moved)) ?? 0;
      await moveFilterTopic(this.admin, moved, topic, { retentionMs: this.retentionMs, maxRecordBytes: this.maxRecordBytes, partitions: this.partitions });
    }
    let warning: string | undefined;
    let matches: Awaited<ReturnType<typeof findStoredMatches>>['matches'] = [];
    try {
      matches = (await findStoredMatches(this.store, compiled, this.backfillRecords * SPARE_ROWS_FACTOR, this.backfillTimeLimitMs)).matches;
    } catch (error) {
      warning = `the filter could not be run over the stored objects, so the stream was emptied but not refilled: ${(error as Error).message}`;
    }
    const keys = new Map<FilterRow, ObjectKey>(matches.map((m) => [m.row, m.key]));
    const rows = matches.map((m) => m.row);
    const encoder = await createStreamEncoder(filter.output, compiled, this.catalog, filter.name);
    const result = await backfill(this.admin, this.producer, topic, {
      rows,
      encoder,
      alertFor: (row) => {
        const key = keys.get(row);
        return key === undefined ? undefined : loadStoredAlert(this.store, key);
      },
      limit: this.backfillRecords,
      maxRecordBytes: this.maxRecordBytes,
      producedAt: this.now(),
      topic: { retentionMs: this.retentionMs, partitions: this.partitions },
    });
    // encodeRows takes rows in order until it has enough records: these are the rows it used.
    const used = result.records + result.dropped + result.failed;
    return {
      topic,
      previousTopic: moved,
      deleted: deletedWithOldTopic + result.deleted,
      records: result.records,
      bytes: result.bytes,
      dropped: result.dropped,
      missingAlerts: result.missingAlerts,
      failed: result.failed,
      ...(result.firstFailure === undefined ? {} : { firstFailure: result.firstFailure }),
      rows: rows.slice(0, used),
      ...(warning === undefined ? {} : { warning }),
    };
  }
}

/** Records retained in a topic now (end minus start offsets), or null when the topic does not exist. */
export async function retainedRecords(admin: Admin, topic: string): Promise<number | null> {
  // Checked first: offset requests for an unknown topic are retried for seconds.
  if (!(await admin.listTopics({ includeInternals: false })).includes(topic)) return null;
  const [starts, ends] = [await startOffsets(admin, topic), await endOffsets(admin, topic)];
  return ends.reduce((sum, end, partition) => sum + Number(end - (starts[partition] ?? end)), 0);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function inputOf(filter: StoredFilter): FilterInput {
  return {
    id: filter.id,
    ownerId: filter.ownerId,
    name: filter.name,
    description: filter.description,
    select: filter.select,
    where: filter.where,
    tables: filter.tables,
    public: filter.public,
    output: filter.output,
    active: filter.active,
    topic: filter.topic,
  };
}
