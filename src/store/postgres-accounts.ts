// The SQL of users, settings, sessions, API tokens and Kafka credentials on PostgreSQL, with the
// checks and row conversions of the DuckDB store's (accounts-sql.ts, kafka-users-sql.ts,
// account-rows.ts), so both stores refuse and return the same things. Each function runs on
// the client or pool it is given; postgres-store.ts decides which, and the transactions.
import type pg from 'pg';
import { UserError } from '../util/errors.ts';
import { checkId, toUser } from './account-rows.ts';
import { sqlState } from './postgres-connection.ts';
import type { KafkaUserInput, NewApiToken, NewSession, NewUser, StoredApiToken, StoredKafkaUser, StoredSession, StoredUser } from './store.ts';

type Client = Pick<pg.ClientBase, 'query'>;

const HASH = /^[0-9a-f]{64}$/;

function checkHash(hash: string, what: string): string {
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new Error(`${what} must be a hex SHA-256 (64 lower-case hex digits)`);
  return hash;
}

function checkTime(iso: string, what: string): string {
  if (typeof iso !== 'string' || Number.isNaN(Date.parse(iso))) throw new Error(`${what} must be an ISO time, not ${String(iso)}`);
  return iso;
}

const iso = (value: unknown): string => (value as Date).toISOString();
const isoOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : iso(value));

type Row = Record<string, unknown>;

// ---- users --------------------------------------------------------------------------------

/** Creates a user; a UserError for an address that is not one or is taken (case-insensitively, also by another process at the same moment). */
export async function createUser(c: Client, user: NewUser): Promise<StoredUser> {
  const email = typeof user.email === 'string' ? user.email.trim() : '';
  if (email === '' || !email.includes('@')) throw new UserError(`"${String(user.email)}" is not an email address`);
  if (typeof user.name !== 'string') throw new Error('createUser: name must be text');
  // Checked first so a refused address uses no id; the unique index settles a race between processes.
  if ((await c.query('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email])).rowCount !== 0) throw new UserError(`a user with email ${email} already exists`);
  try {
    const result = await c.query('INSERT INTO users (email, name, "passwordHash", "createdAt") VALUES ($1, $2, $3, now()) RETURNING *', [email, user.name, user.passwordHash ?? null]);
    return toUser(result.rows[0] as Row);
  } catch (error) {
    if (sqlState(error) === '23505') throw new UserError(`a user with email ${email} already exists`);
    throw error;
  }
}

export async function getUser(c: Client, id: number): Promise<StoredUser | null> {
  const row = (await c.query('SELECT * FROM users WHERE id = $1', [checkId(id, 'user')])).rows[0] as Row | undefined;
  return row === undefined ? null : toUser(row);
}

export async function findUserByEmail(c: Client, email: string): Promise<StoredUser | null> {
  const row = (await c.query('SELECT * FROM users WHERE lower(email) = lower($1)', [email.trim()])).rows[0] as Row | undefined;
  return row === undefined ? null : toUser(row);
}

export async function setUserPassword(c: Client, userId: number, passwordHash: string): Promise<boolean> {
  if (!Number.isSafeInteger(userId)) throw new Error(`setUserPassword: user id must be an integer, not ${String(userId)}`);
  if (typeof passwordHash !== 'string' || passwordHash === '') throw new Error(`setUserPassword: user ${userId}: the password hash must be non-empty text`);
  return ((await c.query('UPDATE users SET "passwordHash" = $2 WHERE id = $1', [userId, passwordHash])).rowCount ?? 0) > 0;
}

// ---- settings -----------------------------------------------------------------------------

export async function getSetting(c: Client, name: string): Promise<string | null> {
  return ((await c.query('SELECT value FROM settings WHERE name = $1', [name])).rows[0]?.value as string | undefined) ?? null;
}

/** The stored setting, or `initial` stored now: the first writer wins, whichever process it is. */
export async function settingOrInit(c: Client, name: string, initial: string): Promise<string> {
  await c.query('INSERT INTO settings VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, initial]);
  const value = await getSetting(c, name);
  if (value === null) throw new Error(`setting ${name} is missing right after it was stored`);
  return value;
}

// ---- sessions -----------------------------------------------------------------------------

function toSession(row: Row): StoredSession {
  return { idHash: row.idHash as string, userId: row.userId as number, createdAt: iso(row.createdAt), expiresAt: iso(row.expiresAt) };
}

export async function createSession(c: Client, session: NewSession): Promise<StoredSession> {
  const result = await c.query('INSERT INTO sessions VALUES ($1, $2, now(), $3) RETURNING *', [
    checkHash(session.idHash, 'session idHash'),
    checkId(session.userId, 'user'),
    checkTime(session.expiresAt, 'session expiresAt'),
  ]);
  return toSession(result.rows[0] as Row);
}

export async function findSession(c: Client, idHash: string, now: string): Promise<StoredSession | null> {
  if (!HASH.test(idHash)) return null;
  const row = (await c.query('SELECT * FROM sessions WHERE "idHash" = $1 AND "expiresAt" > $2', [idHash, checkTime(now, 'now')])).rows[0] as Row | undefined;
  return row === undefined ? null : toSession(row);
}

export async function deleteSession(c: Client, idHash: string): Promise<boolean> {
  if (!HASH.test(idHash)) return false;
  return ((await c.query('DELETE FROM sessions WHERE "idHash" = $1', [idHash])).rowCount ?? 0) > 0;
}

export async function deleteExpiredSessions(c: Client, now: string): Promise<number> {
  return (await c.query('DELETE FROM sessions WHERE "expiresAt" <= $1', [checkTime(now, 'now')])).rowCount ?? 0;
}

export async function deleteUserSessions(c: Client, userId: number): Promise<number> {
  if (!Number.isSafeInteger(userId)) throw new Error(`deleteUserSessions: user id must be an integer, not ${String(userId)}`);
  return (await c.query('DELETE FROM sessions WHERE "userId" = $1', [userId])).rowCount ?? 0;
}

// ---- API tokens ---------------------------------------------------------------------------

const TOKEN_COLUMNS = 'id, "userId", name, prefix, "createdAt", "lastUsedAt", "revokedAt"';

function toToken(row: Row): StoredApiToken {
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

export async function createApiToken(c: Client, token: NewApiToken): Promise<StoredApiToken> {
  if (typeof token.name !== 'string') throw new Error('an API token name must be text');
  if (typeof token.prefix !== 'string' || token.prefix === '') throw new Error('an API token needs a prefix');
  const result = await c.query(`INSERT INTO api_tokens ("userId", name, "tokenHash", prefix, "createdAt") VALUES ($1, $2, $3, $4, now()) RETURNING ${TOKEN_COLUMNS}`, [
    checkId(token.userId, 'user'),
    token.name,
    checkHash(token.tokenHash, 'API token hash'),
    token.prefix,
  ]);
  return toToken(result.rows[0] as Row);
}

export async function findApiToken(c: Client, tokenHash: string): Promise<StoredApiToken | null> {
  if (!HASH.test(tokenHash)) return null;
  const row = (await c.query(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE "tokenHash" = $1 AND "revokedAt" IS NULL`, [tokenHash])).rows[0] as Row | undefined;
  return row === undefined ? null : toToken(row);
}

export async function listApiTokens(c: Client, userId: number): Promise<StoredApiToken[]> {
  return (await c.query(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE "userId" = $1 ORDER BY id DESC`, [checkId(userId, 'user')])).rows.map(toToken);
}

export async function revokeApiToken(c: Client, userId: number, tokenId: number, now: string): Promise<boolean> {
  const result = await c.query('UPDATE api_tokens SET "revokedAt" = $3 WHERE id = $1 AND "userId" = $2 AND "revokedAt" IS NULL', [
    checkId(tokenId, 'API token'),
    checkId(userId, 'user'),
    checkTime(now, 'now'),
  ]);
  return (result.rowCount ?? 0) > 0;
}

export async function touchApiToken(c: Client, tokenId: number, now: string): Promise<void> {
  await c.query('UPDATE api_tokens SET "lastUsedAt" = $2 WHERE id = $1', [checkId(tokenId, 'API token'), checkTime(now, 'now')]);
}

// ---- Kafka credentials --------------------------------------------------------------------

function toKafkaUser(row: Row): StoredKafkaUser {
  return { userId: row.userId as number, username: row.username as string, password: row.password as string, createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt) };
}

export async function getKafkaUser(c: Client, userId: number): Promise<StoredKafkaUser | null> {
  const row = (await c.query('SELECT * FROM kafka_users WHERE "userId" = $1', [checkId(userId, 'user')])).rows[0] as Row | undefined;
  return row === undefined ? null : toKafkaUser(row);
}

export async function listKafkaUsers(c: Client): Promise<StoredKafkaUser[]> {
  return (await c.query('SELECT * FROM kafka_users ORDER BY "userId"')).rows.map(toKafkaUser);
}

/** Inserts the user's credentials, or replaces the password of the ones stored (a user's username never changes). */
export async function saveKafkaUser(c: Client, user: KafkaUserInput): Promise<StoredKafkaUser> {
  checkId(user.userId, 'user');
  if (typeof user.username !== 'string' || user.username === '') throw new Error('a Kafka user needs a username');
  if (typeof user.password !== 'string' || user.password === '') throw new Error(`Kafka user ${user.username} needs a password`);
  const result = await c.query(
    `INSERT INTO kafka_users VALUES ($1, $2, $3, now(), now())
     ON CONFLICT ("userId") DO UPDATE SET password = EXCLUDED.password, "updatedAt" = now() RETURNING *`,
    [user.userId, user.username, user.password],
  );
  return toKafkaUser(result.rows[0] as Row);
}

export async function deleteKafkaUser(c: Client, userId: number): Promise<boolean> {
  return ((await c.query('DELETE FROM kafka_users WHERE "userId" = $1', [checkId(userId, 'user')])).rowCount ?? 0) > 0;
}
