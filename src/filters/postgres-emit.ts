// Writes a checked filter expression (filter-ir.ts) as PostgreSQL SQL that gives what DuckDB
// gives for the compiled filter: the same rows, values and NULLs. It follows DuckDB's type of
// every node (expression-types.ts) rather than PostgreSQL's own typing:
// - each computed node is cast to the PostgreSQL twin of its DuckDB type (INTEGER → integer,
//   DECIMAL(5,2) → numeric(5,2), TINYINT → smallint checked to -128..127, HUGEINT → numeric
//   checked to its range), so integer overflow, decimal scales and BigInt-ness match;
// - operators whose meaning differs call the helpers of postgres-functions.ts (/, //, %, ^,
//   round, sign, substr, ...), and DuckDB's implicit casts (text compared with a number,
//   a boolean with a number, numbers joined to text) are written out with DuckDB's conversions;
// - text is ordered by code point (COLLATE "C", as DuckDB compares), whatever the server's locale.
// Literals and columns are written as they are: PostgreSQL types them as DuckDB does (1 integer,
// 3000000000 bigint, 1.5 numeric), and a quoted text takes its type from where it is used.
import type { IrNode } from './filter-ir.ts';
import { sameSqlType, type SqlType } from './expression-types.ts';
import { likeToPostgresRegex, regexToPostgres } from './sql-patterns.ts';
import { quoteIdentifier, quoteString } from './sql-text.ts';

/**
 * A construct that cannot be written for PostgreSQL, at an offset of the user's text. Refused
 * in both dialects (a filter error) unless `storeOnly`: then only the PostgreSQL store cannot
 * run the filter (FLOAT values written as text, whose digits DuckDB chooses in a way that
 * cannot be reproduced, are the one case).
 */
export class PostgresEmitError extends Error {
  readonly offset: number;
  readonly storeOnly: boolean;
  constructor(message: string, offset: number, storeOnly = false) {
    super(message);
    this.name = 'PostgresEmitError';
    this.offset = offset;
    this.storeOnly = storeOnly;
  }
}

export interface PostgresEmitContext {
  /** DuckDB's type of a node. */
  typeOf(node: IrNode): SqlType;
}

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT']);
const NUMERIC_TYPES = new Set([...INTEGER_TYPES, 'DECIMAL', 'DOUBLE', 'FLOAT']);
const ORDERING = new Set(['<', '>', '<=', '>=']);
const VARCHAR: SqlType = { id: 'VARCHAR', text: 'VARCHAR' };
const BOOLEAN: SqlType = { id: 'BOOLEAN', text: 'BOOLEAN' };
const BIGINT: SqlType = { id: 'BIGINT', text: 'BIGINT' };

// [lowest, one past the highest] of each integer type, for TRY_CAST.
const INTEGER_RANGES: Readonly<Record<string, readonly [string, string]>> = {
  TINYINT: ['-128', '128'],
  SMALLINT: ['-32768', '32768'],
  INTEGER: ['-2147483648', '2147483648'],
  BIGINT: ['-9223372036854775808', '9223372036854775808'],
  HUGEINT: ['-170141183460469231731687303715884105728', '170141183460469231731687303715884105728'],
};

// Functions of the filter language that PostgreSQL has with DuckDB's meaning for double arguments.
const DOUBLE_FUNCTIONS: Readonly<Record<string, string>> = {
  cbrt: 'cbrt',
  exp: 'nj_exp',
  sin: 'sin',
  cos: 'cos',
  tan: 'tan',
  atan: 'atan',
  atan2: 'atan2',
  radians: 'radians',
  degrees: 'degrees',
  sqrt: 'nj_sqrt',
  ln: 'nj_ln',
  log10: 'nj_log10',
  log2: 'nj_log2',
  asin: 'nj_asin',
  acos: 'nj_acos',
  pow: 'nj_pow',
  power: 'nj_pow',
  isnan: 'nj_isnan',
  isinf: 'nj_isinf',
  isfinite: 'nj_isfinite',
  flux2mag: 'flux2mag',
  angdist: 'angdist',
};

function isInteger(t: SqlType): boolean {
  return INTEGER_TYPES.has(t.id);
}

function isNumeric(t: SqlType): boolean {
  return NUMERIC_TYPES.has(t.id);
}

/** DOUBLE or FLOAT: binary floating point (a FLOAT is held in a double precision rounded to 32 bits). */
function isFloating(t: SqlType): boolean {
  return t.id === 'DOUBLE' || t.id === 'FLOAT';
}

/** A double computed for a node of type t: rounded to 32 bits if t is FLOAT. */
function floating(sql: string, t: SqlType): string {
  return t.id === 'FLOAT' ? `nj_float(${sql})` : sql;
}

/** The PostgreSQL type holding a DuckDB type's values. */
function postgresType(t: SqlType, offset: number): string {
  switch (t.id) {
    case 'BOOLEAN':
      return 'boolean';
    case 'TINYINT':
    case 'SMALLINT':
      return 'smallint';
    case 'INTEGER':
      return 'integer';
    case 'BIGINT':
      return 'bigint';
    case 'HUGEINT':
      return 'numeric';
    case 'DOUBLE':
    case 'FLOAT':
      return 'double precision';
    case 'DECIMAL':
      return `numeric(${t.width ?? 18}, ${t.scale ?? 3})`;
    case 'VARCHAR':
      return 'text';
    default:
      throw new PostgresEmitError(`values of type ${t.text} are not supported in filters`, offset);
  }
}

/** Writes one expression. Throws PostgresEmitError for what has no PostgreSQL form. */
export function postgresExpression(node: IrNode, ctx: PostgresEmitContext): string {
  return new Emitter(ctx).emit(node);
}

/** Writes a condition (WHERE): DuckDB reads a number there as number <> 0, PostgreSQL refuses it. */
export function postgresCondition(node: IrNode, ctx: PostgresEmitContext): string {
  return new Emitter(ctx).condition(node);
}

class Emitter {
  private readonly ctx: PostgresEmitContext;

  constructor(ctx: PostgresEmitContext) {
    this.ctx = ctx;
  }

  private type(node: IrNode): SqlType {
    return this.ctx.typeOf(node);
  }

  /** The expression cast to the PostgreSQL twin of DuckDB's type t. */
  private typed(sql: string, t: SqlType, offset: number): string {
    switch (t.id) {
      case 'NULL':
      case 'BOOLEAN':
        return sql;
      case 'TINYINT':
        return `nj_tinyint(CAST(${sql} AS bigint))`;
      case 'HUGEINT':
        return `nj_hugeint(CAST(${sql} AS numeric))`;
      case 'FLOAT':
        return `nj_float(CAST(${sql} AS double precision))`;
      default:
        return `CAST(${sql} AS ${postgresType(t, offset)})`;
    }
  }

  emit(node: IrNode): string {
    const args = node.args;
    const a = args[0];
    const b = args[1];
    switch (node.kind) {
      case 'column':
        return `${quoteIdentifier(node.op ?? '')}.${quoteIdentifier(node.value ?? '')}`;
      case 'literal':
        return this.literal(node);
      case 'compare':
        if (a === undefined || b === undefined) break;
        return this.compare(a, node.op ?? '=', b);
      case 'and':
      case 'or':
        return `(${args.map((c) => this.condition(c)).join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        if (a === undefined) break;
        return `(NOT ${this.condition(a)})`;
      case 'isnull':
      case 'isnotnull':
        if (a === undefined) break;
        return `(${this.emit(a)} ${node.kind === 'isnull' ? 'IS NULL' : 'IS NOT NULL'})`;
      case 'in':
      case 'notin':
        if (a === undefined) break;
        return this.inList(a, args.slice(1), node.kind === 'notin');
      case 'between': {
        const [value, low, high] = args;
        if (value === undefined || low === undefined || high === undefined) break;
        const plain = [low, high].every((bound) => this.pairIsPlain(value, bound));
        if (plain && this.type(value).id === 'VARCHAR') return `((${this.emit(value)}) COLLATE "C" BETWEEN ${this.emit(low)} AND ${this.emit(high)})`;
        if (plain) return `(${this.emit(value)} BETWEEN ${this.emit(low)} AND ${this.emit(high)})`;
        return `(${this.compare(value, '>=', low)} AND ${this.compare(value, '<=', high)})`;
      }
      case 'case': {
        const t = this.type(node);
        const hasElse = node.flag === true;
        const pairs = hasElse ? args.slice(0, -1) : args;
        const parts: string[] = [];
        for (let i = 0; i + 1 < pairs.length; i += 2) parts.push(`WHEN ${this.condition(pairs[i] as IrNode)} THEN ${this.as(pairs[i + 1] as IrNode, t)}`);
        const otherwise = hasElse ? ` ELSE ${this.as(args[args.length - 1] as IrNode, t)}` : '';
        return this.typed(`(CASE ${parts.join(' ')}${otherwise} END)`, t, node.offset);
      }
      case 'coalesce': {
        const t = this.type(node);
        return this.typed(`coalesce(${args.map((c) => this.as(c, t)).join(', ')})`, t, node.offset);
      }
      case 'cast':
        if (a === undefined) break;
        return this.castTo(a, this.type(node), node.flag === true);
      case 'unary':
        if (a === undefined) break;
        return this.typed(`(${node.op === '-' ? '-' : '+'} ${this.emit(a)})`, this.type(node), node.offset);
      case 'binary':
        if (a === undefined || b === undefined) break;
        return this.binary(node, a, b);
      case 'like': {
        if (a === undefined) break;
        const match = `nj_like(${this.text(a)}, ${quoteString(likeToPostgresRegex(node.value ?? '', node.caseInsensitive === true))})`;
        return node.flag === true ? `(NOT ${match})` : match;
      }
      case 'call':
        return this.call(node);
    }
    throw new PostgresEmitError(`internal error: cannot write ${node.kind} for PostgreSQL`, node.offset);
  }

  condition(node: IrNode): string {
    const t = this.type(node);
    return t.id === 'BOOLEAN' || t.id === 'NULL' ? this.emit(node) : this.castTo(node, BOOLEAN, false);
  }

  private literal(node: IrNode): string {
    const value = node.value ?? '';
    switch (node.literal) {
      case 'null':
        return 'NULL';
      case 'boolean':
        return value === 'true' ? 'TRUE' : 'FALSE';
      case 'text':
        return quoteString(value);
      case 'double':
        // PostgreSQL reads 1.5e0 as numeric; the cast keeps DuckDB's double.
        return `CAST(${node.sql} AS double precision)`;
      default:
        return node.sql;
    }
  }

  /** The node as a value of type t where DuckDB converts it implicitly (CASE branches, coalesce, greatest). */
  private as(node: IrNode, t: SqlType): string {
    const own = this.type(node);
    if (own.id === t.id || own.id === 'NULL' || t.id === 'NULL') return this.emit(node);
    const convert = own.id === 'VARCHAR' || own.id === 'BOOLEAN' || t.id === 'VARCHAR' || t.id === 'BOOLEAN';
    return convert ? this.castTo(node, t, false) : this.emit(node);
  }

  /** The node as text (for ||, concat, text functions): numbers as DuckDB writes them. */
  private text(node: IrNode): string {
    const t = this.type(node);
    if (t.id === 'VARCHAR') return this.emit(node);
    if (t.id === 'NULL') return `CAST(${this.emit(node)} AS text)`;
    return this.castTo(node, VARCHAR, false);
  }

  /** Whether two compared values need no conversion (same kind: text with text, numbers with numbers, ...). */
  private pairIsPlain(x: IrNode, y: IrNode): boolean {
    const tx = this.type(x);
    const ty = this.type(y);
    if (tx.id === 'NULL' || ty.id === 'NULL') return true;
    if ((tx.id === 'VARCHAR') !== (ty.id === 'VARCHAR')) return false;
    if ((tx.id === 'BOOLEAN') !== (ty.id === 'BOOLEAN')) return false;
    return true;
  }

  /** Both sides of a comparison, converted as DuckDB converts them: text to the other side's type, a boolean to a number. */
  private comparable(x: IrNode, y: IrNode): [string, string] {
    const tx = this.type(x);
    const ty = this.type(y);
    if (!this.pairIsPlain(x, y)) {
      if (tx.id === 'VARCHAR') return [this.castTo(x, ty, false), this.emit(y)];
      if (ty.id === 'VARCHAR') return [this.emit(x), this.castTo(y, tx, false)];
      if (tx.id === 'BOOLEAN' && isNumeric(ty)) return [this.castTo(x, ty, false), this.emit(y)];
      if (ty.id === 'BOOLEAN' && isNumeric(tx)) return [this.emit(x), this.castTo(y, tx, false)];
    }
    return [this.emit(x), this.emit(y)];
  }

  private compare(x: IrNode, op: string, y: IrNode): string {
    const [sx, sy] = this.comparable(x, y);
    if (ORDERING.has(op) && this.type(x).id === 'VARCHAR' && this.type(y).id === 'VARCHAR') return `((${sx}) COLLATE "C" ${op} ${sy})`;
    return `(${sx} ${op} ${sy})`;
  }

  private inList(value: IrNode, items: readonly IrNode[], negated: boolean): string {
    if (items.every((item) => this.pairIsPlain(value, item))) {
      return `(${this.emit(value)} ${negated ? 'NOT IN' : 'IN'} (${items.map((item) => this.emit(item)).join(', ')}))`;
    }
    // x IN (a, b) is x = a OR x = b, NULLs included; written out so each pair converts as DuckDB's.
    const any = `(${items.map((item) => this.compare(value, '=', item)).join(' OR ')})`;
    return negated ? `(NOT ${any})` : any;
  }

  private binary(node: IrNode, a: IrNode, b: IrNode): string {
    const t = this.type(node);
    const op = node.op ?? '';
    const double = (x: IrNode): string => `CAST(${this.emit(x)} AS double precision)`;
    const numeric = (x: IrNode): string => `CAST(${this.emit(x)} AS numeric)`;
    const bigint = (x: IrNode): string => `CAST(${this.emit(x)} AS bigint)`;
    switch (op) {
      case '+':
      case '-':
      case '*':
        return this.typed(`(${this.emit(a)} ${op} ${this.emit(b)})`, t, node.offset);
      case '/':
        if (isFloating(t)) return floating(`nj_div(${double(a)}, ${double(b)})`, t);
        break;
      case '//':
        if (isFloating(t)) return floating(`nj_fdiv(${double(a)}, ${double(b)})`, t);
        if (t.id === 'HUGEINT') return this.typed(`nj_ndiv(${numeric(a)}, ${numeric(b)})`, t, node.offset);
        if (isInteger(t)) return this.typed(`nj_idiv(${bigint(a)}, ${bigint(b)})`, t, node.offset);
        break;
      case '%':
        return this.remainder(node, a, b);
      case '^':
      case '**':
        return `nj_pow(${double(a)}, ${double(b)})`;
      case '||':
        return `(${this.text(a)} || ${this.text(b)})`;
    }
    throw new PostgresEmitError(`operator ${op} giving ${t.text} is not supported in filters`, node.offset);
  }

  private remainder(node: IrNode, a: IrNode, b: IrNode): string {
    const t = this.type(node);
    if (isFloating(t)) return floating(`nj_fmod(CAST(${this.emit(a)} AS double precision), CAST(${this.emit(b)} AS double precision))`, t);
    if (t.id === 'HUGEINT' || t.id === 'DECIMAL') return this.typed(`nj_nmod(CAST(${this.emit(a)} AS numeric), CAST(${this.emit(b)} AS numeric))`, t, node.offset);
    if (isInteger(t)) return this.typed(`nj_imod(CAST(${this.emit(a)} AS bigint), CAST(${this.emit(b)} AS bigint))`, t, node.offset);
    throw new PostgresEmitError(`% giving ${t.text} is not supported in filters`, node.offset);
  }

  private call(node: IrNode): string {
    const name = node.op ?? '';
    const args = node.args;
    const t = this.type(node);
    const [a, b] = args;
    const double = (x: IrNode): string => `CAST(${this.emit(x)} AS double precision)`;
    const fail = (): never => {
      throw new PostgresEmitError(`${name}() giving ${t.text} is not supported in filters`, node.offset);
    };
    const doubleFunction = DOUBLE_FUNCTIONS[name];
    if (doubleFunction !== undefined) return `${doubleFunction}(${args.map(double).join(', ')})`;
    switch (name) {
      case 'pi':
        return 'pi()';
      case 'mjdnow':
        return 'mjdnow()';
      case 'abs':
        if (a === undefined) return fail();
        return this.typed(`abs(${this.emit(a)})`, t, node.offset);
      case 'sign': {
        if (a === undefined) return fail();
        const ta = this.type(a);
        const sign = isInteger(ta) || ta.id === 'DECIMAL' ? `sign(CAST(${this.emit(a)} AS numeric))` : `nj_sign(${double(a)})`;
        return this.typed(sign, t, node.offset);
      }
      case 'round': {
        if (a === undefined) return fail();
        const digits = b === undefined ? '0' : `CAST(${this.emit(b)} AS integer)`;
        if (isFloating(t)) return floating(`nj_round(${double(a)}, ${digits})`, t);
        if (isInteger(t) || t.id === 'DECIMAL') return this.typed(`round(CAST(${this.emit(a)} AS numeric), ${digits})`, t, node.offset);
        return fail();
      }
      case 'floor':
      case 'ceil':
      case 'ceiling':
      case 'trunc': {
        if (a === undefined) return fail();
        const fn = name === 'ceiling' ? 'ceil' : name;
        if (isFloating(t)) return floating(`${fn}(${double(a)})`, t);
        if (t.id === 'DECIMAL') return this.typed(`${fn}(CAST(${this.emit(a)} AS numeric))`, t, node.offset);
        if (isInteger(t)) return this.typed(this.emit(a), t, node.offset);
        return fail();
      }
      case 'mod':
        if (a === undefined || b === undefined) return fail();
        return this.remainder(node, a, b);
      case 'greatest':
      case 'least': {
        const values = args.map((x, i) => {
          const value = this.as(x, t);
          return i === 0 && t.id === 'VARCHAR' ? `(${value}) COLLATE "C"` : value;
        });
        return this.typed(`${name}(${values.join(', ')})`, t, node.offset);
      }
      case 'nullif': {
        if (a === undefined || b === undefined) return fail();
        if (this.pairIsPlain(a, b)) return this.typed(`nullif(${this.emit(a)}, ${this.emit(b)})`, t, node.offset);
        return this.typed(`(CASE WHEN ${this.compare(a, '=', b)} THEN NULL ELSE ${this.emit(a)} END)`, t, node.offset);
      }
      case 'ifnull':
        return this.typed(`coalesce(${args.map((x) => this.as(x, t)).join(', ')})`, t, node.offset);
      case 'lower':
      case 'upper':
        if (a === undefined) return fail();
        return `nj_${name}(${this.text(a)})`;
      case 'length':
        if (a === undefined) return fail();
        return `CAST(length(${this.text(a)}) AS bigint)`;
      case 'substr':
      case 'substring':
        if (a === undefined || b === undefined) return fail();
        return `nj_substr(${[this.text(a), ...args.slice(1).map((x) => this.castTo(x, BIGINT, false))].join(', ')})`;
      case 'left':
      case 'right':
        if (a === undefined || b === undefined) return fail();
        return `nj_${name}(${this.text(a)}, ${this.castTo(b, BIGINT, false)})`;
      case 'trim':
      case 'ltrim':
      case 'rtrim':
        if (a === undefined) return fail();
        return `${name}(${this.text(a)})`;
      case 'starts_with':
        if (a === undefined || b === undefined) return fail();
        return `starts_with(${this.text(a)}, ${this.text(b)})`;
      case 'ends_with':
      case 'contains':
        if (a === undefined || b === undefined) return fail();
        return `nj_${name}(${this.text(a)}, ${this.text(b)})`;
      case 'concat':
        return `concat(${args.map((x) => this.text(x)).join(', ')})`;
      case 'regexp_matches': {
        if (a === undefined || b === undefined || b.literal !== 'text') return fail();
        const pattern = regexToPostgres(b.value ?? '');
        if (typeof pattern !== 'string') throw new PostgresEmitError(pattern.problem, b.offset);
        return `nj_regexp_matches(${this.text(a)}, ${quoteString(pattern)})`;
      }
    }
    return fail();
  }

  /** CAST (or TRY_CAST) of a node to DuckDB type `to`, with DuckDB's conversions. */
  castTo(node: IrNode, to: SqlType, tryCast: boolean): string {
    const from = this.type(node);
    if (sameSqlType(from, to)) return this.emit(node);
    const s = this.emit(node);
    const pg = postgresType(to, node.offset);
    if (from.id === 'NULL') return `CAST(${s} AS ${pg})`;
    if (to.id === 'FLOAT') {
      const double = this.castTo(node, { id: 'DOUBLE', text: 'DOUBLE' }, tryCast);
      return tryCast ? `nj_try_float(${double})` : `nj_float(${double})`;
    }
    if (to.id === 'VARCHAR') {
      if (from.id === 'DOUBLE') return `nj_double_text(${s})`;
      if (from.id === 'FLOAT') throw new PostgresEmitError('FLOAT (REAL) values turned into text are not supported on the PostgreSQL store: use DOUBLE', node.offset, true);
      if (isNumeric(from) || from.id === 'BOOLEAN') return `CAST(${s} AS text)`;
    } else if (to.id === 'BOOLEAN') {
      if (from.id === 'VARCHAR') return tryCast ? `nj_try_text_bool(${s})` : `nj_text_bool(${s})`;
      if (isNumeric(from)) return `(${s} <> 0)`;
    } else if (isInteger(to)) {
      const [low, high] = INTEGER_RANGES[to.id] as readonly [string, string];
      if (from.id === 'BOOLEAN') return this.typed(`nj_bool_int(${s})`, to, node.offset);
      if (from.id === 'VARCHAR') {
        if (tryCast) return this.typed(`nj_try_numeric_int(nj_try_text_numeric(${s}), ${low}, ${high})`, to, node.offset);
        return this.wholeNumber(`CAST(${s} AS numeric)`, to, node.offset);
      }
      if (isFloating(from)) {
        if (tryCast) {
          const rounded = `nj_try_float_int(${s}, ${low}, ${high})`;
          return to.id === 'HUGEINT' ? `nj_whole_double_numeric(${rounded})` : `CAST(${rounded} AS ${pg})`;
        }
        // round(double) is C's rint: half to even, as DuckDB's cast.
        if (to.id === 'HUGEINT') return `nj_hugeint(nj_whole_double_numeric(round(${s})))`;
        if (to.id === 'TINYINT') return `nj_tinyint(CAST(${s} AS bigint))`;
        return `CAST(${s} AS ${pg})`;
      }
      if (isNumeric(from)) {
        if (tryCast) return this.typed(`nj_try_numeric_int(CAST(${s} AS numeric), ${low}, ${high})`, to, node.offset);
        return this.wholeNumber(s, to, node.offset);
      }
    } else if (to.id === 'DOUBLE') {
      if (from.id === 'VARCHAR') return tryCast ? `nj_try_text_float8(${s})` : `CAST(${s} AS double precision)`;
      if (from.id === 'BOOLEAN') return `CAST(nj_bool_int(${s}) AS double precision)`;
      if (isNumeric(from)) return `CAST(${s} AS double precision)`;
    } else if (to.id === 'DECIMAL') {
      const { width, scale } = to;
      if (from.id === 'VARCHAR') return tryCast ? `CAST(nj_try_numeric_decimal(nj_try_text_numeric(${s}), ${width}, ${scale}) AS ${pg})` : `CAST(${s} AS ${pg})`;
      if (from.id === 'BOOLEAN') return `CAST(nj_bool_int(${s}) AS ${pg})`;
      if (isFloating(from)) return tryCast ? `CAST(nj_try_double_decimal(${s}, ${width}, ${scale}) AS ${pg})` : `CAST(nj_double_decimal(${s}, ${scale}) AS ${pg})`;
      if (isNumeric(from)) return tryCast ? `CAST(nj_try_numeric_decimal(CAST(${s} AS numeric), ${width}, ${scale}) AS ${pg})` : `CAST(${s} AS ${pg})`;
    }
    throw new PostgresEmitError(`${tryCast ? 'TRY_CAST' : 'CAST'} from ${from.text} to ${to.text} is not supported in filters`, node.offset);
  }

  /** A decimal or integer value as an integer type, rounded half away from zero (numeric's cast). */
  private wholeNumber(sql: string, to: SqlType, offset: number): string {
    if (to.id === 'TINYINT') return `nj_tinyint(CAST(${sql} AS bigint))`;
    if (to.id === 'HUGEINT') return `nj_hugeint(round(CAST(${sql} AS numeric)))`;
    return `CAST(${sql} AS ${postgresType(to, offset)})`;
  }
}
