// The SQL of filters, counters, filter matches and email digest state on PostgreSQL, with the
// checks and row conversions of the DuckDB store's (account-rows.ts, counters.ts,
// matches-sql.ts). Each function runs on the client or pool it is given; postgres-store.ts
// decides which, and wraps writes in transactions.
import type pg from 'pg';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import { UserError } from '../util/errors.ts';
import { checkId, filterValues, toFilter } from './account-rows.ts';
import { FILTER_COUNTER_FIELDS, PIPELINE_COUNTER_FIELDS, type MergedDelta } from './counters.ts';
import { digestParams, stagedMatches, toDigestState, toFilterMatch, type FilterMatchesOptions } from './matches-sql.ts';
import { float8Array, int4Array, int8Array, textArray } from './postgres-arrays.ts';
import { sqlState } from './postgres-connection.ts';
import { LOCKS } from './postgres-schema.ts';
import type { EmailDigestState, FilterCounters, FilterInput, FilterMatch, ListFiltersOptions, NewFilterMatch, NightRange, PipelineCounters, StoredFilter } from './store.ts';

type Client = Pick<pg.ClientBase, 'query'>;
type Row = Record<string, unknown>;

const bumpFiltersVersion = "UPDATE store_state SET value = value + 1 WHERE name = 'filtersVersion'";

// ---- filters ------------------------------------------------------------------------------

/** Inserts or replaces a filter and bumps filtersVersion; run it in a transaction. */
export async function saveFilter(c: Client, filter: FilterInput): Promise<StoredFilter> {
  const checked = filterValues(filter);
  const values: Row = { ...checked, tables: [...(filter.tables ?? [])] };
  const owner = await c.query('SELECT id FROM users WHERE id = $1', [filter.ownerId]);
  if (owner.rowCount === 0) throw new UserError(`filter "${filter.name}": there is no user ${filter.ownerId}`);
  const topicTaken = (): UserError => new UserError(`filter "${filter.name}": topic ${String(filter.topic)} is already used by another filter`);
  if (filter.topic !== undefined && filter.topic !== null) {
    const clash = await c.query('SELECT id, name FROM filters WHERE topic = $1 AND id <> $2', [filter.topic, filter.id ?? -1]);
    const other = clash.rows[0] as { id: number; name: string } | undefined;
    if (other !== undefined) throw new UserError(`filter "${filter.name}": topic ${filter.topic} is already used by filter ${other.id} ("${other.name}")`);
  }
  const names = Object.keys(values);
  const params = names.map((n) => values[n]);
  let result;
  try {
    if (filter.id === undefined) {
      result = await c.query(
        `INSERT INTO filters (${names.map(q).join(', ')}, "createdAt", "updatedAt") VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}, now(), now()) RETURNING *`,
        params,
      );
    } else {
      result = await c.query(`UPDATE filters SET ${names.map((n, i) => `${q(n)} = $${i + 1}`).join(', ')}, "updatedAt" = now() WHERE id = $${names.length + 1} RETURNING *`, [
        ...params,
        checkId(filter.id, 'filter'),
      ]);
      if (result.rowCount === 0) throw new UserError(`there is no filter ${filter.id} to update`);
    }
  } catch (error) {
    // Another process took the topic, or deleted the owner, between the checks and the write.
    if (sqlState(error) === '23505') throw topicTaken();
    if (sqlState(error) === '23503') throw new UserError(`filter "${filter.name}": there is no user ${filter.ownerId}`);
    throw error;
  }
  await c.query(bumpFiltersVersion);
  return toFilter(result.rows[0] as Row);
}

export async function getFilter(c: Client, id: number): Promise<StoredFilter | null> {
  const row = (await c.query('SELECT * FROM filters WHERE id = $1', [checkId(id, 'filter')])).rows[0] as Row | undefined;
  return row === undefined ? null : toFilter(row);
}

export async function listFilters(c: Client, options: ListFiltersOptions): Promise<StoredFilter[]> {
  const conditions: string[] = [];
  const params: number[] = [];
  if (options.ownerId !== undefined) {
    params.push(checkId(options.ownerId, 'user'));
    conditions.push(`"ownerId" = $${params.length}`);
  }
  if (options.activeOnly === true) conditions.push('active');
  if (options.publicOnly === true) conditions.push('public');
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
  return (await c.query(`SELECT * FROM filters${where} ORDER BY id`, params)).rows.map(toFilter);
}

/** Deletes a filter with its counters, matches and email state, bumping filtersVersion; run it in a transaction. */
export async function deleteFilter(c: Client, id: number): Promise<boolean> {
  checkId(id, 'filter');
  await c.query('DELETE FROM filter_counters WHERE "filterId" = $1', [id]);
  await c.query('DELETE FROM filter_matches WHERE "filterId" = $1', [id]);
  await c.query('DELETE FROM email_digests WHERE "filterId" = $1', [id]);
  const deleted = ((await c.query('DELETE FROM filters WHERE id = $1', [id])).rowCount ?? 0) > 0;
  if (deleted) await c.query(bumpFiltersVersion);
  return deleted;
}

export async function filtersVersion(c: Client): Promise<number> {
  return Number((await c.query("SELECT value FROM store_state WHERE name = 'filtersVersion'")).rows[0]?.value ?? 0);
}

// ---- counters -----------------------------------------------------------------------------

/** Adds merged filter counter deltas (mergeFilterDeltas) in one upsert, rows in key order. */
export async function addFilterCounters(c: Client, merged: readonly MergedDelta<number>[]): Promise<void> {
  if (merged.length === 0) return;
  const fields = FILTER_COUNTER_FIELDS.map(q);
  const amounts = FILTER_COUNTER_FIELDS.map((_, k) => int8Array(merged.map((m) => BigInt(m.amounts[k] as number))));
  await c.query(
    `INSERT INTO filter_counters ("filterId", night, ${fields.join(', ')})
     SELECT f, n::date, ${fields.join(', ')} FROM unnest($1::int4[], $2::text[], ${fields.map((_, i) => `$${i + 3}::int8[]`).join(', ')}) AS t(f, n, ${fields.join(', ')})
     ORDER BY 1, 2
     ON CONFLICT ("filterId", night) DO UPDATE SET ${fields.map((f) => `${f} = filter_counters.${f} + EXCLUDED.${f}`).join(', ')}`,
    [int4Array(merged.map((m) => m.key)), textArray(merged.map((m) => m.night)), ...amounts],
  );
}

/** Adds merged pipeline counter deltas (mergePipelineDeltas) in one upsert, rows in night order. */
export async function addPipelineCounters(c: Client, merged: readonly MergedDelta<null>[]): Promise<void> {
  if (merged.length === 0) return;
  const fields = PIPELINE_COUNTER_FIELDS.map(q);
  const amounts = PIPELINE_COUNTER_FIELDS.map((_, k) => int8Array(merged.map((m) => BigInt(m.amounts[k] as number))));
  await c.query(
    `INSERT INTO pipeline_counters (night, ${fields.join(', ')})
     SELECT n::date, ${fields.join(', ')} FROM unnest($1::text[], ${fields.map((_, i) => `$${i + 2}::int8[]`).join(', ')}) AS t(n, ${fields.join(', ')})
     ORDER BY 1
     ON CONFLICT (night) DO UPDATE SET ${fields.map((f) => `${f} = pipeline_counters.${f} + EXCLUDED.${f}`).join(', ')}`,
    [textArray(merged.map((m) => m.night)), ...amounts],
  );
}

function nightConditions(range: NightRange, params: unknown[]): string {
  let where = '';
  if (range.fromNight !== undefined) {
    params.push(range.fromNight);
    where += ` AND night >= $${params.length}::date`;
  }
  if (range.toNight !== undefined) {
    params.push(range.toNight);
    where += ` AND night <= $${params.length}::date`;
  }
  return where;
}

export async function filterCounters(c: Client, filterId: number, range: NightRange): Promise<FilterCounters[]> {
  const params: unknown[] = [checkId(filterId, 'filter')];
  const where = nightConditions(range, params);
  const result = await c.query(`SELECT "filterId", night::text AS night, ${FILTER_COUNTER_FIELDS.map(q).join(', ')} FROM filter_counters WHERE "filterId" = $1${where} ORDER BY filter_counters.night`, params);
  return result.rows.map((row: Row) => ({
    filterId: row.filterId as number,
    night: row.night as string,
    matched: Number(row.matched),
    records: Number(row.records),
    bytes: Number(row.bytes),
    dropped: Number(row.dropped),
  }));
}

export async function pipelineCounters(c: Client, range: NightRange): Promise<PipelineCounters[]> {
  const params: unknown[] = [];
  const where = nightConditions(range, params);
  const result = await c.query(`SELECT night::text AS night, ${PIPELINE_COUNTER_FIELDS.map(q).join(', ')} FROM pipeline_counters WHERE TRUE${where} ORDER BY pipeline_counters.night`, params);
  return result.rows.map((row: Row) => ({
    night: row.night as string,
    alertsIn: Number(row.alertsIn),
    processed: Number(row.processed),
    deadLetters: Number(row.deadLetters),
    batches: Number(row.batches),
  }));
}

// ---- filter matches and email digests -----------------------------------------------------

const MATCH_COLUMNS = 'seq, "filterId", "objectId", "sourceId", mjd, "matchedAt", survey, "row"';

/**
 * Records the matches not stored yet, numbered (seq) in the order given; run it in a
 * transaction. A transaction-scoped advisory lock makes writers take turns, so seqs are
 * handed out and committed in the same order: a reader paging by afterSeq, or an email digest
 * up to a watermark, never misses a match that commits later with a smaller seq.
 */
export async function addFilterMatches(c: Client, matches: readonly NewFilterMatch[]): Promise<number> {
  const staged = stagedMatches(matches);
  if (staged.count === 0) return 0;
  const [, filterId, objectId, sourceId, mjd, matchedAt, survey, row] = staged.columns as [unknown, Int32Array, string[], { int64: BigInt64Array }, Float64Array, string[], (string | null)[], string[]];
  await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCKS.matches]);
  const result = await c.query(
    `INSERT INTO filter_matches ("filterId", "objectId", "sourceId", mjd, "matchedAt", survey, "row")
     SELECT f, o, s, m, a::timestamptz, sv, r FROM unnest($1::int4[], $2::text[], $3::int8[], $4::float8[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS t(f, o, s, m, a, sv, r, i)
     WHERE NOT EXISTS (SELECT 1 FROM filter_matches x WHERE x."filterId" = t.f AND x."sourceId" = t.s AND x."objectId" = t.o)
     ORDER BY t.i
     ON CONFLICT DO NOTHING`,
    [int4Array(filterId), textArray(objectId), int8Array(sourceId.int64), float8Array(mjd), textArray(matchedAt), textArray(survey), textArray(row)],
  );
  return result.rowCount ?? 0;
}

export async function filterMatches(c: Client, filterId: number, options: FilterMatchesOptions): Promise<FilterMatch[]> {
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`filterMatches: limit must be a positive integer, not ${String(limit)}`);
  const params: unknown[] = [checkId(filterId, 'filter')];
  let where = '"filterId" = $1';
  if (options.afterSeq !== undefined) {
    if (typeof options.afterSeq !== 'bigint') throw new Error(`filterMatches: afterSeq must be a BigInt, not ${typeof options.afterSeq}`);
    params.push(options.afterSeq);
    where += ' AND seq > $2';
  }
  const order = options.newestFirst === false ? 'ASC' : 'DESC';
  return (await c.query(`SELECT ${MATCH_COLUMNS} FROM filter_matches WHERE ${where} ORDER BY seq ${order} LIMIT ${limit}`, params)).rows.map(toFilterMatch);
}

export async function lastFilterMatchSeq(c: Client, filterId: number, before: string | undefined): Promise<bigint> {
  checkId(filterId, 'filter');
  if (before !== undefined && Number.isNaN(Date.parse(before))) throw new Error(`lastFilterMatchSeq: before must be an ISO time, not ${JSON.stringify(before)}`);
  const result = before === undefined
    ? await c.query('SELECT coalesce(max(seq), 0) AS seq FROM filter_matches WHERE "filterId" = $1', [filterId])
    : await c.query('SELECT coalesce(max(seq), 0) AS seq FROM filter_matches WHERE "filterId" = $1 AND "matchedAt" < $2', [filterId, new Date(before).toISOString()]);
  return BigInt(result.rows[0]?.seq as bigint);
}

/** Deletes matches older than `before`, except an email filter's not emailed yet (seq above its watermark, or all before its first digest). */
export async function pruneFilterMatches(c: Client, before: string): Promise<number> {
  if (typeof before !== 'string' || Number.isNaN(Date.parse(before))) throw new Error(`pruneFilterMatches: before must be an ISO time, not ${JSON.stringify(before)}`);
  const result = await c.query(
    `DELETE FROM filter_matches WHERE "matchedAt" < $1 AND NOT EXISTS (
       SELECT 1 FROM filters f LEFT JOIN email_digests d ON d."filterId" = f.id
       WHERE f.id = filter_matches."filterId" AND f.output = 'email' AND (d."filterId" IS NULL OR filter_matches.seq > d."sentThroughSeq"))`,
    [new Date(before).toISOString()],
  );
  return result.rowCount ?? 0;
}

export async function emailDigestState(c: Client, filterId: number): Promise<EmailDigestState | null> {
  const row = (await c.query('SELECT * FROM email_digests WHERE "filterId" = $1', [checkId(filterId, 'filter')])).rows[0] as Row | undefined;
  return row === undefined ? null : toDigestState(row);
}

export async function emailDigestStates(c: Client): Promise<EmailDigestState[]> {
  return (await c.query('SELECT * FROM email_digests ORDER BY "filterId"')).rows.map(toDigestState);
}

const DIGEST_COLUMNS = ['filterId', 'sentThroughSeq', 'emailSince', 'lastSentAt', 'failures', 'lastError', 'lastErrorAt', 'retryAt', 'filterErrorSentAt'] as const;

export async function saveEmailDigestState(c: Client, state: EmailDigestState): Promise<void> {
  const params = digestParams(state);
  const columns = DIGEST_COLUMNS.map(q);
  await c.query(
    `INSERT INTO email_digests (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT ("filterId") DO UPDATE SET ${columns.slice(1).map((col) => `${col} = EXCLUDED.${col}`).join(', ')}`,
    DIGEST_COLUMNS.map((name) => params[name]),
  );
}
