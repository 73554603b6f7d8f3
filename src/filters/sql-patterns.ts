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
 * The RE2 pattern, matched against the whole text, equivalent to a LIKE pattern: `%` any run
 * of characters (newlines too), `_` any one character, everything else itself. DuckDB's LIKE
 * without ESCAPE has no escape character, so neither has this.
 */
export function likeToRegex(pattern: string, caseInsensitive: boolean): string {
  let out = caseInsensitive ? '(?is)' : '(?s)';
  for (const ch of pattern) {
    if (ch === '%') out += '.*';
    else if (ch === '_') out += '.';
    else if ('\\.+*?()|[]{}^$'.includes(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return out;
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
  return undefined;
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
