// One-time messages carried across a redirect (POST → 303 → GET), e.g. "filter saved, its stream
// was reset with 10 records". Kept in memory under a random token that only the redirect knows,
// so a URL cannot be crafted to show a made-up message; each is read once and expires.
import { randomBytes } from 'node:crypto';

export interface Flash {
  kind: 'ok' | 'warn' | 'bad';
  /** Paragraphs of plain text. */
  lines: string[];
}

const TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 10_000;

export class FlashMessages {
  private readonly entries = new Map<string, { flash: Flash; userId: number | null; expires: number }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Stores a message for one user (or anonymous) and returns its token. */
  put(flash: Flash, userId: number | null): string {
    this.prune();
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const token = randomBytes(12).toString('base64url');
    this.entries.set(token, { flash, userId, expires: this.now() + TTL_MS });
    return token;
  }

  /** The message once, for the user it was made for; undefined otherwise. */
  take(token: string | undefined, userId: number | null): Flash | undefined {
    if (token === undefined) return undefined;
    const entry = this.entries.get(token);
    if (entry === undefined || entry.userId !== userId || entry.expires < this.now()) return undefined;
    this.entries.delete(token);
    return entry.flash;
  }

  private prune(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expires < now) this.entries.delete(token);
  }
}
