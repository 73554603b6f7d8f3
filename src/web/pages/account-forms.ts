// Pieces the account pages (sign up, log in, account) share: form fields with their error shown
// next to them, and the safe "next" address to return to after logging in.
import { html, type SafeHtml } from './html.ts';

export interface FieldSpec {
  name: string;
  label: string;
  type: 'text' | 'email' | 'password';
  value?: string;
  error?: string;
  hint?: string;
  autocomplete: string;
  required?: boolean;
  minlength?: number;
  autofocus?: boolean;
}

/** A labelled input; its error (if any) is announced with it (aria-describedby). */
export function field(spec: FieldSpec): SafeHtml {
  const id = `f-${spec.name}`;
  const describedBy = [spec.error === undefined ? '' : `${id}-error`, spec.hint === undefined ? '' : `${id}-hint`].filter((s) => s !== '').join(' ');
  return html`<div class="field${spec.error === undefined ? '' : ' has-error'}">
    <label for="${id}">${spec.label}</label>
    <input id="${id}" name="${spec.name}" type="${spec.type}" autocomplete="${spec.autocomplete}"${spec.type === 'password' ? '' : html` value="${spec.value ?? ''}"`}${spec.required === false ? '' : html` required`}${spec.minlength === undefined ? '' : html` minlength="${spec.minlength}"`}${spec.autofocus === true ? html` autofocus` : ''}${spec.error === undefined ? '' : html` aria-invalid="true"`}${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}>
    ${spec.hint === undefined ? '' : html`<div class="hint" id="${id}-hint">${spec.hint}</div>`}
    ${spec.error === undefined ? '' : html`<div class="field-error" id="${id}-error" role="alert">${spec.error}</div>`}
  </div>`;
}

export function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** Where to go after logging in: a path of this site only (no "//host" or "https://..."), else the filters page. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/filters';
  // Control characters (tab, newline) are dropped by browsers, which would turn "/\t/host" into "//host".
  const control = [...next].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || control) return '/filters';
  return next;
}

/** A form body's text field ('' when absent or not text). */
export function formText(body: unknown, name: string): string {
  if (body === null || typeof body !== 'object') return '';
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}
