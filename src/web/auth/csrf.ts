// CSRF tokens. A form or fetch that changes something, made with the session cookie, must also
// carry a token that a page of this site gave out: other sites can make the browser send the
// cookie but cannot read the token. The token is an HMAC of the session id (or, before login, of
// a random per-browser cookie) under the store's secret, so nothing needs storing, and it
// changes when the session does (at login).
import type { FastifyRequest } from 'fastify';
import { hmac, sameText } from './secrets.ts';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The token for a session id ('s') or an anonymous browser id ('a'). */
export function csrfTokenFor(secret: string, kind: 's' | 'a', id: string): string {
  return hmac(secret, `csrf\u0000${kind}\u0000${id}`);
}

/** The token the request carries: the X-CSRF-Token header, else the `_csrf` field of a form or JSON body. */
export function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const body = request.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const field = (body as Record<string, unknown>)[CSRF_FIELD];
    if (typeof field === 'string' && field !== '') return field;
  }
  return null;
}

/** True when the request carries the expected token. */
export function csrfValid(request: FastifyRequest, expected: string): boolean {
  const presented = presentedToken(request);
  return presented !== null && expected !== '' && sameText(presented, expected);
}

/** Methods that change something and so need the token. */
export function isUnsafeMethod(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}
