// Limits on what one request may ask of the web app, checked before any work is done: the SQL
// boxes' length, the number of columns a query selects, the query string's length. (Body size is
// Fastify's bodyLimit; rows, alerts per object and the cone radius are bounds in the routes'
// schemas.) Each refusal says which limit and by how much.
import type { FilterProblem } from '../service/types.ts';

/** Characters allowed in the SELECT box and in the WHERE box, each. */
export const MAX_SQL_LENGTH = 16_000;
/** Columns a query or a builder run may select. */
export const MAX_SELECT_COLUMNS = 100;
/** Bytes of a URL's query string. */
export const MAX_QUERY_STRING = 2048;

/** Problems for SQL boxes over the length limit (at the first character past it). */
export function sqlLengthProblems(draft: { select?: unknown; where?: unknown }): FilterProblem[] {
  const problems: FilterProblem[] = [];
  for (const part of ['select', 'where'] as const) {
    const text = draft[part];
    if (typeof text === 'string' && text.length > MAX_SQL_LENGTH) {
      problems.push({ part, offset: MAX_SQL_LENGTH, message: `the ${part.toUpperCase()} box has ${text.length.toLocaleString('en')} characters; at most ${MAX_SQL_LENGTH.toLocaleString('en')} are allowed` });
    }
  }
  return problems;
}

/** Why a query selecting these columns is refused, or null. */
export function columnCountProblem(columns: readonly string[]): FilterProblem | null {
  if (columns.length <= MAX_SELECT_COLUMNS) return null;
  return { part: 'select', offset: 0, message: `the SELECT asks for ${columns.length} columns; at most ${MAX_SELECT_COLUMNS} are allowed` };
}

/** Why a URL is refused for its query string, or null. */
export function queryStringProblem(url: string, max = MAX_QUERY_STRING): string | null {
  const at = url.indexOf('?');
  if (at < 0) return null;
  const length = Buffer.byteLength(url.slice(at + 1), 'utf8');
  return length > max ? `the query string has ${length} bytes; at most ${max} are allowed` : null;
}
