// Queries over the stored objects for the API: a filter draft run over the store (the builder's
// "Run" and the query endpoint), and a cone search. SQL is only ever what Nightjar writes: the
// draft is compiled by the filter compiler, the cone search binds its numbers as parameters.
import type { FilterValidator } from '../../service/filter-validation.ts';
import { storedMatchesQuery, splitMatch } from '../../service/stored-matches.ts';
import type { FilterDraft, FilterProblem } from '../../service/types.ts';
import type { ObjectKey, SqlDialect, Store } from '../../store/store.ts';
import { columnCountProblem } from '../input-limits.ts';

export interface QueryLimits {
  /** Rows returned at most (the caller's limit is capped to this). */
  maxRows: number;
  timeLimitMs: number;
}

export interface DraftRun {
  columns: string[];
  /** The filter's rows, newest alert first; 64-bit ids as BigInt. */
  rows: Record<string, unknown>[];
  /** The object of each row, index for index (for links to object pages). */
  objects: ObjectKey[];
  truncated: boolean;
  elapsedMs: number;
}

export type DraftOutcome = { run: DraftRun; problems?: undefined } | { run?: undefined; problems: FilterProblem[] };

/** Compiles the draft and runs it over the stored objects, or returns its problems. */
export async function runDraft(store: Store, validator: FilterValidator, draft: FilterDraft, limit: number, limits: QueryLimits): Promise<DraftOutcome> {
  const compiled = await validator.compile(draft, false);
  if (Array.isArray(compiled)) return { problems: compiled };
  const tooWide = columnCountProblem(compiled.columns);
  if (tooWide !== null) return { problems: [tooWide] };
  if (store.sqlDialect === 'postgres' && compiled.postgres === undefined) {
    return { problems: [{ part: 'select', offset: 0, message: `this filter cannot run on the PostgreSQL store: ${compiled.postgresProblem ?? 'it has no PostgreSQL form'}` }] };
  }
  const rows = Math.max(1, Math.min(limit, limits.maxRows));
  // One row more than wanted in the SQL's LIMIT, so that the store can tell whether there were more.
  const query = storedMatchesQuery(compiled, rows + 1, store.sqlDialect);
  const result = await store.queryObjects(query.sql, { rowLimit: rows, timeLimitMs: limits.timeLimitMs });
  const matches = result.rows.map((r) => splitMatch(r, query, compiled.columns));
  return {
    run: { columns: [...compiled.columns], rows: matches.map((m) => m.row), objects: matches.map((m) => m.key), truncated: result.truncated, elapsedMs: Math.round(result.elapsedMs * 10) / 10 },
  };
}

export interface Cone {
  /** Degrees, ICRS. */
  ra: number;
  dec: number;
  /** Arcseconds. */
  radius: number;
}

/** Columns a cone search returns, besides the separation. */
export const CONE_COLUMNS = ['survey', 'objectKind', 'objectId', 'diaObjectId', 'ra', 'decl', 'nSources', 'alertMjd', 'alertBand', 'alertMag'] as const;

export interface ConeResult {
  columns: string[];
  /** Nearest first; separation in arcseconds. */
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
}

/**
 * The SQL of a cone search: $1 ra, $2 dec, $3 radius (arcsec), $4 the radius in degrees (for the
 * declination band that narrows the scan). Valid on both stores: quoted column names, $n
 * placeholders, DOUBLE PRECISION (a type name both know), angdist defined on both; on
 * PostgreSQL the text keys that break ties are ordered by code point, as DuckDB orders them.
 */
export function coneSql(limit: number, dialect: SqlDialect = 'duckdb'): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`cone search limit must be a positive integer, not ${limit}`);
  const columns = CONE_COLUMNS.map((c) => `"${c}"`).join(', ');
  const collate = dialect === 'postgres' ? ' COLLATE "C"' : '';
  const ra = 'CAST($1 AS DOUBLE PRECISION)';
  const dec = 'CAST($2 AS DOUBLE PRECISION)';
  return `SELECT ${columns}, angdist("ra", "decl", ${ra}, ${dec}) AS "separation" FROM "objects"
    WHERE "decl" BETWEEN ${dec} - CAST($4 AS DOUBLE PRECISION) AND ${dec} + CAST($4 AS DOUBLE PRECISION)
      AND angdist("ra", "decl", ${ra}, ${dec}) <= CAST($3 AS DOUBLE PRECISION)
    ORDER BY "separation", "survey"${collate}, "objectKind"${collate}, "objectId"${collate} LIMIT ${limit}`;
}

/** Objects within the cone, nearest first. */
export async function coneSearch(store: Store, cone: Cone, limit: number, limits: QueryLimits): Promise<ConeResult> {
  const rows = Math.max(1, Math.min(limit, limits.maxRows));
  // A little over the radius, so rounding never drops an object at its edge from the band.
  const band = (cone.radius / 3600) * 1.0001 + 1e-9;
  const result = await store.queryObjects(coneSql(rows, store.sqlDialect), { params: [cone.ra, cone.dec, cone.radius, band], rowLimit: rows, timeLimitMs: limits.timeLimitMs });
  return { columns: [...CONE_COLUMNS, 'separation'], rows: result.rows, truncated: result.truncated, elapsedMs: Math.round(result.elapsedMs * 10) / 10 };
}
