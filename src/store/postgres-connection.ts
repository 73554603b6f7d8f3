// Connecting the PostgreSQL store: its URL (shown only without the password), a pool whose
// clients read BIGINT as BigInt, one-line errors for a wrong URL, an unreachable server or a
// refused login, and transactions retried when the server ends one to break a deadlock or a
// serialization conflict between workers writing at the same time.
import pg from 'pg';
import { UserError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';

/** A store's connection URL, checked, with what may be shown of it. */
export interface PostgresTarget {
  /** The URL as given (with its password): only ever handed to pg. */
  readonly url: string;
  /** The URL without its password: the store's location, safe to log. */
  readonly location: string;
  /** host:port/database, for messages. */
  readonly where: string;
  /** The password (decoded), so messages can be scrubbed of it; null when the URL has none. */
  readonly password: string | null;
}

const SCHEMES = new Set(['postgres:', 'postgresql:']);

/** Checks a postgres:// URL and derives its password-free forms; a UserError for anything else. */
export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new UserError(`not a valid PostgreSQL URL: ${redactLoosely(url)} (expected postgres://user:password@host:port/database)`);
  }
  if (!SCHEMES.has(parsed.protocol.toLowerCase())) throw new UserError(`not a PostgreSQL URL: ${redactLoosely(url)} (expected postgres://user:password@host:port/database)`);
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new UserError(`PostgreSQL URL ${redactLoosely(url)} has a malformed %-escape`);
    }
  };
  const database = decode(parsed.pathname.replace(/^\//, ''));
  if (parsed.hostname === '') throw new UserError(`PostgreSQL URL ${redactLoosely(url)} names no host`);
  if (database === '') throw new UserError(`PostgreSQL URL ${redactLoosely(url)} names no database (postgres://user:password@host:port/database)`);
  const password = parsed.password === '' ? parsed.searchParams.get('password') : decode(parsed.password);
  const shown = new URL(parsed.toString());
  shown.password = '';
  shown.searchParams.delete('password');
  return { url: url.trim(), location: shown.toString(), where: `${parsed.hostname}:${parsed.port || '5432'}/${database}`, password };
}

/** The text with anything that looks like a URL password masked: for URLs too broken to parse. */
function redactLoosely(text: string): string {
  return String(text).replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, '$1***@').replace(/([?&]password=)[^&\s]*/i, '$1***');
}

/** The message with the password masked wherever it appears (a password of a few characters hides nothing, and would mangle the text). */
export function scrub(message: string, target: PostgresTarget): string {
  const { password } = target;
  if (password === null || password.length < 4) return message;
  return message.replaceAll(password, '***').replaceAll(encodeURIComponent(password), '***');
}

// Type OIDs read differently from pg's defaults.
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;

/**
 * int8 → BigInt (exact, as the Store contract has it); numeric → number, or BigInt for an
 * integer beyond 2^53 (as DuckDB returns DECIMAL and HUGEINT); date → 'YYYY-MM-DD' text (pg's
 * default makes a Date at local midnight). Given to the pool, so no other pg user in the
 * process is affected.
 */
export const storeTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === undefined || format === 'text') {
      if (oid === INT8) return (text: string) => BigInt(text);
      if (oid === NUMERIC) return parseNumeric;
      if (oid === DATE) return (text: string) => text;
    }
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function parseNumeric(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : BigInt(text);
  }
  return Number(text);
}

/**
 * A pool for the store: BigInt-reading clients, idle-client errors logged rather than thrown at
 * the process; with readOnly, every session's transactions are read-only on the server.
 */
export function createPool(target: PostgresTarget, size: number, log: Logger, readOnly = false): pg.Pool {
  const config: pg.PoolConfig = { connectionString: target.url, max: size, types: storeTypes, application_name: 'nightjar', connectionTimeoutMillis: 10_000 };
  if (readOnly) config.options = '-c default_transaction_read_only=on';
  const pool = new pg.Pool(config);
  pool.on('error', (error) => log.warn('PostgreSQL connection lost while idle', { store: target.location, error: scrub(error.message, target) }));
  return pool;
}

/** The SQLSTATE of a server error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Why the first connection failed, as one line naming host:port/database and never the password. */
export function connectionError(error: unknown, target: PostgresTarget): UserError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = scrub(String((error as Error | null)?.message ?? error).split('\n')[0] ?? '', target);
  const at = `PostgreSQL at ${target.where}`;
  const reason = (() => {
    switch (code) {
      case 'ECONNREFUSED':
        return 'connection refused (is the server running? `nightjar postgres start` runs a local one)';
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return 'unknown host';
      case 'ETIMEDOUT':
        return 'timed out';
      case '28P01':
      case '28000':
        return `login refused: ${message}`;
      case '3D000':
        return 'the database does not exist (create it first, e.g. CREATE DATABASE)';
      default:
        // pg's own words when the server asks for a password the URL does not give.
        if (target.password === null && /password/i.test(message)) return 'login refused: the server asks for a password and the URL has none (postgres://user:password@host:port/database)';
        return message === '' ? 'unknown error' : message;
    }
  })();
  return new UserError(`cannot open store on ${at}: ${reason}`);
}

/** Deadlock or serialization failure: the server rolled the transaction back, and it can simply run again. */
export function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/** Work with one client of the pool, released afterwards (destroyed if it broke). */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    // A server error leaves the connection usable; anything else (a lost socket) may not.
    if (sqlState(error) === undefined) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

export interface TransactionOptions {
  /** Runs again after a deadlock or serialization failure, up to this many times; default 5. */
  retries?: number;
  /** BEGIN's options, e.g. 'READ ONLY'. */
  mode?: string;
  /** Told of each retry: the error that ended the attempt, and the attempt's number (0 first). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs work in one transaction on one client: committed if it returns, rolled back if it throws.
 * A deadlock or serialization failure (SQLSTATE 40P01, 40001) runs it again after a short random
 * wait, so work must not depend on state a failed attempt changed outside the database.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const retries = options.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await withClient(pool, async (client) => {
        await client.query(options.mode === undefined ? 'BEGIN' : `BEGIN ${options.mode}`);
        let result: T;
        try {
          result = await work(client);
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        await client.query('COMMIT');
        return result;
      });
    } catch (error) {
      if (!isRetryable(error) || attempt >= retries) throw error;
      options.onRetry?.(error, attempt);
      // Both sides of a deadlock retry: random waits keep them from meeting again.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * 2 ** attempt));
    }
  }
}
