// Throttling of failed logins, per account (the email typed) and per client address. Only
// failures count: a person who logs in successfully is never slowed down. After `free` failures
// a key is locked for `lockMs`; every further failure doubles the lock, up to `maxLockMs`.
// Failures are forgotten `forgetMs` after the last one. A successful login clears its account's
// failures but not its address's (else one real account would let a guesser reset the address
// count). State is in memory (per process), bounded to `maxKeys` entries, oldest dropped first.

export interface LoginThrottleSettings {
  /** Failures allowed per account before the first lock. */
  accountFree: number;
  /** Failures allowed per client address before the first lock. */
  addressFree: number;
  /** The first lock, ms; doubles with each further failure. */
  lockMs: number;
  maxLockMs: number;
  /** Failures older than this (after the last one) are forgotten, ms. */
  forgetMs: number;
  maxKeys?: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = {
  accountFree: 5,
  addressFree: 20,
  lockMs: 60_000,
  maxLockMs: 60 * 60_000,
  forgetMs: 24 * 60 * 60_000,
};

interface Failures {
  count: number;
  last: number;
}

/** A refusal: which key is locked and until when. */
export interface LoginLock {
  scope: 'account' | 'address';
  /** When a new attempt is allowed, ms since the epoch. */
  until: number;
}

/** The lock that `failures` failures give, given `free` free ones (0 when not locked). */
export function lockDuration(failures: number, free: number, lockMs: number, maxLockMs: number): number {
  if (failures < free) return 0;
  // 2^(failures - free), with the exponent bounded so the number stays finite.
  return Math.min(maxLockMs, lockMs * 2 ** Math.min(30, failures - free));
}

/** The account key of a typed email: trimmed and lower-cased, as accounts are found. */
export function accountKey(email: string): string {
  return email.trim().toLowerCase().slice(0, 320);
}

export class LoginThrottle {
  readonly settings: LoginThrottleSettings;
  private readonly failures = new Map<string, Failures>();
  private readonly now: () => number;

  constructor(settings: LoginThrottleSettings, now: () => number = Date.now) {
    this.settings = settings;
    this.now = now;
  }

  /** The lock in force for this email or address, the later one if both; null when the attempt may go ahead. */
  check(email: string, address: string): LoginLock | null {
    const now = this.now();
    const locks: LoginLock[] = [];
    const account = this.lockOf(`a:${accountKey(email)}`, this.settings.accountFree, now);
    if (account !== null) locks.push({ scope: 'account', until: account });
    const ip = this.lockOf(`i:${address}`, this.settings.addressFree, now);
    if (ip !== null) locks.push({ scope: 'address', until: ip });
    if (locks.length === 0) return null;
    return locks.reduce((a, b) => (b.until > a.until ? b : a));
  }

  /** Records a failed login. */
  failed(email: string, address: string): void {
    const now = this.now();
    this.bump(`a:${accountKey(email)}`, now);
    this.bump(`i:${address}`, now);
  }

  /** Records a successful login: the account's failures are cleared, the address's stay. */
  succeeded(email: string): void {
    this.failures.delete(`a:${accountKey(email)}`);
  }

  /** Keys tracked (for tests of the bound). */
  get size(): number {
    return this.failures.size;
  }

  private lockOf(key: string, free: number, now: number): number | null {
    const entry = this.failures.get(key);
    if (entry === undefined) return null;
    if (now - entry.last > this.settings.forgetMs) {
      this.failures.delete(key);
      return null;
    }
    const until = entry.last + lockDuration(entry.count, free, this.settings.lockMs, this.settings.maxLockMs);
    return until > now ? until : null;
  }

  private bump(key: string, now: number): void {
    const entry = this.failures.get(key);
    const fresh = entry === undefined || now - entry.last > this.settings.forgetMs;
    // Re-inserted at the end: the Map's order is then least recently failed first.
    this.failures.delete(key);
    this.failures.set(key, { count: fresh ? 1 : entry.count + 1, last: now });
    const max = this.settings.maxKeys ?? 100_000;
    while (this.failures.size > max) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }
}

/** "3 minutes", "45 seconds", "1 hour 5 minutes": how long to wait, for a person. */
export function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `${hours} hour${hours === 1 ? '' : 's'}${rest === 0 ? '' : ` ${rest} minute${rest === 1 ? '' : 's'}`}`;
}

/** The message a locked login shows. */
export function lockMessage(lock: LoginLock, now: number): string {
  const who = lock.scope === 'account' ? 'this account' : 'your address';
  const at = new Date(lock.until).toISOString().slice(11, 19);
  return `Too many failed logins for ${who}. Try again in ${waitText(lock.until - now)} (after ${at} UTC).`;
}
