/* global document, ResizeObserver, Event */
// The filter builder in the browser: checks the SQL while it is typed and marks each problem in
// its box (highlight behind the text, caret line and message under it), runs the filter over the
// stored objects into a sortable table, the searchable reference panel (click a name to insert
// it), and the Save dialog.
import { el, formatCell, postJson } from './page.js';
import { makeSortable } from './table-sort.js';

const form = document.getElementById('builder-form');
const boxes = {
  select: document.getElementById('f-select'),
  where: document.getElementById('f-where'),
};
const checkStatus = document.getElementById('check-status');
let lastFocused = boxes.where;

// ---- problems ----------------------------------------------------------------------------

function problemSpan(text, offset) {
  const at = Math.min(Math.max(0, Math.trunc(offset)), text.length);
  let end = at;
  while (end < text.length && /[A-Za-z0-9_.]/.test(text.charAt(end))) end++;
  if (end === at && at < text.length) end = at + 1;
  return [at, end];
}

/** The line holding offset and a caret line under it (the terminal's caretLines, in the page). */
function caretLines(part, text, offset) {
  const at = Math.min(Math.max(0, Math.trunc(offset)), text.length);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const newline = text.indexOf('\n', lineStart);
  const line = text.slice(lineStart, newline < 0 ? text.length : newline).replace(/\r$/, '');
  const lineNumber = text.slice(0, lineStart).split('\n').length;
  const prefix = text.includes('\n') ? `${part} (line ${lineNumber}): ` : `${part}: `;
  let pad = ' '.repeat(prefix.length);
  for (const ch of text.slice(lineStart, Math.min(at, lineStart + line.length))) pad += ch === '\t' ? '\t' : ' ';
  return `${prefix}${line}\n${pad}^`;
}

function paintBackdrop(part, problem) {
  const box = boxes[part];
  const backdrop = box.parentElement.querySelector('.backdrop');
  const text = box.value;
  backdrop.textContent = '';
  if (problem === undefined) {
    backdrop.append(text + '\u200b');
  } else {
    const [start, end] = problemSpan(text, problem.offset);
    backdrop.append(text.slice(0, start), el('mark', {}, end > start ? text.slice(start, end) : ' '), text.slice(end) + '\u200b');
  }
  backdrop.scrollTop = box.scrollTop;
  box.parentElement.classList.toggle('has-problem', problem !== undefined);
  if (problem === undefined) box.removeAttribute('aria-invalid');
  else box.setAttribute('aria-invalid', 'true');
}

let shownProblems = [];

function showProblems(problems) {
  shownProblems = problems;
  for (const part of ['select', 'where']) {
    const mine = problems.filter((p) => p.part === part);
    paintBackdrop(part, mine[0]);
    const holder = document.querySelector(`[data-problems="${part}"]`);
    holder.textContent = '';
    for (const p of mine) {
      const box = el('div', { className: 'problem', role: 'alert', dataset: { part, offset: String(p.offset) } },
        el('pre', {}, caretLines(part, boxes[part].value, p.offset)),
        el('span', { className: 'message' }, p.message));
      box.addEventListener('click', () => {
        boxes[part].focus();
        const [start, end] = problemSpan(boxes[part].value, p.offset);
        boxes[part].setSelectionRange(start, end);
      });
      holder.append(box);
    }
  }
  for (const part of ['name', 'description', 'output']) {
    const holder = document.querySelector(`.field-problem[data-problems="${part}"]`);
    if (holder === null) continue;
    holder.textContent = '';
    for (const p of problems.filter((q) => q.part === part)) holder.append(el('div', {}, p.message));
  }
  const other = document.getElementById('other-problems');
  const rest = problems.filter((p) => !['select', 'where', 'name', 'description', 'output', 'public'].includes(p.part));
  other.textContent = '';
  for (const p of rest) other.append(el('p', {}, el('strong', {}, `${p.part}: `), p.message));
  other.classList.toggle('hidden', rest.length === 0);
}

// Problems the server rendered (after a failed save) are kept until the text changes.
for (const node of document.querySelectorAll('.problem[data-part]')) {
  shownProblems.push({ part: node.dataset.part, offset: Number(node.dataset.offset), message: node.querySelector('.message')?.textContent ?? '' });
}

// ---- checking while typing -----------------------------------------------------------------

let checkTimer = 0;
let checkAbort = null;

function draft() {
  return { select: boxes.select.value, where: boxes.where.value };
}

async function check() {
  checkAbort?.abort();
  checkAbort = new AbortController();
  checkStatus.textContent = 'Checking…';
  try {
    const { status, body } = await postJson('/filters/check', draft(), checkAbort.signal);
    if (status !== 200) {
      checkStatus.textContent = body.error ?? `check failed (${status})`;
      return;
    }
    showProblems(body.problems);
    checkStatus.textContent = body.problems.length === 0 ? '✓ No problems' : `${body.problems.length} problem${body.problems.length === 1 ? '' : 's'}`;
  } catch (error) {
    if (error.name !== 'AbortError') checkStatus.textContent = 'Could not check the filter (offline?)';
  }
}

for (const [part, box] of Object.entries(boxes)) {
  const backdrop = box.parentElement.querySelector('.backdrop');
  box.addEventListener('input', () => {
    // Marks point into the old text: drop them at once, re-check after a pause.
    paintBackdrop(part, undefined);
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 600);
  });
  box.addEventListener('scroll', () => { backdrop.scrollTop = box.scrollTop; });
  box.addEventListener('focus', () => { lastFocused = box; });
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
}
// Keep the backdrop the textarea's size when it is resized.
new ResizeObserver(() => {
  for (const box of Object.values(boxes)) box.parentElement.querySelector('.backdrop').style.height = `${box.offsetHeight}px`;
}).observe(boxes.where);

// ---- run -----------------------------------------------------------------------------------

const results = document.getElementById('results');
const runMeta = document.getElementById('run-meta');
const runButton = document.getElementById('run');

function resultsTable(data) {
  const head = el('tr', {}, ...data.columns.map((c, i) => el('th', { scope: 'col', title: data.units[i] ?? '', className: '' }, c, data.units[i] ? el('span', { className: 'muted small' }, ` ${data.units[i]}`) : null)));
  const body = el('tbody');
  data.rows.forEach((row, r) => {
    const object = data.objects[r];
    const href = `/objects/${encodeURIComponent(object.survey)}/${encodeURIComponent(object.objectId)}`;
    const cells = row.map((value, i) => {
      const column = data.columns[i];
      const text = formatCell(value, column);
      const numeric = typeof value === 'number' || (typeof value === 'string' && /^-?\d{10,}$/.test(value));
      const td = el('td', { className: numeric ? 'num' : '' });
      if (value !== null && typeof value === 'number') td.dataset.sort = String(value);
      if (i === 0) td.append(el('a', { href }, text));
      else td.append(text);
      return td;
    });
    body.append(el('tr', {}, ...cells));
  });
  const table = el('table', { className: 'sortable', id: 'results-table' }, el('thead', {}, head), body);
  makeSortable(table);
  return el('div', { className: 'table-wrap scroll' }, table);
}

async function run() {
  runButton.disabled = true;
  runMeta.textContent = 'Running…';
  try {
    const { status, body } = await postJson('/filters/run', {
      ...draft(),
      rowLimit: Number(document.getElementById('run-rows').value),
      timeLimitMs: Number(document.getElementById('run-seconds').value) * 1000,
    });
    results.textContent = '';
    if (status === 422 && body.problems) {
      showProblems(body.problems);
      runMeta.textContent = 'Not run: fix the problems marked above.';
      results.append(el('p', { className: 'empty' }, 'The filter has problems; see the marks in the SQL boxes.'));
      return;
    }
    if (status !== 200) {
      runMeta.textContent = '';
      results.append(el('div', { className: 'notice bad', role: 'alert' }, body.error ?? `The run failed (${status}).`));
      return;
    }
    showProblems([]);
    checkStatus.textContent = '✓ No problems';
    const n = body.rows.length;
    runMeta.textContent = `${n} row${n === 1 ? '' : 's'}${body.truncated ? ` (limit ${body.rowLimit} reached)` : ''} in ${body.elapsedMs} ms`;
    results.append(n === 0 ? el('p', { className: 'empty' }, 'No stored object passes this filter.') : resultsTable(body));
  } catch (error) {
    runMeta.textContent = '';
    results.textContent = '';
    results.append(el('div', { className: 'notice bad', role: 'alert' }, `The run failed: ${error.message}`));
  } finally {
    runButton.disabled = false;
  }
}
runButton.addEventListener('click', run);

// ---- reference panel -----------------------------------------------------------------------

const search = document.getElementById('ref-search');
search?.addEventListener('input', () => {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const group of document.querySelectorAll('[data-ref-group]')) {
    let any = false;
    for (const entry of group.querySelectorAll('[data-search]')) {
      const hit = words.every((w) => entry.dataset.search.includes(w));
      entry.classList.toggle('hidden', !hit);
      if (hit) any = true;
    }
    group.classList.toggle('hidden', !any);
    if (words.length > 0 && any) group.open = true;
    if (any) shown++;
  }
  document.getElementById('ref-none').classList.toggle('hidden', shown > 0);
});

document.getElementById('ref-body')?.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-insert]');
  if (!button) return;
  const box = lastFocused;
  const { selectionStart: start, selectionEnd: end, value } = box;
  const before = value.slice(0, start);
  const needsSpace = before !== '' && !/[\s(,]$/.test(before);
  const text = (needsSpace ? ' ' : '') + button.dataset.insert;
  box.setRangeText(text, start, end, 'end');
  box.focus();
  box.dispatchEvent(new Event('input'));
});

// ---- save ----------------------------------------------------------------------------------

const dialog = document.getElementById('save-dialog');
if (dialog) {
  const kafkaWarning = dialog.querySelector('.kafka-warning');
  const syncWarning = () => {
    const output = dialog.querySelector('input[name="output"]:checked')?.value ?? 'none';
    kafkaWarning.classList.toggle('hidden', !output.startsWith('kafka'));
  };
  dialog.addEventListener('change', syncWarning);
  syncWarning();
  document.getElementById('save-open').addEventListener('click', () => {
    dialog.showModal();
    document.getElementById('f-name').focus();
  });
  document.getElementById('save-cancel').addEventListener('click', () => dialog.close());
  if (dialog.hasAttribute('data-open-on-load')) dialog.showModal();
  form.addEventListener('submit', () => {
    document.getElementById('save-submit').disabled = true;
  });
}

if (shownProblems.length > 0) showProblems(shownProblems);
