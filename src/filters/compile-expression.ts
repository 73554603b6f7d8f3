// Walks one expression of DuckDB's parse tree, refusing anything outside the filter language
// and writing the SQL that will run. Validation and emission are one walk, so nothing can be
// emitted that was not checked: the output is built only from what this file understands
// (identifiers re-quoted from the catalog, literals re-written, functions from the allow-list),
// never copied from the user's text.
import { findColumn, findTable, type Catalog, type CatalogTable } from './catalog.ts';
import { allowedFunctions, allowedOperators, internalFunctions, isAggregateName, refusedWithAdvice, textLiteral, type AllowedFunction } from './functions.ts';
import type { IrKind, IrLiteral, IrNode } from './filter-ir.ts';
import type { AstExpression, AstType } from './sql-ast.ts';
import { likeProblem, likeToRegex } from './sql-patterns.ts';
import { findControlCharacter, quoteIdentifier, quoteString } from './sql-text.ts';
import { closestName, describeNonAscii } from './suggest.ts';

export type FilterPart = 'select' | 'where' | 'tables';

/**
 * A problem in the user's filter. offset is a position (in UTF-16 code units, as JavaScript
 * and browsers count) in that box's text; for part 'tables', the index in the tables list.
 */
export interface FilterError {
  message: string;
  part: FilterPart;
  offset: number;
}

export interface ExpressionScope {
  catalog: Catalog;
  /** The tables this filter reads; the first is the primary table. */
  tables: readonly CatalogTable[];
  /** Lower-case names of join columns: unambiguous, they resolve to the primary table. */
  joinColumns: ReadonlySet<string>;
}

export interface CompileContext {
  part: 'select' | 'where';
  scope: ExpressionScope;
  /** Offset in the user's text for a parse-tree location, or undefined if it has none. */
  locate(location: number | bigint | undefined): number | undefined;
  errors: FilterError[];
  /** The user's text of this box, for hints that depend on how something was typed. */
  text?: string;
  /** Set when re-reading Nightjar's own output: accept the nj_ names it emits. */
  compiledInput?: boolean;
}

/** SQL to run, a readable rendering (used to name unaliased SELECT items), whether it needs no parentheses, and its checked shape (for other dialects). */
export interface Emitted {
  sql: string;
  display: string;
  atomic: boolean;
  node: IrNode;
}

type IrDetails = Omit<IrNode, 'kind' | 'sql' | 'offset' | 'args'>;

function irNode(kind: IrKind, sql: string, offset: number, args: readonly Emitted[] = [], details: IrDetails = {}): IrNode {
  return { kind, sql, offset, args: args.map((a) => a.node), ...details };
}

/** An Emitted whose IR node is built from its own SQL. */
function emitted(sql: string, display: string, atomic: boolean, kind: IrKind, offset: number, args: readonly Emitted[] = [], details: IrDetails = {}): Emitted {
  return { sql, display, atomic, node: irNode(kind, sql, offset, args, details) };
}

export const maxExpressionDepth = 100;

const emittedFunctions: ReadonlyMap<string, AllowedFunction> = new Map([
  ...[...allowedFunctions.values()].flatMap((f) => (f.emitAs === undefined ? [] : [[f.emitAs, f] as const])),
  ...internalFunctions,
]);

const comparisonSql: Readonly<Record<string, string>> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_DISTINCT_FROM: 'IS DISTINCT FROM',
  COMPARE_NOT_DISTINCT_FROM: 'IS NOT DISTINCT FROM',
};

const simpleCastTypes: ReadonlySet<string> = new Set(['BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'FLOAT', 'DOUBLE', 'VARCHAR']);
const integerLiteralTypes: ReadonlySet<string> = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);

// Parse-tree names of constructs that have their own syntax, so the message can name the syntax.
const syntaxFunctionAdvice: Readonly<Record<string, string>> = {
  list_value: 'lists ([...]) are not supported in filters',
  struct_pack: 'structs ({...}) are not supported in filters',
  row: 'row values are not supported in filters',
  like_escape: 'LIKE ... ESCAPE is not supported: use LIKE without ESCAPE, or regexp_matches()',
  not_like_escape: 'NOT LIKE ... ESCAPE is not supported',
  ilike_escape: 'ILIKE ... ESCAPE is not supported',
  not_ilike_escape: 'NOT ILIKE ... ESCAPE is not supported',
  regexp_full_match: 'SIMILAR TO is not supported: use regexp_matches(text, pattern)',
};

const operatorAdvice: Readonly<Record<string, string>> = {
  '~~~': 'GLOB is not supported: use LIKE',
  '!~~~': 'NOT GLOB is not supported: use NOT LIKE',
  '->>': 'JSON operators are not supported in filters',
  '->': 'JSON and lambda operators are not supported in filters',
};

function partName(part: CompileContext['part']): string {
  return part === 'select' ? 'SELECT' : 'WHERE';
}

function fail(ctx: CompileContext, offset: number, message: string): undefined {
  ctx.errors.push({ message, part: ctx.part, offset });
  return undefined;
}

function wrap(e: Emitted): string {
  return e.atomic ? e.display : `(${e.display})`;
}

/** Compiles one expression; on failure records errors in ctx and returns undefined. */
export function compileExpression(node: AstExpression, ctx: CompileContext, depth = 0, inheritedOffset = 0): Emitted | undefined {
  const at = ctx.locate(node.query_location) ?? inheritedOffset;
  if (depth > maxExpressionDepth) return fail(ctx, at, `expression in ${partName(ctx.part)} is nested too deeply (more than ${maxExpressionDepth} levels)`);
  if (depth > 0 && node.alias !== undefined && node.alias !== '') return fail(ctx, at, `unexpected name "${node.alias}" inside an expression in ${partName(ctx.part)}`);
  const sub = (child: AstExpression | null | undefined): Emitted | undefined =>
    child === null || child === undefined ? fail(ctx, at, `incomplete expression in ${partName(ctx.part)}`) : compileExpression(child, ctx, depth + 1, at);
  switch (node.class) {
    case 'COLUMN_REF':
      return columnReference(node, ctx, at);
    case 'CONSTANT':
      return constant(node, ctx, at);
    case 'FUNCTION':
      return functionCall(node, ctx, at, sub);
    case 'COMPARISON': {
      const op = comparisonSql[node.type ?? ''];
      if (op === undefined) return fail(ctx, at, `comparison ${node.type ?? '?'} is not allowed`);
      const left = sub(node.left);
      const right = sub(node.right);
      if (left === undefined || right === undefined) return undefined;
      return emitted(`(${left.sql} ${op} ${right.sql})`, `${wrap(left)} ${op} ${wrap(right)}`, false, 'compare', at, [left, right], { op });
    }
    case 'CONJUNCTION': {
      const op = node.type === 'CONJUNCTION_AND' ? 'AND' : node.type === 'CONJUNCTION_OR' ? 'OR' : undefined;
      if (op === undefined) return fail(ctx, at, `logical operator ${node.type ?? '?'} is not allowed`);
      const parts = compileAll(node.children ?? [], sub);
      if (parts === undefined || parts.length < 2) return parts === undefined ? undefined : fail(ctx, at, `${op} needs two sides`);
      return emitted(`(${parts.map((p) => p.sql).join(` ${op} `)})`, parts.map(wrap).join(` ${op} `), false, op === 'AND' ? 'and' : 'or', at, parts);
    }
    case 'OPERATOR':
      return operator(node, ctx, at, sub);
    case 'BETWEEN': {
      const input = sub(node.input);
      const lower = sub(node.lower);
      const upper = sub(node.upper);
      if (input === undefined || lower === undefined || upper === undefined) return undefined;
      return emitted(`(${input.sql} BETWEEN ${lower.sql} AND ${upper.sql})`, `${wrap(input)} BETWEEN ${wrap(lower)} AND ${wrap(upper)}`, false, 'between', at, [input, lower, upper]);
    }
    case 'CASE': {
      const checks = node.case_checks ?? [];
      if (checks.length === 0) return fail(ctx, at, 'CASE needs at least one WHEN');
      const sqlParts: string[] = [];
      const displayParts: string[] = [];
      const caseArgs: Emitted[] = [];
      let ok = true;
      for (const check of checks) {
        const when = sub(check.when_expr);
        const then = sub(check.then_expr);
        if (when === undefined || then === undefined) {
          ok = false;
          continue;
        }
        sqlParts.push(`WHEN ${when.sql} THEN ${then.sql}`);
        caseArgs.push(when, then);
        displayParts.push(`WHEN ${when.display} THEN ${then.display}`);
      }
      const otherwise = node.else_expr === undefined ? undefined : sub(node.else_expr);
      if (!ok || (node.else_expr !== undefined && otherwise === undefined)) return undefined;
      const elseSql = otherwise === undefined ? '' : ` ELSE ${otherwise.sql}`;
      const elseDisplay = otherwise === undefined || otherwise.display === 'NULL' ? '' : ` ELSE ${otherwise.display}`;
      return emitted(`(CASE ${sqlParts.join(' ')}${elseSql} END)`, `CASE ${displayParts.join(' ')}${elseDisplay} END`, true, 'case', at, otherwise === undefined ? caseArgs : [...caseArgs, otherwise], {
        flag: otherwise !== undefined,
      });
    }
    case 'CAST':
      return cast(node, ctx, at, sub);
    case 'STAR':
      return fail(ctx, at, node.columns === true ? 'COLUMNS(...) is not supported in filters' : `* can only stand alone in the SELECT list (as * or objects.*)`);
    case 'SUBQUERY':
      return fail(ctx, at, `subqueries (SELECT inside ${partName(ctx.part)}) are not allowed: a filter reads only the current batch of its tables`);
    case 'WINDOW':
      return fail(ctx, at, `window functions (... OVER ...) are not allowed: a filter tests each object on its own`);
    case 'PARAMETER':
      return fail(ctx, at, 'query parameters ($1, ?) are not allowed: write the value itself');
    case 'LAMBDA':
      return fail(ctx, at, 'lambda expressions are not allowed in filters');
    case 'COLLATE':
      return fail(ctx, at, 'COLLATE is not allowed: use lower() to compare text without case');
    case 'POSITIONAL_REFERENCE':
      return fail(ctx, at, 'positional references (#1) are not allowed: name the column');
    default:
      return fail(ctx, at, `${(node.class ?? 'unknown').toLowerCase()} expressions are not allowed in filters`);
  }
}

function compileAll(children: AstExpression[], sub: (c: AstExpression) => Emitted | undefined): Emitted[] | undefined {
  const out: Emitted[] = [];
  let ok = true;
  for (const child of children) {
    const e = sub(child);
    if (e === undefined) ok = false;
    else out.push(e);
  }
  return ok ? out : undefined;
}

function columnReference(node: AstExpression, ctx: CompileContext, at: number): Emitted | undefined {
  const names = node.column_names ?? [];
  const where = partName(ctx.part);
  const { scope } = ctx;
  if (names.length === 0 || names.length > 2) {
    return fail(ctx, at, `"${names.join('.')}" in ${where} is not a column: write column or table.column`);
  }
  let table: CatalogTable | undefined;
  const columnName = names[names.length - 1] ?? '';
  if (names.length === 2) {
    const tableName = names[0] ?? '';
    table = scope.tables.find((t) => t.name.toLowerCase() === tableName.toLowerCase());
    if (table === undefined) {
      if (findTable(scope.catalog, tableName) !== undefined) {
        return fail(ctx, at, `table "${tableName}" in ${where} is not one of this filter's tables: add it to the tables list`);
      }
      return fail(ctx, at, unknownName('table', tableName, where, scope.tables.map((t) => t.name)));
    }
    if (findColumn(table, columnName) === undefined) {
      return fail(ctx, at, unknownName('column', `${table.name}.${columnName}`, where, table.columns.map((c) => c.name), columnName));
    }
  } else {
    const holders = scope.tables.filter((t) => findColumn(t, columnName) !== undefined);
    if (holders.length === 0) {
      const elsewhere = scope.catalog.tables.find((t) => !scope.tables.includes(t) && findColumn(t, columnName) !== undefined);
      if (elsewhere !== undefined) {
        return fail(ctx, at, `column "${columnName}" in ${where} belongs to table "${elsewhere.name}", which this filter does not read: add it to the tables list`);
      }
      const all = scope.tables.flatMap((t) => t.columns.map((c) => c.name));
      // MySQL (Lasair) reads "SN" as text; SQL and DuckDB read it as a column name.
      const quoted = ctx.text?.[at] === '"' ? ` — text goes in single quotes: '${columnName.replaceAll("'", "''")}'` : '';
      return fail(ctx, at, unknownName('column', columnName, where, all) + quoted);
    }
    if (holders.length > 1 && !scope.joinColumns.has(columnName.toLowerCase())) {
      return fail(ctx, at, `column "${columnName}" in ${where} is ambiguous: write ${holders.map((t) => `${t.name}.${columnName}`).join(' or ')}`);
    }
    table = holders[0];
  }
  if (table === undefined) return undefined;
  const column = findColumn(table, columnName);
  if (column === undefined) return undefined;
  return emitted(`${quoteIdentifier(table.name)}.${quoteIdentifier(column.name)}`, names.length === 2 ? `${table.name}.${column.name}` : column.name, true, 'column', at, [], {
    op: table.name,
    value: column.name,
  });
}

// Statement keywords that the parser reads as a column name when typed into a box.
const statementKeywords = new Set(['pragma', 'install', 'load', 'copy', 'attach', 'detach', 'set', 'reset', 'create', 'drop', 'alter', 'insert', 'update', 'delete', 'call', 'export', 'import', 'vacuum', 'checkpoint', 'begin', 'commit', 'rollback', 'truncate', 'use', 'prepare', 'execute', 'grant', 'show', 'describe', 'summarize', 'explain']);

function unknownName(kind: 'column' | 'table' | 'function', name: string, where: string, candidates: Iterable<string>, bareName = name): string {
  const suggestion = closestName(bareName, candidates);
  const nonAscii = describeNonAscii(bareName);
  let message = `unknown ${kind} "${name}" in ${where}`;
  if (statementKeywords.has(bareName.toLowerCase())) message += `: statements such as ${bareName.toUpperCase()} cannot be used in a filter`;
  if (nonAscii !== undefined) message += ` (${nonAscii})`;
  if (suggestion !== undefined) message += ` — did you mean "${suggestion}"?`;
  return message;
}

function constant(node: AstExpression, ctx: CompileContext, at: number): Emitted | undefined {
  const value = node.value;
  if (value === undefined) return fail(ctx, at, 'incomplete literal');
  if (value.is_null === true) return emitted('NULL', 'NULL', true, 'literal', at, [], { literal: 'null' });
  const typeId = value.type?.id ?? '';
  if (integerLiteralTypes.has(typeId)) {
    const integer = toBigInt(value.value);
    if (integer === undefined) return fail(ctx, at, 'unreadable integer literal');
    return numberLiteral(integer.toString(), 'integer', at);
  }
  if (typeId === 'DECIMAL') {
    const scaled = toBigInt(value.value);
    const scale = value.type?.type_info?.scale;
    if (scaled === undefined || typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > 38) {
      return fail(ctx, at, 'unreadable decimal literal');
    }
    return numberLiteral(formatDecimal(scaled, scale), 'decimal', at);
  }
  if (typeId === 'DOUBLE' || typeId === 'FLOAT') {
    const n = value.value;
    if (typeof n !== 'number' || !Number.isFinite(n)) return fail(ctx, at, 'unreadable floating-point literal');
    const text = String(n);
    // An exponent keeps the literal a DOUBLE when DuckDB reads it back (1.5 alone is a DECIMAL).
    const literal = /e/i.test(text) ? text : `${text}e0`;
    return { ...numberLiteral(literal, 'double', at), display: text };
  }
  if (typeId === 'BOOLEAN') {
    if (typeof value.value !== 'boolean') return fail(ctx, at, 'unreadable boolean literal');
    // Written as DuckDB's parser writes TRUE/FALSE itself, so the SQL reads back identically.
    return booleanLiteral(value.value, at);
  }
  if (typeId === 'VARCHAR') {
    const text = value.value;
    if (typeof text !== 'string') return fail(ctx, at, 'unreadable text literal');
    // A NUL would end the statement text at the C boundary; other control characters are
    // never needed in a filter and only hide what the text says.
    const control = findControlCharacter(text, true);
    if (control >= 0) {
      return fail(ctx, at, `text literal in ${partName(ctx.part)} contains control character U+${text.charCodeAt(control).toString(16).toUpperCase().padStart(4, '0')}`);
    }
    return emitted(quoteString(text), quoteString(text), true, 'literal', at, [], { literal: 'text', value: text });
  }
  return fail(ctx, at, `literal of type ${typeId || 'unknown'} is not allowed in filters`);
}

function numberLiteral(text: string, literal: IrLiteral, at: number): Emitted {
  // A negative number is parenthesised so that "a - -1" can never print as "a--1" (a comment).
  const sql = text.startsWith('-') ? `(${text})` : text;
  return emitted(sql, text, true, 'literal', at, [], { literal, value: text });
}

function booleanLiteral(value: boolean, at: number): Emitted {
  // Written as DuckDB's parser writes TRUE/FALSE itself, so the SQL reads back identically.
  return emitted(`CAST('${value ? 't' : 'f'}' AS BOOLEAN)`, value ? 'TRUE' : 'FALSE', true, 'literal', at, [], { literal: 'boolean', value: value ? 'true' : 'false' });
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'object' && v !== null && 'upper' in v && 'lower' in v) {
    // HUGEINT as DuckDB serialises it: signed upper 64 bits, unsigned lower 64 bits.
    const upper = toBigInt((v as { upper: unknown }).upper);
    const lower = toBigInt((v as { lower: unknown }).lower);
    if (upper === undefined || lower === undefined || lower < 0n) return undefined;
    return (upper << 64n) + lower;
  }
  return undefined;
}

function formatDecimal(scaled: bigint, scale: number): string {
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

function functionCall(node: AstExpression, ctx: CompileContext, at: number, sub: (c: AstExpression) => Emitted | undefined): Emitted | undefined {
  const rawName = node.function_name ?? '';
  const name = rawName.toLowerCase();
  const where = partName(ctx.part);
  // Parser-made calls for [..], {..}, SIMILAR TO etc. carry schema "main"; name the syntax instead.
  const syntaxAdvice = syntaxFunctionAdvice[name];
  if (syntaxAdvice !== undefined) return fail(ctx, at, `${syntaxAdvice} (in ${where})`);
  // "main" is where the parser itself puts some calls (trim(...)); the name still has to be
  // on the allow-list and the bare name is what gets written, so it is harmless.
  if (!['', 'main'].includes(node.schema ?? '') || (node.catalog ?? '') !== '') {
    return fail(ctx, at, `qualified function names (${[node.catalog, node.schema, rawName].filter((s) => s).join('.')}) are not allowed: write ${rawName}(...)`);
  }
  if (isAggregateName(name)) {
    const hint = name === 'min' || name === 'max' ? ` (to compare values within one object, use ${name === 'min' ? 'least' : 'greatest'}(a, b, ...))` : '';
    return fail(ctx, at, `aggregate function ${name === 'count_star' ? 'count(*)' : `${name}()`} is not allowed in ${where}: a filter tests each object on its own${hint}`);
  }
  if (node.filter !== null && node.filter !== undefined) return fail(ctx, at, 'FILTER (WHERE ...) is not allowed in filters');
  if (node.distinct === true) return fail(ctx, at, 'DISTINCT inside a function call is not allowed');
  if ((node.order_bys?.orders ?? []).length > 0) return fail(ctx, at, 'ORDER BY inside a function call is not allowed');
  if (node.export_state === true) return fail(ctx, at, 'EXPORT_STATE is not allowed');
  const children = node.children ?? [];

  if (node.is_operator === true) {
    const op = allowedOperators.get(rawName);
    if (op === undefined) return fail(ctx, at, operatorAdvice[rawName] ?? `operator ${rawName} is not allowed in filters`);
    const args = compileAll(children, sub);
    if (args === undefined) return undefined;
    const [a, b] = args;
    if (op.like !== undefined && a !== undefined && b !== undefined && args.length === 2) {
      // Matched by RE2 (sql-patterns.ts): DuckDB's LIKE backtracks on some patterns.
      const pattern = textLiteral(children[1]);
      if (pattern === undefined) return fail(ctx, at, `the pattern of ${op.sql} must be quoted text, e.g. objectId ${op.sql} 'ZTF21%' (in ${where})`);
      const problem = likeProblem(pattern);
      if (problem !== undefined) return fail(ctx, at, `${problem} (in ${where})`);
      const match = `nj_like(${a.sql}, ${quoteString(likeToRegex(pattern, op.like.caseInsensitive))})`;
      const sql = op.like.negated ? `(NOT ${match})` : match;
      return emitted(sql, `${wrap(a)} ${op.sql} ${wrap(b)}`, false, 'like', at, [a], { value: pattern, flag: op.like.negated, caseInsensitive: op.like.caseInsensitive });
    }
    if (args.length === 1 && a !== undefined && op.arity !== 2) {
      return emitted(`(${op.sql} ${a.sql})`, `${op.sql}${wrap(a)}`, false, 'unary', at, [a], { op: op.sql });
    }
    if (args.length === 2 && a !== undefined && b !== undefined && op.arity !== 1) {
      return emitted(`(${a.sql} ${op.sql} ${b.sql})`, `${wrap(a)} ${op.sql} ${wrap(b)}`, false, 'binary', at, [a, b], { op: op.sql });
    }
    return fail(ctx, at, `operator ${op.sql} used with ${args.length} operands`);
  }

  const advice = refusedWithAdvice.get(name);
  if (advice !== undefined) return fail(ctx, at, `${advice} (in ${where})`);
  const allowed = allowedFunctions.get(name) ?? (ctx.compiledInput === true ? emittedFunctions.get(name) : undefined);
  if (allowed === undefined) {
    const suggestion = closestName(rawName, allowedFunctions.keys());
    const nonAscii = describeNonAscii(rawName);
    return fail(
      ctx,
      at,
      `function "${rawName}" is not available in filters (in ${where})${nonAscii === undefined ? '' : ` (${nonAscii})`}` +
        (suggestion === undefined ? ': see docs/filters.md for the functions you can use' : ` — did you mean "${suggestion}"?`),
    );
  }
  if (children.length < allowed.minArgs || children.length > allowed.maxArgs) {
    const expected = allowed.minArgs === allowed.maxArgs ? `${allowed.minArgs}` : allowed.maxArgs === Infinity ? `at least ${allowed.minArgs}` : `${allowed.minArgs} or ${allowed.maxArgs}`;
    return fail(ctx, at, `${name}() takes ${expected} argument${expected === '1' ? '' : 's'}, not ${children.length} (in ${where})`);
  }
  const argsProblem = allowed.checkArgs?.(children);
  if (argsProblem !== undefined) return fail(ctx, at, `${argsProblem} (in ${where})`);
  const args = compileAll(children, sub);
  if (args === undefined) return undefined;
  return emitted(`${allowed.emitAs ?? name}(${args.map((a) => a.sql).join(', ')})`, `${name}(${args.map((a) => a.display).join(', ')})`, true, 'call', at, args, { op: name });
}

function operator(node: AstExpression, ctx: CompileContext, at: number, sub: (c: AstExpression) => Emitted | undefined): Emitted | undefined {
  const children = node.children ?? [];
  const args = compileAll(children, sub);
  if (args === undefined) return undefined;
  const [first, ...rest] = args;
  if (first === undefined) return fail(ctx, at, 'incomplete expression');
  switch (node.type) {
    case 'OPERATOR_NOT':
      if (args.length !== 1) break;
      return emitted(`(NOT ${first.sql})`, `NOT ${wrap(first)}`, false, 'not', at, [first]);
    case 'OPERATOR_IS_NULL':
      if (args.length !== 1) break;
      return emitted(`(${first.sql} IS NULL)`, `${wrap(first)} IS NULL`, false, 'isnull', at, [first]);
    case 'OPERATOR_IS_NOT_NULL':
      if (args.length !== 1) break;
      return emitted(`(${first.sql} IS NOT NULL)`, `${wrap(first)} IS NOT NULL`, false, 'isnotnull', at, [first]);
    case 'COMPARE_IN':
    case 'COMPARE_NOT_IN': {
      if (rest.length === 0) break;
      const op = node.type === 'COMPARE_IN' ? 'IN' : 'NOT IN';
      return emitted(`(${first.sql} ${op} (${rest.map((r) => r.sql).join(', ')}))`, `${wrap(first)} ${op} (${rest.map((r) => r.display).join(', ')})`, false, op === 'IN' ? 'in' : 'notin', at, args);
    }
    case 'OPERATOR_COALESCE':
      return emitted(`coalesce(${args.map((a) => a.sql).join(', ')})`, `coalesce(${args.map((a) => a.display).join(', ')})`, true, 'coalesce', at, args);
    case 'ARRAY_EXTRACT':
    case 'ARRAY_SLICE':
    case 'STRUCT_EXTRACT':
      return fail(ctx, at, 'indexing ([...]) and field access are not supported in filters');
    default:
      return fail(ctx, at, `operator ${(node.type ?? '?').toLowerCase()} is not allowed in filters`);
  }
  return fail(ctx, at, `operator ${(node.type ?? '?').toLowerCase()} has the wrong number of operands`);
}

function cast(node: AstExpression, ctx: CompileContext, at: number, sub: (c: AstExpression | undefined) => Emitted | undefined): Emitted | undefined {
  const typeSql = castTypeSql(node.cast_type);
  if (typeSql === undefined) {
    const id = node.cast_type?.id ?? '?';
    const userName = (node.cast_type?.type_info as { name?: unknown } | null | undefined)?.name;
    const named = (id === 'UNBOUND' || id === 'USER') && typeof userName === 'string';
    const shown = named ? userName.toUpperCase() : id;
    // A word before a quoted text (ATTACH '...') is read as a cast to a type of that name.
    const hint = shown === 'DECIMAL' ? ' (DECIMAL(width, scale) needs width 1 to 38)' : named ? ` (a word before quoted text, as in ${shown} '...', is read as a cast)` : '';
    return fail(ctx, at, `cast to type ${shown} is not allowed${hint}: cast only to a number type (INTEGER, BIGINT, DOUBLE, DECIMAL, ...), VARCHAR or BOOLEAN`);
  }
  const child = sub(node.child);
  if (child === undefined) return undefined;
  const fnName = node.try_cast === true ? 'TRY_CAST' : 'CAST';
  // TRUE and FALSE reach the parse tree as CAST('t' AS BOOLEAN) with no position of their own.
  if (typeSql === 'BOOLEAN' && node.try_cast !== true && (child.sql === "'t'" || child.sql === "'f'") && ctx.locate(node.query_location) === undefined) {
    return booleanLiteral(child.sql === "'t'", at);
  }
  return emitted(`${fnName}(${child.sql} AS ${typeSql})`, `${fnName}(${child.display} AS ${typeSql})`, true, 'cast', at, [child], { op: typeSql, flag: node.try_cast === true });
}

function castTypeSql(type: AstType | undefined): string | undefined {
  const id = type?.id;
  if (id === undefined) return undefined;
  const info = type?.type_info ?? null;
  if (simpleCastTypes.has(id)) return info === null ? id : undefined;
  if (id === 'DECIMAL' && info !== null && info.type === 'DECIMAL_TYPE_INFO' && (info.alias ?? '') === '' && (info.extension_info ?? null) === null) {
    const { width, scale } = info;
    if (typeof width === 'number' && typeof scale === 'number' && Number.isInteger(width) && Number.isInteger(scale) && width >= 1 && width <= 38 && scale >= 0 && scale <= width) {
      return `DECIMAL(${width}, ${scale})`;
    }
  }
  return undefined;
}
