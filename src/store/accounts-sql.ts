// The SQL of the accounts tables (schema-accounts.ts) on DuckDB: settings, sessions and API
// tokens. Each function runs on the connection it is given; duckdb-store.ts decides which
// (writer or reader) and serialises the calls, and wraps writes in its transactions.
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkId } from './account-rows.ts';
import type { NewApiToken, NewSession, StoredApiToken, StoredSession } from './store.ts';

const HASH = /^[0-9a-f]{64}$/;

function checkHash(hash: string, what: string): string {
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new Error(`${what} must be a hex SHA-256 (64 lower-case hex digits)`);
  return hash;
}

function checkTime(iso: string, what: string): string {
  if (typeof iso !== 'string' || Number.isNaN(Date.parse(iso))) throw new Error(`${what} must be an ISO time, not ${String(iso)}`);
  return iso;
}

function iso(value: unknown): string {
  return (value as Date).toISOString();
}

function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

function toSession(row: Record<string, unknown>): StoredSession {
  return { idHash: row.idHash as string, userId: row.userId as number, createdAt: iso(row.createdAt), expiresAt: iso(row.expiresAt) };
}

function toToken(row: Record<string, unknown>): StoredApiToken {
  return {
    id: row.id as number,
    userId: row.userId as number,
    name: row.name as string,
    prefix: row.prefix as string,
    createdAt: iso(row.createdAt),
    lastUsedAt: isoOrNull(row.lastUsedAt),
    revokedAt: isoOrNull(row.revokedAt),
  };
}

const TOKEN_COLUMNS = 'id, userId, name, prefix, createdAt, lastUsedAt, revokedAt';

// ---- settings -----------------------------------------------------------------------------

export async function getSetting(c: DuckDBConnection, name: string): Promise<string | null> {
  const reader = await c.runAndReadAll('SELECT value FROM settings WHERE name = $1', [name]);
  return (reader.getRows()[0]?.[0] as string | undefined) ?? null;
}

/** Inserts the setting unless present; returns the stored value. Run it in a transaction. */
export async function settingOrInit(c: DuckDBConnection, name: string, initial: string): Promise<string> {
  await c.run('INSERT INTO settings VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, initial]);
  const value = await getSetting(c, name);
  if (value === null) throw new Error(`setting ${name} is missing right after it was stored`);
  return value;
}

// ---- sessions -----------------------------------------------------------------------------

export async function createSession(c: DuckDBConnection, session: NewSession): Promise<StoredSession> {
  const reader = await c.runAndReadAll('INSERT INTO sessions VALUES ($1, CAST($2 AS INTEGER), now(), CAST($3 AS TIMESTAMPTZ)) RETURNING *', [
    checkHash(session.idHash, 'session idHash'),
    checkId(session.userId, 'user'),
    checkTime(session.expiresAt, 'session expiresAt'),
  ]);
  return toSession(reader.getRowObjectsJS()[0] as Record<string, unknown>);
}

export async function findSession(c: DuckDBConnection, idHash: string, now: string): Promise<StoredSession | null> {
  if (!HASH.test(idHash)) return null;
  const reader = await c.runAndReadAll('SELECT * FROM sessions WHERE idHash = $1 AND expiresAt > CAST($2 AS TIMESTAMPTZ)', [idHash, checkTime(now, 'now')]);
  const row = reader.getRowObjectsJS()[0];
  return row === undefined ? null : toSession(row);
}

export async function deleteUserSessions(c: DuckDBConnection, userId: number): Promise<number> {
  if (!Number.isSafeInteger(userId)) throw new Error(`deleteUserSessions: user id must be an integer, not ${String(userId)}`);
  return Number((await c.run('DELETE FROM sessions WHERE userId = CAST($1 AS INTEGER)', [userId])).rowsChanged);
}

export async function setUserPassword(c: DuckDBConnection, userId: number, passwordHash: string): Promise<boolean> {
  if (!Number.isSafeInteger(userId)) throw new Error(`setUserPassword: user id must be an integer, not ${String(userId)}`);
  if (typeof passwordHash !== 'string' || passwordHash === '') throw new Error(`setUserPassword: user ${userId}: the password hash must be non-empty text`);
  return (await c.run('UPDATE users SET passwordHash = $2 WHERE id = CAST($1 AS INTEGER)', [userId, passwordHash])).rowsChanged > 0;
}

export async function deleteSession(c: DuckDBConnection, idHash: string): Promise<boolean> {
  if (!HASH.test(idHash)) return false;
  return (await c.run('DELETE FROM sessions WHERE idHash = $1', [idHash])).rowsChanged > 0;
}

export async function deleteExpiredSessions(c: DuckDBConnection, now: string): Promise<number> {
  return (await c.run('DELETE FROM sessions WHERE expiresAt <= CAST($1 AS TIMESTAMPTZ)', [checkTime(now, 'now')])).rowsChanged;
}

// ---- API tokens ---------------------------------------------------------------------------

export async function createApiToken(c: DuckDBConnection, token: NewApiToken): Promise<StoredApiToken> {
  if (typeof token.name !== 'string') throw new Error('an API token name must be text');
  if (typeof token.prefix !== 'string' || token.prefix === '') throw new Error('an API token needs a prefix');
  const reader = await c.runAndReadAll(
    `INSERT INTO api_tokens VALUES (nextval('api_token_id_seq'), CAST($1 AS INTEGER), $2, $3, $4, now(), NULL, NULL) RETURNING ${TOKEN_COLUMNS}`,
    [checkId(token.userId, 'user'), token.name, checkHash(token.tokenHash, 'API token hash'), token.prefix],
  );
  return toToken(reader.getRowObjectsJS()[0] as Record<string, unknown>);
}

export async function findApiToken(c: DuckDBConnection, tokenHash: string): Promise<StoredApiToken | null> {
  if (!HASH.test(tokenHash)) return null;
  const reader = await c.runAndReadAll(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE tokenHash = $1 AND revokedAt IS NULL`, [tokenHash]);
  const row = reader.getRowObjectsJS()[0];
  return row === undefined ? null : toToken(row);
}

export async function listApiTokens(c: DuckDBConnection, userId: number): Promise<StoredApiToken[]> {
  const reader = await c.runAndReadAll(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE userId = CAST($1 AS INTEGER) ORDER BY id DESC`, [checkId(userId, 'user')]);
  return reader.getRowObjectsJS().map(toToken);
}

export async function revokeApiToken(c: DuckDBConnection, userId: number, tokenId: number, now: string): Promise<boolean> {
  const result = await c.run('UPDATE api_tokens SET revokedAt = CAST($3 AS TIMESTAMPTZ) WHERE id = CAST($1 AS INTEGER) AND userId = CAST($2 AS INTEGER) AND revokedAt IS NULL', [
    checkId(tokenId, 'API token'),
    checkId(userId, 'user'),
    checkTime(now, 'now'),
  ]);
  return result.rowsChanged > 0;
}

export async function touchApiToken(c: DuckDBConnection, tokenId: number, now: string): Promise<void> {
  await c.run('UPDATE api_tokens SET lastUsedAt = CAST($2 AS TIMESTAMPTZ) WHERE id = CAST($1 AS INTEGER)', [checkId(tokenId, 'API token'), checkTime(now, 'now')]);
}
