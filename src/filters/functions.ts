// What a filter may call. Everything not listed here is refused by the compiler, so this
// list (not a list of forbidden names) is the boundary of the language.
import type { AstExpression } from './sql-ast.ts';
import { REGEX_TEXT_LIMIT, regexProblem } from './sql-patterns.ts';

export interface AllowedFunction {
  /** Fewest and most arguments (max Infinity for variadic). */
  minArgs: number;
  maxArgs: number;
  /** The SQL function the compiled filter calls, when it differs from the user's name. */
  emitAs?: string;
  group: 'math' | 'null' | 'text' | 'astronomy' | 'internal';
  doc: string;
  /** Why these arguments are refused, or undefined (for arguments that must be literals the filter can be judged by). */
  checkArgs?: (args: readonly AstExpression[]) => string | undefined;
}

const fn = (group: AllowedFunction['group'], minArgs: number, maxArgs: number, doc: string, emitAs?: string): AllowedFunction =>
  emitAs === undefined ? { group, minArgs, maxArgs, doc } : { group, minArgs, maxArgs, doc, emitAs };

/** The text of a quoted-text literal argument, or undefined for anything else. */
export function textLiteral(node: AstExpression | undefined): string | undefined {
  const value = node?.class === 'CONSTANT' ? node.value : undefined;
  return value !== undefined && value.is_null !== true && value.type?.id === 'VARCHAR' && typeof value.value === 'string' ? value.value : undefined;
}

/** regexp_matches(text, 'pattern'): the pattern is quoted text, short and without runaway repetitions (sql-patterns.ts). */
function regexArgs(args: readonly AstExpression[]): string | undefined {
  const pattern = textLiteral(args[1]);
  if (pattern === undefined) return "the pattern of regexp_matches must be quoted text, e.g. regexp_matches(objectId, '^ZTF2')";
  return regexProblem(pattern);
}

export const ASCII_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const ASCII_LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** Named functions, by lower-case name. */
export const allowedFunctions: ReadonlyMap<string, AllowedFunction> = new Map([
  ['abs', fn('math', 1, 1, 'absolute value')],
  ['sign', fn('math', 1, 1, '-1, 0 or 1')],
  ['sqrt', fn('math', 1, 1, 'square root; NULL for a negative argument', 'nj_sqrt')],
  ['cbrt', fn('math', 1, 1, 'cube root')],
  ['exp', fn('math', 1, 1, 'e to the power x')],
  ['ln', fn('math', 1, 1, 'natural logarithm; NULL for an argument <= 0', 'nj_ln')],
  ['log10', fn('math', 1, 1, 'base-10 logarithm; NULL for an argument <= 0', 'nj_log10')],
  ['log2', fn('math', 1, 1, 'base-2 logarithm; NULL for an argument <= 0', 'nj_log2')],
  ['pow', fn('math', 2, 2, 'x to the power y')],
  ['power', fn('math', 2, 2, 'x to the power y')],
  ['round', fn('math', 1, 2, 'round(x) or round(x, digits)')],
  ['floor', fn('math', 1, 1, 'largest integer <= x')],
  ['ceil', fn('math', 1, 1, 'smallest integer >= x')],
  ['ceiling', fn('math', 1, 1, 'smallest integer >= x')],
  ['trunc', fn('math', 1, 1, 'x with its fractional part removed')],
  ['mod', fn('math', 2, 2, 'remainder of x / y')],
  ['sin', fn('math', 1, 1, 'sine (radians)')],
  ['cos', fn('math', 1, 1, 'cosine (radians)')],
  ['tan', fn('math', 1, 1, 'tangent (radians)')],
  ['asin', fn('math', 1, 1, 'arc sine in radians; NULL outside [-1, 1]', 'nj_asin')],
  ['acos', fn('math', 1, 1, 'arc cosine in radians; NULL outside [-1, 1]', 'nj_acos')],
  ['atan', fn('math', 1, 1, 'arc tangent in radians')],
  ['atan2', fn('math', 2, 2, 'atan2(y, x) in radians')],
  ['radians', fn('math', 1, 1, 'degrees to radians')],
  ['degrees', fn('math', 1, 1, 'radians to degrees')],
  ['pi', fn('math', 0, 0, '3.14159...')],
  ['greatest', fn('math', 1, Infinity, 'largest of its arguments (ignoring NULLs)')],
  ['least', fn('math', 1, Infinity, 'smallest of its arguments (ignoring NULLs)')],
  ['isnan', fn('math', 1, 1, 'true if x is NaN')],
  ['isinf', fn('math', 1, 1, 'true if x is infinite')],
  ['isfinite', fn('math', 1, 1, 'true if x is neither infinite nor NaN')],
  ['nullif', fn('null', 2, 2, 'NULL if a = b, else a')],
  ['ifnull', fn('null', 2, 2, 'b if a is NULL, else a')],
  ['lower', fn('text', 1, 1, 'the ASCII letters A-Z in lower case (other characters unchanged)', 'nj_lower')],
  ['upper', fn('text', 1, 1, 'the ASCII letters a-z in upper case (other characters unchanged)', 'nj_upper')],
  ['length', fn('text', 1, 1, 'number of characters')],
  ['substr', fn('text', 2, 3, 'substr(s, start[, length]), start at 1')],
  ['substring', fn('text', 2, 3, 'substring(s, start[, length]), start at 1')],
  ['left', fn('text', 2, 2, 'first n characters')],
  ['right', fn('text', 2, 2, 'last n characters')],
  ['trim', fn('text', 1, 1, 'without leading and trailing spaces')],
  ['ltrim', fn('text', 1, 1, 'without leading spaces')],
  ['rtrim', fn('text', 1, 1, 'without trailing spaces')],
  ['starts_with', fn('text', 2, 2, 'true if s starts with prefix')],
  ['ends_with', fn('text', 2, 2, 'true if s ends with suffix')],
  ['contains', fn('text', 2, 2, 'true if s contains the text')],
  ['concat', fn('text', 1, Infinity, 'joins its arguments as text, skipping NULLs')],
  ['regexp_matches', { ...fn('text', 2, 2, `true if s matches the regular expression (RE2 syntax without flags, POSIX classes or \\p{..}; a quoted pattern of at most 200 characters, counts {n,m} up to 20; the first ${REGEX_TEXT_LIMIT} characters of s are read)`, 'nj_regexp_matches'), checkArgs: regexArgs }],
  ['mjdnow', fn('astronomy', 0, 0, 'the current Modified Julian Date (UTC, with fraction of day)')],
  ['flux2mag', fn('astronomy', 1, 1, 'AB magnitude of a flux in nJy: -2.5 log10(flux) + 31.4; NULL for flux <= 0')],
  ['angdist', fn('astronomy', 4, 4, 'angdist(ra1, dec1, ra2, dec2): angular distance in arcseconds; coordinates in degrees')],
]);

/** Functions only Nightjar's compiled SQL calls (accepted when it is read back, never from users). */
export const internalFunctions: ReadonlyMap<string, AllowedFunction> = new Map([
  ['nj_like', fn('internal', 2, 2, 'LIKE and ILIKE, compiled: a whole-text RE2 match (sql-patterns.ts)')],
]);

export interface AllowedOperator {
  arity: 1 | 2 | 'both';
  sql: string;
  /** LIKE and its kin: compiled into nj_like with the pattern translated (sql-patterns.ts). */
  like?: { negated: boolean; caseInsensitive: boolean };
}

/** Operators as they appear in DuckDB's parse tree (function nodes with is_operator set). */
export const allowedOperators: ReadonlyMap<string, AllowedOperator> = new Map<string, AllowedOperator>([
  ['+', { arity: 'both', sql: '+' }],
  ['-', { arity: 'both', sql: '-' }],
  ['*', { arity: 2, sql: '*' }],
  ['/', { arity: 2, sql: '/' }],
  ['//', { arity: 2, sql: '//' }],
  ['%', { arity: 2, sql: '%' }],
  ['^', { arity: 2, sql: '^' }],
  ['**', { arity: 2, sql: '**' }],
  ['||', { arity: 2, sql: '||' }],
  ['~~', { arity: 2, sql: 'LIKE', like: { negated: false, caseInsensitive: false } }],
  ['!~~', { arity: 2, sql: 'NOT LIKE', like: { negated: true, caseInsensitive: false } }],
  ['~~*', { arity: 2, sql: 'ILIKE', like: { negated: false, caseInsensitive: true } }],
  ['!~~*', { arity: 2, sql: 'NOT ILIKE', like: { negated: true, caseInsensitive: true } }],
]);

/** Names people reach for that are refused, with the reason and what to use instead. */
export const refusedWithAdvice: ReadonlyMap<string, string> = new Map([
  ['log', 'log() means base 10 in DuckDB but natural log in MySQL: write log10(x) or ln(x)'],
  ['now', 'use mjdnow() for the current time as an MJD'],
  ['current_timestamp', 'use mjdnow() for the current time as an MJD'],
  ['random', 'a filter must give the same answer for the same data'],
]);

const aggregates = new Set([
  'count', 'count_star', 'sum', 'avg', 'mean', 'min', 'max', 'median', 'mode', 'quantile', 'stddev', 'stddev_samp',
  'stddev_pop', 'variance', 'var_samp', 'var_pop', 'first', 'last', 'any_value', 'arg_min', 'arg_max', 'argmin', 'argmax',
  'min_by', 'max_by', 'list', 'array_agg', 'string_agg', 'group_concat', 'bool_and', 'bool_or', 'histogram',
  'approx_count_distinct', 'product', 'corr', 'covar_pop', 'covar_samp', 'entropy', 'kurtosis', 'skewness',
]);

export function isAggregateName(name: string): boolean {
  return aggregates.has(name);
}

/**
 * SQL macros created in every filter engine. The nj_ ones are the domain-safe versions the
 * compiler calls in place of sqrt/ln/log10/...: a difference-image flux is often negative,
 * and DuckDB's own functions raise an error there, which would fail the filter for the
 * whole batch; like MySQL (which Lasair users know), they give NULL instead.
 */
export const helperMacros: readonly string[] = [
  'CREATE MACRO flux2mag(flux) AS CASE WHEN flux > 0 THEN -2.5 * log10(flux) + 31.4 ELSE NULL END',
  // Transaction start time, so every row of one query sees the same "now".
  'CREATE MACRO mjdnow() AS epoch_ms(get_current_timestamp()) / 86400000.0 + 40587.0',
  // Haversine, stable for small separations; least() guards rounding just above 1.
  `CREATE MACRO angdist(ra1, dec1, ra2, dec2) AS 7200.0 * degrees(asin(least(1.0, sqrt(
     pow(sin(radians(dec2 - dec1) / 2), 2) + cos(radians(dec1)) * cos(radians(dec2)) * pow(sin(radians(ra2 - ra1) / 2), 2)))))`,
  'CREATE MACRO nj_sqrt(x) AS CASE WHEN x >= 0 THEN sqrt(x) ELSE NULL END',
  'CREATE MACRO nj_ln(x) AS CASE WHEN x > 0 THEN ln(x) ELSE NULL END',
  'CREATE MACRO nj_log10(x) AS CASE WHEN x > 0 THEN log10(x) ELSE NULL END',
  'CREATE MACRO nj_log2(x) AS CASE WHEN x > 0 THEN log2(x) ELSE NULL END',
  'CREATE MACRO nj_asin(x) AS CASE WHEN x BETWEEN -1 AND 1 THEN asin(x) ELSE NULL END',
  'CREATE MACRO nj_acos(x) AS CASE WHEN x BETWEEN -1 AND 1 THEN acos(x) ELSE NULL END',
  // Pattern matching that cannot run away (sql-patterns.ts): RE2 only, regexp_matches on a bounded text.
  `CREATE MACRO nj_regexp_matches(s, p) AS regexp_matches(left(s, ${REGEX_TEXT_LIMIT}), p)`,
  'CREATE MACRO nj_like(s, p) AS regexp_full_match(s, p)',
  // Case of the ASCII letters only, as on PostgreSQL (postgres-functions.ts), whose lower() follows
  // the server's locale. The untaken lower() branch keeps DuckDB's type errors naming lower().
  `CREATE MACRO nj_lower(s) AS CASE WHEN false THEN lower(s) ELSE translate(s, '${ASCII_UPPER}', '${ASCII_LOWER}') END`,
  `CREATE MACRO nj_upper(s) AS CASE WHEN false THEN upper(s) ELSE translate(s, '${ASCII_LOWER}', '${ASCII_UPPER}') END`,
];
