/* global document */
// Sortable tables: every <th> of a table with class "sortable" becomes a button; click (or Enter)
// sorts by that column, again to reverse. Numbers sort as numbers (data-sort overrides the text),
// empty cells ("—") last.

function cellKey(cell) {
  const text = cell?.dataset.sort ?? cell?.textContent.trim() ?? '';
  if (text === '' || text === '—') return { empty: true, num: NaN, text: '' };
  const num = Number(text);
  return { empty: false, num, text };
}

function compare(a, b) {
  if (a.empty || b.empty) return a.empty === b.empty ? 0 : a.empty ? 1 : -1;
  if (!Number.isNaN(a.num) && !Number.isNaN(b.num)) return a.num - b.num;
  return a.text.localeCompare(b.text, undefined, { numeric: true });
}

export function makeSortable(table) {
  const heads = [...table.querySelectorAll('thead th')];
  heads.forEach((th, index) => {
    if (th.querySelector('button.sort')) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    while (th.firstChild) button.appendChild(th.firstChild);
    th.appendChild(button);
    button.addEventListener('click', () => {
      const ascending = th.getAttribute('aria-sort') !== 'ascending';
      for (const other of heads) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      const body = table.tBodies[0];
      const rows = [...body.rows];
      rows.sort((r1, r2) => {
        const a = cellKey(r1.cells[index]);
        const b = cellKey(r2.cells[index]);
        if (a.empty || b.empty) return compare(a, b);
        return ascending ? compare(a, b) : compare(b, a);
      });
      body.append(...rows);
    });
  });
}

export function makeAllSortable(root = document) {
  for (const table of root.querySelectorAll('table.sortable')) makeSortable(table);
}
