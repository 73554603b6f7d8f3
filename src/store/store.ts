// The Store: everything the broker keeps between batches — one `objects` row per object (the
// columns of src/features/columns.ts), each object's lightcurve, the alerts' provenance, users,
// filters and counters. This file is the contract; duckdb-store.ts implements it on an embedded
// DuckDB file, and a PostgreSQL implementation can take the same contract when several hosts
// share one store. Plain data in and out: 64-bit ids are BigInt, times are ISO strings, nights
// are UTC dates 'YYYY-MM-DD'.
import type { ObjectRow } from '../features/compute.ts';
import type { Alert, Lightcurve, ObjectKind, Survey } from '../formats/alert.ts';

/** Identifies an object: the key of the `objects` table. An Alert is one. */
export interface ObjectKey {
  survey: Survey;
  objectKind: ObjectKind;
  /** As in the alert (BigInt for Rubin) or as stored in `objects.objectId` (text). */
  objectId: bigint | string;
}

/** Where an alert was read from, for tracing a stored alert back to the stream. */
export interface AlertOrigin {
  topic: string;
  partition: number;
  offset: bigint;
}

/** One batch of the pipeline, written in one transaction. */
export interface StoreBatch {
  alerts: readonly Alert[];
  /** The objects rows of the batch (featuresForBatch(alerts)); several rows of one object are allowed, the newest wins. */
  objects: readonly ObjectRow[];
  /** Where each alert came from, index for index with `alerts`; absent or null where unknown. */
  origins?: readonly (AlertOrigin | null | undefined)[];
}

export interface BatchWriteResult {
  /** Objects rows inserted or replaced (the incoming alert was newer than the stored one). */
  objectsWritten: number;
  /** Objects rows left as they were because the stored row came from a newer (or the same) alert. */
  objectsKept: number;
  /** Detections and forced measurements added to lightcurves (points already stored are not counted). */
  points: number;
  upperLimits: number;
  /** Alerts recorded; an alert stored before (a replay) is not counted. */
  alerts: number;
  elapsedMs: number;
}

/** The essentials of a stored alert; its photometry is in the object's lightcurve. */
export interface StoredAlert {
  survey: Survey;
  objectKind: ObjectKind;
  /** As in `objects.objectId`. */
  objectId: string;
  sourceId: bigint;
  alertId: bigint | null;
  mjd: number;
  band: string;
  /** Writer schema of the record, e.g. `lsst.v10_0.alert`. */
  schema: string;
  origin: AlertOrigin | null;
  /** When the alert was first stored (ISO 8601, UTC). */
  storedAt: string;
}

/** A value bound to a `?` or `$n` placeholder of queryObjects. */
export type QueryParam = bigint | number | string | boolean | null;

export interface QueryOptions {
  params?: readonly QueryParam[];
  /** Rows returned at most; more are cut and reported as truncated. Default 1000 (Lasair's limit). */
  rowLimit?: number;
  /** Time allowed; a slower query is interrupted. Default 20000 ms (Lasair's limit). */
  timeLimitMs?: number;
}

export interface QueryResult {
  columns: string[];
  /** Rows keyed by column name; BIGINT values are BigInt, exact. */
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
}

export interface NewUser {
  email: string;
  name: string;
  passwordHash?: string | null;
}

export interface StoredUser {
  /** Small integer, part of the user's topic names (as Lasair's user id). */
  id: number;
  email: string;
  name: string;
  passwordHash: string | null;
  createdAt: string;
}

/** How a filter delivers its matches: Lasair's options plus Fink-style Avro. */
export const FILTER_OUTPUTS = ['none', 'email', 'kafka', 'kafka-lite', 'kafka-full', 'kafka-avro'] as const;
export type FilterOutput = (typeof FILTER_OUTPUTS)[number];

/**
 * A filter as saved: its source text, never the compiled form (compiled filters are recompiled
 * on load, so a compiler fix applies to every saved filter).
 */
export interface FilterInput {
  /** Absent for a new filter; the id of an existing filter to replace it. */
  id?: number;
  ownerId: number;
  name: string;
  description?: string;
  select: string;
  where: string;
  /** Extra tables the filter reads (the `tables` setting); default none. */
  tables?: readonly string[];
  /** Default false. */
  public?: boolean;
  /** Default 'none'. */
  output?: FilterOutput;
  /** Default true. */
  active?: boolean;
  /** The Kafka topic it writes to, if any; two filters cannot share one. Default null. */
  topic?: string | null;
}

export interface StoredFilter {
  id: number;
  ownerId: number;
  name: string;
  description: string;
  select: string;
  where: string;
  tables: string[];
  public: boolean;
  output: FilterOutput;
  active: boolean;
  topic: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ListFiltersOptions {
  ownerId?: number;
  activeOnly?: boolean;
  publicOnly?: boolean;
}

/** Nights are inclusive UTC dates, 'YYYY-MM-DD'. */
export interface NightRange {
  fromNight?: string;
  toNight?: string;
}

/** Amounts to add to a filter's counters for one night (absent = 0). */
export interface FilterCounterDelta {
  filterId: number;
  night: string;
  /** Objects that passed the filter. */
  matched?: number;
  /** Records produced to its topic (or put in its digest). */
  records?: number;
  /** Bytes produced. */
  bytes?: number;
  /** Records not delivered: over the row limit, the size limit or the byte quota. */
  dropped?: number;
}

export interface FilterCounters {
  filterId: number;
  night: string;
  matched: number;
  records: number;
  bytes: number;
  dropped: number;
}

/** Amounts to add to the pipeline's counters for one night (absent = 0). */
export interface PipelineCounterDelta {
  night: string;
  alertsIn?: number;
  processed?: number;
  deadLetters?: number;
  batches?: number;
}

export interface PipelineCounters {
  night: string;
  alertsIn: number;
  processed: number;
  deadLetters: number;
  batches: number;
}

/** Row counts, for monitoring and tests. */
export interface StoreCounts {
  objects: number;
  points: number;
  upperLimits: number;
  alerts: number;
  users: number;
  filters: number;
}

export interface Store {
  /** The store's location (a file path, or ':memory:'). */
  readonly location: string;

  /**
   * Writes one batch in one transaction: upserts the objects rows (a stored row is replaced
   * only by a row from a later alert: larger alertMjd, ties broken by the larger
   * alertSourceId), adds the lightcurve points and upper limits not stored yet, and records
   * the alerts. Idempotent: writing a batch again changes nothing, as a replay after a crash
   * must not.
   */
  writeBatch(batch: StoreBatch): Promise<BatchWriteResult>;
  /** The stored `objects` row, or null. */
  getObject(key: ObjectKey): Promise<ObjectRow | null>;
  /** Every stored detection, forced measurement and upper limit of the object, in time order. */
  lightcurve(key: ObjectKey): Promise<Lightcurve>;
  /** The object's stored alerts, newest first. */
  alertsOf(key: ObjectKey, limit?: number): Promise<StoredAlert[]>;
  /**
   * Runs one read-only SELECT over the stored `objects` table — a compiled filter's `sql`
   * runs unchanged, with the filter helper functions (flux2mag, mjdnow, angdist, ...) — with a
   * row limit and a time limit. For SQL that Nightjar wrote (parseFilter), not user text.
   */
  queryObjects(sql: string, options?: QueryOptions): Promise<QueryResult>;

  createUser(user: NewUser): Promise<StoredUser>;
  getUser(id: number): Promise<StoredUser | null>;
  /** Case-insensitive. */
  findUserByEmail(email: string): Promise<StoredUser | null>;

  /** Inserts (no id) or replaces (id of an existing filter) a filter; returns it as stored. */
  saveFilter(filter: FilterInput): Promise<StoredFilter>;
  getFilter(id: number): Promise<StoredFilter | null>;
  /** Sorted by id. */
  listFilters(options?: ListFiltersOptions): Promise<StoredFilter[]>;
  /** Deletes the filter and its counters; false if there was no such filter. */
  deleteFilter(id: number): Promise<boolean>;
  /** A number that changes whenever a filter is saved or deleted: compare it each batch to notice changes cheaply. */
  filtersVersion(): Promise<number>;

  addFilterCounters(deltas: readonly FilterCounterDelta[]): Promise<void>;
  /** One entry per night with counts, in night order. */
  filterCounters(filterId: number, range?: NightRange): Promise<FilterCounters[]>;
  addPipelineCounters(deltas: readonly PipelineCounterDelta[]): Promise<void>;
  pipelineCounters(range?: NightRange): Promise<PipelineCounters[]>;

  counts(): Promise<StoreCounts>;
  /** The version of the store's schema (see migrations.ts). */
  schemaVersion(): Promise<number>;
  /** Waits for work under way, then closes the store. */
  close(): Promise<void>;
}
