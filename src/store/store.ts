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
  /** Keep the alerts' cutout images (each object's newest alert with any wins); default false. See CutoutPolicy. */
  keepCutouts?: boolean;
}

/**
 * Which alerts' cutout images the broker keeps (`nightjar broker --cutouts`): every alert's
 * ('all', written with the batch), those of alerts that passed a filter ('matched', written
 * after the filters ran), or none. Either way an object keeps the images of its newest such alert.
 */
export const CUTOUT_POLICIES = ['all', 'matched', 'none'] as const;
export type CutoutPolicy = (typeof CUTOUT_POLICIES)[number];

/** An object's stored cutout images: those of its newest alert that was kept with any. */
export interface StoredCutouts {
  /** The alert they came with. */
  sourceId: bigint;
  mjd: number;
  /** FITS bytes exactly as the alert carried them (plain FITS for Rubin, gzip FITS for ZTF). */
  science?: Uint8Array;
  template?: Uint8Array;
  difference?: Uint8Array;
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
  /** Objects whose cutout images were stored or replaced (keepCutouts). */
  cutouts: number;
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

/** A login session (contract of the web app's auth, src/web/auth/): the browser holds the id, the store its SHA-256. */
export interface NewSession {
  /** Hex SHA-256 of the session id in the cookie. */
  idHash: string;
  userId: number;
  /** ISO time after which the session is no longer valid. */
  expiresAt: string;
}

export interface StoredSession extends NewSession {
  createdAt: string;
}

/** An API token as created: the token itself is shown to its owner once and stored only as a hash. */
export interface NewApiToken {
  userId: number;
  /** The owner's label for it, e.g. "laptop". */
  name: string;
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  /** The token's first characters, shown in lists so its owner can tell tokens apart. */
  prefix: string;
}

export interface StoredApiToken {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** Set once revoked; a revoked token is refused. */
  revokedAt: string | null;
}

/** An account's Kafka credentials (migration 4, src/kafka/access.ts): the SCRAM user its streams are read with. */
export interface KafkaUserInput {
  userId: number;
  /** Derived from the user id (kafkaUsername); never changes. */
  username: string;
  password: string;
}

export interface StoredKafkaUser extends KafkaUserInput {
  createdAt: string;
  /** When the password was last set. */
  updatedAt: string;
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

/** A filter's delivered row as the pipeline records it (contract A: the web app's live view and the email digests read these). */
export interface NewFilterMatch {
  filterId: number;
  /** As in `objects.objectId` (text). */
  objectId: string;
  sourceId: bigint;
  /** Of the alert that matched. */
  mjd: number;
  /** When the batch ran (ISO 8601, UTC). */
  matchedAt: string;
  /** The filter's selected columns, 64-bit ids as BigInt. Stored as JSON (src/util/json.ts): read back, integers beyond 2^53 are BigInt, smaller ones numbers. */
  row: Record<string, unknown>;
  /** The object's survey, for links to its page; optional (an addition to contract A), absent where unknown. */
  survey?: Survey;
}

export interface FilterMatch extends NewFilterMatch {
  /** Increasing over the whole table, assigned by the store in the order matches are added. */
  seq: bigint;
}

/** The email bookkeeping of one filter (src/email): its digest watermark, retries and last problem. */
export interface EmailDigestState {
  filterId: number;
  /** The filter's matches with seq up to this one have been emailed (or predate its email output). */
  sentThroughSeq: bigint;
  /** When the email sender found the filter emailing (ISO); null while its output is not email. */
  emailSince: string | null;
  /** When its last digest was sent (ISO), null before the first. */
  lastSentAt: string | null;
  /** Failed sends since the last one that went through. */
  failures: number;
  /** Why the last send failed (kept after a later success, with lastErrorAt, for the filter page). */
  lastError: string | null;
  lastErrorAt: string | null;
  /** No send is tried before this time (back-off after a failure); null: no wait. */
  retryAt: string | null;
  /** When the owner was last told that the filter fails on new data. */
  filterErrorSentAt: string | null;
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

/** The SQL a store's queryObjects takes: the filter compiler writes each (src/filters). */
export type SqlDialect = 'duckdb' | 'postgres';

export interface Store {
  /** The store's location (a file path, ':memory:', or a PostgreSQL URL without its password). */
  readonly location: string;
  /** The dialect of queryObjects' SQL. */
  readonly sqlDialect: SqlDialect;

  /**
   * Writes one batch in one transaction: upserts the objects rows (a stored row is replaced
   * only by a row from a later alert: larger alertMjd, ties broken by the larger
   * alertSourceId), adds the lightcurve points and upper limits not stored yet, records
   * the alerts and, with keepCutouts, the newest alert's cutout images per object. Idempotent: writing a batch again changes nothing, as a replay after a crash
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
   * Keeps the cutout images of these alerts (each object's newest wins, as in writeBatch with
   * keepCutouts), in a transaction of its own; alerts of objects not stored are skipped.
   * Idempotent. Returns how many objects' images were stored or replaced.
   */
  writeCutouts(alerts: readonly Alert[]): Promise<number>;
  /** The object's stored cutout images, or null when none were kept. */
  cutouts(key: ObjectKey): Promise<StoredCutouts | null>;
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

  // ---- accounts (web app: settings, sessions, API tokens; migration 3) ----
  /** The named setting, or null. */
  getSetting(name: string): Promise<string | null>;
  /** The named setting; when there is none yet, stores `initial` and returns it (first writer wins). */
  settingOrInit(name: string, initial: string): Promise<string>;
  createSession(session: NewSession): Promise<StoredSession>;
  /** The session with this id hash if it has not expired at `now` (ISO), else null. */
  findSession(idHash: string, now: string): Promise<StoredSession | null>;
  /** Ends a session; false if there was none. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Removes sessions expired at `now` (ISO); returns how many. */
  deleteExpiredSessions(now: string): Promise<number>;
  /** Replaces a user's password hash; false if there is no such user. */
  setUserPassword(userId: number, passwordHash: string): Promise<boolean>;
  /** Ends every session of a user (a password change logs out everywhere); returns how many. */
  deleteUserSessions(userId: number): Promise<number>;
  createApiToken(token: NewApiToken): Promise<StoredApiToken>;
  /** The token with this hash, unless revoked; null otherwise. */
  findApiToken(tokenHash: string): Promise<StoredApiToken | null>;
  /** A user's tokens, revoked ones included, newest first. */
  listApiTokens(userId: number): Promise<StoredApiToken[]>;
  /** Revokes the user's token; false if the user has no such token or it was already revoked. */
  revokeApiToken(userId: number, tokenId: number, now: string): Promise<boolean>;
  /** Records that a token was used at `now` (ISO). */
  touchApiToken(tokenId: number, now: string): Promise<void>;

  // ---- Kafka credentials of accounts (src/kafka/access.ts; migration 4) ----
  /** The user's Kafka credentials, or null when none were made yet. */
  getKafkaUser(userId: number): Promise<StoredKafkaUser | null>;
  /** Every account's Kafka credentials, by user id. */
  listKafkaUsers(): Promise<StoredKafkaUser[]>;
  /** Stores the user's Kafka credentials, replacing the password of stored ones. */
  saveKafkaUser(user: KafkaUserInput): Promise<StoredKafkaUser>;
  /** Forgets the user's Kafka credentials; false if there were none. */
  deleteKafkaUser(userId: number): Promise<boolean>;

  /** Inserts (no id) or replaces (id of an existing filter) a filter; returns it as stored. */
  saveFilter(filter: FilterInput): Promise<StoredFilter>;
  getFilter(id: number): Promise<StoredFilter | null>;
  /** Sorted by id. */
  listFilters(options?: ListFiltersOptions): Promise<StoredFilter[]>;
  /** Deletes the filter, its counters, matches and email bookkeeping; false if there was no such filter. */
  deleteFilter(id: number): Promise<boolean>;
  /** A number that changes whenever a filter is saved or deleted: compare it each batch to notice changes cheaply. */
  filtersVersion(): Promise<number>;

  addFilterCounters(deltas: readonly FilterCounterDelta[]): Promise<void>;
  /** One entry per night with counts, in night order. */
  filterCounters(filterId: number, range?: NightRange): Promise<FilterCounters[]>;
  addPipelineCounters(deltas: readonly PipelineCounterDelta[]): Promise<void>;
  pipelineCounters(range?: NightRange): Promise<PipelineCounters[]>;

  // ---- filter matches and email digests (migration 2) ----
  /** Records filters' delivered rows. Idempotent on (filterId, objectId, sourceId): a replayed batch adds nothing. Returns how many were new. */
  addFilterMatches(matches: readonly NewFilterMatch[]): Promise<number>;
  /** A filter's matches; afterSeq: only newer than that seq; newestFirst default true; limit default 100. */
  filterMatches(filterId: number, options?: { afterSeq?: bigint; limit?: number; newestFirst?: boolean }): Promise<FilterMatch[]>;
  /** The largest seq of the filter's matches (those matched before `before`, an ISO time, if given); 0n when none. */
  lastFilterMatchSeq(filterId: number, options?: { before?: string }): Promise<bigint>;
  /** Deletes matches recorded before `before` (ISO), keeping email filters' matches not emailed yet; returns how many. */
  pruneFilterMatches(before: string): Promise<number>;
  /** The filter's email bookkeeping, or null if none was saved. */
  emailDigestState(filterId: number): Promise<EmailDigestState | null>;
  /** Every saved email bookkeeping row, by filter id. */
  emailDigestStates(): Promise<EmailDigestState[]>;
  /** Inserts or replaces the filter's email bookkeeping. */
  saveEmailDigestState(state: EmailDigestState): Promise<void>;

  counts(): Promise<StoreCounts>;
  /** The version of the store's schema (see migrations.ts). */
  schemaVersion(): Promise<number>;
  /** Waits for work under way, then closes the store. */
  close(): Promise<void>;
}
