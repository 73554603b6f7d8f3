// The filter service's HTTP API (filter-api.ts) as a FilterManager, for the CLI and scripts:
// the same calls and results as the in-process service, and the API's error bodies turned back
// into the same typed errors (FilterValidationError with its problems, FilterNotFoundError,
// TopicTakenError). JSON is read with src/util/json.ts, so 64-bit ids come back as BigInt.
import { UserError } from '../util/errors.ts';
import { parse, stringify } from '../util/json.ts';
import { FilterNotFoundError, FilterValidationError, TopicTakenError } from './errors.ts';
import { ADMIN_TOKEN_HEADER, type ApiErrorBody } from './filter-api.ts';
import type { FilterChanges, FilterDraft, FilterManager, FilterProblem, FilterView, ListOptions, NewFilter, RemoveResult, SaveResult, ShowResult } from './types.ts';

/** Nothing answered at the API's address (connection refused, unknown host): callers may fall back to the store. */
export class ApiUnreachableError extends UserError {
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`no Nightjar API answers at ${url} (${reason})`);
    this.name = 'ApiUnreachableError';
    this.url = url;
  }
}

export interface FilterClientOptions {
  /** Time allowed per request, ms (default 120 s: a save runs the filter over the store and writes to Kafka). */
  timeoutMs?: number;
  /** The broker's admin token (<store>.admin-token), sent with every request; needed when the broker serves the web app. */
  adminToken?: string;
}

/**
 * Connection errors that mean the request never reached a server, so nothing was done and it is
 * safe to do it another way. Not ECONNRESET: the server may have acted on the request.
 */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The first error code in an error's cause chain (undici wraps the socket error; happy eyeballs may aggregate several). */
function causeCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) e = errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** "fetch failed" says nothing: add the underlying reason. */
function reasonOf(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== '' && cause.message !== message ? `${message}: ${cause.message}` : message;
}

export function createFilterClient(baseUrl: string, options: FilterClientOptions = {}): FilterManager {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new UserError(`"${baseUrl}" is not a URL (expected e.g. http://127.0.0.1:18080)`);
  }
  const timeoutMs = options.timeoutMs ?? 120_000;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, base);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(options.adminToken === undefined ? {} : { [ADMIN_TOKEN_HEADER]: options.adminToken }) },
        ...(body === undefined ? {} : { body: stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const code = causeCode(error);
      if (code !== undefined && UNREACHABLE.has(code)) throw new ApiUnreachableError(base.origin, code);
      if ((error as Error).name === 'TimeoutError') throw new UserError(`${method} ${url.href}: no answer within ${timeoutMs / 1000} s`);
      throw new UserError(`${method} ${url.href} failed: ${reasonOf(error)}${code === undefined ? '' : ` (${code})`}`);
    }
    const text = await response.text();
    let value: unknown;
    try {
      value = text === '' ? undefined : parse(text);
    } catch {
      throw new UserError(`${method} ${url.href}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok) throw errorFrom(response.status, value, `${method} ${url.href}`);
    return value as T;
  }

  const id = (n: number): string => encodeURIComponent(String(n));
  return {
    add: (input: NewFilter) => call<SaveResult>('POST', '/api/filters', input),
    update: (filterId: number, changes: FilterChanges) => call<SaveResult>('PUT', `/api/filters/${id(filterId)}`, changes),
    remove: (filterId: number) => call<RemoveResult>('DELETE', `/api/filters/${id(filterId)}`),
    show: (filterId: number) => call<ShowResult>('GET', `/api/filters/${id(filterId)}`),
    list: async (listOptions: ListOptions = {}) => {
      const query = listOptions.owner === undefined ? '' : `?owner=${encodeURIComponent(String(listOptions.owner))}`;
      return (await call<{ filters: FilterView[] }>('GET', `/api/filters${query}`)).filters;
    },
    validate: async (draft: FilterDraft) => (await call<{ valid: boolean; errors: FilterProblem[] }>('POST', '/api/filters/validate', draft)).errors,
  };
}

/** The typed error an API error answer stands for. */
function errorFrom(status: number, value: unknown, what: string): Error {
  const body = (value !== null && typeof value === 'object' ? value : {}) as Partial<ApiErrorBody>;
  const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  if (status === 400 && Array.isArray(body.errors)) return new FilterValidationError(body.errors);
  if (status === 404 && body.error === 'not-found' && typeof body.filterId === 'number') return new FilterNotFoundError(body.filterId);
  if (status === 409 && body.error === 'topic-taken' && typeof body.topic === 'string' && typeof body.filterId === 'number') {
    return new TopicTakenError(body.topic, body.filterId, typeof body.filterName === 'string' ? body.filterName : '');
  }
  return new UserError(`${what}: ${message}${status >= 500 ? ` (HTTP ${status})` : ''}`);
}
