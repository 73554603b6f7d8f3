// The web app (contract B): accounts and sessions, the REST API under /api/v1 with its OpenAPI
// document, the pages and the static files — one Fastify plugin, mounted by the broker's HTTP
// server (src/pipeline/http-server.ts) or by `nightjar web`. Register it without fastify-plugin
// (app.register(webPlugin, options)): its hooks (auth, CSRF) then apply to its own routes only,
// not to the broker's /metrics and /health beside it.
//
// Security (docs/api.md, "Security"): failed logins throttled per account and per address,
// CSRF tokens on every write made with the session cookie, sessions with an absolute and an idle
// expiry that rotate on login and password change, strict headers (security-headers.ts), error
// answers with an id instead of details (error-pages.ts), secrets masked in logs (redact.ts),
// and size limits on bodies, query strings, SQL and result sets (input-limits.ts).
import fastifyCookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { catalog } from '../features/columns.ts';
import type { KafkaAccess } from '../kafka/access.ts';
import type { Health } from '../pipeline/http-server.ts';
import type { PipelineMetrics } from '../pipeline/pipeline-metrics.ts';
import { FilterValidator } from '../service/filter-validation.ts';
import type { FilterManager } from '../service/types.ts';
import type { Store } from '../store/store.ts';
import { createLogger } from '../util/log.ts';
import { apiPlugin } from './api/api-plugin.ts';
import type { ApiContext } from './api/api-context.ts';
import { installAuth } from './auth/auth-plugin.ts';
import './auth/request-user.ts';
import { randomSecret } from './auth/secrets.ts';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from './auth/login-throttle.ts';
import { isApiPath } from './auth/require-user.ts';
import { DEFAULT_SESSION_DAYS, DEFAULT_SESSION_IDLE_HOURS, type SessionSettings } from './auth/sessions.ts';
import { pageErrorHandler } from './error-pages.ts';
import { MAX_QUERY_STRING, queryStringProblem } from './input-limits.ts';
import { accountRoutes } from './pages/account-routes.ts';
import { pageRoutes } from './pages/index.ts';
import { sendMessagePage } from './pages/page-reply.ts';
import { securityHeaders } from './security-headers.ts';
import { staticFiles } from './static-files.ts';

export interface WebLimits {
  /** API requests per user (or per IP when anonymous) per window. */
  apiRequests: number;
  apiWindowMs: number;
  /** Failed logins allowed per account (the email typed) before a lock-out. */
  loginFailuresPerAccount: number;
  /** Failed logins allowed per client address before a lock-out. */
  loginFailuresPerAddress: number;
  /** The first lock-out, ms; it doubles with each further failure, up to loginLockMaxMs. */
  loginLockMs: number;
  loginLockMaxMs: number;
  /** Sign-ups per client address per window. */
  signupAttempts: number;
  signupWindowMs: number;
  /** Largest request body (API, forms, the builder's JSON), bytes. */
  apiBodyBytes: number;
  /** Largest query string, bytes. */
  queryStringBytes: number;
  /** Rows a query or a builder run returns at most. */
  queryRows: number;
  /** Time allowed to a query or a builder run, ms. */
  queryTimeMs: number;
  /** Absolute lifetime of a session. */
  sessionDays: number;
  /** A session unused this long ends. */
  sessionIdleMs: number;
}

export const DEFAULT_WEB_LIMITS: WebLimits = {
  apiRequests: 300,
  apiWindowMs: 60_000,
  loginFailuresPerAccount: DEFAULT_LOGIN_THROTTLE.accountFree,
  loginFailuresPerAddress: DEFAULT_LOGIN_THROTTLE.addressFree,
  loginLockMs: DEFAULT_LOGIN_THROTTLE.lockMs,
  loginLockMaxMs: DEFAULT_LOGIN_THROTTLE.maxLockMs,
  signupAttempts: 20,
  signupWindowMs: 60 * 60_000,
  apiBodyBytes: 256 * 1024,
  queryStringBytes: MAX_QUERY_STRING,
  queryRows: 1000,
  queryTimeMs: 10_000,
  sessionDays: DEFAULT_SESSION_DAYS,
  sessionIdleMs: DEFAULT_SESSION_IDLE_HOURS * 3_600_000,
};

export interface WebOptions {
  store: Store;
  filters: FilterManager;
  metrics?: PipelineMetrics;
  health?: () => Health;
  /** The address users reach the app at (links in emails), e.g. https://broker.example.org. https makes cookies Secure. */
  publicUrl?: string;
  /** The clock, for tests. */
  now?: () => Date;
  /** Limits other than the defaults (tests, small deployments). */
  limits?: Partial<WebLimits>;
  /** The accounts' Kafka credentials on a secure Kafka (src/kafka/access.ts); null or absent: the streams are open. */
  access?: KafkaAccess | null;
}

/** The name of the store setting that holds the cookie-signing secret. */
export const COOKIE_SECRET_SETTING = 'web.cookieSecret';
const SESSION_SWEEP_MS = 60 * 60_000;
const log = createLogger({ component: 'web' });

export async function webPlugin(app: FastifyInstance, options: WebOptions): Promise<void> {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  const limits: WebLimits = { ...DEFAULT_WEB_LIMITS, ...options.limits };
  // One secret per store, so every host serving the same store accepts the same cookies.
  const secret = await store.settingOrInit(COOKIE_SECRET_SETTING, randomSecret(32));
  const https = options.publicUrl?.startsWith('https://') ?? false;
  // Every route of the app reads at most this much body (the API sets the same per route).
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= limits.apiBodyBytes;
  });
  app.setErrorHandler(pageErrorHandler);
  await securityHeaders(app, { https });
  // A long query string is refused before anything else looks at it.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const problem = queryStringProblem(request.url, limits.queryStringBytes);
    if (problem === null) return;
    if (isApiPath(request.url)) return reply.code(400).type('application/json; charset=utf-8').send(JSON.stringify({ error: problem }));
    request.user = null;
    request.csrfToken = '';
    return sendMessagePage(request, reply, 400, 'Address too long', `This address is too long: ${problem}.`);
  });
  await app.register(fastifyCookie, { secret });
  await app.register(formbody, { bodyLimit: limits.apiBodyBytes });

  const sessions: SessionSettings = { store, now, secure: https, sessionDays: limits.sessionDays, idleMs: limits.sessionIdleMs };
  installAuth(app, { ...sessions, secret });
  const throttle = new LoginThrottle({
    accountFree: limits.loginFailuresPerAccount,
    addressFree: limits.loginFailuresPerAddress,
    lockMs: limits.loginLockMs,
    maxLockMs: limits.loginLockMaxMs,
    forgetMs: DEFAULT_LOGIN_THROTTLE.forgetMs,
  }, () => now().getTime());

  const validator = new FilterValidator(catalog());
  const sweep = setInterval(() => {
    store.deleteExpiredSessions(now().toISOString()).catch((error: unknown) => log.warn('cannot delete expired sessions', { error: (error as Error).message }));
  }, SESSION_SWEEP_MS);
  sweep.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await validator.close();
  });

  const context: ApiContext = {
    store,
    filters: options.filters,
    validator,
    limits: { maxRows: limits.queryRows, timeLimitMs: limits.queryTimeMs },
    now,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.health === undefined ? {} : { health: options.health }),
  };
  await app.register(apiPlugin, {
    prefix: '/api',
    context,
    rateLimit: { max: limits.apiRequests, windowMs: limits.apiWindowMs },
    bodyLimit: limits.apiBodyBytes,
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
  });
  await app.register(accountRoutes, {
    sessions,
    throttle,
    signupLimit: { max: limits.signupAttempts, windowMs: limits.signupWindowMs },
    baseUrl: options.publicUrl ?? '',
    access: options.access ?? null,
  });
  await app.register(staticFiles);
  await app.register(pageRoutes, options);
}
