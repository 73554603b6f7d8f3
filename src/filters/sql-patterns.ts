// Text patterns in filters (LIKE, ILIKE, regexp_matches), written so that matching one row
// takes time close to linear in its text. DuckDB checks a query's time limit only between
// vectors of 2048 rows, so one slow row costs 2048 slow rows before a filter can be stopped:
// - DuckDB's own LIKE backtracks when the pattern has `_` (and ILIKE always does): 100
//   characters against '%a_%a_%a_%b' took 24 ms a row, 200 characters minutes. Nightjar
//   compiles LIKE and ILIKE into RE2 (nj_like, a whole-text match), which never backtracks.
// - RE2 itself falls back from its DFA to a slower NFA when a pattern's states do not fit its
//   cache; nested or wide counted repetitions do that ('((a.{0,40}){20})b': 184 ms a row on 2000
//   characters). Patterns are therefore short literals with small, unnested counts, and
//   regexp_matches reads the first REGEX_TEXT_LIMIT characters of its text (every column is
//   shorter; only text built from long literals is cut).

/** Longest LIKE or regexp_matches pattern. */
export const maxPatternLength = 200;
/** Largest count in a regexp_matches repetition ({n}, {n,}, {n,m}). */
export const maxRepetitionCount = 20;
/** Most counted repetitions in one regexp_matches pattern. */
export const maxCountedRepetitions = 4;
/** Characters of its text that regexp_matches reads (see helperMacros in functions.ts). */
export const REGEX_TEXT_LIMIT = 1000;

/**
 * The body of a regular expression equivalent to a LIKE pattern, read alike by RE2 (DuckDB)
 * and by PostgreSQL's regular expressions: `%` any run of characters (newlines too), `_` any one
 * character, everything else itself. DuckDB's LIKE without ESCAPE has no escape character, so
 * neither has this. ILIKE matches the ASCII letters in either case ([aA]) and every other
 * character as it is: a case-insensitive flag would fold other letters differently in each engine.
 */
function likeBody(pattern: string, caseInsensitive: boolean): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '%') out += '.*';
    else if (ch === '_') out += '.';
    else if ('\\.+*?()|[]{}^$'.includes(ch)) out += `\\${ch}`;
    else if (caseInsensitive && /^[A-Za-z]$/.test(ch)) out += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    else out += ch;
  }
  return out;
}

/** The RE2 pattern, matched against the whole text (regexp_full_match), equivalent to a LIKE pattern. */
export function likeToRegex(pattern: string, caseInsensitive: boolean): string {
  // (?s): `.` matches a newline too, as `_` does.
  return `(?s)${likeBody(pattern, caseInsensitive)}`;
}

/** The same for PostgreSQL's `~`, anchored (its `.` matches a newline already). */
export function likeToPostgresRegex(pattern: string, caseInsensitive: boolean): string {
  return `^(?:${likeBody(pattern, caseInsensitive)})$`;
}

/** Why a LIKE pattern is refused, or undefined. */
export function likeProblem(pattern: string): string | undefined {
  if (pattern.length > maxPatternLength) return `a LIKE pattern may be at most ${maxPatternLength} characters long, not ${pattern.length}`;
  return undefined;
}

/** Why a regexp_matches pattern is refused, or undefined (RE2 reports its own syntax errors when the filter is checked). */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > maxPatternLength) return `a regular expression may be at most ${maxPatternLength} characters long, not ${pattern.length}`;
  let counted = 0;
  let previous = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      previous = 'escape';
      i++;
      continue;
    }
    if (ch === '[') {
      i = classEnd(pattern, i);
      previous = 'class';
      continue;
    }
    if (ch === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
      if (m !== null) {
        const low = Number(m[1]);
        const high = m[2] === undefined ? low : m[2] === '' ? low : Number(m[2]);
        if (Math.max(low, high) > maxRepetitionCount) return `repetition ${m[0]} in a regular expression: counts may be at most ${maxRepetitionCount}`;
        if (previous === ')') return `repetition ${m[0]} of a group in a regular expression is not allowed: repeat single characters or classes`;
        counted++;
        if (counted > maxCountedRepetitions) return `a regular expression may have at most ${maxCountedRepetitions} counted repetitions ({n,m})`;
        i += m[0].length - 1;
        previous = '}';
        continue;
      }
    }
    previous = ch;
  }
  const translated = regexToPostgres(pattern);
  return typeof translated === 'string' ? undefined : translated.problem;
}

/** Index of the `]` closing a character class that opens at `start`. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++; // a leading ] is a literal
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length;
}

// RE2's Perl classes, spelled out: PostgreSQL's \d, \w and \s follow the server's locale.
const WORD = '0-9A-Za-z_';
const perlClasses: Readonly<Record<string, string>> = { d: '0-9', w: WORD, s: '\\t\\n\\f\\r ' };
const wordBoundary = `(?:(?<![${WORD}])(?=[${WORD}])|(?<=[${WORD}])(?![${WORD}]))`;
const notWordBoundary = `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;
const sharedEscapes = new Set(['t', 'n', 'r', 'f', 'v']);

function escapeProblem(escape: string): { problem: string } {
  return {
    problem: `\\${escape} is not supported in regexp_matches (it differs between the stores' regular expressions): use \\d \\w \\s \\b \\A \\z, a class such as [0-9], or \\ before a punctuation character`,
  };
}

/**
 * The PostgreSQL regular expression matching what an RE2 pattern matches, for the subset of
 * RE2 that Nightjar accepts, or why the pattern is outside it. The subset: characters, escaped
 * punctuation, \t \n \r \f \v, . (not a newline, as RE2's default), classes [...] (without
 * POSIX [:name:] classes), \d \w \s and their negations, \b \B \A \z, ^ $, groups (...) and
 * (?:...), alternation, * + ? and counted repetitions, lazy or not (regexp_matches only asks
 * whether there is a match, so laziness never changes its answer). Flags such as (?i) are not
 * in it: they fold letters differently in each engine (lower() the text instead).
 */
export function regexToPostgres(pattern: string): string | { problem: string } {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return { problem: 'a regular expression cannot end with \\' };
      const lower = next.toLowerCase();
      if (perlClasses[lower] !== undefined) out += `[${next === lower ? '' : '^'}${perlClasses[lower]}]`;
      else if (next === 'b') out += wordBoundary;
      else if (next === 'B') out += notWordBoundary;
      else if (next === 'A') out += '^';
      else if (next === 'z') out += '$';
      else if (sharedEscapes.has(next)) out += `\\${next}`;
      else if (/^[!-/:-@[-`{-~]$/.test(next)) out += `\\${next}`;
      else return escapeProblem(next);
      i += 2;
    } else if (ch === '[') {
      const translated = classToPostgres(pattern, i);
      if ('problem' in translated) return translated;
      out += translated.text;
      i = translated.end + 1;
    } else if (ch === '.') {
      out += '[^\\n]';
      i++;
    } else if (ch === '(') {
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] !== ':') return { problem: 'flags and named groups such as (?i) or (?P<name>...) are not supported in regexp_matches: write (?:...) for a group, lower(text) to match without case' };
        out += '(?:';
        i += 3;
      } else {
        out += '(';
        i++;
      }
    } else if (ch === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
      if (m === null) return { problem: 'a { in a regular expression must start a count such as {2,5}: write \\{ for the character' };
      out += m[0];
      i += m[0].length;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** One character class [...] starting at `start`, for PostgreSQL, and the index of its `]`. */
function classToPostgres(pattern: string, start: number): { text: string; end: number } | { problem: string } {
  let out = '[';
  let i = start + 1;
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  if (pattern[i] === ']') {
    out += '\\]';
    i++;
  }
  for (; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === ']') return { text: `${out}]`, end: i };
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) break;
      if (perlClasses[next] !== undefined) out += perlClasses[next];
      else if (sharedEscapes.has(next) || /^[!-/:-@[-`{-~]$/.test(next)) out += `\\${next}`;
      else if (perlClasses[next.toLowerCase()] !== undefined) return { problem: `\\${next} inside [...] is not supported in regexp_matches: write the class out, e.g. [^0-9]` };
      else return escapeProblem(next);
      i++;
    } else if (ch === '[' && (pattern[i + 1] === ':' || pattern[i + 1] === '.' || pattern[i + 1] === '=')) {
      return { problem: 'POSIX classes such as [[:alpha:]] are not supported in regexp_matches: write the characters out, e.g. [A-Za-z]' };
    } else if (ch === '[') {
      out += '\\[';
    } else {
      out += ch;
    }
  }
  return { problem: 'a [ in a regular expression must be closed by ]' };
}
