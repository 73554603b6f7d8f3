// The --where condition of `nightjar filter-stream`: Nightjar's filter language over the
// `objects` columns, compiled by the same code as the broker's filters, before any Kafka
// connection is made. A condition that does not compile, or that DuckDB refuses for its column
// types, is a one-line UserError naming the problem (with the "did you mean" suggestion).
import { createHash } from 'node:crypto';
import { catalog as objectsCatalog } from '../features/index.ts';
import { FilterChecker, isFilterErrors, parseFilter, type Catalog, type CompiledFilter, type FilterError } from '../filters/index.ts';
import { UserError } from '../util/errors.ts';
import { ROW_COLUMN, withRowColumn } from './filter-stream-batch.ts';

export interface StreamCondition {
  /** The condition as given. */
  readonly where: string;
  /** The condition as compiled SQL (quoted names, no comments): what the group id hashes. */
  readonly whereSql: string;
  /** `SELECT <row column> FROM objects WHERE <condition>`, for the engine. */
  readonly filter: CompiledFilter;
  /** The catalog the engine needs: the objects columns plus the hidden row column. */
  readonly catalog: Catalog;
}

/** Compiles a condition; throws a one-line UserError when it cannot be used. */
export async function compileCondition(where: string, base: Catalog = objectsCatalog()): Promise<StreamCondition> {
  if (where.trim() === '') throw new UserError('--where is empty: give a condition, e.g. --where "alertSnr > 5 AND flux2mag(alertFlux) < 20"');
  // The user's text is checked against the catalog without the row column, so it cannot use it.
  const checked = await parseFilter({ select: '*', where }, base);
  if (isFilterErrors(checked)) throw conditionError(where, checked);
  const checker = await FilterChecker.create(base);
  try {
    const problems = await checker.check(checked);
    if (problems.length > 0) throw conditionError(where, problems);
  } finally {
    await checker.close();
  }
  const catalog = withRowColumn(base);
  const filter = await parseFilter({ id: 'filter-stream', select: ROW_COLUMN, where }, catalog);
  if (isFilterErrors(filter)) throw conditionError(where, filter);
  const whereSql = filter.parts.where ?? '';
  // The same text against a catalog with one more column must compile to the same condition.
  if (whereSql !== checked.parts.where) throw new Error(`internal error: --where compiles differently with the row column: ${checked.parts.where} vs ${whereSql}`);
  return { where, whereSql, filter, catalog };
}

/** One line: the condition, then every problem with its position in it. */
export function conditionError(where: string, errors: readonly FilterError[]): UserError {
  const problems = errors.map((e) => (e.part === 'where' && e.offset > 0 ? `${e.message} (at character ${e.offset + 1})` : e.message));
  const flat = where.replace(/\s+/g, ' ').trim();
  const shown = flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
  return new UserError(`--where "${shown}": ${problems.join('; ')}`);
}

/**
 * The default consumer group: named after the two topics and a hash of the compiled condition,
 * so re-running the same filter resumes where it stopped, and a changed filter starts afresh.
 */
export function defaultGroupId(input: string, output: string, whereSql: string): string {
  const hash = createHash('sha256').update(whereSql).digest('hex').slice(0, 12);
  return `nightjar-filter-stream.${input}.${output}.${hash}`;
}
