// A filter as an astronomer writes it (a SELECT list, a WHERE condition, the tables it reads)
// → validated, compiled SQL, or the list of what is wrong with it and where.
//
// Each box is parsed on its own by DuckDB's parser, as `SELECT <box>`, and must come back as
// a bare expression list: no FROM, no second statement, nothing but expressions. The SQL that
// runs is then written by Nightjar from the checked parse tree (compile-expression.ts), with
// FROM/JOIN written here, so user text never reaches the engine verbatim: comments vanish,
// a semicolon is refused, and identifiers are re-quoted from the catalog. Finally the written
// SQL is parsed and compiled again and must come out identical — a guard against any
// difference between how Nightjar prints and how DuckDB reads.
import { createHash } from 'node:crypto';
import { checkCatalog, findColumn, findTable, primaryTable, type Catalog, type CatalogTable } from './catalog.ts';
import { compileExpression, type CompileContext, type Emitted, type ExpressionScope, type FilterError, type FilterPart } from './compile-expression.ts';
import { nodeTypes, type SqlType } from './expression-types.ts';
import type { IrNode } from './filter-ir.ts';
import { PostgresEmitError, postgresCondition, postgresExpression, type PostgresEmitContext } from './postgres-emit.ts';
import type { AstExpression, AstQueryNode, ParseOutcome } from './sql-ast.ts';
import { sharedSqlParser, type SqlParser } from './sql-parser.ts';
import { byteOffsetToIndex, findControlCharacter, findInvisibleCharacter, findStatementTerminator, quoteIdentifier } from './sql-text.ts';
import { closestName } from './suggest.ts';
import { UserError } from '../util/errors.ts';

export type { FilterError, FilterPart } from './compile-expression.ts';

export interface FilterSource {
  /** Identifies the filter in run results; defaults to a hash of the compiled SQL. */
  id?: string;
  /** The SELECT list, e.g. "diaObjectId, ra, decl, flux2mag(latestFlux_r) AS mag_r". */
  select: string;
  /** The condition, e.g. "nSources > 3"; empty means every row of the batch. */
  where: string;
  /** Tables read; the catalog's first (primary) table is always read. Default: just that one. */
  tables?: string[];
}

/** The SQL dialects a filter is compiled to: DuckDB's (the pipeline, the DuckDB store) and PostgreSQL's (the PostgreSQL store). */
export type FilterDialect = 'duckdb' | 'postgres';

/** A compiled filter's SQL in one dialect. */
export interface DialectSql {
  /** SELECT ... FROM ... [WHERE ...], without LIMIT. */
  readonly sql: string;
  readonly parts: { readonly select: string; readonly from: string; readonly where: string | undefined };
  /**
   * The name of each output column in the result, index for index with CompiledFilter.columns:
   * the column's own name, except on PostgreSQL for a name longer than its 63-byte identifiers.
   */
  readonly resultNames: readonly string[];
}

/** A validated filter. Store the source, not this: recompile on load (about a millisecond). */
export interface CompiledFilter {
  readonly id: string;
  /** SELECT ... FROM ... [WHERE ...], without LIMIT (the engine adds it). */
  readonly sql: string;
  /** Output column names, in order, unique. */
  readonly columns: readonly string[];
  /** Tables read, primary first, as named in the catalog. */
  readonly tables: readonly string[];
  readonly source: { readonly select: string; readonly where: string; readonly tables: readonly string[] };
  /** The compiled pieces of sql, so that each box can be checked on its own. */
  readonly parts: { readonly select: string; readonly from: string; readonly where: string | undefined };
  /**
   * The same filter in PostgreSQL's dialect, giving the same rows and values (postgres-emit.ts);
   * undefined when DuckDB's binder could not type it (postgresProblem says why; such a filter
   * fails on DuckDB too, and the filter checker refuses to save it). Use filterSqlFor.
   */
  readonly postgres?: DialectSql;
  readonly postgresProblem?: string;
}

/** The filter's SQL in a dialect; throws if it has no PostgreSQL form (see CompiledFilter.postgresProblem). */
export function filterSqlFor(filter: CompiledFilter, dialect: FilterDialect): DialectSql {
  if (dialect === 'duckdb') return { sql: filter.sql, parts: filter.parts, resultNames: filter.columns };
  if (filter.postgres !== undefined) return filter.postgres;
  throw new UserError(`filter ${filter.id} cannot run on the PostgreSQL store: ${filter.postgresProblem ?? 'it was compiled without a PostgreSQL form'}`);
}

export const maxPartLength = 20_000;
export const maxSelectItems = 200;
/** Longest output column name (AS ...). */
export const maxNameLength = 128;
const prefix = 'SELECT ';

/** Parses, validates and compiles a filter. Returns errors (never throws) for bad filter text. */
export async function parseFilter(source: FilterSource, catalog: Catalog, parser?: SqlParser): Promise<CompiledFilter | FilterError[]> {
  checkCatalog(catalog);
  const sqlParser = parser ?? (await sharedSqlParser());
  const errors: FilterError[] = [];
  const scope = resolveTables(source.tables, catalog, errors);
  const select = checkText(source.select, 'select', errors);
  const where = checkText(source.where, 'where', errors);
  if (scope === undefined || select === undefined || where === undefined) return errors;

  const selectList = select.trim() === '' ? fail(errors, 'select', 0, 'the SELECT box is empty: list what to deliver, e.g. diaObjectId, ra, decl') : await parsePart(sqlParser, 'select', select, errors);
  const whereList = where.trim() === '' ? [] : await parsePart(sqlParser, 'where', where, errors);
  if (selectList === undefined || whereList === undefined) return errors;

  const items = compileSelectList(selectList, scope, errors);
  const condition = compileWhere(whereList, scope, errors);
  if (errors.length > 0 || items === undefined || condition === undefined) return errors.length > 0 ? errors : [{ message: 'cannot compile filter', part: 'select', offset: 0 }];

  const sql = assemble(items, condition.sql, scope);
  const check = await recompile(sqlParser, sql, scope);
  if (check !== sql) {
    return [{ message: 'internal error: the compiled filter does not read back the same; please report this filter', part: 'select', offset: 0 }];
  }
  const postgres = await postgresForm(items, condition.node, scope, catalog, errors);
  if (errors.length > 0) return errors;
  return {
    id: source.id ?? `filter-${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`,
    sql,
    columns: items.map((i) => i.name),
    tables: scope.tables.map((t) => t.name),
    source: { select, where, tables: scope.tables.map((t) => t.name) },
    parts: { select: items.map((i) => i.sql).join(', '), from: fromClause(scope), where: condition.sql },
    ...postgres,
  };
}

// PostgreSQL cuts identifiers at 63 bytes: a longer output name is given a short stand-in.
const POSTGRES_NAME_BYTES = 63;

/**
 * The PostgreSQL form of the compiled filter, written from the same checked expressions with
 * DuckDB's type of each (expression-types.ts). A construct with no PostgreSQL equivalent is a
 * filter error, so that a filter is accepted only if it gives the same answer on both stores.
 */
async function postgresForm(
  items: readonly SelectItem[],
  where: IrNode | undefined,
  scope: ExpressionScope,
  catalog: Catalog,
  errors: FilterError[],
): Promise<{ postgres: DialectSql } | { postgresProblem: string }> {
  const roots = [...items.map((i) => i.node), ...(where === undefined ? [] : [where])];
  const from = fromClause(scope);
  let types: Map<IrNode, SqlType>;
  try {
    types = await nodeTypes(catalog, roots);
  } catch (error) {
    return { postgresProblem: ((error as Error).message.split('\n')[0] ?? '').trim() };
  }
  const ctx: PostgresEmitContext = {
    typeOf: (node) => {
      const type = types.get(node);
      if (type === undefined) throw new Error(`internal error: no type for ${node.sql}`);
      return type;
    },
  };
  let storeOnly: string | undefined;
  const write = (part: 'select' | 'where', emit: () => string): string => {
    try {
      return emit();
    } catch (error) {
      if (!(error instanceof PostgresEmitError)) throw error;
      if (error.storeOnly) storeOnly ??= `${error.message} (in ${partName(part)})`;
      else errors.push({ message: `${error.message} (in ${partName(part)})`, part, offset: error.offset });
      return '';
    }
  };
  const taken = new Set(items.map((i) => i.name));
  const resultNames = items.map((item, index) => {
    if (Buffer.byteLength(item.name, 'utf8') <= POSTGRES_NAME_BYTES) return item.name;
    let name = `nj_column_${index + 1}`;
    while (taken.has(name)) name = `_${name}`;
    taken.add(name);
    return name;
  });
  const select = items.map((item, index) => `${write('select', () => postgresExpression(item.node, ctx))} AS ${quoteIdentifier(resultNames[index] as string)}`).join(', ');
  const condition = where === undefined ? undefined : write('where', () => postgresCondition(where, ctx));
  if (storeOnly !== undefined) return { postgresProblem: storeOnly };
  const sql = `SELECT ${select} FROM ${from}${condition === undefined ? '' : ` WHERE ${condition}`}`;
  return { postgres: { sql, parts: { select, from, where: condition }, resultNames } };
}


/** True when parseFilter returned errors rather than a compiled filter. */
export function isFilterErrors(result: CompiledFilter | FilterError[]): result is FilterError[] {
  return Array.isArray(result);
}

function fail(errors: FilterError[], part: FilterPart, offset: number, message: string): undefined {
  errors.push({ message, part, offset });
  return undefined;
}

function partName(part: 'select' | 'where'): string {
  return part === 'select' ? 'SELECT' : 'WHERE';
}

function checkText(text: unknown, part: 'select' | 'where', errors: FilterError[]): string | undefined {
  if (typeof text !== 'string') return fail(errors, part, 0, `the ${partName(part)} box must be text`);
  if (text.length > maxPartLength) return fail(errors, part, maxPartLength, `the ${partName(part)} box is longer than ${maxPartLength} characters`);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return fail(errors, part, nul, `the ${partName(part)} box contains a NUL character`);
  const hidden = findInvisibleCharacter(text);
  if (hidden >= 0) {
    const code = (text.codePointAt(hidden) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return fail(errors, part, hidden, `the ${partName(part)} box contains an invisible or direction-changing character (U+${code}): retype the text without it`);
  }
  const keyword = part === 'select' ? /^\s*select\b/i : /^\s*where\b/i;
  const lead = keyword.exec(text);
  if (lead !== null) {
    const word = partName(part);
    return fail(errors, part, lead[0].length - word.length, `leave out the word ${word}: this box takes only the ${part === 'select' ? 'list of columns' : 'condition'}`);
  }
  return text;
}

function resolveTables(requested: string[] | undefined, catalog: Catalog, errors: FilterError[]): ExpressionScope | undefined {
  const primary = primaryTable(catalog);
  const tables: CatalogTable[] = [primary];
  let ok = true;
  for (const [index, name] of (requested ?? []).entries()) {
    const table = typeof name === 'string' ? findTable(catalog, name) : undefined;
    if (table === undefined) {
      const suggestion = typeof name === 'string' ? closestName(name, catalog.tables.map((t) => t.name)) : undefined;
      errors.push({ message: `unknown table "${String(name)}"${suggestion === undefined ? '' : ` — did you mean "${suggestion}"?`}`, part: 'tables', offset: index });
      ok = false;
    } else if (table === primary || tables.includes(table)) {
      continue;
    } else if (table.joinOn === undefined) {
      errors.push({ message: `table "${table.name}" cannot be joined to "${primary.name}" in a filter`, part: 'tables', offset: index });
      ok = false;
    } else {
      tables.push(table);
    }
  }
  if (!ok) return undefined;
  const joinColumns = new Set(tables.slice(1).map((t) => (t.joinOn ?? '').toLowerCase()));
  return { catalog, tables, joinColumns };
}

/** Parses `SELECT <text>` and returns its expression list if that is all it is. */
interface ParsedPart {
  list: AstExpression[];
  locate: CompileContext['locate'];
  text: string;
}

async function parsePart(parser: SqlParser, part: 'select' | 'where', text: string, errors: FilterError[]): Promise<ParsedPart | undefined> {
  const word = partName(part);
  const semicolon = findStatementTerminator(text);
  if (semicolon !== undefined) {
    return fail(errors, part, semicolon, `";" is not allowed in ${word}: a filter is one ${part === 'select' ? 'list of columns' : 'condition'}, not a series of statements`);
  }
  const sql = prefix + text;
  const sqlBytes = Buffer.byteLength(sql, 'utf8');
  const locate = (location: number | bigint | undefined): number | undefined => {
    if (location === undefined) return undefined;
    const byte = Number(location);
    if (!Number.isInteger(byte) || byte < 0 || byte >= sqlBytes) return undefined;
    return Math.max(0, byteOffsetToIndex(sql, byte) - prefix.length);
  };
  let outcome: ParseOutcome;
  try {
    outcome = await parser.parse(sql);
  } catch (error) {
    return fail(errors, part, 0, `cannot read ${word}: ${(error as Error).message}`);
  }
  if (!outcome.ok) {
    const offset = outcome.position === undefined ? 0 : (locate(outcome.position) ?? text.length);
    // DuckDB's depth message suggests a SET that a filter cannot make.
    const message = /Only SELECT statements/.test(outcome.message)
      ? 'only expressions are allowed here, not statements'
      : /expression depth limit/i.test(outcome.message)
        ? 'the expression is nested too deeply'
        : outcome.message;
    return fail(errors, part, offset, `${message} in ${word}`);
  }
  if (outcome.statements.length !== 1) return fail(errors, part, 0, `${word} must be one ${part === 'select' ? 'list of columns' : 'condition'}, not several statements`);
  const node = outcome.statements[0]?.node;
  if (node === undefined) return fail(errors, part, 0, `cannot read ${word}`);
  if (!checkBareList(node, part, text, locate, errors)) return undefined;
  return { list: node.select_list ?? [], locate, text };
}

/** The parse of `SELECT <box>` must be nothing but its expression list. */
function checkBareList(node: AstQueryNode, part: 'select' | 'where', text: string, locate: CompileContext['locate'], errors: FilterError[]): boolean {
  const word = partName(part);
  const at = (keyword: RegExp): number => keyword.exec(text)?.index ?? 0;
  const before = errors.length;
  if (node.type === 'SET_OPERATION_NODE') {
    fail(errors, part, at(/\b(union|except|intersect)\b/i), `UNION, EXCEPT and INTERSECT are not allowed in ${word}`);
    return false;
  }
  if (node.type !== 'SELECT_NODE') {
    fail(errors, part, 0, `${word} must be ${part === 'select' ? 'a list of columns' : 'a condition'}`);
    return false;
  }
  if ((node.cte_map?.map ?? []).length > 0) fail(errors, part, at(/\bwith\b/i), `WITH is not allowed in ${word}`);
  for (const modifier of node.modifiers ?? []) {
    if (modifier.type === 'DISTINCT_MODIFIER') fail(errors, part, at(/\bdistinct\b/i), `DISTINCT is not allowed: each object appears once per batch already`);
    else if (modifier.type === 'ORDER_MODIFIER') fail(errors, part, at(/\border\b/i), `ORDER BY is not allowed in ${word}`);
    else if (modifier.type === 'LIMIT_MODIFIER' || modifier.type === 'LIMIT_PERCENT_MODIFIER') fail(errors, part, at(/\b(limit|offset)\b/i), `LIMIT is not allowed in ${word}: Nightjar limits the rows per batch itself`);
    else fail(errors, part, 0, `${(modifier.type ?? 'modifier').toLowerCase()} is not allowed in ${word}`);
  }
  const from = node.from_table;
  if (from !== undefined && from.type !== 'EMPTY') {
    const fromAt = locate((from as { query_location?: number | bigint }).query_location);
    fail(errors, part, at(/\bfrom\b/i) || (fromAt ?? 0), `FROM is not allowed in ${word}: Nightjar reads the filter's tables itself (list extra tables in the tables setting)`);
  }
  if (node.where_clause !== null && node.where_clause !== undefined) {
    fail(errors, part, at(/\bwhere\b/i), part === 'select' ? 'WHERE is not allowed in the SELECT box: put the condition in the WHERE box' : 'WHERE inside the WHERE box is not allowed');
  }
  if ((node.group_expressions ?? []).length > 0 || (node.group_sets ?? []).length > 0 || (node.aggregate_handling ?? 'STANDARD_HANDLING') !== 'STANDARD_HANDLING') {
    fail(errors, part, at(/\bgroup\b/i), `GROUP BY is not allowed: a filter tests each object on its own`);
  }
  if (node.having !== null && node.having !== undefined) fail(errors, part, at(/\bhaving\b/i), 'HAVING is not allowed: a filter tests each object on its own');
  if (node.qualify !== null && node.qualify !== undefined) fail(errors, part, at(/\bqualify\b/i), 'QUALIFY is not allowed in filters');
  if (node.sample !== null && node.sample !== undefined) fail(errors, part, at(/\b(using|tablesample)\b/i), 'SAMPLE is not allowed in filters');
  return errors.length === before;
}

interface SelectItem {
  sql: string;
  name: string;
  node: IrNode;
}

function compileSelectList(parsed: ParsedPart, scope: ExpressionScope, errors: FilterError[]): SelectItem[] | undefined {
  const ctx: CompileContext = { part: 'select', scope, locate: parsed.locate, errors, text: parsed.text };
  if (parsed.list.length > maxSelectItems) return fail(errors, 'select', 0, `SELECT has more than ${maxSelectItems} items`);
  const items: { item: SelectItem; offset: number }[] = [];
  for (const node of parsed.list) {
    const offset = parsed.locate(node.query_location) ?? 0;
    if (node.class === 'STAR') {
      for (const item of expandStar(node, scope, offset, errors) ?? []) items.push({ item, offset });
      continue;
    }
    const alias = node.alias ?? '';
    if (alias.length > maxNameLength || findControlCharacter(alias, false) >= 0) {
      fail(errors, 'select', offset, `the name "${alias.slice(0, 40)}" is too long or contains control characters`);
      continue;
    }
    const emitted = compileExpression(node, ctx, 0, offset);
    if (emitted === undefined) continue;
    const name = alias !== '' ? alias : outputName(node, emitted);
    if (name.length > maxNameLength) {
      fail(errors, 'select', offset, `give this long expression a short name with AS (output names are at most ${maxNameLength} characters)`);
      continue;
    }
    items.push({ item: { sql: `${emitted.sql} AS ${quoteIdentifier(name)}`, name, node: emitted.node }, offset });
  }
  const seen = new Map<string, string>();
  for (const { item, offset } of items) {
    const key = item.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) fail(errors, 'select', offset, `two SELECT items are both named "${item.name}": give one of them another name with AS`);
    else seen.set(key, item.name);
  }
  return items.map((i) => i.item);
}

function outputName(node: AstExpression, emitted: Emitted): string {
  // A plain column keeps its catalog name (the JSON key Lasair users expect); anything else
  // is named by its text, as written.
  if (node.class === 'COLUMN_REF') {
    const bare = emitted.display.split('.');
    return bare[bare.length - 1] ?? emitted.display;
  }
  return emitted.display;
}

function expandStar(node: AstExpression, scope: ExpressionScope, offset: number, errors: FilterError[]): SelectItem[] | undefined {
  const plain = node.columns !== true && (node.expr ?? null) === null && [node.exclude_list, node.replace_list, node.qualified_exclude_list, node.rename_list].every((l) => (l ?? []).length === 0);
  if (!plain) return fail(errors, 'select', offset, '* with EXCLUDE, REPLACE, RENAME or COLUMNS(...) is not supported: list the columns you want');
  const relation = node.relation_name ?? '';
  let tables: readonly CatalogTable[] = scope.tables;
  if (relation !== '') {
    const table = scope.tables.find((t) => t.name.toLowerCase() === relation.toLowerCase());
    if (table === undefined) return fail(errors, 'select', offset, `"${relation}.*": "${relation}" is not one of this filter's tables`);
    tables = [table];
  }
  const items: SelectItem[] = [];
  const taken = new Set<string>();
  for (const table of tables) {
    for (const column of table.columns) {
      // The shared join column would appear once per table; keep the primary table's.
      if (table !== scope.tables[0] && scope.joinColumns.has(column.name.toLowerCase()) && relation === '') continue;
      // A name already used by an earlier table is qualified: "sherlock.classification".
      const name = taken.has(column.name.toLowerCase()) ? `${table.name}.${column.name}` : column.name;
      taken.add(name.toLowerCase());
      const sql = `${quoteIdentifier(table.name)}.${quoteIdentifier(column.name)}`;
      items.push({ sql: `${sql} AS ${quoteIdentifier(name)}`, name, node: { kind: 'column', sql, offset, args: [], op: table.name, value: column.name } });
    }
  }
  return items;
}

function compileWhere(parsed: ParsedPart | AstExpression[], scope: ExpressionScope, errors: FilterError[]): { sql: string | undefined; node?: IrNode } | undefined {
  if (Array.isArray(parsed)) return { sql: undefined };
  const [node, second] = parsed.list;
  if (node === undefined) return fail(errors, 'where', 0, 'the WHERE box has no condition');
  if (second !== undefined) return fail(errors, 'where', parsed.locate(second.query_location) ?? 0, 'WHERE must be one condition: join conditions with AND or OR, not commas');
  const offset = parsed.locate(node.query_location) ?? 0;
  if (node.alias !== undefined && node.alias !== '') return fail(errors, 'where', offset, 'a name (AS ...) is not allowed in WHERE');
  if (node.class === 'STAR') return fail(errors, 'where', offset, '* is not allowed in WHERE');
  const emitted = compileExpression(node, { part: 'where', scope, locate: parsed.locate, errors, text: parsed.text }, 0, offset);
  return emitted === undefined ? undefined : { sql: emitted.sql, node: emitted.node };
}

function fromClause(scope: ExpressionScope): string {
  const [primary, ...joined] = scope.tables;
  if (primary === undefined) throw new Error('filter reads no table');
  const p = quoteIdentifier(primary.name);
  const joins = joined.map((t) => {
    const key = findColumn(primary, t.joinOn ?? '')?.name ?? '';
    const other = findColumn(t, t.joinOn ?? '')?.name ?? '';
    return ` JOIN ${quoteIdentifier(t.name)} ON ${quoteIdentifier(t.name)}.${quoteIdentifier(other)} = ${p}.${quoteIdentifier(key)}`;
  });
  return `${p}${joins.join('')}`;
}

function assemble(items: SelectItem[], where: string | undefined, scope: ExpressionScope): string {
  const base = `SELECT ${items.map((i) => i.sql).join(', ')} FROM ${fromClause(scope)}`;
  return where === undefined ? base : `${base} WHERE ${where}`;
}

/** Parses the compiled SQL and compiles it again; returns the result, or undefined if it is not the same shape. */
async function recompile(parser: SqlParser, sql: string, scope: ExpressionScope): Promise<string | undefined> {
  const outcome = await parser.parse(sql);
  if (!outcome.ok || outcome.statements.length !== 1) return undefined;
  const node = outcome.statements[0]?.node;
  if (node === undefined || node.type !== 'SELECT_NODE') return undefined;
  const errors: FilterError[] = [];
  const where = node.where_clause ?? null;
  const bare: AstQueryNode = { ...node, from_table: { type: 'EMPTY' }, where_clause: null };
  if (!checkBareList(bare, 'select', '', () => undefined, errors)) return undefined;
  if (fromTableSql(node.from_table) !== fromClause(scope)) return undefined;
  const locate = (): undefined => undefined;
  const ctx: CompileContext = { part: 'select', scope, locate, errors, compiledInput: true };
  const items: SelectItem[] = [];
  for (const item of node.select_list ?? []) {
    const emitted = compileExpression(item, ctx);
    if (emitted === undefined || item.alias === undefined || item.alias === '') return undefined;
    items.push({ sql: `${emitted.sql} AS ${quoteIdentifier(item.alias)}`, name: item.alias, node: emitted.node });
  }
  const condition = where === null ? undefined : compileExpression(where, { ...ctx, part: 'where' });
  if (errors.length > 0 || (where !== null && condition === undefined)) return undefined;
  return assemble(items, condition?.sql, scope);
}

/** Writes back a parsed FROM clause in fromClause's form, so the two can be compared. */
function fromTableSql(ref: AstQueryNode['from_table']): string | undefined {
  if (ref === undefined) return undefined;
  if (ref.type === 'BASE_TABLE') {
    const plain = (ref.schema_name ?? '') === '' && (ref.catalog_name ?? '') === '' && (ref.alias ?? '') === '' && (ref.sample ?? null) === null && (ref.at_clause ?? null) === null && (ref.column_name_alias ?? []).length === 0;
    if (!plain || ref.table_name === undefined) return undefined;
    return quoteIdentifier(ref.table_name);
  }
  if (ref.type === 'JOIN' && ref.join_type === 'INNER' && (ref.ref_type ?? 'REGULAR') === 'REGULAR' && (ref.using_columns ?? []).length === 0) {
    const left = fromTableSql(ref.left);
    const right = fromTableSql(ref.right);
    const condition = ref.condition;
    if (left === undefined || right === undefined || condition?.class !== 'COMPARISON' || condition.type !== 'COMPARE_EQUAL') return undefined;
    const sides = [condition.left, condition.right].map((side) => (side?.class === 'COLUMN_REF' && side.column_names?.length === 2 ? side.column_names.map(quoteIdentifier).join('.') : undefined));
    if (sides.some((s) => s === undefined)) return undefined;
    return `${left} JOIN ${right} ON ${sides.join(' = ')}`;
  }
  return undefined;
}
