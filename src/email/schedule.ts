// When emails may go: a filter's first digest as soon as it has a match, then at most one per
// period (24 h) per filter; a failed send waits out a back-off that doubles per failure up to a
// ceiling (longer for a permanent refusal, which a retry is unlikely to fix soon).
import type { EmailDigestState } from '../store/store.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetryPolicy {
  /** Wait after the first failure, ms (default 60 s). */
  baseMs: number;
  /** Longest wait after temporary failures, ms (default 1 h). */
  maxMs: number;
  /** Longest wait after permanent refusals (5xx), ms (default 6 h). */
  maxPermanentMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 60_000, maxMs: 60 * 60_000, maxPermanentMs: 6 * 60 * 60_000 };

/** The wait before the next try after `failures` consecutive failures (1 or more). */
export function retryDelayMs(failures: number, permanent: boolean, policy: RetryPolicy = DEFAULT_RETRY): number {
  const cap = permanent ? policy.maxPermanentMs : policy.maxMs;
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(cap, policy.baseMs * 2 ** exponent);
}

/** The earliest time the filter's next digest may go, given its state; null: at once. */
export function nextDigestAt(state: Pick<EmailDigestState, 'lastSentAt' | 'retryAt'>, periodMs: number = DAY_MS): Date | null {
  const times: number[] = [];
  if (state.lastSentAt !== null) times.push(Date.parse(state.lastSentAt) + periodMs);
  if (state.retryAt !== null) times.push(Date.parse(state.retryAt));
  return times.length === 0 ? null : new Date(Math.max(...times));
}

export function digestDue(state: Pick<EmailDigestState, 'lastSentAt' | 'retryAt'>, now: Date, periodMs: number = DAY_MS): boolean {
  const at = nextDigestAt(state, periodMs);
  return at === null || now.getTime() >= at.getTime();
}

/** Whether a filter-error email may go now (none in the last period). */
export function filterErrorDue(state: Pick<EmailDigestState, 'filterErrorSentAt'> | null, now: Date, periodMs: number = DAY_MS): boolean {
  if (state === null || state.filterErrorSentAt === null) return true;
  return now.getTime() >= Date.parse(state.filterErrorSentAt) + periodMs;
}
