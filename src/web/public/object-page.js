/* global document */
// Object pages in the browser: flux/magnitude plot toggle and sortable tables.
import { makeAllSortable } from './table-sort.js';

for (const button of document.querySelectorAll('button[data-plot]')) {
  button.addEventListener('click', () => {
    for (const other of document.querySelectorAll('button[data-plot]')) other.setAttribute('aria-pressed', String(other === button));
    for (const view of document.querySelectorAll('[data-plot-view]')) view.hidden = view.dataset.plotView !== button.dataset.plot;
  });
}
makeAllSortable();
