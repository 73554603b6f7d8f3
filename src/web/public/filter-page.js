/* global document, window, navigator, EventSource, getSelection, confirm */
// The filter page in the browser: latest matches arriving live (server-sent events), the
// consumer code tabs with copy buttons, and a confirmation before deleting.
import { el, formatCell } from './page.js';

// ---- live matches --------------------------------------------------------------------------

const live = document.getElementById('live-matches');
const state = document.getElementById('live-state');
if (live) {
  const table = document.getElementById('matches-table');
  const columns = JSON.parse(table.dataset.columns);
  const body = table.tBodies[0];
  const empty = document.getElementById('matches-empty');
  const keep = Number(live.dataset.keep);
  const formatUtc = (iso) => `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  const numeric = (v) => typeof v === 'number' || (typeof v === 'string' && /^-?\d{10,}$/.test(v));

  const addRow = (m) => {
    if (body.querySelector(`tr[data-seq="${m.seq}"]`)) return;
    const row = el('tr', { className: 'fresh', dataset: { seq: m.seq } },
      el('td', { className: 'nowrap' }, formatUtc(m.matchedAt)),
      el('td', { className: 'id' }, el('a', { href: `/objects?id=${encodeURIComponent(m.objectId)}` }, m.objectId)),
      el('td', { className: 'num' }, m.mjd.toFixed(5)),
      ...columns.map((c) => el('td', { className: numeric(m.row[c]) ? 'num' : '' }, formatCell(m.row[c], c))));
    body.prepend(row);
    while (body.rows.length > keep) body.deleteRow(body.rows.length - 1);
    empty.classList.add('hidden');
  };

  const source = new EventSource(`/filters/${live.dataset.filter}/live?after=${live.dataset.after}`);
  const setState = (text, on) => {
    state.textContent = text;
    state.classList.toggle('live', on);
  };
  source.addEventListener('ready', () => setState('Live', true));
  source.addEventListener('match', (event) => {
    addRow(JSON.parse(event.data));
    const count = document.getElementById('live-count');
    if (count) count.textContent = String(Number(count.textContent) + 1);
  });
  source.addEventListener('gone', () => {
    source.close();
    setState('Filter deleted', false);
  });
  source.addEventListener('error', () => setState(source.readyState === EventSource.CLOSED ? 'Disconnected' : 'Reconnecting…', false));
  window.addEventListener('pagehide', () => source.close());
}

// ---- code tabs -----------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
const select = (tab) => {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
  }
};
tabs.forEach((tab, i) => {
  tab.tabIndex = tab.getAttribute('aria-selected') === 'true' ? 0 : -1;
  tab.addEventListener('click', () => select(tab));
  tab.addEventListener('keydown', (event) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    select(next);
    next.focus();
  });
});

for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(button.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  });
}

// ---- delete --------------------------------------------------------------------------------

for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!confirm(form.dataset.confirm)) event.preventDefault();
  });
}
