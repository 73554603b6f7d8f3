// The SQL of the filter matches and email digest state (tables in schema-matches.ts), with the
// conversions between their rows and the Store's plain data. A batch of matches is appended to
// a temporary staging table on the writer's connection and moved in with one anti-join insert
// that numbers the new rows in the order given.
import { BIGINT, DOUBLE, INTEGER, VARCHAR, type DuckDBValue } from '@duckdb/node-api';
import { quoteIdentifier as q } from '../filters/sql-text.ts';
import { parse, stringify } from '../util/json.ts';
import type { ColumnValues } from './batch-rows.ts';
import type { StagingTable } from './staging.ts';
import type { EmailDigestState, FilterMatch, NewFilterMatch } from './store.ts';

export const stageMatches: StagingTable = {
  name: 'stage_matches',
  temporary: true,
  columns: [
    { name: 'idx', type: INTEGER, sql: 'INTEGER' },
    { name: 'filterId', type: INTEGER, sql: 'INTEGER' },
    { name: 'objectId', type: VARCHAR, sql: 'VARCHAR' },
    { name: 'sourceId', type: BIGINT, sql: 'BIGINT' },
    { name: 'mjd', type: DOUBLE, sql: 'DOUBLE' },
    { name: 'matchedAt', type: VARCHAR, sql: 'VARCHAR' },
    { name: 'survey', type: VARCHAR, sql: 'VARCHAR' },
    { name: 'row', type: VARCHAR, sql: 'VARCHAR' },
  ],
};

const matchColumns = `seq, filterId, objectId, sourceId, mjd, matchedAt, survey, ${q('row')}`;

export const matchesSql = {
  createStage: `CREATE TEMP TABLE IF NOT EXISTS ${stageMatches.name} (${stageMatches.columns.map((c) => `${q(c.name)} ${c.sql}`).join(', ')})`,
  clearStage: `DELETE FROM temp.${stageMatches.name}`,
  /** The staged rows not stored yet, numbered after the last seq in staging order. */
  insertNew: `INSERT INTO filter_matches (${matchColumns})
    SELECT (SELECT value FROM store_state WHERE name = 'filterMatchSeq') + row_number() OVER (ORDER BY s.idx), s.filterId, s.objectId, s.sourceId, s.mjd,
      CAST(s.matchedAt AS TIMESTAMPTZ), s.survey, s.${q('row')}
    FROM temp.${stageMatches.name} s
    WHERE NOT EXISTS (SELECT 1 FROM filter_matches m WHERE m.filterId = s.filterId AND m.sourceId = s.sourceId AND m.objectId = s.objectId)`,
  advanceSeq: "UPDATE store_state SET value = value + CAST($1 AS BIGINT) WHERE name = 'filterMatchSeq'",
  select: `SELECT ${matchColumns} FROM filter_matches`,
  lastSeq: 'SELECT coalesce(max(seq), 0) FROM filter_matches WHERE filterId = CAST($1 AS INTEGER)',
  lastSeqBefore: 'SELECT coalesce(max(seq), 0) FROM filter_matches WHERE filterId = CAST($1 AS INTEGER) AND matchedAt < CAST($2 AS TIMESTAMPTZ)',
  deleteOfFilter: ['DELETE FROM filter_matches WHERE filterId = CAST($1 AS INTEGER)', 'DELETE FROM email_digests WHERE filterId = CAST($1 AS INTEGER)'],
  /**
   * Matches older than $1, except an email filter's not emailed yet (seq above its watermark, or
   * all of them before its first digest): those wait for their digest however old.
   */
  prune: `DELETE FROM filter_matches WHERE matchedAt < CAST($1 AS TIMESTAMPTZ) AND NOT EXISTS (
      SELECT 1 FROM filters f LEFT JOIN email_digests d ON d.filterId = f.id
      WHERE f.id = filter_matches.filterId AND f.output = 'email' AND (d.filterId IS NULL OR filter_matches.seq > d.sentThroughSeq))`,
  getDigest: 'SELECT * FROM email_digests WHERE filterId = CAST($1 AS INTEGER)',
  listDigests: 'SELECT * FROM email_digests ORDER BY filterId',
  putDigest: `INSERT INTO email_digests VALUES (CAST($filterId AS INTEGER), CAST($sentThroughSeq AS BIGINT), CAST($emailSince AS TIMESTAMPTZ), CAST($lastSentAt AS TIMESTAMPTZ),
      CAST($failures AS INTEGER), $lastError, CAST($lastErrorAt AS TIMESTAMPTZ), CAST($retryAt AS TIMESTAMPTZ), CAST($filterErrorSentAt AS TIMESTAMPTZ))
    ON CONFLICT (filterId) DO UPDATE SET sentThroughSeq = EXCLUDED.sentThroughSeq, emailSince = EXCLUDED.emailSince, lastSentAt = EXCLUDED.lastSentAt,
      failures = EXCLUDED.failures, lastError = EXCLUDED.lastError, lastErrorAt = EXCLUDED.lastErrorAt, retryAt = EXCLUDED.retryAt, filterErrorSentAt = EXCLUDED.filterErrorSentAt`,
};

export interface MatchQuery {
  sql: string;
  params: DuckDBValue[];
}

export interface FilterMatchesOptions {
  afterSeq?: bigint;
  limit?: number;
  newestFirst?: boolean;
}

/** The query for Store.filterMatches, its options checked. */
export function filterMatchesQuery(filterId: number, options: FilterMatchesOptions): MatchQuery {
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`filterMatches: limit must be a positive integer, not ${String(limit)}`);
  const params: DuckDBValue[] = [filterId];
  let where = 'filterId = CAST($1 AS INTEGER)';
  if (options.afterSeq !== undefined) {
    if (typeof options.afterSeq !== 'bigint') throw new Error(`filterMatches: afterSeq must be a BigInt, not ${typeof options.afterSeq}`);
    params.push(options.afterSeq);
    where += ' AND seq > CAST($2 AS BIGINT)';
  }
  const order = options.newestFirst === false ? 'ASC' : 'DESC';
  return { sql: `${matchesSql.select} WHERE ${where} ORDER BY seq ${order} LIMIT ${limit}`, params };
}

/** The matches to stage, checked, without repeats of one (filterId, objectId, sourceId) (the first is kept), as staging columns. */
export function stagedMatches(matches: readonly NewFilterMatch[]): { columns: ColumnValues[]; count: number } {
  const seen = new Set<string>();
  const idx: number[] = [];
  const filterId: number[] = [];
  const objectId: string[] = [];
  const sourceId: bigint[] = [];
  const mjd: number[] = [];
  const matchedAt: string[] = [];
  const survey: (string | null)[] = [];
  const row: string[] = [];
  // A batch's matches share one matchedAt: parsed once.
  let lastTime: string | undefined;
  let lastIso = '';
  matches.forEach((m, i) => {
    const what = (): string => `filter match ${i} (filter ${String(m.filterId)}, object ${String(m.objectId)}, source ${String(m.sourceId)})`;
    if (!Number.isSafeInteger(m.filterId)) throw new Error(`${what()}: filterId must be an integer`);
    if (typeof m.objectId !== 'string' || m.objectId === '') throw new Error(`${what()}: objectId must be non-empty text (objects.objectId)`);
    if (typeof m.sourceId !== 'bigint') throw new Error(`${what()}: sourceId must be a BigInt`);
    if (typeof m.mjd !== 'number' || !Number.isFinite(m.mjd)) throw new Error(`${what()}: mjd must be a finite number`);
    if (m.matchedAt !== lastTime) {
      if (typeof m.matchedAt !== 'string' || Number.isNaN(Date.parse(m.matchedAt))) throw new Error(`${what()}: matchedAt must be an ISO time, not ${JSON.stringify(m.matchedAt)}`);
      lastTime = m.matchedAt;
      lastIso = new Date(m.matchedAt).toISOString();
    }
    const key = `${m.filterId}|${m.objectId}|${m.sourceId}`;
    if (seen.has(key)) return;
    seen.add(key);
    idx.push(idx.length);
    filterId.push(m.filterId);
    objectId.push(m.objectId);
    sourceId.push(m.sourceId);
    mjd.push(m.mjd);
    matchedAt.push(lastIso);
    survey.push(m.survey ?? null);
    row.push(stringify(m.row));
  });
  return { columns: [Int32Array.from(idx), Int32Array.from(filterId), objectId, { int64: BigInt64Array.from(sourceId) }, Float64Array.from(mjd), matchedAt, survey, row], count: idx.length };
}

export function toFilterMatch(r: Record<string, unknown>): FilterMatch {
  const match: FilterMatch = {
    seq: r.seq as bigint,
    filterId: r.filterId as number,
    objectId: r.objectId as string,
    sourceId: r.sourceId as bigint,
    mjd: r.mjd as number,
    matchedAt: (r.matchedAt as Date).toISOString(),
    row: parse(r.row as string) as Record<string, unknown>,
  };
  if (r.survey !== null && r.survey !== undefined) match.survey = r.survey as FilterMatch['survey'];
  return match;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : (v as Date).toISOString());

export function toDigestState(r: Record<string, unknown>): EmailDigestState {
  return {
    filterId: r.filterId as number,
    sentThroughSeq: r.sentThroughSeq as bigint,
    emailSince: iso(r.emailSince),
    lastSentAt: iso(r.lastSentAt),
    failures: r.failures as number,
    lastError: (r.lastError as string | null) ?? null,
    lastErrorAt: iso(r.lastErrorAt),
    retryAt: iso(r.retryAt),
    filterErrorSentAt: iso(r.filterErrorSentAt),
  };
}

/** The named parameters of putDigest, checked. */
export function digestParams(state: EmailDigestState): Record<string, DuckDBValue> {
  const what = `email digest state of filter ${String(state.filterId)}`;
  if (!Number.isSafeInteger(state.filterId)) throw new Error(`${what}: filterId must be an integer`);
  if (typeof state.sentThroughSeq !== 'bigint' || state.sentThroughSeq < 0n) throw new Error(`${what}: sentThroughSeq must be a non-negative BigInt`);
  if (!Number.isSafeInteger(state.failures) || state.failures < 0) throw new Error(`${what}: failures must be a non-negative integer`);
  const time = (name: keyof EmailDigestState): string | null => {
    const v = state[name];
    if (v === null) return null;
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new Error(`${what}: ${name} must be an ISO time or null, not ${JSON.stringify(String(v))}`);
    return new Date(v).toISOString();
  };
  return {
    filterId: state.filterId,
    sentThroughSeq: state.sentThroughSeq,
    emailSince: time('emailSince'),
    lastSentAt: time('lastSentAt'),
    failures: state.failures,
    lastError: state.lastError,
    lastErrorAt: time('lastErrorAt'),
    retryAt: time('retryAt'),
    filterErrorSentAt: time('filterErrorSentAt'),
  };
}
