// Store.queryObjects on PostgreSQL: one SELECT in PostgreSQL's dialect ($1, $2 placeholders),
// checked before it runs — one statement (the extended protocol refuses more), a query rather
// than a command, reading no table but the allowed ones (the relations of its plan) — then run
// in a READ ONLY transaction with a statement timeout, through a cursor read one row past the
// row limit, which tells whether there were more.
import type pg from 'pg';
import { StoreQueryError } from './errors.ts';
import { sqlState } from './postgres-connection.ts';
import type { QueryParam, QueryResult } from './store.ts';

export interface PostgresQueryOptions {
  params: readonly QueryParam[];
  rowLimit: number;
  timeLimitMs: number;
  /** Lower-case names of the tables the statement may read. */
  tables: ReadonlySet<string>;
}

/** pg's QueryConfig with its option to use the extended protocol (one statement, parameters bound) even without parameters. */
interface ExtendedQuery extends pg.QueryConfig {
  queryMode: 'extended';
}

function extended(text: string, values: readonly QueryParam[]): ExtendedQuery {
  return { text, values: [...values], queryMode: 'extended' };
}

// A query starts with one of these (after comments and opening parentheses); anything else is a command.
const QUERY_START = /^(select|with|values|table)\b/i;

/** The statement's first word, skipping whitespace, comments and opening parentheses. */
function firstWord(sql: string): string {
  const rest = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  return /^[A-Za-z_]+/.exec(rest)?.[0] ?? rest.slice(0, 1);
}

/** Every relation a plan (EXPLAIN FORMAT JSON) reads, lower-case, sub-plans included, and whether any node writes. */
export function planSummary(plan: unknown): { relations: Set<string>; writes: boolean } {
  const relations = new Set<string>();
  let writes = false;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Relation Name' && typeof value === 'string') relations.add(value.toLowerCase());
        else if (key === 'Node Type' && value === 'ModifyTable') writes = true;
        else visit(value);
      }
    }
  };
  visit(plan);
  return { relations, writes };
}

/** Runs the statement on the client (not in a transaction); throws a StoreQueryError if it is refused, fails or runs out of time. */
export async function runPostgresObjectQuery(client: pg.ClientBase, sql: string, options: PostgresQueryOptions): Promise<QueryResult> {
  const { params, rowLimit, timeLimitMs, tables } = options;
  const started = performance.now();
  const fail = (kind: 'refused' | 'error' | 'timeout', reason: string, cause?: unknown): StoreQueryError =>
    new StoreQueryError(kind, `queryObjects: ${reason} — ${oneLine(sql)}`, sql, cause === undefined ? undefined : { cause });
  const failure = (error: unknown): StoreQueryError => {
    if (error instanceof StoreQueryError) return error;
    const message = firstLine((error as Error).message);
    const state = sqlState(error);
    if (state === '57014') return fail('timeout', `stopped after ${timeLimitMs} ms, its time limit`, error);
    if (message.startsWith('cannot insert multiple commands')) return fail('refused', 'expected one statement', error);
    const counts = /^bind message supplies (\d+) parameters?, but prepared statement "[^"]*" requires (\d+)/.exec(message);
    if (counts !== null) return fail('refused', `${counts[2]} parameters expected, ${counts[1]} given`, error);
    return fail('error', message, error);
  };
  if (!QUERY_START.test(firstWord(sql))) throw fail('refused', 'only a SELECT can run here');
  await client.query('BEGIN TRANSACTION READ ONLY');
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(timeLimitMs))}`);
    const plan = await client.query(extended(`EXPLAIN (FORMAT JSON) ${sql}`, params));
    const { relations, writes } = planSummary(plan.rows[0]);
    // A data-modifying WITH: DECLARE and the read-only transaction would refuse it too, less clearly.
    if (writes) throw fail('refused', 'only a SELECT can run here');
    const others = [...relations].filter((t) => !tables.has(t));
    if (others.length > 0) throw fail('refused', `it reads ${others.join(', ')}; only ${[...tables].join(', ')} may be read`);
    // DECLARE takes a SELECT or VALUES only, and no data-modifying WITH.
    await client.query(extended(`DECLARE nightjar_objects NO SCROLL CURSOR FOR ${sql}`, params));
    const remaining = timeLimitMs - (performance.now() - started);
    if (remaining <= 0) throw fail('timeout', `stopped after ${timeLimitMs} ms, its time limit`);
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(remaining))}`);
    const fetched = await client.query(`FETCH FORWARD ${rowLimit + 1} FROM nightjar_objects`);
    const rows = fetched.rows as Record<string, unknown>[];
    const truncated = rows.length > rowLimit;
    if (truncated) rows.length = rowLimit;
    return { columns: fetched.fields.map((f) => f.name), rows, truncated, elapsedMs: performance.now() - started };
  } catch (error) {
    throw failure(error);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
