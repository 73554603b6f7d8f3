// The filter builder's HTML: SELECT and WHERE boxes with inline problems, the run controls and
// results area, the reference panel, and the Save dialog with the filter's settings. Pure: the
// routes (filter-builder.ts) gather the state, builder.js brings it to life.
import { STREAM_OUTPUTS, STREAM_OUTPUT_LABELS, type StreamOutput } from '../../delivery/output-modes.ts';
import type { FilterProblem } from '../../service/types.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { backdrop, problemBox } from './sql-problems.ts';

export interface BuilderState {
  /** Where Save posts: /filters/new or /filters/:id/edit. */
  action: string;
  heading: string;
  filterId: number | null;
  select: string;
  where: string;
  name: string;
  description: string;
  public: boolean;
  output: StreamOutput;
  problems: readonly FilterProblem[];
  /** Whether Save is possible (signed in); otherwise the button asks to log in. */
  signedIn: boolean;
  csrfToken: string;
  /** The page's own path, for the login link's ?next=. */
  path: string;
  /** A message above the form (e.g. the filter it was copied from, or a save failure). */
  notice?: { kind: 'ok' | 'warn' | 'bad'; text: string } | undefined;
  reference: SafeHtml;
}

const OUTPUT_HINTS: Readonly<Record<StreamOutput, string>> = {
  none: 'The filter runs on every batch and counts its matches; nothing is sent.',
  email: 'At most one email a day, listing the objects passed since the last one.',
  kafka: 'A Kafka topic of JSON records: the selected columns plus the UTC time.',
  'kafka-lite': 'As kafka stream, plus the lightcurve (fluxes, times, bands) of each object.',
  'kafka-full': 'As kafka stream, plus the whole alert without cutouts; large records are dropped.',
  'kafka-avro': 'A Kafka topic of Avro records (schema in the key), readable with fink-client.',
};

function sqlBox(part: 'select' | 'where', label: string, hint: string, text: string, problems: readonly FilterProblem[], rows: number): SafeHtml {
  const first = problems.find((p) => p.part === part);
  return html`<div class="field" data-sql-field="${part}">
    <label for="f-${part}">${label} <span class="hint">${hint}</span></label>
    <div class="sql-box${first === undefined ? '' : ' has-problem'}">
      <div class="backdrop" aria-hidden="true">${backdrop(text, first)}</div>
      <textarea id="f-${part}" name="${part}" rows="${rows}" spellcheck="false" autocapitalize="off" autocomplete="off" ${part === 'select' ? raw('required') : ''}
        aria-describedby="p-${part}" ${first === undefined ? '' : raw('aria-invalid="true"')}>${'\n'}${text}</textarea>
    </div>
    <div id="p-${part}" class="problems" data-problems="${part}">${problemBox(part, text, problems)}</div>
  </div>`;
}

function fieldProblem(part: string, problems: readonly FilterProblem[]): SafeHtml {
  const mine = problems.filter((p) => p.part === part);
  return html`<div class="field-problem" data-problems="${part}" role="alert">${mine.map((p) => html`<div>${p.message}</div>`)}</div>`;
}

function otherProblems(problems: readonly FilterProblem[]): SafeHtml {
  const shown = new Set(['select', 'where', 'name', 'description', 'output', 'public']);
  const rest = problems.filter((p) => !shown.has(p.part));
  if (rest.length === 0) return html`<div class="notice bad hidden" id="other-problems" role="alert"></div>`;
  return html`<div class="notice bad" id="other-problems" role="alert">${rest.map((p) => html`<p><strong>${p.part}:</strong> ${p.message}</p>`)}</div>`;
}

function saveDialog(state: BuilderState): SafeHtml {
  const settingsProblem = state.problems.some((p) => ['name', 'description', 'output', 'public', 'owner'].includes(p.part));
  const outputs = STREAM_OUTPUTS.map((o) => html`<label class="choice"><input type="radio" name="output" value="${o}" ${o === state.output ? raw('checked') : ''}>
      <span>${STREAM_OUTPUT_LABELS[o]}<span class="hint">${OUTPUT_HINTS[o]}</span></span></label>`);
  return html`<dialog id="save-dialog" aria-labelledby="save-title" ${settingsProblem ? raw('data-open-on-load') : ''}>
    <div class="dialog-body">
      <h2 id="save-title">Filter settings</h2>
      <div class="field">
        <label for="f-name">Name</label>
        <input type="text" id="f-name" name="name" value="${state.name}" maxlength="256" required autocomplete="off">
        <div class="hint small muted">A Kafka stream's topic is named after the filter: renaming it changes the topic.</div>
        ${fieldProblem('name', state.problems)}
      </div>
      <div class="field">
        <label for="f-description">Description</label>
        <textarea id="f-description" name="description" rows="3" maxlength="10000">${'\n'}${state.description}</textarea>
        ${fieldProblem('description', state.problems)}
      </div>
      <fieldset>
        <legend>Streaming</legend>
        ${outputs}
        ${fieldProblem('output', state.problems)}
        <p class="notice warn small kafka-warning">When a Kafka filter is saved or changed, the old records in its stream are deleted and the filter is run over the stored objects to put up to 10 records in it at once.</p>
      </fieldset>
      <label class="choice"><input type="checkbox" name="public" value="on" ${state.public ? raw('checked') : ''}> <span>Public: shown in the gallery, others can copy it</span></label>
      <div class="form-actions">
        <button type="submit" class="primary" id="save-submit">Save filter</button>
        <button type="button" id="save-cancel">Cancel</button>
      </div>
    </div>
  </dialog>`;
}

export function builderBody(state: BuilderState): SafeHtml {
  const save = state.signedIn
    ? html`<button type="button" id="save-open">Save…</button>`
    : html`<a class="button" href="/login?next=${encodeURIComponent(state.path)}">Log in to save</a>`;
  return html`<div class="page-head">
    <div>
      <div class="crumbs"><a href="/filters">Filters</a> › ${state.filterId === null ? 'New' : html`<a href="/filters/${state.filterId}">${state.name}</a> › Edit`}</div>
      <h1>${state.heading}</h1>
      <p class="muted">SQL over the <code>objects</code> table, one row per object. Write the columns you want and the conditions; run it over the stored objects, then save it to run on every incoming alert.</p>
    </div>
  </div>
  ${state.notice === undefined ? '' : html`<div class="notice ${state.notice.kind}" role="status">${state.notice.text}</div>`}
  <div class="builder">
    <div>
      <form method="post" action="${state.action}" id="builder-form" class="card" novalidate>
        <input type="hidden" name="_csrf" value="${state.csrfToken}">
        ${sqlBox('select', 'SELECT', 'the columns each match carries, e.g. objectId, ra, decl, alertMag', state.select, state.problems, 3)}
        ${sqlBox('where', 'WHERE', 'conditions; empty passes every object', state.where, state.problems, 5)}
        ${otherProblems(state.problems)}
        <div class="row">
          <div class="field"><label for="run-rows">Row limit <span class="hint">at most 1000</span></label><input type="number" id="run-rows" class="short" min="1" max="1000" value="100"></div>
          <div class="field"><label for="run-seconds">Time limit <span class="hint">seconds, at most 20</span></label><input type="number" id="run-seconds" class="short" min="1" max="20" value="10"></div>
          <div class="form-actions field">
            <button type="button" id="run" class="primary" title="Run over the stored objects (Ctrl+Enter)">Run</button>
            ${save}
            <span class="muted small" id="check-status" aria-live="polite"></span>
          </div>
        </div>
        ${state.signedIn ? saveDialog(state) : ''}
      </form>
      <section class="card" id="results-card" aria-labelledby="results-title">
        <div class="card-head"><h2 id="results-title">Results</h2><span class="run-meta" id="run-meta" aria-live="polite"></span></div>
        <div id="results"><p class="empty">Run the filter to see the objects it passes, newest alert first.</p></div>
      </section>
    </div>
    ${state.reference}
  </div>`;
}
