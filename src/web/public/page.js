/* global document */
// Small helpers every page script uses: the CSRF token, JSON posts, element building.

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
}

/** POSTs JSON with the CSRF token; resolves to { status, body } (body parsed when JSON). */
export async function postJson(url, data, signal) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrfToken() },
    body: JSON.stringify(data),
    credentials: 'same-origin',
    signal,
  });
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await response.json() : { error: await response.text() };
  return { status: response.status, body };
}

/** el('td', { className: 'num' }, 'text', childNode, ...) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A value as the pages show it: null as a dash, long decimals rounded. Ids arrive as text and stay exact. */
export function formatCell(value, column = '') {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    if (/mjd/i.test(column)) return value.toFixed(5);
    if (/^(ra|decl|dec|glon|glat)$/i.test(column)) return value.toFixed(6);
    const abs = Math.abs(value);
    if (abs >= 1e6 || abs < 1e-3) return value.toExponential(3);
    return String(Number(value.toPrecision(6)));
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
