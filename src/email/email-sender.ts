// The email sender: a loop in the broker process, apart from the batches, that reads the
// filters' recorded matches from the store and emails digests (seed 000): a filter's first
// match at once, then at most one email per 24 hours per filter with every object passed since
// the previous one. The watermark is the matches' seq, stored per filter with the time of the
// last digest (EmailDigestState), so a restart neither sends twice nor forgets what is pending;
// it moves only when the SMTP server has accepted the email. A failed send is retried with
// back-off and recorded in the state (the filter page shows it) and the metrics; a refused
// address affects only its filter's email, and the pipeline never waits for any of this.
//
// Filter errors reach the sender from the batch reports (noteBatch); the owner is told at most
// once a day per filter.
//
// A digest that was sent but whose state could not be saved (the store failing at that moment)
// is sent again: email here is at least once, like the Kafka streams.
import type { PipelineMetrics } from '../pipeline/pipeline-metrics.ts';
import type { EmailDigestState, FilterMatch, Store, StoredFilter, StoredUser } from '../store/store.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { digestEmail } from './digest-content.ts';
import { filterErrorEmail } from './filter-error-content.ts';
import { SendError, type Mailer, type OutgoingEmail } from './mailer.ts';
import { DAY_MS, DEFAULT_RETRY, digestDue, filterErrorDue, retryDelayMs, type RetryPolicy } from './schedule.ts';

export type EmailMetrics = Pick<PipelineMetrics, 'emailsSent' | 'emailFailures' | 'emailObjects' | 'emailFailingFilters'>;

export const DEFAULT_EMAIL_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_BODY_ROWS = 200;
export const DEFAULT_MAX_DIGEST_ROWS = 50_000;

export interface EmailSenderOptions {
  store: Store;
  mailer: Mailer;
  /** The web app's address for links to object and filter pages; none without it. */
  publicUrl?: string | null;
  /** The clock (default: now). */
  now?: () => Date;
  /** How often pending matches are looked for, ms (default 30 s); a batch that matched an email filter wakes the sender at once. */
  intervalMs?: number;
  /** Shortest time between two digests of one filter, ms (default 24 h). */
  periodMs?: number;
  /** Rows listed in an email's body at most; a longer digest attaches the full list as CSV (default 200). */
  maxBodyRows?: number;
  /** Matches in one digest at most (default 50,000); the rest go in the next one. */
  maxDigestRows?: number;
  retry?: Partial<RetryPolicy>;
  metrics?: EmailMetrics;
  log?: Logger;
}

/** What a batch report says about one filter (FilterBatchReport has these fields). */
export interface FilterOutcome {
  id: number;
  output: string;
  matched: number;
  error?: string;
}

export interface SendOutcome {
  filterId: number;
  kind: 'digest' | 'filter_error';
  to: string | null;
  /** Objects listed (digests). */
  objects: number;
  /** Set when the send failed. */
  error?: string;
}

/** What one pass did. */
export interface PassReport {
  sent: SendOutcome[];
  failed: SendOutcome[];
}

interface PendingFilterError {
  error: string;
  firstAt: string;
  lastAt: string;
  batches: number;
  failures: number;
  retryAt: number;
}

const blankState = (filterId: number): EmailDigestState => ({
  filterId,
  sentThroughSeq: 0n,
  emailSince: null,
  lastSentAt: null,
  failures: 0,
  lastError: null,
  lastErrorAt: null,
  retryAt: null,
  filterErrorSentAt: null,
});

export class EmailSender {
  private readonly store: Store;
  private readonly mailer: Mailer;
  private readonly publicUrl: string | null;
  private readonly now: () => Date;
  private readonly intervalMs: number;
  private readonly periodMs: number;
  private readonly maxBodyRows: number;
  private readonly maxDigestRows: number;
  private readonly retry: RetryPolicy;
  private readonly metrics: EmailMetrics | undefined;
  private readonly log: Logger;
  private readonly filterErrors = new Map<number, PendingFilterError>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;

  constructor(options: EmailSenderOptions) {
    this.store = options.store;
    this.mailer = options.mailer;
    this.publicUrl = options.publicUrl ?? null;
    this.now = options.now ?? (() => new Date());
    this.intervalMs = options.intervalMs ?? DEFAULT_EMAIL_INTERVAL_MS;
    this.periodMs = options.periodMs ?? DAY_MS;
    this.maxBodyRows = options.maxBodyRows ?? DEFAULT_MAX_BODY_ROWS;
    this.maxDigestRows = options.maxDigestRows ?? DEFAULT_MAX_DIGEST_ROWS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.metrics = options.metrics;
    this.log = options.log ?? createLogger({ component: 'email' });
    for (const [name, value] of [['intervalMs', this.intervalMs], ['periodMs', this.periodMs], ['maxBodyRows', this.maxBodyRows], ['maxDigestRows', this.maxDigestRows]] as const) {
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`email sender: ${name} must be a positive integer, not ${value}`);
    }
  }

  /** Starts the loop: a pass now, then one every intervalMs (and whenever woken). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops the loop after the pass under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
  }

  /** Takes a batch's filter outcomes: failing filters are remembered for the owner's notice; a match of an email filter wakes the loop. */
  noteBatch(filters: readonly FilterOutcome[]): void {
    const at = this.now().toISOString();
    let wake = false;
    for (const f of filters) {
      if (f.error !== undefined) {
        const known = this.filterErrors.get(f.id);
        if (known === undefined) this.filterErrors.set(f.id, { error: f.error, firstAt: at, lastAt: at, batches: 1, failures: 0, retryAt: 0 });
        else Object.assign(known, { error: f.error, lastAt: at, batches: known.batches + 1 });
        wake = true;
      }
      if (f.output === 'email' && f.matched > 0) wake = true;
    }
    if (wake && this.started && !this.stopped) this.schedule(0);
  }

  /** One pass over every filter: sends the digests and filter-error notices that are due. Passes never overlap. */
  runPass(): Promise<PassReport> {
    const result = this.chain.then(() => this.pass());
    this.chain = result.catch(() => undefined);
    return result;
  }

  private schedule(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runPass()
        .catch((err: unknown) => this.log.warn('email pass failed; trying again later', { error: (err as Error).message }))
        .finally(() => {
          if (!this.stopped && this.timer === null) this.schedule(this.intervalMs);
        });
    }, ms);
    // The broker's own work keeps the process alive, not this timer.
    this.timer.unref();
  }

  private async pass(): Promise<PassReport> {
    const now = this.now();
    const report: PassReport = { sent: [], failed: [] };
    const filters = await this.store.listFilters();
    const states = new Map((await this.store.emailDigestStates()).map((s) => [s.filterId, s]));
    const users = new Map<number, StoredUser | null>();
    const ownerOf = async (f: StoredFilter): Promise<StoredUser | null> => {
      if (!users.has(f.ownerId)) users.set(f.ownerId, await this.store.getUser(f.ownerId));
      return users.get(f.ownerId) ?? null;
    };
    let failing = 0;
    for (const f of filters) {
      let state = states.get(f.id) ?? null;
      if (f.output === 'email') {
        state = await this.digest(f, state, now, ownerOf, report);
        if (state.failures > 0) failing++;
      } else if (state !== null && state.emailSince !== null) {
        // No longer an email filter: when it is one again, it starts from its matches of then.
        state = { ...state, emailSince: null, failures: 0, retryAt: null };
        await this.store.saveEmailDigestState(state);
      }
      const error = this.filterErrors.get(f.id);
      if (error !== undefined) await this.filterError(f, state, error, now, ownerOf, report);
    }
    const known = new Set(filters.map((f) => f.id));
    for (const id of this.filterErrors.keys()) if (!known.has(id)) this.filterErrors.delete(id);
    this.metrics?.emailFailingFilters.set({}, failing);
    return report;
  }

  private async digest(f: StoredFilter, stored: EmailDigestState | null, now: Date, ownerOf: (f: StoredFilter) => Promise<StoredUser | null>, report: PassReport): Promise<EmailDigestState> {
    let state = stored ?? blankState(f.id);
    if (state.emailSince === null) {
      // Newly an email filter: matches from before its last save (when it had another output) are not emailed.
      const before = await this.store.lastFilterMatchSeq(f.id, { before: f.updatedAt });
      state = { ...state, sentThroughSeq: before > state.sentThroughSeq ? before : state.sentThroughSeq, emailSince: now.toISOString() };
      await this.store.saveEmailDigestState(state);
    }
    if (!digestDue(state, now, this.periodMs)) return state;
    const pending = await this.store.filterMatches(f.id, { afterSeq: state.sentThroughSeq, newestFirst: false, limit: this.maxDigestRows + 1 });
    if (pending.length === 0) return state;
    const more = pending.length > this.maxDigestRows;
    const matches: FilterMatch[] = more ? pending.slice(0, this.maxDigestRows) : pending;
    const owner = await ownerOf(f);
    const to = owner?.email ?? null;
    let failure: unknown = null;
    if (to === null) {
      failure = new SendError(`filter ${f.id} has no owner with an email address (user ${f.ownerId})`, true, null);
    } else {
      const email = digestEmail({
        filter: { id: f.id, name: f.name },
        to,
        matches,
        previousSentAt: state.lastSentAt,
        publicUrl: this.publicUrl,
        maxBodyRows: this.maxBodyRows,
        periodHours: Math.round((this.periodMs / 3_600_000) * 100) / 100,
        more,
      });
      failure = await this.trySend(email);
    }
    if (failure !== null) {
      state = this.failed(state, failure, now);
      await this.store.saveEmailDigestState(state);
      this.metrics?.emailFailures.inc({ kind: 'digest', reason: isPermanent(failure) ? 'permanent' : 'temporary' });
      report.failed.push({ filterId: f.id, kind: 'digest', to, objects: matches.length, error: state.lastError ?? '' });
      this.log.warn('digest email failed; retrying later', { filterId: f.id, to, objects: matches.length, failures: state.failures, retryAt: state.retryAt, error: state.lastError });
      return state;
    }
    const last = matches[matches.length - 1] as FilterMatch;
    state = { ...state, sentThroughSeq: last.seq, lastSentAt: now.toISOString(), failures: 0, retryAt: null };
    await this.store.saveEmailDigestState(state);
    this.metrics?.emailsSent.inc({ kind: 'digest' });
    this.metrics?.emailObjects.inc({}, matches.length);
    report.sent.push({ filterId: f.id, kind: 'digest', to, objects: matches.length });
    this.log.info('digest email sent', { filterId: f.id, to, objects: matches.length, throughSeq: last.seq });
    return state;
  }

  private async filterError(
    f: StoredFilter,
    stored: EmailDigestState | null,
    pending: PendingFilterError,
    now: Date,
    ownerOf: (f: StoredFilter) => Promise<StoredUser | null>,
    report: PassReport,
  ): Promise<void> {
    if (!filterErrorDue(stored, now, this.periodMs)) {
      // The owner heard about this filter within the period: these failures go unmailed.
      this.filterErrors.delete(f.id);
      return;
    }
    if (now.getTime() < pending.retryAt) return;
    const to = (await ownerOf(f))?.email ?? null;
    if (to === null) {
      this.filterErrors.delete(f.id);
      this.log.warn('filter fails on new data; its owner has no email address', { filterId: f.id, error: pending.error });
      return;
    }
    const email = filterErrorEmail({
      filter: { id: f.id, name: f.name },
      to,
      error: pending.error,
      firstAt: pending.firstAt,
      lastAt: pending.lastAt,
      batches: pending.batches,
      publicUrl: this.publicUrl,
      periodHours: Math.round((this.periodMs / 3_600_000) * 100) / 100,
    });
    const failure = await this.trySend(email);
    const state = stored ?? blankState(f.id);
    if (failure !== null) {
      pending.failures++;
      pending.retryAt = now.getTime() + retryDelayMs(pending.failures, isPermanent(failure), this.retry);
      await this.store.saveEmailDigestState({ ...state, lastError: errorText(failure), lastErrorAt: now.toISOString() });
      this.metrics?.emailFailures.inc({ kind: 'filter_error', reason: isPermanent(failure) ? 'permanent' : 'temporary' });
      report.failed.push({ filterId: f.id, kind: 'filter_error', to, objects: 0, error: errorText(failure) });
      this.log.warn('filter-error email failed; retrying later', { filterId: f.id, to, error: errorText(failure) });
      return;
    }
    this.filterErrors.delete(f.id);
    await this.store.saveEmailDigestState({ ...state, filterErrorSentAt: now.toISOString() });
    this.metrics?.emailsSent.inc({ kind: 'filter_error' });
    report.sent.push({ filterId: f.id, kind: 'filter_error', to, objects: 0 });
    this.log.info('filter-error email sent', { filterId: f.id, to, batches: pending.batches });
  }

  /** Sends; the error if it failed, else null. */
  private async trySend(email: OutgoingEmail): Promise<unknown> {
    try {
      await this.mailer.send(email);
      return null;
    } catch (error) {
      return error;
    }
  }

  private failed(state: EmailDigestState, error: unknown, now: Date): EmailDigestState {
    const failures = state.failures + 1;
    const retryAt = new Date(now.getTime() + retryDelayMs(failures, isPermanent(error), this.retry)).toISOString();
    return { ...state, failures, lastError: errorText(error), lastErrorAt: now.toISOString(), retryAt };
  }
}

function isPermanent(error: unknown): boolean {
  return error instanceof SendError && error.permanent;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
