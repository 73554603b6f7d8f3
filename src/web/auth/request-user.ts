// What the auth plugin (src/web/auth/auth-plugin.ts) puts on every request of the web app.
import type { StoredUser } from '../../store/store.ts';

/** How the request's user was recognised: a session cookie (writes need the CSRF token), an API token, or not at all. */
export type AuthMethod = 'session' | 'token' | null;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user: from the session cookie or from `Authorization: Bearer <API token>`; null when anonymous. */
    user: StoredUser | null;
    /** How `user` was recognised. */
    authMethod: AuthMethod;
    /** The CSRF token of this browser: put it in forms as `_csrf` and in pages as `<meta name="csrf-token">`. */
    csrfToken: string;
  }
}
