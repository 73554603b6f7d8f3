// Where a filter problem is drawn in the builder: the stretch of the box's text to highlight
// (the word at the validator's offset), and the caret lines under it. The browser does the same
// in builder.js for problems found while typing; this renders them on a page reload.
import { caretLines } from '../../service/problem-text.ts';
import type { FilterProblem } from '../../service/types.ts';
import { html, type SafeHtml } from './html.ts';

/** [start, end) of the word at offset (identifier characters), or of the one character there; end may equal start at the very end. */
export function problemSpan(text: string, offset: number): [number, number] {
  const at = Math.min(Math.max(0, Math.trunc(offset)), text.length);
  const word = /[A-Za-z0-9_.]/;
  let end = at;
  while (end < text.length && word.test(text.charAt(end))) end++;
  if (end === at && at < text.length) end = at + 1;
  return [at, end];
}

/** The backdrop behind a SQL box: the same text, invisible, with the problem's span marked. */
export function backdrop(text: string, problem: FilterProblem | undefined): SafeHtml {
  // A trailing newline needs a character after it to keep the backdrop as tall as the textarea.
  if (problem === undefined) return html`${text}\u200b`;
  const [start, end] = problemSpan(text, problem.offset);
  const marked = end > start ? text.slice(start, end) : ' ';
  return html`${text.slice(0, start)}<mark>${marked}</mark>${text.slice(end)}\u200b`;
}

/** The problem box under a SQL box: the line with a caret under the position, and the message. */
export function problemBox(part: 'select' | 'where', text: string, problems: readonly FilterProblem[]): SafeHtml {
  const mine = problems.filter((p) => p.part === part);
  if (mine.length === 0) return html``;
  return html`${mine.map((p) => {
    const [line, caret] = caretLines(part, text, p.offset, '');
    return html`<div class="problem" role="alert" data-part="${part}" data-offset="${p.offset}"><pre>${line}\n${(caret ?? '').replace(/\s+$/, '')}</pre><span class="message">${p.message}</span></div>`;
  })}`;
}
