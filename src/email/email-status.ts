// A filter's email status as the filter page shows it (through the filter service's show):
// when the last digest went, when the next may go, and the last failure if sends are failing.
import type { EmailDigestState } from '../store/store.ts';
import { DAY_MS, nextDigestAt } from './schedule.ts';

export interface EmailStatus {
  /** When the last digest was sent (ISO), null before the first. */
  lastSentAt: string | null;
  /** The earliest time the next digest may go (ISO): a day after the last, or the retry time after a failure; null: as soon as something matches. */
  nextDigestAt: string | null;
  /** Failed sends since the last successful one (0: all is well). */
  failures: number;
  /** The latest failure (kept after a later success, for the record). */
  lastError: string | null;
  lastErrorAt: string | null;
  /** When the owner was last told the filter fails on new data. */
  filterErrorSentAt: string | null;
}

export function emailStatus(state: EmailDigestState, periodMs: number = DAY_MS): EmailStatus {
  const next = state.emailSince === null ? null : nextDigestAt(state, periodMs);
  return {
    lastSentAt: state.lastSentAt,
    nextDigestAt: next === null ? null : next.toISOString(),
    failures: state.failures,
    lastError: state.lastError,
    lastErrorAt: state.lastErrorAt,
    filterErrorSentAt: state.filterErrorSentAt,
  };
}
