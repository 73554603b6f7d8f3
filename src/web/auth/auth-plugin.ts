// Who is asking: sets request.user, request.authMethod and request.csrfToken on every request of
// the web app (contract B), and refuses writes made with the session cookie that lack the CSRF
// token. Installed on the web app's own context (not as a child plugin), so its hooks run before
// every route of the app: pages, account forms and the API.
//
//   Authorization: Bearer <API token>  → that token's user (401 at once if the token is not valid)
//   signed session cookie               → the session's user, if the session has not expired
//   neither                             → anonymous; a per-browser cookie binds the CSRF token
//                                         of the login and sign-up forms
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StoredApiToken } from '../../store/store.ts';
import { createLogger } from '../../util/log.ts';
import { sendMessagePage } from '../pages/page-reply.ts';
import { bearerToken, lookUpToken } from './api-tokens.ts';
import { csrfTokenFor, csrfValid, isUnsafeMethod } from './csrf.ts';
import './request-user.ts';
import { isApiPath } from './require-user.ts';
import { randomSecret } from './secrets.ts';
import { BROWSER_COOKIE, SESSION_COOKIE, cookieOptions, currentSession, refreshSeen, signedCookie, type SessionSettings } from './sessions.ts';

export interface AuthSettings extends SessionSettings {
  /** The store's secret (cookie signatures and CSRF tokens). */
  secret: string;
}

/** A token's last use is written at most this often (a write per API call would queue behind batches). */
const TOUCH_INTERVAL_MS = 60_000;
const log = createLogger({ component: 'web-auth' });

function jsonError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ error: message }));
}

/** Paths that never need a browser cookie: the API and static files. */
function cookieless(url: string): boolean {
  return isApiPath(url) || url.startsWith('/static/');
}

export function installAuth(app: FastifyInstance, settings: AuthSettings): void {
  const { store, secret } = settings;
  const touched = new Map<number, number>();

  function touch(token: StoredApiToken): void {
    const now = settings.now();
    const last = touched.get(token.id) ?? 0;
    if (now.getTime() - last < TOUCH_INTERVAL_MS) return;
    touched.set(token.id, now.getTime());
    store.touchApiToken(token.id, now.toISOString()).catch((error: unknown) => log.warn('cannot record an API token\'s use', { tokenId: token.id, error: (error as Error).message }));
  }

  app.decorateRequest('user', null);
  app.decorateRequest('authMethod', null);
  app.decorateRequest('csrfToken', '');

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    request.user = null;
    request.authMethod = null;
    request.csrfToken = '';
    // Static files are the same for everyone: no store lookups for them.
    if (request.url.startsWith('/static/')) return;
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const token = bearerToken(authorization);
      const stored = token === null ? null : await lookUpToken(store, token);
      const user = stored === null ? null : await store.getUser(stored.userId);
      if (stored === null || user === null) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"');
        return jsonError(reply, 401, token === null ? 'the Authorization header must be "Bearer <API token>"' : 'the API token is not valid (unknown or revoked)');
      }
      request.user = user;
      request.authMethod = 'token';
      touch(stored);
      return;
    }
    const current = await currentSession(request, settings);
    const user = current === null ? null : await store.getUser(current.session.userId);
    if (current !== null && user !== null) {
      request.user = user;
      request.authMethod = 'session';
      request.csrfToken = csrfTokenFor(secret, 's', current.id);
      refreshSeen(reply, current, settings);
      return;
    }
    // A cookie whose session expired, went idle or was ended: drop it.
    if (request.cookies[SESSION_COOKIE] !== undefined) reply.clearCookie(SESSION_COOKIE, { path: '/' });
    let browser = signedCookie(request, BROWSER_COOKIE);
    if (browser === null && !cookieless(request.url)) {
      browser = randomSecret(18);
      reply.setCookie(BROWSER_COOKIE, browser, cookieOptions(settings));
    }
    if (browser !== null) request.csrfToken = csrfTokenFor(secret, 'a', browser);
  });

  // preValidation: after the body is parsed (a form's _csrf field can be read), before the
  // routes' schemas are checked, so a forged write learns nothing, not even a validation error.
  app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isUnsafeMethod(request.method) || request.authMethod === 'token') return;
    // An anonymous API call has no cookie to abuse; requireUser answers it with 401.
    if (request.authMethod === null && isApiPath(request.url)) return;
    if (csrfValid(request, request.csrfToken)) return;
    if (isApiPath(request.url)) return jsonError(reply, 403, 'missing or wrong CSRF token: send the page\'s csrf-token in the X-CSRF-Token header (or use an API token)');
    return sendMessagePage(request, reply, 403, 'Form expired', 'This form was out of date or came from another site, so nothing was done. Go back, reload the page and try again.');
  });
}
