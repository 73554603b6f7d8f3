// The Store on a PostgreSQL server: for several broker workers, web app processes and hosts
// sharing one store (the DuckDB file admits one writing process). Same contract, same answers
// as duckdb-store.ts; the SQL is in postgres-*.ts by subject.
//
// Concurrency: a pool of connections; every method takes one for its statement or transaction
// and gives it back, so reads, queries and writes of one process run side by side, and other
// processes do the same against the same database. Writers of different processes meet in
// the database: unique indexes, row locks taken in key order, retried deadlocks
// (postgres-connection.ts inTransaction) and advisory locks where order matters (migrations at
// opening, the numbering of filter matches).
import type pg from 'pg';
import { OBJECT_COLUMNS, catalog } from '../features/columns.ts';
import type { ObjectRow } from '../features/compute.ts';
import type { Alert, Lightcurve, Point, UpperLimit } from '../formats/alert.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import { UserError } from '../util/errors.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { prepareBatch } from './batch-rows.ts';
import { checkRange, mergeFilterDeltas, mergePipelineDeltas } from './counters.ts';
import { alertKeys, cutoutRows } from './cutouts-sql.ts';
import * as accounts from './postgres-accounts.ts';
import { objectRefs, upsertCutouts, writePreparedBatch } from './postgres-batch.ts';
import { connectionError, createPool, inTransaction, parsePostgresUrl, scrub, sqlState, withClient, type PostgresTarget } from './postgres-connection.ts';
import * as filters from './postgres-filters.ts';
import { runPostgresObjectQuery } from './postgres-query.ts';
import { checkPostgresSchema, currentPostgresVersion, migratePostgres, type PostgresMigrationReport } from './postgres-schema.ts';
import { OBJECT_KEY_COLUMNS, POINT_VALUE_COLUMNS } from './schema.ts';
import type {
  BatchWriteResult,
  EmailDigestState,
  FilterCounterDelta,
  FilterCounters,
  FilterInput,
  FilterMatch,
  KafkaUserInput,
  ListFiltersOptions,
  NewApiToken,
  NewFilterMatch,
  NewSession,
  NewUser,
  NightRange,
  ObjectKey,
  PipelineCounterDelta,
  PipelineCounters,
  QueryOptions,
  QueryResult,
  Store,
  StoreBatch,
  StoreCounts,
  StoredAlert,
  StoredApiToken,
  StoredCutouts,
  StoredFilter,
  StoredKafkaUser,
  StoredSession,
  StoredUser,
} from './store.ts';

export interface OpenPostgresStoreOptions {
  /** postgres://user:password@host:port/database (postgresql:// too). */
  url: string;
  /** Where schema changes made on opening are reported; default: the structured log on stderr. */
  log?: Logger;
  /** Connections the store keeps at most; default 4. */
  poolSize?: number;
  /**
   * Read only: the schema must be current already (nothing is migrated), every write is refused,
   * and the connections' transactions are read-only on the server too.
   */
  readOnly?: boolean;
}

/** Tables a queryObjects statement may read: those of the filter catalog (today just `objects`). */
const QUERYABLE_TABLES: ReadonlySet<string> = new Set(catalog().tables.map((t) => t.name.toLowerCase()));
const DEFAULT_ROW_LIMIT = 1000;
const DEFAULT_TIME_LIMIT_MS = 20_000;
const DEFAULT_POOL_SIZE = 4;

const objectColumnList = OBJECT_COLUMNS.map((c) => q(c.name)).join(', ');
const objectKeyWhere = OBJECT_KEY_COLUMNS.map((c, i) => `${q(c)} = $${i + 1}`).join(' AND ');
const CUTOUT_KINDS = ['science', 'template', 'difference'] as const;

/** Opens the store in the PostgreSQL database at options.url, creating or migrating its tables if needed. */
export async function openPostgresStore(options: OpenPostgresStoreOptions): Promise<Store> {
  const target = parsePostgresUrl(options.url);
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new Error(`openPostgresStore: poolSize must be a positive integer, not ${String(poolSize)}`);
  const log = options.log ?? createLogger({ component: 'store' });
  const readOnly = options.readOnly === true;
  const pool = createPool(target, poolSize, log, readOnly);
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw connectionError(error, target);
    }
    let broken: Error | undefined;
    try {
      if (readOnly) await checkPostgresSchema(client, target.location);
      else reportMigration(await migratePostgres(client, target.location), target.location, log);
    } catch (error) {
      if (!(error instanceof UserError)) broken = error as Error;
      throw error instanceof UserError ? error : new Error(scrub((error as Error).message, target), { cause: error });
    } finally {
      client.release(broken);
    }
    return new PostgresStore(target, pool, readOnly, log);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

function reportMigration(report: PostgresMigrationReport, location: string, log: Logger): void {
  if (report.from > 0 && report.from < report.to) log.info('store schema migrated', { store: location, from: report.from, to: report.to });
  if (report.addedColumns.length > 0) log.info('objects columns added to the store (null until each object\'s next alert)', { store: location, columns: report.addedColumns });
}

function keyParams(key: ObjectKey): string[] {
  return [key.survey, key.objectKind, String(key.objectId)];
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

class PostgresStore implements Store {
  readonly location: string;
  readonly sqlDialect = 'postgres';
  private readonly target: PostgresTarget;
  private readonly pool: pg.Pool;
  private readonly readOnly: boolean;
  private readonly log: Logger;
  private readonly underway = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(target: PostgresTarget, pool: pg.Pool, readOnly: boolean, log: Logger) {
    this.target = target;
    this.location = target.location;
    this.pool = pool;
    this.readOnly = readOnly;
    this.log = log;
  }

  /** Runs one method's work, refused once closing, awaited by close(). */
  private run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing !== null) return Promise.reject(new Error(`store ${this.location} is closed`));
    const promise = work();
    this.underway.add(promise);
    const forget = (): void => {
      this.underway.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  private read<T>(work: (c: pg.Pool) => Promise<T>): Promise<T> {
    return this.run(() => work(this.pool));
  }

  /** Statements that write, in one transaction: retried if the server ends it to break a deadlock with another writer. */
  private write<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkWritable();
    const onRetry = (error: unknown, attempt: number): void =>
      this.log.warn('store transaction ended by the server to break a deadlock or conflict with another writer; running it again', {
        store: this.location,
        sqlState: sqlState(error),
        attempt: attempt + 1,
      });
    return this.run(() => inTransaction(this.pool, work, { onRetry }));
  }

  private checkWritable(): void {
    if (this.readOnly) throw new UserError(`store ${this.location} is open read-only`);
  }

  // ---- batches -------------------------------------------------------------------------

  async writeBatch(batch: StoreBatch): Promise<BatchWriteResult> {
    const started = performance.now();
    this.checkWritable();
    if (batch.origins !== undefined && batch.origins.length !== batch.alerts.length) {
      throw new Error(`writeBatch: ${batch.origins.length} origins for ${batch.alerts.length} alerts`);
    }
    const prepared = prepareBatch(batch);
    const cutouts = batch.keepCutouts === true ? cutoutRows(batch.alerts, prepared.keys) : null;
    try {
      const counts = await this.write((client) => writePreparedBatch(client, prepared, cutouts));
      return { ...counts, elapsedMs: performance.now() - started };
    } catch (error) {
      throw new Error(`store ${this.location}: writing a batch of ${batch.alerts.length} alerts and ${batch.objects.length} objects rows failed: ${this.describe(error)}`, { cause: error });
    }
  }

  async writeCutouts(alerts: readonly Alert[]): Promise<number> {
    this.checkWritable();
    const keys = alertKeys(alerts);
    const rows = cutoutRows(alerts, keys);
    if (rows.count === 0) return 0;
    try {
      return await this.write(async (client) => upsertCutouts(client, rows, await objectRefs(client, keys, false)));
    } catch (error) {
      throw new Error(`store ${this.location}: storing the cutouts of ${rows.count} objects failed: ${this.describe(error)}`, { cause: error });
    }
  }

  async cutouts(key: ObjectKey): Promise<StoredCutouts | null> {
    return this.read(async (c) => {
      const result = await c.query(
        `SELECT c."sourceId", c.mjd, c.encoding, c.science, c.template, c.difference FROM object_cutouts c JOIN object_refs r ON r.ref = c."objectRef"
         WHERE r.survey = $1 AND r."objectKind" = $2 AND r."objectId" = $3`,
        keyParams(key),
      );
      const row = result.rows[0] as Record<string, unknown> | undefined;
      if (row === undefined) return null;
      // A later Nightjar that stores images another way must convert them here; this one cannot read them.
      if (row.encoding !== 'raw') throw new Error(`cutouts of ${keyParams(key).join(':')}: stored with encoding ${JSON.stringify(row.encoding)}, which this Nightjar cannot read`);
      const stored: StoredCutouts = { sourceId: row.sourceId as bigint, mjd: row.mjd as number };
      for (const kind of CUTOUT_KINDS) {
        const image = row[kind];
        if (image instanceof Uint8Array) stored[kind] = image;
      }
      return stored;
    });
  }

  // ---- object reads ---------------------------------------------------------------------

  async getObject(key: ObjectKey): Promise<ObjectRow | null> {
    return this.read(async (c) => ((await c.query(`SELECT ${objectColumnList} FROM objects WHERE ${objectKeyWhere}`, keyParams(key))).rows[0] as ObjectRow | undefined) ?? null);
  }

  async lightcurve(key: ObjectKey): Promise<Lightcurve> {
    return this.run(() =>
      withClient(this.pool, async (c) => {
        // One snapshot for the points and the limits, as a batch writes both at once.
        await c.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          const ref = await this.findRef(c, key);
          if (ref === null) return { detections: [], forced: [], upperLimits: [] };
          const points = await c.query(
            `SELECT forced, "sourceId", mjd, band, ${POINT_VALUE_COLUMNS.map(q).join(', ')} FROM points WHERE "objectRef" = $1 ORDER BY mjd, band COLLATE "C", "sourceId" NULLS FIRST`,
            [ref],
          );
          const detections: Point[] = [];
          const forced: Point[] = [];
          for (const row of points.rows as Record<string, unknown>[]) {
            const point: Point = {
              sourceId: row.sourceId as bigint | null,
              mjd: row.mjd as number,
              band: row.band as string,
              flux: row.flux as number | null,
              fluxErr: row.fluxErr as number | null,
              mag: row.mag as number | null,
              magErr: row.magErr as number | null,
              reliability: row.reliability as number | null,
              scienceFlux: row.scienceFlux as number | null,
              scienceFluxErr: row.scienceFluxErr as number | null,
              ra: row.ra as number | null,
              dec: row.dec as number | null,
            };
            (row.forced === true ? forced : detections).push(point);
          }
          const limits = await c.query('SELECT mjd, band, "limitMag", "fluxNoise" FROM upper_limits WHERE "objectRef" = $1 ORDER BY mjd, band COLLATE "C"', [ref]);
          return { detections, forced, upperLimits: limits.rows as UpperLimit[] };
        } finally {
          await c.query('ROLLBACK');
        }
      }),
    );
  }

  async alertsOf(key: ObjectKey, limit = 100): Promise<StoredAlert[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`alertsOf: limit must be a positive integer, not ${limit}`);
    return this.read(async (c) => {
      const result = await c.query(
        `SELECT a."sourceId", a."alertId", a.mjd, a.band, a."schema", a.topic, a."partition", a."offset", a."storedAt"
         FROM alerts a JOIN object_refs r ON r.ref = a."objectRef" WHERE r.survey = $1 AND r."objectKind" = $2 AND r."objectId" = $3
         ORDER BY a.mjd DESC, a."sourceId" DESC LIMIT ${limit}`,
        keyParams(key),
      );
      return (result.rows as Record<string, unknown>[]).map((row) => ({
        survey: key.survey,
        objectKind: key.objectKind,
        objectId: String(key.objectId),
        sourceId: row.sourceId as bigint,
        alertId: row.alertId as bigint | null,
        mjd: row.mjd as number,
        band: row.band as string,
        schema: row.schema as string,
        origin: row.topic === null ? null : { topic: row.topic as string, partition: row.partition as number, offset: row.offset as bigint },
        storedAt: (row.storedAt as Date).toISOString(),
      }));
    });
  }

  private async findRef(c: Pick<pg.ClientBase, 'query'>, key: ObjectKey): Promise<bigint | null> {
    return ((await c.query(`SELECT ref FROM object_refs WHERE ${objectKeyWhere}`, keyParams(key))).rows[0]?.ref as bigint | undefined) ?? null;
  }

  async queryObjects(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const rowLimit = options.rowLimit ?? DEFAULT_ROW_LIMIT;
    const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
    if (!Number.isSafeInteger(rowLimit) || rowLimit < 1) throw new Error(`queryObjects: rowLimit must be a positive integer, not ${rowLimit}`);
    if (!(timeLimitMs > 0)) throw new Error(`queryObjects: timeLimitMs must be positive, not ${timeLimitMs}`);
    return this.run(() => withClient(this.pool, (c) => runPostgresObjectQuery(c, sql, { params: options.params ?? [], rowLimit, timeLimitMs, tables: QUERYABLE_TABLES })));
  }

  // ---- users and accounts (SQL in postgres-accounts.ts) ----------------------------------

  async createUser(user: NewUser): Promise<StoredUser> {
    return this.write((c) => accounts.createUser(c, user));
  }

  async getUser(id: number): Promise<StoredUser | null> {
    return this.read((c) => accounts.getUser(c, id));
  }

  async findUserByEmail(email: string): Promise<StoredUser | null> {
    return this.read((c) => accounts.findUserByEmail(c, email));
  }

  async getSetting(name: string): Promise<string | null> {
    return this.read((c) => accounts.getSetting(c, name));
  }

  async settingOrInit(name: string, initial: string): Promise<string> {
    if (this.readOnly) {
      const value = await this.getSetting(name);
      if (value === null) throw new UserError(`store ${this.location} is open read-only and has no setting ${name} yet`);
      return value;
    }
    return this.write((c) => accounts.settingOrInit(c, name, initial));
  }

  async createSession(session: NewSession): Promise<StoredSession> {
    return this.write((c) => accounts.createSession(c, session));
  }

  async findSession(idHash: string, now: string): Promise<StoredSession | null> {
    return this.read((c) => accounts.findSession(c, idHash, now));
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return this.write((c) => accounts.deleteSession(c, idHash));
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.write((c) => accounts.deleteExpiredSessions(c, now));
  }

  async setUserPassword(userId: number, passwordHash: string): Promise<boolean> {
    return this.write((c) => accounts.setUserPassword(c, userId, passwordHash));
  }

  async deleteUserSessions(userId: number): Promise<number> {
    return this.write((c) => accounts.deleteUserSessions(c, userId));
  }

  async createApiToken(token: NewApiToken): Promise<StoredApiToken> {
    return this.write((c) => accounts.createApiToken(c, token));
  }

  async findApiToken(tokenHash: string): Promise<StoredApiToken | null> {
    return this.read((c) => accounts.findApiToken(c, tokenHash));
  }

  async listApiTokens(userId: number): Promise<StoredApiToken[]> {
    return this.read((c) => accounts.listApiTokens(c, userId));
  }

  async revokeApiToken(userId: number, tokenId: number, now: string): Promise<boolean> {
    return this.write((c) => accounts.revokeApiToken(c, userId, tokenId, now));
  }

  async touchApiToken(tokenId: number, now: string): Promise<void> {
    return this.write((c) => accounts.touchApiToken(c, tokenId, now));
  }

  async getKafkaUser(userId: number): Promise<StoredKafkaUser | null> {
    return this.read((c) => accounts.getKafkaUser(c, userId));
  }

  async listKafkaUsers(): Promise<StoredKafkaUser[]> {
    return this.read((c) => accounts.listKafkaUsers(c));
  }

  async saveKafkaUser(user: KafkaUserInput): Promise<StoredKafkaUser> {
    return this.write((c) => accounts.saveKafkaUser(c, user));
  }

  async deleteKafkaUser(userId: number): Promise<boolean> {
    return this.write((c) => accounts.deleteKafkaUser(c, userId));
  }

  // ---- filters, counters, matches, digests (SQL in postgres-filters.ts) -------------------

  async saveFilter(filter: FilterInput): Promise<StoredFilter> {
    return this.write((c) => filters.saveFilter(c, filter));
  }

  async getFilter(id: number): Promise<StoredFilter | null> {
    return this.read((c) => filters.getFilter(c, id));
  }

  async listFilters(options: ListFiltersOptions = {}): Promise<StoredFilter[]> {
    return this.read((c) => filters.listFilters(c, options));
  }

  async deleteFilter(id: number): Promise<boolean> {
    return this.write((c) => filters.deleteFilter(c, id));
  }

  async filtersVersion(): Promise<number> {
    return this.read((c) => filters.filtersVersion(c));
  }

  async addFilterCounters(deltas: readonly FilterCounterDelta[]): Promise<void> {
    this.checkWritable();
    const merged = mergeFilterDeltas(deltas);
    if (merged.length === 0) return;
    return this.write((c) => filters.addFilterCounters(c, merged));
  }

  async filterCounters(filterId: number, range: NightRange = {}): Promise<FilterCounters[]> {
    checkRange(range, 'filterCounters');
    return this.read((c) => filters.filterCounters(c, filterId, range));
  }

  async addPipelineCounters(deltas: readonly PipelineCounterDelta[]): Promise<void> {
    this.checkWritable();
    const merged = mergePipelineDeltas(deltas);
    if (merged.length === 0) return;
    return this.write((c) => filters.addPipelineCounters(c, merged));
  }

  async pipelineCounters(range: NightRange = {}): Promise<PipelineCounters[]> {
    checkRange(range, 'pipelineCounters');
    return this.read((c) => filters.pipelineCounters(c, range));
  }

  async addFilterMatches(matches: readonly NewFilterMatch[]): Promise<number> {
    try {
      return await this.write((c) => filters.addFilterMatches(c, matches));
    } catch (error) {
      if (!(error instanceof Error) || error.message.startsWith('filter match ')) throw error;
      throw new Error(`store ${this.location}: recording ${matches.length} filter matches failed: ${this.describe(error)}`, { cause: error });
    }
  }

  async filterMatches(filterId: number, options: { afterSeq?: bigint; limit?: number; newestFirst?: boolean } = {}): Promise<FilterMatch[]> {
    return this.read((c) => filters.filterMatches(c, filterId, options));
  }

  async lastFilterMatchSeq(filterId: number, options: { before?: string } = {}): Promise<bigint> {
    return this.read((c) => filters.lastFilterMatchSeq(c, filterId, options.before));
  }

  async pruneFilterMatches(before: string): Promise<number> {
    return this.write((c) => filters.pruneFilterMatches(c, before));
  }

  async emailDigestState(filterId: number): Promise<EmailDigestState | null> {
    return this.read((c) => filters.emailDigestState(c, filterId));
  }

  async emailDigestStates(): Promise<EmailDigestState[]> {
    return this.read((c) => filters.emailDigestStates(c));
  }

  async saveEmailDigestState(state: EmailDigestState): Promise<void> {
    return this.write((c) => filters.saveEmailDigestState(c, state));
  }

  // ---- housekeeping ---------------------------------------------------------------------

  async counts(): Promise<StoreCounts> {
    const tables = { objects: 'objects', points: 'points', upperLimits: 'upper_limits', alerts: 'alerts', users: 'users', filters: 'filters' } as const;
    return this.read(async (c) => {
      const select = Object.entries(tables).map(([name, table]) => `(SELECT count(*) FROM ${table}) AS ${q(name)}`).join(', ');
      const row = ((await c.query(`SELECT ${select}`)).rows[0] ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.keys(tables).map((name) => [name, Number(row[name] ?? 0)])) as unknown as StoreCounts;
    });
  }

  async schemaVersion(): Promise<number> {
    return this.read((c) => currentPostgresVersion(c));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Work under way may start more statements; wait until none is left.
      while (this.underway.size > 0) await Promise.allSettled([...this.underway]);
      await this.pool.end();
    })();
    return this.closing;
  }

  /** An error's first line, never with the password in it. */
  private describe(error: unknown): string {
    return scrub(firstLine((error as Error).message ?? String(error)), this.target);
  }
}
