// HTML built from template literals with every interpolated value escaped, so a user's filter
// name or SQL can never become markup. Only SafeHtml (made by html`` or raw()) passes through.

/** Text known to be HTML: produced by html`` (escaped) or raw() (trusted by the caller). */
export class SafeHtml {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Marks text as HTML without escaping: only for markup the code itself wrote. */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'bigint') return value.toString();
  return escapeHtml(String(value));
}

/**
 * Tagged template: html`<td>${name}</td>` escapes `name`. SafeHtml values and arrays of them are
 * inserted as they are; null, undefined and false render as nothing (for `${cond && html`...`}`).
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Joins pieces of HTML with a separator (escaped unless SafeHtml). */
export function joinHtml(parts: readonly SafeHtml[], separator: SafeHtml | string = ''): SafeHtml {
  const sep = render(separator);
  return new SafeHtml(parts.map((p) => p.text).join(sep));
}
