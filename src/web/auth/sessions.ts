// Login sessions: a random id in a signed, HttpOnly, SameSite=Lax cookie; the store keeps the
// id's SHA-256 with the user and an absolute expiry. Logging in (and changing the password)
// always starts a new session and deletes the old one (no session fixation; a copy of the old
// cookie stops working); logging out deletes it.
//
// Idle expiry: the cookie also carries when the session was last used (`<id>~<unix seconds>`,
// under the cookie's signature, so a browser cannot change it). A request after more than the
// idle time ends the session in the store; a request in time refreshes the stamp (at most once a
// minute). Kept in the signed cookie rather than the store so every request is not a store write
// and every host serving one store agrees.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store, StoredSession } from '../../store/store.ts';
import { randomSecret, sha256Hex } from './secrets.ts';

export const SESSION_COOKIE = 'nightjar_session';
/** Before login: a random per-browser id that CSRF tokens of the login and sign-up forms are bound to. */
export const BROWSER_COOKIE = 'nightjar_browser';
export const DEFAULT_SESSION_DAYS = 14;
export const DEFAULT_SESSION_IDLE_HOURS = 24;
/** The last-used stamp is rewritten at most this often. */
export const SEEN_REFRESH_MS = 60_000;

export interface CookieSettings {
  /** Send cookies over HTTPS only (when the public URL is https). */
  secure: boolean;
}

export function cookieOptions(settings: CookieSettings, maxAgeSeconds?: number): { path: string; httpOnly: true; sameSite: 'lax'; secure: boolean; signed: true; maxAge?: number } {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: settings.secure, signed: true, ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }) };
}

/** The value of a signed cookie if its signature holds, else null. */
export function signedCookie(request: FastifyRequest, name: string): string | null {
  const value = request.cookies[name];
  if (value === undefined || value === '') return null;
  const unsigned = request.unsignCookie(value);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : null;
}

export interface SessionSettings extends CookieSettings {
  store: Store;
  now: () => Date;
  /** Absolute lifetime of a session. */
  sessionDays: number;
  /** A session unused for longer ends. */
  idleMs: number;
}

/** The session cookie's content: the id and when it was last used (ms, whole seconds). */
export function sessionCookieValue(id: string, seenAt: number): string {
  return `${id}~${Math.floor(seenAt / 1000).toString(36)}`;
}

/** The id and last-used time of a session cookie's (verified) content; null when malformed. */
export function parseSessionCookie(value: string): { id: string; seenAt: number } | null {
  const match = /^([A-Za-z0-9_-]{43})~([0-9a-z]{1,9})$/.exec(value);
  if (match?.[1] === undefined || match[2] === undefined) return null;
  return { id: match[1], seenAt: parseInt(match[2], 36) * 1000 };
}

export interface CurrentSession {
  id: string;
  session: StoredSession;
  seenAt: number;
}

/** The session a request's cookie names, if it is live; an idle one is ended (deleted from the store) and null returned. */
export async function currentSession(request: FastifyRequest, settings: SessionSettings): Promise<CurrentSession | null> {
  const value = signedCookie(request, SESSION_COOKIE);
  const parsed = value === null ? null : parseSessionCookie(value);
  if (parsed === null) return null;
  const now = settings.now();
  const idHash = sha256Hex(parsed.id);
  const session = await settings.store.findSession(idHash, now.toISOString());
  if (session === null) return null;
  if (now.getTime() - parsed.seenAt > settings.idleMs) {
    await settings.store.deleteSession(idHash);
    return null;
  }
  return { id: parsed.id, session, seenAt: parsed.seenAt };
}

/** Seconds until the session's absolute expiry (at least 1). */
function secondsLeft(expiresAt: string, now: Date): number {
  return Math.max(1, Math.floor((Date.parse(expiresAt) - now.getTime()) / 1000));
}

/** Rewrites the cookie's last-used stamp when it is older than SEEN_REFRESH_MS. */
export function refreshSeen(reply: FastifyReply, current: CurrentSession, settings: SessionSettings): void {
  const now = settings.now();
  if (now.getTime() - current.seenAt < SEEN_REFRESH_MS) return;
  reply.setCookie(SESSION_COOKIE, sessionCookieValue(current.id, now.getTime()), cookieOptions(settings, secondsLeft(current.session.expiresAt, now)));
}

/** Starts a session for the user (ending the request's current one) and sets its cookie; returns the new session id. */
export async function startSession(request: FastifyRequest, reply: FastifyReply, userId: number, settings: SessionSettings): Promise<string> {
  await deleteCookieSession(request, settings);
  const id = randomSecret(32);
  const now = settings.now();
  const seconds = settings.sessionDays * 86_400;
  const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
  await settings.store.createSession({ idHash: sha256Hex(id), userId, expiresAt });
  reply.setCookie(SESSION_COOKIE, sessionCookieValue(id, now.getTime()), cookieOptions(settings, seconds));
  return id;
}

async function deleteCookieSession(request: FastifyRequest, settings: SessionSettings): Promise<void> {
  const value = signedCookie(request, SESSION_COOKIE);
  const parsed = value === null ? null : parseSessionCookie(value);
  if (parsed !== null) await settings.store.deleteSession(sha256Hex(parsed.id));
}

/** Ends the request's session (if any) and clears its cookie. */
export async function endSession(request: FastifyRequest, reply: FastifyReply, settings: SessionSettings): Promise<void> {
  await deleteCookieSession(request, settings);
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
