// The functions a filter compiled for PostgreSQL calls (postgres-emit.ts), defined so that it
// gives what the same filter gives on DuckDB, value for value, NULLs included:
// - the helpers of functions.ts (flux2mag, mjdnow, angdist, nj_sqrt, nj_like, ...), the same
//   formulas as the DuckDB macros;
// - DuckDB's arithmetic where PostgreSQL's differs: x / 0 is ±Infinity or NaN and x // 0 and
//   x % 0 are NULL (PostgreSQL raises), % of doubles is C's exact fmod, pow() of a negative
//   number to a fraction is NaN, round() of a double rounds half away from zero on its binary
//   value, sign(NaN) is 0, TINYINT and HUGEINT keep their ranges;
// - DuckDB's text: substr() with negative positions, doubles written as DuckDB writes them
//   (100.0, 1e+16), its spellings of booleans, lower()/upper() of ASCII letters only.
// The PostgreSQL store runs these statements whenever it opens (CREATE OR REPLACE keeps them
// current). Functions that may raise an error call nj_raise, declared STABLE (and so are they)
// so that PostgreSQL never raises it while planning a CASE branch that is not taken.
import { ASCII_LOWER, ASCII_UPPER } from './functions.ts';
import { REGEX_TEXT_LIMIT } from './sql-patterns.ts';

type Volatility = 'IMMUTABLE' | 'STABLE';

/** A one-expression SQL function: PostgreSQL inlines these into the query. */
function sqlFunction(name: string, params: string, returns: string, body: string, volatility: Volatility = 'IMMUTABLE'): string {
  return `CREATE OR REPLACE FUNCTION ${name}(${params}) RETURNS ${returns} LANGUAGE sql ${volatility} PARALLEL SAFE AS $nj$ SELECT ${body} $nj$`;
}

/** A PL/pgSQL function, for loops, errors and settings. */
function plpgsqlFunction(name: string, params: string, returns: string, body: string, volatility: Volatility = 'IMMUTABLE', extra = ''): string {
  return `CREATE OR REPLACE FUNCTION ${name}(${params}) RETURNS ${returns} LANGUAGE plpgsql ${volatility} PARALLEL SAFE${extra} AS $nj$ ${body} $nj$`;
}

const dp = 'double precision';

/** The statements defining every function the PostgreSQL form of a compiled filter calls, in order. */
export function postgresHelperFunctionsSql(): string[] {
  return [
    // An error as an expression of any type; STABLE so that it is never folded into a constant.
    plpgsqlFunction('nj_raise', 'message text, result_type anyelement', 'anyelement', "BEGIN RAISE EXCEPTION USING MESSAGE = message, ERRCODE = '22003'; END", 'STABLE'),

    // ---- the helpers of functions.ts ----
    sqlFunction('flux2mag', `flux ${dp}`, dp, 'CASE WHEN flux > 0 THEN -2.5::float8 * log(flux) + 31.4::float8 ELSE NULL END'),
    // Transaction start, to the millisecond, as DuckDB's epoch_ms(get_current_timestamp()).
    sqlFunction('mjdnow', '', dp, 'floor(extract(epoch FROM transaction_timestamp()) * 1000)::float8 / 86400000.0::float8 + 40587.0::float8', 'STABLE'),
    // The haversine of functions.ts, term for term.
    sqlFunction(
      'angdist',
      `ra1 ${dp}, dec1 ${dp}, ra2 ${dp}, dec2 ${dp}`,
      dp,
      '7200.0::float8 * degrees(asin(least(1.0::float8, sqrt(power(sin(radians(dec2 - dec1) / 2), 2) + cos(radians(dec1)) * cos(radians(dec2)) * power(sin(radians(ra2 - ra1) / 2), 2)))))',
    ),
    sqlFunction('nj_sqrt', `x ${dp}`, dp, 'CASE WHEN x >= 0 THEN sqrt(x) ELSE NULL END'),
    sqlFunction('nj_ln', `x ${dp}`, dp, 'CASE WHEN x > 0 THEN ln(x) ELSE NULL END'),
    sqlFunction('nj_log10', `x ${dp}`, dp, 'CASE WHEN x > 0 THEN log(x) ELSE NULL END'),
    // C's log2, which PostgreSQL lacks: ln(x)/ln(2) is off in the last bit for some x.
    plpgsqlFunction('nj_log2', `x ${dp}`, dp, "DECLARE e integer; m float8; BEGIN IF x IS NULL OR NOT x > 0 THEN RETURN NULL; END IF; IF x = 'Infinity' OR x = 'NaN' THEN RETURN x; END IF; e := floor(ln(x) / ln(2::float8)); m := x / power(2::float8, e); WHILE m >= 2 LOOP m := m / 2; e := e + 1; END LOOP; WHILE m < 1 LOOP m := m * 2; e := e - 1; END LOOP; RETURN e + ln(m) / ln(2::float8); END"),
    sqlFunction('nj_asin', `x ${dp}`, dp, 'CASE WHEN x BETWEEN -1 AND 1 THEN asin(x) ELSE NULL END'),
    sqlFunction('nj_acos', `x ${dp}`, dp, 'CASE WHEN x BETWEEN -1 AND 1 THEN acos(x) ELSE NULL END'),
    sqlFunction('nj_regexp_matches', 's text, p text', 'boolean', `left(s, ${REGEX_TEXT_LIMIT}) ~ p`),
    sqlFunction('nj_like', 's text, p text', 'boolean', 's ~ p'),
    sqlFunction('nj_lower', 's text', 'text', `translate(s, '${ASCII_UPPER}', '${ASCII_LOWER}')`),
    sqlFunction('nj_upper', 's text', 'text', `translate(s, '${ASCII_LOWER}', '${ASCII_UPPER}')`),

    // ---- DuckDB's arithmetic ----
    // IEEE division: a zero divisor gives ±Infinity (its sign, -0 included, times a's) or NaN.
    sqlFunction(
      'nj_div',
      `a ${dp}, b ${dp}`,
      dp,
      "CASE WHEN a IS NULL OR b IS NULL THEN NULL WHEN b = 0 THEN (CASE WHEN a = 0 OR a = 'NaN'::float8 THEN 'NaN'::float8 WHEN (a > 0) = (atan2(b, -1) > 0) THEN 'Infinity'::float8 ELSE '-Infinity'::float8 END) ELSE a / b END",
    ),
    // // of doubles and decimals is a plain division, NULL for a zero divisor.
    sqlFunction('nj_fdiv', `a ${dp}, b ${dp}`, dp, 'CASE WHEN b = 0 THEN NULL ELSE a / b END'),
    sqlFunction('nj_idiv', 'a bigint, b bigint', 'bigint', 'CASE WHEN b = 0 THEN NULL ELSE a / b END'),
    sqlFunction('nj_ndiv', 'a numeric, b numeric', 'numeric', 'CASE WHEN b = 0 THEN NULL ELSE div(a, b) END'),
    sqlFunction('nj_imod', 'a bigint, b bigint', 'bigint', 'CASE WHEN b = 0 THEN NULL ELSE a % b END'),
    sqlFunction('nj_nmod', 'a numeric, b numeric', 'numeric', 'CASE WHEN b = 0 THEN NULL ELSE a % b END'),
    // C's fmod, exactly: binary long division, each subtraction exact (t <= r < 2t).
    plpgsqlFunction(
      'nj_fmod',
      `a ${dp}, b ${dp}`,
      dp,
      `DECLARE r float8; m float8; t float8; k integer := 0;
       BEGIN
         IF a IS NULL OR b IS NULL THEN RETURN NULL; END IF;
         IF a = 'NaN' OR b = 'NaN' OR b = 0 OR a IN ('Infinity', '-Infinity') THEN RETURN 'NaN'; END IF;
         IF b IN ('Infinity', '-Infinity') THEN RETURN a; END IF;
         r := abs(a); m := abs(b);
         IF r < m THEN RETURN a; END IF;
         t := m;
         WHILE t <= 8.98846567431158e307 AND t * 2 <= r LOOP t := t * 2; k := k + 1; END LOOP;
         LOOP
           IF r >= t THEN r := r - t; END IF;
           EXIT WHEN k = 0;
           t := t / 2; k := k - 1;
         END LOOP;
         RETURN CASE WHEN a < 0 THEN -r ELSE r END;
       END`,
    ),
    // C's pow where PostgreSQL's power raises: a negative base to a fraction, zero to a negative
    // power, NaN arguments, results beyond the double range (±Infinity or 0, judged by logarithms).
    plpgsqlFunction(
      'nj_pow',
      `x ${dp}, y ${dp}`,
      dp,
      `DECLARE odd boolean; magnitude float8;
       BEGIN
         IF x IS NULL OR y IS NULL THEN RETURN NULL; END IF;
         IF y = 0 OR x = 1 THEN RETURN 1; END IF;
         IF x = 'NaN' OR y = 'NaN' THEN RETURN 'NaN'; END IF;
         odd := y = trunc(y) AND abs(y) < 9007199254740992 AND mod(y::numeric, 2) <> 0;
         IF x = 0 AND y < 0 THEN RETURN CASE WHEN odd AND atan2(x, -1) < 0 THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END; END IF;
         IF x = '-Infinity' THEN RETURN CASE WHEN y > 0 THEN (CASE WHEN odd THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END) ELSE (CASE WHEN odd THEN '-0'::float8 ELSE 0::float8 END) END; END IF;
         IF x = 'Infinity' OR y = 'Infinity' OR y = '-Infinity' OR x = 0 THEN RETURN power(x, y); END IF;
         IF x < 0 AND y <> trunc(y) THEN RETURN 'NaN'; END IF;
         magnitude := y * log(abs(x));
         IF magnitude > 308.5 THEN RETURN CASE WHEN x < 0 AND odd THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END; END IF;
         IF magnitude < -324 THEN RETURN CASE WHEN x < 0 AND odd THEN '-0'::float8 ELSE 0::float8 END; END IF;
         RETURN power(x, y);
       END`,
    ),
    // C's exp where PostgreSQL's raises: Infinity above the double range, 0 below it.
    sqlFunction('nj_exp', `x ${dp}`, dp, "CASE WHEN x IS NULL THEN NULL WHEN x = 'NaN'::float8 THEN x WHEN x > 709.782712893384 THEN 'Infinity'::float8 WHEN x < -745.1332191019412 THEN 0::float8 ELSE exp(x) END"),
    // C's round(): half away from zero, keeping the sign of a zero.
    sqlFunction('nj_round_half_away', `x ${dp}`, dp, 'CASE WHEN abs(x - trunc(x)) >= 0.5 THEN trunc(x) + sign(x) ELSE trunc(x) END'),
    // DuckDB's round(double, digits): scaled by a power of ten, rounded, scaled back; the input
    // (or 0 for negative digits) when that overflows.
    plpgsqlFunction(
      'nj_round',
      `x ${dp}, digits integer`,
      dp,
      `DECLARE modifier float8; r float8;
       BEGIN
         IF x IS NULL OR digits IS NULL THEN RETURN NULL; END IF;
         IF x = 'NaN' OR x = 'Infinity' OR x = '-Infinity' THEN RETURN CASE WHEN digits < 0 THEN 0 ELSE x END; END IF;
         IF x = 0 THEN RETURN x; END IF;
         IF digits < 0 THEN
           IF -digits > 308 THEN RETURN 0; END IF;
           modifier := power(10::float8, -digits);
           r := nj_round_half_away(x / modifier);
           IF r <> 0 AND log(abs(r)) + (-digits) > 308.25 THEN RETURN 0; END IF;
           RETURN r * modifier;
         END IF;
         IF digits > 308 OR log(abs(x)) + digits > 308.25 THEN RETURN x; END IF;
         modifier := power(10::float8, digits);
         RETURN nj_round_half_away(x * modifier) / modifier;
       END`,
    ),
    sqlFunction('nj_sign', `x ${dp}`, 'smallint', "CASE WHEN x IS NULL THEN NULL WHEN x = 'NaN'::float8 THEN 0::smallint WHEN x > 0 THEN 1::smallint WHEN x < 0 THEN -1::smallint ELSE 0::smallint END"),
    sqlFunction('nj_isnan', `x ${dp}`, 'boolean', "x = 'NaN'::float8"),
    sqlFunction('nj_isinf', `x ${dp}`, 'boolean', "x = 'Infinity'::float8 OR x = '-Infinity'::float8"),
    sqlFunction('nj_isfinite', `x ${dp}`, 'boolean', "NOT (x = 'NaN'::float8 OR x = 'Infinity'::float8 OR x = '-Infinity'::float8)"),
    // DuckDB's TINYINT (PostgreSQL has none) and HUGEINT ranges.
    sqlFunction('nj_tinyint', 'x bigint', 'smallint', "CASE WHEN x IS NULL THEN NULL WHEN x BETWEEN -128 AND 127 THEN x::smallint ELSE nj_raise('Overflow: ' || x || ' is out of range for TINYINT', NULL::smallint) END", 'STABLE'),
    // DuckDB's FLOAT: the double rounded to 32 bits. A float result of +, -, *, / computed on doubles
    // and then rounded is the float operation's own (a double has more than twice a float's digits).
    sqlFunction('nj_float', `x ${dp}`, dp, 'CAST(CAST(x AS real) AS double precision)'),
    sqlFunction('nj_try_float', `x ${dp}`, dp, "CASE WHEN x = 'NaN'::float8 OR x = 'Infinity'::float8 OR x = '-Infinity'::float8 OR abs(x) <= 3.4028234663852886e38 THEN CAST(CAST(x AS real) AS double precision) ELSE NULL END"),
    sqlFunction('nj_hugeint', 'x numeric', 'numeric', "CASE WHEN x IS NULL THEN NULL WHEN abs(x) < 170141183460469231731687303715884105728 THEN x ELSE nj_raise('Overflow: ' || x || ' is out of range for HUGEINT', NULL::numeric) END", 'STABLE'),

    // ---- DuckDB's text ----
    // substr(s, start, length): start 0 is one before the first character, negative counts from the end, a negative length runs backwards.
    plpgsqlFunction(
      'nj_substr',
      's text, start bigint, len bigint',
      'text',
      `DECLARE n bigint; p bigint; b bigint; e bigint;
       BEGIN
         IF s IS NULL OR start IS NULL OR len IS NULL THEN RETURN NULL; END IF;
         IF start > 4294967295 OR start < -4294967296 THEN RAISE EXCEPTION USING MESSAGE = 'Substring offset outside of supported range', ERRCODE = '22003'; END IF;
         IF len > 4294967295 OR len < -4294967296 THEN RAISE EXCEPTION USING MESSAGE = 'Substring length outside of supported range', ERRCODE = '22003'; END IF;
         n := length(s);
         p := CASE WHEN start > 0 THEN start - 1 WHEN start < 0 THEN n + start ELSE -1 END;
         IF len >= 0 THEN b := p; e := p + len; ELSE b := p + len; e := p; END IF;
         b := greatest(0, least(n, b));
         e := greatest(0, least(n, e));
         IF b >= e THEN RETURN ''; END IF;
         RETURN substr(s, (b + 1)::integer, (e - b)::integer);
       END`,
    ),
    sqlFunction('nj_substr', 's text, start bigint', 'text', 'nj_substr(s, start, 4294967295)'),
    sqlFunction('nj_left', 's text, n bigint', 'text', "CASE WHEN n > 4294967295 THEN nj_raise('Substring length outside of supported range', NULL::text) ELSE left(s, greatest(n, -2147483647)::integer) END", 'STABLE'),
    sqlFunction('nj_right', 's text, n bigint', 'text', "CASE WHEN n > 4294967295 THEN nj_raise('Substring length outside of supported range', NULL::text) ELSE right(s, greatest(n, -2147483647)::integer) END", 'STABLE'),
    sqlFunction('nj_ends_with', 's text, suffix text', 'boolean', 'right(s, length(suffix)) = suffix'),
    sqlFunction('nj_contains', 's text, part text', 'boolean', 'strpos(s, part) > 0'),
    // A double as DuckDB writes it: the shortest digits that read back, fixed notation from 1e-4 to below 1e16 (with .0 when whole), else d.ddde±XX.
    plpgsqlFunction('nj_number_text', 'shortest text', 'text', `DECLARE
         m text[]; sign text; digits text; point integer; n integer; e integer; mantissa text;
       BEGIN
         IF shortest IS NULL THEN RETURN NULL; END IF;
         IF shortest = 'NaN' THEN RETURN 'nan'; END IF;
         IF shortest = 'Infinity' THEN RETURN 'inf'; END IF;
         IF shortest = '-Infinity' THEN RETURN '-inf'; END IF;
         m := regexp_match(shortest, '^(-?)([0-9]+)(?:\\.([0-9]+))?(?:e([-+][0-9]+))?$');
         IF m IS NULL THEN RAISE EXCEPTION 'cannot read the number %', shortest; END IF;
         sign := m[1];
         digits := m[2] || coalesce(m[3], '');
         point := length(m[2]) + coalesce(m[4]::integer, 0);
         -- strip leading zeros (moving the point) and trailing zeros
         WHILE length(digits) > 1 AND left(digits, 1) = '0' LOOP digits := substr(digits, 2); point := point - 1; END LOOP;
         IF digits = '0' THEN RETURN sign || '0.0'; END IF;
         digits := rtrim(digits, '0');
         n := length(digits);
         e := point - 1;
         IF e >= -4 AND e < 16 THEN
           IF point >= n THEN RETURN sign || digits || repeat('0', point - n) || '.0'; END IF;
           IF point > 0 THEN RETURN sign || left(digits, point) || '.' || substr(digits, point + 1); END IF;
           RETURN sign || '0.' || repeat('0', -point) || digits;
         END IF;
         mantissa := left(digits, 1) || CASE WHEN n > 1 THEN '.' || substr(digits, 2) ELSE '' END;
         RETURN sign || mantissa || 'e' || CASE WHEN e < 0 THEN '-' ELSE '+' END || CASE WHEN abs(e) < 10 THEN '0' ELSE '' END || abs(e)::text;
       END`),
    // A decimal rounded to `scale` places, a tie to the even digit (as shortest-digit printing does).
    sqlFunction(
      'nj_round_half_even',
      'v numeric, scale integer',
      'numeric',
      "CASE WHEN abs(v - trunc(v, scale)) * CAST('1e' || scale AS numeric) = 0.5 AND mod(trunc(v, scale) * CAST('1e' || scale AS numeric), 2) = 0 THEN trunc(v, scale) ELSE round(v, scale) END",
    ),
    // The shortest digits that read back as x (PostgreSQL's own output is not always the
    // shortest): printf's 15 digits when they read back (always the shortest then, for a normal
    // double), else the exact value rounded to 16, then 17 digits.
    plpgsqlFunction(
      'nj_double_text',
      `x ${dp}`,
      'text',
      `DECLARE t text; v numeric; d integer; r numeric;
       BEGIN
         IF x IS NULL THEN RETURN NULL; END IF;
         IF x = 'NaN' OR x = 'Infinity' OR x = '-Infinity' THEN RETURN nj_number_text(x::text); END IF;
         IF x = 0 THEN RETURN CASE WHEN atan2(x, -1) < 0 THEN '-0.0' ELSE '0.0' END; END IF;
         IF abs(x) >= 2.2250738585072014e-308 THEN
           PERFORM set_config('extra_float_digits', '0', true);
           t := x::text;
           IF t::float8 = x THEN RETURN nj_number_text(t); END IF;
         END IF;
         v := nj_double_exact(x);
         d := floor(log(abs(v)));
         -- log() is rounded: settle the leading digit's position exactly.
         IF abs(v) >= CAST('1e' || (d + 1) AS numeric) THEN d := d + 1; END IF;
         IF abs(v) < CAST('1e' || d AS numeric) THEN d := d - 1; END IF;
         FOR p IN (CASE WHEN abs(x) >= 2.2250738585072014e-308 THEN 16 ELSE 1 END)..17 LOOP
           r := nj_round_half_even(v, p - 1 - d);
           IF r::text::float8 = x THEN RETURN nj_number_text(r::text); END IF;
         END LOOP;
         RETURN nj_number_text(nj_round_half_even(v, 16 - d)::text);
       END`,
      'IMMUTABLE',
      ' SET extra_float_digits = 1',
    ),

    // ---- DuckDB's casts ----
    plpgsqlFunction(
      'nj_text_bool',
      's text',
      'boolean',
      `BEGIN
         IF s IS NULL THEN RETURN NULL; END IF;
         IF lower(s) IN ('t', 'true', 'y', 'yes', '1') THEN RETURN true; END IF;
         IF lower(s) IN ('f', 'false', 'n', 'no', '0') THEN RETURN false; END IF;
         RAISE EXCEPTION USING MESSAGE = format('Could not convert string ''%s'' to BOOL', s), ERRCODE = '22P02';
       END`,
    ),
    sqlFunction('nj_try_text_bool', 's text', 'boolean', "CASE WHEN lower(s) IN ('t', 'true', 'y', 'yes', '1') THEN true WHEN lower(s) IN ('f', 'false', 'n', 'no', '0') THEN false ELSE NULL END"),
    sqlFunction('nj_bool_int', 'b boolean', 'integer', 'CASE WHEN b THEN 1 WHEN NOT b THEN 0 ELSE NULL END'),
    sqlFunction('nj_try_text_numeric', 's text', 'numeric', "CASE WHEN s ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]{1,4})?\\s*$' THEN CAST(s AS numeric) ELSE NULL END"),
    sqlFunction('nj_try_text_float8', 's text', dp, "CASE WHEN s ~* '^\\s*[-+]?(([0-9]+\\.?[0-9]*|\\.[0-9]+)(e[-+]?[0-9]{1,3})?|inf|infinity|nan)\\s*$' THEN CAST(s AS double precision) ELSE NULL END"),
    // Rounded to an integer (half to even from a double, half away from zero from a decimal), NULL outside [lo, hi).
    sqlFunction('nj_try_float_int', `x ${dp}, lo ${dp}, hi ${dp}`, dp, 'CASE WHEN round(x) >= lo AND round(x) < hi THEN round(x) ELSE NULL END'),
    sqlFunction('nj_try_numeric_int', 'x numeric, lo numeric, hi numeric', 'numeric', 'CASE WHEN round(x) >= lo AND round(x) < hi THEN round(x) ELSE NULL END'),
    sqlFunction('nj_try_numeric_decimal', 'x numeric, width integer, scale integer', 'numeric', 'CASE WHEN abs(round(x, scale)) < power(10::numeric, width - scale) THEN round(x, scale) ELSE NULL END'),
    // The exact value of a double as a decimal (a cast to numeric keeps only 15 digits): its
    // integer mantissa times a power of two, found by scaling with exact powers of two.
    plpgsqlFunction(
      'nj_double_exact',
      `x ${dp}`,
      'numeric',
      `DECLARE m float8; e integer := 0; n numeric;
       BEGIN
         IF x IS NULL THEN RETURN NULL; END IF;
         IF x = 0 THEN RETURN 0; END IF;
         IF x = 'NaN' OR x = 'Infinity' OR x = '-Infinity' THEN RAISE EXCEPTION USING MESSAGE = format('%s has no decimal value', x), ERRCODE = '22003'; END IF;
         m := abs(x);
         WHILE m <> trunc(m) LOOP m := m * 1024; e := e - 10; END LOOP;
         WHILE m >= 4611686018427387904 LOOP m := m / 1024; e := e + 10; END LOOP;
         n := m::bigint::numeric;
         IF e >= 0 THEN n := n * power(2::numeric, e);
         ELSE n := CAST((n * power(5::numeric, -e))::text || 'e' || e AS numeric);
         END IF;
         RETURN CASE WHEN x < 0 THEN -n ELSE n END;
       END`,
    ),
    // DuckDB's double to DECIMAL(_, scale): the double times 10^scale, rounded half away from zero, as a decimal.
    sqlFunction(
      'nj_double_decimal',
      `x ${dp}, scale integer`,
      'numeric',
      `CASE WHEN x = 'NaN'::float8 OR x IN ('Infinity'::float8, '-Infinity'::float8) THEN nj_raise('Could not cast value ' || x || ' to DECIMAL', NULL::numeric)
            ELSE CAST(nj_double_exact(nj_round_half_away(x * power(10::float8, scale))) || 'e-' || scale AS numeric) END`,
      'STABLE',
    ),
    sqlFunction(
      'nj_try_double_decimal',
      `x ${dp}, width integer, scale integer`,
      'numeric',
      `CASE WHEN x = 'NaN'::float8 OR x IN ('Infinity'::float8, '-Infinity'::float8) OR abs(x) >= power(10::float8, width - scale) THEN NULL
            ELSE nj_try_numeric_decimal(CAST(nj_double_exact(nj_round_half_away(x * power(10::float8, scale))) || 'e-' || scale AS numeric), width, scale) END`,
    ),
  ];
}
