// The builder's reference panel: every table and column a filter can use, with units and
// meanings (from src/features/columns.ts via the catalog, the broker's own documentation), and
// the functions it may call. Searchable in the browser (builder.js filters the entries).
import type { Catalog } from '../../filters/catalog.ts';
import { allowedFunctions } from '../../filters/functions.ts';
import { html, type SafeHtml } from './html.ts';

function searchText(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined).join(' ').toLowerCase();
}

export function referencePanel(catalog: Catalog, notes: readonly string[]): SafeHtml {
  const tables = catalog.tables.map((table, i) => html`<details ${i === 0 ? 'open' : ''} data-ref-group>
      <summary>Table <code>${table.name}</code> <span class="muted small">${table.columns.length} columns</span></summary>
      ${table.columns.map((c) => html`<div class="ref-col" data-search="${searchText(table.name, c.name, c.unit, c.doc, c.type)}">
        <button type="button" class="name" data-insert="${i === 0 ? c.name : `${table.name}.${c.name}`}" title="Insert at the cursor">${c.name}</button><span class="type">${c.type}</span>${c.unit === undefined ? '' : html`<span class="unit">${c.unit}</span>`}
        <div class="doc">${c.doc}</div>
      </div>`)}
    </details>`);
  const groups = new Map<string, SafeHtml[]>();
  for (const [name, f] of allowedFunctions) {
    const args = f.maxArgs === 0 ? '()' : '(…)';
    const entry = html`<div class="ref-col" data-search="${searchText(name, f.doc, f.group)}">
        <button type="button" class="name" data-insert="${name}${f.maxArgs === 0 ? '()' : '('}" title="Insert at the cursor">${name}${args}</button>
        <div class="doc">${f.doc}</div>
      </div>`;
    const list = groups.get(f.group) ?? [];
    list.push(entry);
    groups.set(f.group, list);
  }
  const functions = [...groups].map(([group, entries]) => html`<details data-ref-group ${group === 'astronomy' ? 'open' : ''}>
      <summary>${group === 'astronomy' ? 'Astronomy functions' : `Functions: ${group}`} <span class="muted small">${entries.length}</span></summary>
      ${entries}
    </details>`);
  return html`<aside class="card reference" aria-label="Tables and columns">
    <div class="ref-head">
      <h2>Reference</h2>
      <input type="search" id="ref-search" placeholder="Search columns, units, meanings…" aria-label="Search the reference" autocomplete="off">
    </div>
    <div class="ref-body" id="ref-body">
      ${tables}
      ${functions}
      <details data-ref-group>
        <summary>Notes on the columns</summary>
        ${notes.map((n) => html`<div class="ref-col" data-search="${n.toLowerCase()}"><div class="doc">${n}</div></div>`)}
      </details>
      <p class="muted small empty hidden" id="ref-none">Nothing matches.</p>
    </div>
  </aside>`;
}
