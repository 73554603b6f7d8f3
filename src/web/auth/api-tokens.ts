// API tokens: `nj_` and 43 random base64url characters (256 bits). The token is shown to its
// owner once; the store keeps its SHA-256 (a fast hash is enough for a random secret of this
// size) and its first characters, so the owner can tell tokens apart in the list.
import type { Store, StoredApiToken } from '../../store/store.ts';
import { randomSecret, sha256Hex } from './secrets.ts';

export const TOKEN_PREFIX = 'nj_';
const TOKEN_PATTERN = /^nj_[A-Za-z0-9_-]{43}$/;
/** Characters of a token kept in clear, to tell tokens apart. */
const SHOWN_CHARACTERS = 10;
export const MAX_TOKEN_NAME_LENGTH = 100;

export interface CreatedToken {
  /** The secret itself: give it to the user now, it cannot be shown again. */
  token: string;
  stored: StoredApiToken;
}

/** Creates and stores a token for the user. */
export async function createApiToken(store: Store, userId: number, name: string): Promise<CreatedToken> {
  const token = TOKEN_PREFIX + randomSecret(32);
  const stored = await store.createApiToken({ userId, name: name.trim().slice(0, MAX_TOKEN_NAME_LENGTH), tokenHash: sha256Hex(token), prefix: token.slice(0, SHOWN_CHARACTERS) });
  return { token, stored };
}

/** The token of an `Authorization: Bearer <token>` header; null when the header is not of that form. */
export function bearerToken(header: string): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

/** The stored token a secret stands for, or null (unknown, malformed or revoked). */
export async function lookUpToken(store: Store, token: string): Promise<StoredApiToken | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  return store.findApiToken(sha256Hex(token));
}
