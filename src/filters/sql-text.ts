// Lexical helpers for the SQL Nightjar writes and the SQL text users type.

/** A double-quoted SQL identifier; embedded quotes are doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal; embedded quotes are doubled (no backslash escapes). */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Offset of the first `;` that is SQL code (not inside a string, quoted identifier or
 * comment), or undefined. It follows DuckDB's lexer: '' and "" doubling, E'' strings with
 * backslash escapes, $tag$ dollar quoting, -- line comments and nestable block comments.
 * It only improves the error message: the parser's own statement count is the guard.
 */
export function findStatementTerminator(text: string): number | undefined {
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === ';') return i;
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i + 2);
      if (end < 0) return undefined;
      i = end + 1;
    } else if (ch === '/' && next === '*') {
      i = skipBlockComment(text, i);
    } else if (ch === "'") {
      const escaped = i > 0 && /[eE]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '');
      i = skipQuoted(text, i, "'", escaped);
    } else if (ch === '"') {
      i = skipQuoted(text, i, '"', false);
    } else if (ch === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag === null || /[\w]/.test(text[i - 1] ?? '')) {
        i++;
      } else {
        const end = text.indexOf(tag[0], i + tag[0].length);
        if (end < 0) return undefined;
        i = end + tag[0].length;
      }
    } else {
      i++;
    }
  }
  return undefined;
}

function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return text.length;
}

function skipQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (backslashEscapes && ch === '\\') {
      i += 2;
    } else if (ch === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return text.length;
}

/** Converts a UTF-8 byte offset into `text` (as DuckDB reports positions) to a string index. */
export function byteOffsetToIndex(text: string, byteOffset: number): number {
  const bytes = Buffer.from(text, 'utf8');
  if (byteOffset >= bytes.length) return text.length;
  return bytes.subarray(0, byteOffset).toString('utf8').length;
}

/**
 * Index of the first control character (C0 or DEL) in text, or -1. With allowLineBreaks,
 * tab, newline and carriage return are not counted.
 */
export function findControlCharacter(text: string, allowLineBreaks: boolean): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x7f || (code < 0x20 && !(allowLineBreaks && (code === 0x09 || code === 0x0a || code === 0x0d)))) return i;
  }
  return -1;
}

// Format characters (zero-width spaces and joiners, bidirectional overrides and isolates, the
// byte-order mark, soft hyphens), line and paragraph separators and C1 controls: none is ever
// needed in a filter, and each can make the text read differently from what runs (a
// right-to-left override reorders what a reviewer sees; a zero-width space splits a name).
const invisible = /[\p{Cf}\u2028\u2029\u0080-\u009f]/u;

/** Index of the first invisible or direction-changing character in text, or -1. */
export function findInvisibleCharacter(text: string): number {
  return invisible.exec(text)?.index ?? -1;
}
