// A filter's problems as plain text for a terminal: each problem in a SQL box shows the line of
// the user's text it is in, with a caret under the position, e.g.
//
//   where: mag_r < 19 AND nSourcs > 3
//                         ^ unknown column "nSourcs" in WHERE — did you mean "nSources"?
//
// Positions are UTF-16 offsets (as the filter compiler gives them); the caret counts one column
// per character (a tab stays a tab, so the caret lines up under tabs too). East Asian
// double-width characters would shift it; filter text is practically always ASCII.
import type { FilterProblem } from './types.ts';

export interface ProblemSource {
  select?: string;
  where?: string;
  tables?: readonly string[];
}

/** The lines of text describing the problems, in the order given. */
export function formatProblems(problems: readonly FilterProblem[], source: ProblemSource): string[] {
  const lines: string[] = [];
  for (const problem of problems) {
    if (problem.part === 'select' || problem.part === 'where') {
      const text = source[problem.part];
      if (text !== undefined) {
        lines.push(...caretLines(problem.part, text, problem.offset, problem.message));
        continue;
      }
    }
    if (problem.part === 'tables' && source.tables !== undefined && source.tables.length > 0) {
      const list = source.tables.join(', ');
      const index = Math.min(Math.max(0, problem.offset), source.tables.length - 1);
      const at = source.tables.slice(0, index).reduce((sum, t) => sum + t.length + 2, 0);
      lines.push(...caretLines('tables', list, at, problem.message));
      continue;
    }
    lines.push(`${problem.part}: ${problem.message}`);
  }
  return lines;
}

/** Two lines: the line of `text` holding `offset`, labelled, and a caret under the offset followed by the message. */
export function caretLines(label: string, text: string, offset: number, message: string): string[] {
  const at = Math.min(Math.max(0, Math.trunc(offset)), text.length);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const newline = text.indexOf('\n', lineStart);
  const lineEnd = newline < 0 ? text.length : newline;
  const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  const lineNumber = text.slice(0, lineStart).split('\n').length;
  const multiline = text.includes('\n');
  const prefix = multiline ? `${label} (line ${lineNumber}): ` : `${label}: `;
  const before = text.slice(lineStart, Math.min(at, lineStart + line.length));
  let pad = ' '.repeat(prefix.length);
  // One pad character per code point, so a surrogate pair takes one column.
  for (const ch of before) pad += ch === '\t' ? '\t' : ' ';
  return [`${prefix}${line}`, `${pad}^ ${message}`];
}
