// The Store on an embedded DuckDB file (or ':memory:' for tests).
//
// Concurrency: DuckDB lets one process open a file read-write (it takes a file lock), or
// several processes open it read-only, not both at once. So the broker process owns the store
// and the web app reads through it (same process) or opens the file read-only while no broker
// runs; the PostgreSQL store is the answer when several processes or hosts must share one.
// Inside the process there are three connections, each running one thing at a time: the
// writer (batches, users, filters, counters), the reader (lookups), and the query connection
// (queryObjects, which may be interrupted without touching anything else).
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { OBJECT_COLUMNS, catalog } from '../features/columns.ts';
import type { ObjectRow } from '../features/compute.ts';
import type { Alert, Lightcurve, Point, UpperLimit } from '../formats/alert.ts';
import { primaryTable } from '../filters/catalog.ts';
import { helperMacros } from '../filters/functions.ts';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import { UserError } from '../util/errors.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { checkId, filterValues, toFilter, toUser } from './account-rows.ts';
import * as accountsSql from './accounts-sql.ts';
import { CutoutSegments } from './cutout-segments.ts';
import { alertKeys, cutoutsSql, imagesOf, newestCutoutAlerts, rawCutoutColumns, rawStagedColumns, readCutouts, segmentStagedColumns, stageCutouts, type SegmentReader } from './cutouts-sql.ts';
import { objectColumns, pointRows, prepareBatch, type PreparedBatch } from './batch-rows.ts';
import { batchSql } from './batch-sql.ts';
import * as kafkaUsersSql from './kafka-users-sql.ts';
import { FILTER_COUNTER_FIELDS, PIPELINE_COUNTER_FIELDS, checkRange, mergeFilterDeltas, mergePipelineDeltas } from './counters.ts';
import { checkSchema, currentVersion, inTransaction, migrate, type MigrationReport } from './migrations.ts';
import { firstLine, runObjectQuery, temporaryMacro } from './object-query.ts';
import { digestParams, filterMatchesQuery, matchesSql, stageMatches, stagedMatches, toDigestState, toFilterMatch } from './matches-sql.ts';
import { OBJECT_KEY_COLUMNS, POINT_VALUE_COLUMNS } from './schema.ts';
import { SerialQueue } from './serial-queue.ts';
import { appendColumns, clearStagingSql, objectRefsTable, stageAlerts, stageBands, stageKeys, stageLimits, stageObjects, stagePointKeys, stagePoints, stageRefs, stagingTablesSql } from './staging.ts';
import type {
  BatchWriteResult,
  FilterCounterDelta,
  FilterCounters,
  FilterInput,
  ListFiltersOptions,
  NewApiToken,
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
  StoredSession,
  StoredUser,
} from './store.ts';
import type { EmailDigestState, FilterMatch, NewFilterMatch } from './store.ts';
import type { KafkaUserInput, StoredKafkaUser } from './store.ts';

export interface OpenStoreOptions {
  /** A DuckDB file (its folder is created if missing), or ':memory:'. */
  path: string;
  /** Open an existing store without writing to it (other processes may do the same; none may write). */
  readOnly?: boolean;
  /** DuckDB worker threads; default: the machine's cores. */
  threads?: number;
  /** DuckDB memory limit, e.g. "4GB"; default: DuckDB's (80% of RAM). */
  memoryLimit?: string;
  /** Write-ahead log size that triggers a checkpoint; default "256MB" (see DEFAULT_CHECKPOINT_THRESHOLD). */
  checkpointThreshold?: string;
  /** Where schema changes made on opening are reported; default: the structured log on stderr. */
  log?: Logger;
  /** A file store's cutout segment files are closed past this size (default 256 MiB); also the dead bytes that start a compaction. */
  cutoutSegmentBytes?: number;
}

/** Tables a queryObjects statement may read: those of the filter catalog (today just `objects`). */
const QUERYABLE_TABLES: ReadonlySet<string> = new Set(catalog().tables.map((t) => t.name.toLowerCase()));
const DEFAULT_ROW_LIMIT = 1000;
const DEFAULT_TIME_LIMIT_MS = 20_000;
const COUNTER_ROWS_PER_STATEMENT = 200;
// DuckDB checkpoints when its write-ahead log passes 16MB, every batch or two here. A checkpoint
// rewrites each touched row group, and a batch's object updates touch nearly all of them, so
// fewer, larger checkpoints cost far less per batch (bench/store.ts: ~200 ms per batch saved)
// and leave a smaller file; the price is a longer log to replay after a crash.
const DEFAULT_CHECKPOINT_THRESHOLD = '256MB';

// Files open in this process. DuckDB's file lock only keeps other processes out, and two
// instances writing one file in the same process would corrupt it.
const openFiles = new Set<string>();

const objectsTable = primaryTable(catalog());
const objectColumnList = OBJECT_COLUMNS.map((c) => q(c.name)).join(', ');
const objectKeyWhere = OBJECT_KEY_COLUMNS.map((c, i) => `${q(c)} = $${i + 1}`).join(' AND ');

/** Opens (creating or migrating if needed) the store at options.path. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const readOnly = options.readOnly === true;
  const location = options.path === ':memory:' ? ':memory:' : path.resolve(options.path);
  if (location === ':memory:' && readOnly) throw new UserError('an in-memory store cannot be opened read-only');
  if (location !== ':memory:') {
    if (openFiles.has(location)) throw new UserError(`store ${location} is already open in this process`);
    if (readOnly && !fs.existsSync(location)) throw new UserError(`store ${location} does not exist`);
    if (!readOnly) fs.mkdirSync(path.dirname(location), { recursive: true });
  }
  const config: Record<string, string> = {
    // The store reads and writes only its own file: no file functions, network or extensions.
    enable_external_access: 'false',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    allow_community_extensions: 'false',
  };
  if (readOnly) config.access_mode = 'READ_ONLY';
  if (options.threads !== undefined) config.threads = String(options.threads);
  if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
  if (!readOnly) config.checkpoint_threshold = options.checkpointThreshold ?? DEFAULT_CHECKPOINT_THRESHOLD;
  let instance: DuckDBInstance;
  let segments: CutoutSegments | null = null;
  try {
    // Before DuckDB: a store whose segment directory cannot be made is not opened.
    if (location !== ':memory:') segments = CutoutSegments.open(location, readOnly, options.cutoutSegmentBytes === undefined ? {} : { segmentBytes: options.cutoutSegmentBytes });
    instance = await DuckDBInstance.create(location, config);
  } catch (error) {
    // e.g. "Could not set lock on file ...: Conflicting lock is held in ... (PID n)"
    throw new UserError(`cannot open store ${location}: ${firstLine((error as Error).message)}`);
  }
  if (location !== ':memory:') openFiles.add(location);
  const connections: DuckDBConnection[] = [];
  try {
    const writer = await instance.connect();
    connections.push(writer);
    const reader = await instance.connect();
    connections.push(reader);
    const query = await instance.connect();
    connections.push(query);
    if (readOnly) {
      await checkSchema(reader, location);
    } else {
      reportMigration(await migrate(writer, location), location, options.log ?? createLogger({ component: 'store' }));
      for (const sql of stagingTablesSql()) await writer.run(sql);
      await writer.run(cutoutsSql.createStage);
    }
    for (const macro of helperMacros) await query.run(temporaryMacro(macro));
    // Nothing may change the settings above from here on, whatever SQL reaches a connection.
    await writer.run('SET lock_configuration = true');
    return new DuckDBStore(location, readOnly, instance, writer, reader, query, segments);
  } catch (error) {
    for (const connection of connections) connection.closeSync();
    instance.closeSync();
    await segments?.close();
    openFiles.delete(location);
    throw error;
  }
}

function reportMigration(report: MigrationReport, location: string, log: Logger): void {
  if (report.from > 0 && report.from < report.to) log.info('store schema migrated', { store: location, from: report.from, to: report.to });
  if (report.addedColumns.length > 0) log.info('objects columns added to the store (null until each object\'s next alert)', { store: location, columns: report.addedColumns });
}

class DuckDBStore implements Store {
  readonly location: string;
  readonly sqlDialect = 'duckdb';
  private readonly readOnly: boolean;
  private readonly instance: DuckDBInstance;
  private readonly writer: DuckDBConnection;
  private readonly reader: DuckDBConnection;
  private readonly query: DuckDBConnection;
  private readonly writes = new SerialQueue('store writer');
  private readonly reads = new SerialQueue('store reader');
  private readonly queries = new SerialQueue('store query connection');
  private closing: Promise<void> | null = null;
  /** A file store's image bytes (null in memory: BLOB columns). */
  private readonly segments: CutoutSegments | null;
  private readonly log = createLogger({ component: 'store' });
  /** Bytes appended to segments since compaction was last considered. */
  private appendedSinceCompactionCheck = 0;

  constructor(location: string, readOnly: boolean, instance: DuckDBInstance, writer: DuckDBConnection, reader: DuckDBConnection, query: DuckDBConnection, segments: CutoutSegments | null) {
    this.segments = segments;
    this.location = location;
    this.readOnly = readOnly;
    this.instance = instance;
    this.writer = writer;
    this.reader = reader;
    this.query = query;
  }

  // ---- batches -------------------------------------------------------------------------

  async writeBatch(batch: StoreBatch): Promise<BatchWriteResult> {
    const started = performance.now();
    this.checkWritable();
    if (batch.origins !== undefined && batch.origins.length !== batch.alerts.length) {
      throw new Error(`writeBatch: ${batch.origins.length} origins for ${batch.alerts.length} alerts`);
    }
    const prepared = prepareBatch(batch);
    const cutouts = batch.keepCutouts === true ? newestCutoutAlerts(batch.alerts, prepared.keys) : null;
    return this.writes.run(async () => {
      try {
        const counts = await inTransaction(this.writer, () => this.writePrepared(prepared, cutouts));
        if (counts.cutouts > 0) await this.compactCutoutsIfDue();
        return { ...counts, elapsedMs: performance.now() - started };
      } catch (error) {
        throw new Error(`store ${this.location}: writing a batch of ${batch.alerts.length} alerts and ${batch.objects.length} objects rows failed: ${firstLine((error as Error).message)}`, { cause: error });
      }
    });
  }

  private async writePrepared(batch: PreparedBatch, cutoutAlerts: ReadonlyMap<number, Alert> | null): Promise<Omit<BatchWriteResult, 'elapsedMs'>> {
    const w = this.writer;
    await this.stageObjectRefs(batch);

    await appendColumns(w, stageObjects, objectColumns(objectsTable, batch.objects), batch.objects.length);
    const objectsWritten = batch.objects.length === 0 ? 0 : (await w.run(batchSql.upsertObjects)).rowsChanged;

    await appendColumns(w, stageBands, [sequence(batch.bands.length), batch.bands], batch.bands.length);
    const { points, limits, alerts } = batch;
    let pointsAdded = 0;
    if (points.count > 0) {
      const rowNumbers = sequence(points.count);
      await appendColumns(w, stagePointKeys, [rowNumbers, points.keyIndex, points.forced, { int64: points.sourceIdInt64, isNull: points.sourceIdNull }, points.mjd, points.bandIndex], points.count);
      const fresh = (await w.runAndReadAll(batchSql.newPoints)).getColumns()[0] ?? [];
      if (fresh.length > 0) {
        await appendColumns(w, stagePoints, pointRows(points, fresh as number[]), fresh.length);
        pointsAdded = (await w.run(batchSql.insertPoints)).rowsChanged;
      }
    }

    await appendColumns(w, stageLimits, [limits.keyIndex, limits.mjd, limits.bandIndex, limits.limitMag, limits.fluxNoise], limits.count);
    const upperLimits = limits.count === 0 ? 0 : (await w.run(batchSql.insertLimits)).rowsChanged;

    const alertCount = alerts.keyIndex.length;
    await appendColumns(w, stageAlerts, [alerts.keyIndex, alerts.sourceId, alerts.alertId, alerts.mjd, alerts.band, alerts.schema, alerts.topic, alerts.partition, alerts.offset], alertCount);
    const alertsAdded = alertCount === 0 ? 0 : (await w.run(batchSql.insertAlerts)).rowsChanged;

    // Last, after the objects row that gave the object its ref; while stage_refs holds the batch's refs.
    const cutouts = cutoutAlerts === null ? 0 : await this.upsertCutouts(cutoutAlerts);

    // Emptied inside the transaction, so the staged copy is not kept between batches.
    for (const sql of clearStagingSql()) await w.run(sql);
    return { objectsWritten, objectsKept: batch.objects.length - objectsWritten, points: pointsAdded, upperLimits, alerts: alertsAdded, cutouts };
  }

  /** Stages the object_refs number of each batch key (stage_refs), adding the keys not seen before to object_refs. */
  private async stageObjectRefs(batch: PreparedBatch): Promise<void> {
    const w = this.writer;
    const { keys } = batch;
    const count = keys.objectId.length;
    if (count === 0) return;
    const indexes = sequence(count);
    await appendColumns(w, stageKeys, [indexes, keys.survey, keys.objectKind, keys.objectId], count);
    const refs = new Array<bigint | null>(count).fill(null);
    for (const [idx, ref] of (await w.runAndReadAll(batchSql.findRefs)).getRows()) refs[Number(idx)] = ref as bigint;
    const missing: number[] = [];
    refs.forEach((ref, i) => {
      if (ref === null) missing.push(i);
    });
    if (missing.length > 0) {
      const fresh = (await w.runAndReadAll(`SELECT nextval('object_ref_seq') FROM range(${missing.length})`)).getRows();
      missing.forEach((keyIndex, i) => {
        refs[keyIndex] = fresh[i]?.[0] as bigint;
      });
      const pick = <T>(values: readonly T[]): T[] => missing.map((i) => values[i] as T);
      await appendColumns(w, objectRefsTable, [pick(keys.survey), pick(keys.objectKind), pick(keys.objectId), pick(refs)], missing.length);
    }
    await appendColumns(w, stageRefs, [indexes, refs], count);
  }

  // ---- cutout images (SQL in cutouts-sql.ts) ----------------------------------------------

  /**
   * Stages the images of these alerts (by batch key index) and moves them into object_cutouts
   * (stage_refs must hold the batch's refs); returns the rows written. A file store appends the
   * bytes to its segment files first, synced before the transaction can commit.
   */
  private async upsertCutouts(newest: ReadonlyMap<number, Alert>): Promise<number> {
    if (newest.size === 0) return 0;
    const w = this.writer;
    let rows;
    if (this.segments === null) {
      rows = rawStagedColumns(rawCutoutColumns(newest));
    } else {
      const perRow = [...newest.values()].map(imagesOf);
      const locations = await this.segments.append(perRow.flat());
      const starts: { segment: number; position: number }[] = [];
      let next = 0;
      for (const images of perRow) {
        const first = locations[next];
        if (first === undefined) throw new Error(`cutouts: ${locations.length} images appended for ${newest.size} objects`);
        starts.push(first);
        next += images.length;
        this.appendedSinceCompactionCheck += images.reduce((n, b) => n + b.length, 0);
      }
      rows = segmentStagedColumns(newest, starts);
    }
    await appendColumns(w, stageCutouts, rows.columns, rows.count);
    const written = (await w.run(cutoutsSql.upsert)).rowsChanged;
    await w.run(cutoutsSql.clearStage);
    return written;
  }

  /**
   * Reclaims segment space once enough was appended since the last look: when dead bytes (images
   * replaced, or written by transactions that failed) exceed both the segment size and the live
   * bytes, each closed segment less than half live has its live images copied to the active
   * segment, its rows repointed in one transaction, then its file deleted. Runs in the writer
   * queue after a committed write; a failure is logged, never the write's.
   */
  private async compactCutoutsIfDue(): Promise<void> {
    const segments = this.segments;
    if (segments === null || this.appendedSinceCompactionCheck < segments.segmentBytes) return;
    this.appendedSinceCompactionCheck = 0;
    try {
      const live = new Map<number, number>();
      for (const [segment, bytes] of (await this.writer.runAndReadAll(cutoutsSql.liveBySegment)).getRows()) live.set(Number(segment), Number(bytes));
      const files = segments.list();
      const total = files.reduce((n, f) => n + f.bytes, 0);
      const liveTotal = [...live.values()].reduce((n, b) => n + b, 0);
      if (total - liveTotal <= Math.max(segments.segmentBytes, liveTotal)) return;
      for (const file of files) {
        if (file.segment === segments.activeSegment || (live.get(file.segment) ?? 0) * 2 >= file.bytes) continue;
        await this.moveSegment(segments, file.segment);
      }
    } catch (error) {
      this.log.warn('cutout segments not compacted', { store: this.location, error: firstLine((error as Error).message) });
    }
  }

  /** Copies the live images of a closed segment to the active one, repoints their rows, deletes the segment. */
  private async moveSegment(segments: CutoutSegments, segment: number): Promise<void> {
    const w = this.writer;
    const rows = (await w.runAndReadAll(cutoutsSql.rowsInSegment, [segment])).getRows().map(([ref, position, length]) => ({ ref: ref as bigint, position: Number(position), length: Number(length) }));
    // A few MB at a time: appended and synced, then their rows repointed, in one transaction.
    const sliceBytes = 32 * 1024 * 1024;
    for (let start = 0; start < rows.length; ) {
      const slice: typeof rows = [];
      let bytes = 0;
      while (start < rows.length && (slice.length === 0 || bytes < sliceBytes)) {
        const row = rows[start++] as (typeof rows)[number];
        slice.push(row);
        bytes += row.length;
      }
      const images = await Promise.all(slice.map((r) => segments.read({ segment, position: r.position, length: r.length })));
      const moved = await segments.append(images);
      await inTransaction(w, async () => {
        for (let i = 0; i < slice.length; i++) {
          const to = moved[i] as (typeof moved)[number];
          await w.run(cutoutsSql.moveRow, [(slice[i] as (typeof slice)[number]).ref, to.segment, BigInt(to.position), segment]);
        }
      });
    }
    await segments.remove(segment);
    this.log.info('cutout segment compacted', { store: this.location, segment, images: rows.length });
  }

  async writeCutouts(alerts: readonly Alert[]): Promise<number> {
    this.checkWritable();
    const keys = alertKeys(alerts);
    const rows = newestCutoutAlerts(alerts, keys);
    if (rows.size === 0) return 0;
    return this.writes.run(async () => {
      try {
        const written = await inTransaction(this.writer, async () => {
          const w = this.writer;
          await appendColumns(w, stageKeys, [sequence(keys.objectId.length), keys.survey, keys.objectKind, keys.objectId], keys.objectId.length);
          await w.run(cutoutsSql.refsOfKnownKeys);
          const n = await this.upsertCutouts(rows);
          for (const sql of clearStagingSql()) await w.run(sql);
          return n;
        });
        if (written > 0) await this.compactCutoutsIfDue();
        return written;
      } catch (error) {
        throw new Error(`store ${this.location}: storing the cutouts of ${rows.size} objects failed: ${firstLine((error as Error).message)}`, { cause: error });
      }
    });
  }

  async cutouts(key: ObjectKey): Promise<StoredCutouts | null> {
    return this.reads.run(async () => {
      const ref = await this.findRef(key);
      if (ref === null) return null;
      const where = `${key.survey}:${key.objectKind}:${String(key.objectId)}`;
      const segments = this.segments;
      const read: SegmentReader | null = segments === null ? null : (location) => segments.read(location);
      try {
        return await readCutouts(this.reader, ref, where, read);
      } catch (error) {
        // Compaction moved the images and deleted the segment after the row was read: read the row again.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'EBADF') throw error;
        return await readCutouts(this.reader, ref, where, read);
      }
    });
  }

  // ---- object reads ---------------------------------------------------------------------

  async getObject(key: ObjectKey): Promise<ObjectRow | null> {
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll(`SELECT ${objectColumnList} FROM objects WHERE ${objectKeyWhere}`, keyParams(key));
      return (reader.getRowObjectsJS()[0] as ObjectRow | undefined) ?? null;
    });
  }

  async lightcurve(key: ObjectKey): Promise<Lightcurve> {
    return this.reads.run(async () => {
      const ref = await this.findRef(key);
      if (ref === null) return { detections: [], forced: [], upperLimits: [] };
      const points = await this.reader.runAndReadAll(
        `SELECT forced, sourceId, mjd, band, ${POINT_VALUE_COLUMNS.map(q).join(', ')} FROM points WHERE objectRef = $1 ORDER BY mjd, band, sourceId NULLS FIRST`,
        [ref],
      );
      const detections: Point[] = [];
      const forced: Point[] = [];
      for (const row of points.getRowObjectsJS()) {
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
      const limits = await this.reader.runAndReadAll('SELECT mjd, band, limitMag, fluxNoise FROM upper_limits WHERE objectRef = $1 ORDER BY mjd, band', [ref]);
      const upperLimits = limits.getRowObjectsJS() as unknown as UpperLimit[];
      return { detections, forced, upperLimits };
    });
  }

  async alertsOf(key: ObjectKey, limit = 100): Promise<StoredAlert[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`alertsOf: limit must be a positive integer, not ${limit}`);
    return this.reads.run(async () => {
      const ref = await this.findRef(key);
      if (ref === null) return [];
      const reader = await this.reader.runAndReadAll(
        `SELECT sourceId, alertId, mjd, band, ${q('schema')}, topic, ${q('partition')}, ${q('offset')}, storedAt FROM alerts WHERE objectRef = $1 ORDER BY mjd DESC, sourceId DESC LIMIT ${limit}`,
        [ref],
      );
      return reader.getRowObjectsJS().map((row) => ({
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

  private async findRef(key: ObjectKey): Promise<bigint | null> {
    const reader = await this.reader.runAndReadAll(`SELECT ref FROM object_refs WHERE ${objectKeyWhere}`, keyParams(key));
    return (reader.getRows()[0]?.[0] as bigint | undefined) ?? null;
  }

  async queryObjects(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const rowLimit = options.rowLimit ?? DEFAULT_ROW_LIMIT;
    const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
    if (!Number.isSafeInteger(rowLimit) || rowLimit < 1) throw new Error(`queryObjects: rowLimit must be a positive integer, not ${rowLimit}`);
    if (!(timeLimitMs > 0)) throw new Error(`queryObjects: timeLimitMs must be positive, not ${timeLimitMs}`);
    return this.queries.run(() => runObjectQuery(this.query, sql, { params: options.params ?? [], rowLimit, timeLimitMs, tables: QUERYABLE_TABLES }));
  }

  // ---- users ----------------------------------------------------------------------------

  async createUser(user: NewUser): Promise<StoredUser> {
    this.checkWritable();
    const email = typeof user.email === 'string' ? user.email.trim() : '';
    if (email === '' || !email.includes('@')) throw new UserError(`"${String(user.email)}" is not an email address`);
    if (typeof user.name !== 'string') throw new Error('createUser: name must be text');
    const passwordHash = user.passwordHash ?? null;
    return this.writes.run(() =>
      inTransaction(this.writer, async () => {
        const taken = await this.writer.runAndReadAll('SELECT id FROM users WHERE lower(email) = lower($1)', [email]);
        if (taken.currentRowCount > 0) throw new UserError(`a user with email ${email} already exists`);
        const reader = await this.writer.runAndReadAll("INSERT INTO users VALUES (nextval('user_id_seq'), $1, $2, $3, now()) RETURNING *", [email, user.name, passwordHash]);
        return toUser(reader.getRowObjectsJS()[0] as Record<string, unknown>);
      }),
    );
  }

  async getUser(id: number): Promise<StoredUser | null> {
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll('SELECT * FROM users WHERE id = CAST($1 AS INTEGER)', [checkId(id, 'user')]);
      const row = reader.getRowObjectsJS()[0];
      return row === undefined ? null : toUser(row);
    });
  }

  async findUserByEmail(email: string): Promise<StoredUser | null> {
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll('SELECT * FROM users WHERE lower(email) = lower($1)', [email.trim()]);
      const row = reader.getRowObjectsJS()[0];
      return row === undefined ? null : toUser(row);
    });
  }

  // ---- accounts: settings, sessions, API tokens (SQL in accounts-sql.ts) ------------------

  async getSetting(name: string): Promise<string | null> {
    return this.reads.run(() => accountsSql.getSetting(this.reader, name));
  }

  async settingOrInit(name: string, initial: string): Promise<string> {
    if (this.readOnly) {
      const value = await this.getSetting(name);
      if (value === null) throw new UserError(`store ${this.location} is open read-only and has no setting ${name} yet`);
      return value;
    }
    return this.writes.run(() => inTransaction(this.writer, () => accountsSql.settingOrInit(this.writer, name, initial)));
  }

  async createSession(session: NewSession): Promise<StoredSession> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.createSession(this.writer, session));
  }

  async findSession(idHash: string, now: string): Promise<StoredSession | null> {
    return this.reads.run(() => accountsSql.findSession(this.reader, idHash, now));
  }

  async deleteSession(idHash: string): Promise<boolean> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.deleteSession(this.writer, idHash));
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.deleteExpiredSessions(this.writer, now));
  }

  async setUserPassword(userId: number, passwordHash: string): Promise<boolean> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.setUserPassword(this.writer, userId, passwordHash));
  }

  async deleteUserSessions(userId: number): Promise<number> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.deleteUserSessions(this.writer, userId));
  }

  async createApiToken(token: NewApiToken): Promise<StoredApiToken> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.createApiToken(this.writer, token));
  }

  async findApiToken(tokenHash: string): Promise<StoredApiToken | null> {
    return this.reads.run(() => accountsSql.findApiToken(this.reader, tokenHash));
  }

  async listApiTokens(userId: number): Promise<StoredApiToken[]> {
    return this.reads.run(() => accountsSql.listApiTokens(this.reader, userId));
  }

  async revokeApiToken(userId: number, tokenId: number, now: string): Promise<boolean> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.revokeApiToken(this.writer, userId, tokenId, now));
  }

  async touchApiToken(tokenId: number, now: string): Promise<void> {
    this.checkWritable();
    return this.writes.run(() => accountsSql.touchApiToken(this.writer, tokenId, now));
  }

  // ---- Kafka credentials of accounts (SQL in kafka-users-sql.ts) -------------------------

  async getKafkaUser(userId: number): Promise<StoredKafkaUser | null> {
    return this.reads.run(() => kafkaUsersSql.getKafkaUser(this.reader, userId));
  }

  async listKafkaUsers(): Promise<StoredKafkaUser[]> {
    return this.reads.run(() => kafkaUsersSql.listKafkaUsers(this.reader));
  }

  async saveKafkaUser(user: KafkaUserInput): Promise<StoredKafkaUser> {
    this.checkWritable();
    return this.writes.run(() => kafkaUsersSql.saveKafkaUser(this.writer, user));
  }

  async deleteKafkaUser(userId: number): Promise<boolean> {
    this.checkWritable();
    return this.writes.run(() => kafkaUsersSql.deleteKafkaUser(this.writer, userId));
  }

  // ---- filters --------------------------------------------------------------------------

  async saveFilter(filter: FilterInput): Promise<StoredFilter> {
    this.checkWritable();
    const values = filterValues(filter);
    return this.writes.run(() =>
      inTransaction(this.writer, async () => {
        const w = this.writer;
        const owner = await w.runAndReadAll('SELECT id FROM users WHERE id = CAST($1 AS INTEGER)', [filter.ownerId]);
        if (owner.currentRowCount === 0) throw new UserError(`filter "${filter.name}": there is no user ${filter.ownerId}`);
        if (filter.topic !== undefined && filter.topic !== null) {
          const clash = await w.runAndReadAll('SELECT id, name FROM filters WHERE topic = $1 AND id <> CAST($2 AS INTEGER)', [filter.topic, filter.id ?? -1]);
          const other = clash.getRows()[0];
          if (other !== undefined) throw new UserError(`filter "${filter.name}": topic ${filter.topic} is already used by filter ${String(other[0])} ("${String(other[1])}")`);
        }
        const names = Object.keys(values);
        const columns = names.map(q).join(', ');
        const placeholders = names.map((n) => `$${n}`).join(', ');
        const types = { tables: LIST(VARCHAR) };
        let reader;
        if (filter.id === undefined) {
          reader = await w.runAndReadAll(`INSERT INTO filters (id, ${columns}, createdAt, updatedAt) VALUES (nextval('filter_id_seq'), ${placeholders}, now(), now()) RETURNING *`, values, types);
        } else {
          reader = await w.runAndReadAll(
            `UPDATE filters SET ${names.map((n) => `${q(n)} = $${n}`).join(', ')}, updatedAt = now() WHERE id = CAST($id AS INTEGER) RETURNING *`,
            { ...values, id: checkId(filter.id, 'filter') },
            types,
          );
          if (reader.currentRowCount === 0) throw new UserError(`there is no filter ${filter.id} to update`);
        }
        await w.run("UPDATE store_state SET value = value + 1 WHERE name = 'filtersVersion'");
        return toFilter(reader.getRowObjectsJS()[0] as Record<string, unknown>);
      }),
    );
  }

  async getFilter(id: number): Promise<StoredFilter | null> {
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll('SELECT * FROM filters WHERE id = CAST($1 AS INTEGER)', [checkId(id, 'filter')]);
      const row = reader.getRowObjectsJS()[0];
      return row === undefined ? null : toFilter(row);
    });
  }

  async listFilters(options: ListFiltersOptions = {}): Promise<StoredFilter[]> {
    const conditions: string[] = [];
    const params: DuckDBValue[] = [];
    if (options.ownerId !== undefined) {
      params.push(checkId(options.ownerId, 'user'));
      conditions.push(`ownerId = CAST($${params.length} AS INTEGER)`);
    }
    if (options.activeOnly === true) conditions.push('active');
    if (options.publicOnly === true) conditions.push('public');
    const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
    return this.reads.run(async () => (await this.reader.runAndReadAll(`SELECT * FROM filters${where} ORDER BY id`, params)).getRowObjectsJS().map(toFilter));
  }

  async deleteFilter(id: number): Promise<boolean> {
    this.checkWritable();
    return this.writes.run(() =>
      inTransaction(this.writer, async () => {
        await this.writer.run('DELETE FROM filter_counters WHERE filterId = CAST($1 AS INTEGER)', [checkId(id, 'filter')]);
        for (const sql of matchesSql.deleteOfFilter) await this.writer.run(sql, [id]);
        const deleted = (await this.writer.run('DELETE FROM filters WHERE id = CAST($1 AS INTEGER)', [id])).rowsChanged > 0;
        if (deleted) await this.writer.run("UPDATE store_state SET value = value + 1 WHERE name = 'filtersVersion'");
        return deleted;
      }),
    );
  }

  async filtersVersion(): Promise<number> {
    return this.reads.run(async () => Number((await this.reader.runAndReadAll("SELECT value FROM store_state WHERE name = 'filtersVersion'")).getRows()[0]?.[0] ?? 0));
  }

  // ---- counters -------------------------------------------------------------------------

  async addFilterCounters(deltas: readonly FilterCounterDelta[]): Promise<void> {
    this.checkWritable();
    const merged = mergeFilterDeltas(deltas);
    const fields = FILTER_COUNTER_FIELDS.map(q);
    await this.addCounters(
      'filter_counters',
      '(filterId, night)',
      merged.map((m) => [m.key, m.night, ...m.amounts]),
      (p) => `(CAST(${p[0]} AS INTEGER), CAST(${p[1]} AS DATE), ${p.slice(2).map((x) => `CAST(${x} AS BIGINT)`).join(', ')})`,
      fields,
    );
  }

  async addPipelineCounters(deltas: readonly PipelineCounterDelta[]): Promise<void> {
    this.checkWritable();
    const merged = mergePipelineDeltas(deltas);
    const fields = PIPELINE_COUNTER_FIELDS.map(q);
    await this.addCounters('pipeline_counters', '(night)', merged.map((m) => [m.night, ...m.amounts]), (p) => `(CAST(${p[0]} AS DATE), ${p.slice(1).map((x) => `CAST(${x} AS BIGINT)`).join(', ')})`, fields);
  }

  /** Adds rows of amounts to a counters table: a few multi-row upserts, not a statement per row. */
  private addCounters(table: string, key: string, rows: (number | string)[][], tuple: (placeholders: string[]) => string, fields: string[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const set = fields.map((f) => `${f} = ${table}.${f} + EXCLUDED.${f}`).join(', ');
    return this.writes.run(() =>
      inTransaction(this.writer, async () => {
        for (let start = 0; start < rows.length; start += COUNTER_ROWS_PER_STATEMENT) {
          const slice = rows.slice(start, start + COUNTER_ROWS_PER_STATEMENT);
          const params: DuckDBValue[] = [];
          const tuples = slice.map((row) => {
            const placeholders = row.map((value) => {
              params.push(value);
              return `$${params.length}`;
            });
            return tuple(placeholders);
          });
          await this.writer.run(`INSERT INTO ${table} VALUES ${tuples.join(', ')} ON CONFLICT ${key} DO UPDATE SET ${set}`, params);
        }
      }),
    );
  }

  async filterCounters(filterId: number, range: NightRange = {}): Promise<FilterCounters[]> {
    checkRange(range, 'filterCounters');
    const { where, params } = nightConditions(range, [checkId(filterId, 'filter')]);
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll(
        `SELECT filterId, strftime(night, '%Y-%m-%d') AS night, ${FILTER_COUNTER_FIELDS.map(q).join(', ')} FROM filter_counters WHERE filterId = CAST($1 AS INTEGER)${where} ORDER BY night`,
        params,
      );
      return reader.getRowObjectsJS().map((row) => ({
        filterId: row.filterId as number,
        night: row.night as string,
        matched: Number(row.matched),
        records: Number(row.records),
        bytes: Number(row.bytes),
        dropped: Number(row.dropped),
      }));
    });
  }

  async pipelineCounters(range: NightRange = {}): Promise<PipelineCounters[]> {
    checkRange(range, 'pipelineCounters');
    const { where, params } = nightConditions(range, []);
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll(
        `SELECT strftime(night, '%Y-%m-%d') AS night, ${PIPELINE_COUNTER_FIELDS.map(q).join(', ')} FROM pipeline_counters WHERE TRUE${where} ORDER BY night`,
        params,
      );
      return reader.getRowObjectsJS().map((row) => ({
        night: row.night as string,
        alertsIn: Number(row.alertsIn),
        processed: Number(row.processed),
        deadLetters: Number(row.deadLetters),
        batches: Number(row.batches),
      }));
    });
  }

  // ---- filter matches and email digests (SQL in matches-sql.ts) ---------------------------

  async addFilterMatches(matches: readonly NewFilterMatch[]): Promise<number> {
    this.checkWritable();
    const staged = stagedMatches(matches);
    if (staged.count === 0) return 0;
    return this.writes.run(async () => {
      try {
        return await inTransaction(this.writer, async () => {
          const w = this.writer;
          await w.run(matchesSql.createStage);
          await appendColumns(w, stageMatches, staged.columns, staged.count);
          const added = Number((await w.run(matchesSql.insertNew)).rowsChanged);
          if (added > 0) await w.run(matchesSql.advanceSeq, [BigInt(added)]);
          await w.run(matchesSql.clearStage);
          return added;
        });
      } catch (error) {
        throw new Error(`store ${this.location}: recording ${staged.count} filter matches failed: ${firstLine((error as Error).message)}`, { cause: error });
      }
    });
  }

  async filterMatches(filterId: number, options: { afterSeq?: bigint; limit?: number; newestFirst?: boolean } = {}): Promise<FilterMatch[]> {
    const { sql, params } = filterMatchesQuery(checkId(filterId, 'filter'), options);
    return this.reads.run(async () => (await this.reader.runAndReadAll(sql, params)).getRowObjectsJS().map(toFilterMatch));
  }

  async lastFilterMatchSeq(filterId: number, options: { before?: string } = {}): Promise<bigint> {
    checkId(filterId, 'filter');
    const before = options.before;
    if (before !== undefined && Number.isNaN(Date.parse(before))) throw new Error(`lastFilterMatchSeq: before must be an ISO time, not ${JSON.stringify(before)}`);
    return this.reads.run(async () => {
      const reader = before === undefined
        ? await this.reader.runAndReadAll(matchesSql.lastSeq, [filterId])
        : await this.reader.runAndReadAll(matchesSql.lastSeqBefore, [filterId, new Date(before).toISOString()]);
      return BigInt(reader.getRows()[0]?.[0] as bigint | number);
    });
  }

  async pruneFilterMatches(before: string): Promise<number> {
    this.checkWritable();
    if (typeof before !== 'string' || Number.isNaN(Date.parse(before))) throw new Error(`pruneFilterMatches: before must be an ISO time, not ${JSON.stringify(before)}`);
    return this.writes.run(async () => Number((await this.writer.run(matchesSql.prune, [new Date(before).toISOString()])).rowsChanged));
  }

  async emailDigestState(filterId: number): Promise<EmailDigestState | null> {
    return this.reads.run(async () => {
      const row = (await this.reader.runAndReadAll(matchesSql.getDigest, [checkId(filterId, 'filter')])).getRowObjectsJS()[0];
      return row === undefined ? null : toDigestState(row);
    });
  }

  async emailDigestStates(): Promise<EmailDigestState[]> {
    return this.reads.run(async () => (await this.reader.runAndReadAll(matchesSql.listDigests)).getRowObjectsJS().map(toDigestState));
  }

  async saveEmailDigestState(state: EmailDigestState): Promise<void> {
    this.checkWritable();
    const params = digestParams(state);
    await this.writes.run(() => this.writer.run(matchesSql.putDigest, params));
  }

  // ---- housekeeping ---------------------------------------------------------------------

  async counts(): Promise<StoreCounts> {
    const tables = { objects: 'objects', points: 'points', upperLimits: 'upper_limits', alerts: 'alerts', users: 'users', filters: 'filters' } as const;
    return this.reads.run(async () => {
      const select = Object.entries(tables).map(([name, table]) => `(SELECT count(*) FROM ${table}) AS ${q(name)}`).join(', ');
      const row = (await this.reader.runAndReadAll(`SELECT ${select}`)).getRowObjectsJS()[0] ?? {};
      return Object.fromEntries(Object.keys(tables).map((name) => [name, Number(row[name] ?? 0)])) as unknown as StoreCounts;
    });
  }

  async schemaVersion(): Promise<number> {
    return this.reads.run(() => currentVersion(this.reader));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([this.writes.close(), this.reads.close(), this.queries.close()]);
      this.writer.closeSync();
      this.reader.closeSync();
      this.query.closeSync();
      this.instance.closeSync();
      await this.segments?.close();
      openFiles.delete(this.location);
    })();
    return this.closing;
  }

  private checkWritable(): void {
    if (this.readOnly) throw new UserError(`store ${this.location} is open read-only`);
  }
}

/** 0, 1, ..., n - 1. */
function sequence(n: number): Int32Array {
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  return values;
}

function keyParams(key: ObjectKey): DuckDBValue[] {
  return [key.survey, key.objectKind, String(key.objectId)];
}

function nightConditions(range: NightRange, params: DuckDBValue[]): { where: string; params: DuckDBValue[] } {
  let where = '';
  if (range.fromNight !== undefined) {
    params.push(range.fromNight);
    where += ` AND night >= CAST($${params.length} AS DATE)`;
  }
  if (range.toNight !== undefined) {
    params.push(range.toNight);
    where += ` AND night <= CAST($${params.length} AS DATE)`;
  }
  return { where, params };
}
