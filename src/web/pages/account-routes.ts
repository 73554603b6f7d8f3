// The account routes: sign up, log in, log out, the account page with its password change, API
// tokens and Kafka credentials. Failed logins are throttled per account and per client address
// (auth/login-throttle.ts: a lock-out that doubles with each further failure; successful logins
// never count), answered with 429, Retry-After and when to try again. Sign-ups are rate limited
// per address.
import rateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientSnippets } from '../../kafka/access-snippets.ts';
import type { KafkaAccess } from '../../kafka/access.ts';
import { isKafkaOutput } from '../../delivery/output-modes.ts';
import { logIn, signUp } from '../auth/accounts.ts';
import { createApiToken } from '../auth/api-tokens.ts';
import { lockMessage, type LoginLock, type LoginThrottle } from '../auth/login-throttle.ts';
import { changePassword } from '../auth/password-change.ts';
import { requireUser } from '../auth/require-user.ts';
import { endSession, startSession, type SessionSettings } from '../auth/sessions.ts';
import { logInternalError } from '../error-pages.ts';
import { formText, safeNext } from './account-forms.ts';
import { sendAccountPage, type AccountView, type KafkaCard } from './account-page.ts';
import { sendLoginPage } from './login-page.ts';
import { sendMessagePage } from './page-reply.ts';
import { sendSignUpPage } from './signup-page.ts';

export interface AccountRoutesOptions {
  sessions: SessionSettings;
  throttle: LoginThrottle;
  /** Sign-ups per client address per window. */
  signupLimit: { max: number; windowMs: number };
  /** The address users reach the app at, for examples. */
  baseUrl: string;
  /** Kafka credentials of accounts; null when the streams are open. */
  access: KafkaAccess | null;
}

function query(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

export async function accountRoutes(app: FastifyInstance, options: AccountRoutesOptions): Promise<void> {
  const { sessions, throttle, access } = options;
  const store = sessions.store;
  await app.register(rateLimit, { global: false });
  const signupThrottle = {
    rateLimit: {
      max: options.signupLimit.max,
      timeWindow: options.signupLimit.windowMs,
      keyGenerator: (request: FastifyRequest) => `signup:${request.ip}`,
      errorResponseBuilder: (_request: FastifyRequest, context: { statusCode: number; after: string }) =>
        Object.assign(new Error(`Too many sign-ups from your address. Wait ${context.after} and try again.`), { statusCode: context.statusCode }),
    },
  };
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error.statusCode === 429) return sendMessagePage(request, reply, 429, 'Too many attempts', error.message);
    throw error;
  });

  function locked(reply: FastifyReply, lock: LoginLock): string {
    const now = sessions.now().getTime();
    reply.header('retry-after', String(Math.max(1, Math.ceil((lock.until - now) / 1000))));
    return lockMessage(lock, now);
  }

  async function kafkaCard(userId: number): Promise<KafkaCard> {
    if (access === null) return { kind: 'open' };
    try {
      const credentials = await access.credentials(userId);
      const topics = (await store.listFilters({ ownerId: userId })).filter((f) => isKafkaOutput(f.output) && f.topic !== null).map((f) => f.topic as string);
      return { kind: 'credentials', credentials, snippets: clientSnippets(credentials, topics), topics };
    } catch (error) {
      const errorId = logInternalError({ method: 'GET', url: '/account' }, error as Error);
      return { kind: 'unavailable', message: `Kafka did not answer (logged with id ${errorId})` };
    }
  }

  async function accountView(request: FastifyRequest, extra: Partial<AccountView> = {}): Promise<AccountView> {
    const user = request.user;
    if (user === null) throw new Error('the account page needs a signed-in user');
    return {
      user,
      tokens: await store.listApiTokens(user.id),
      baseUrl: options.baseUrl === '' ? `${request.protocol}://${request.host}` : options.baseUrl,
      kafka: extra.kafka ?? (await kafkaCard(user.id)),
      password: {},
      ...extra,
    };
  }

  app.get('/signup', async (request, reply) => {
    if (request.user !== null) return reply.redirect(safeNext(query(request, 'next')), 303);
    return sendSignUpPage(request, reply, { next: query(request, 'next') ?? '/filters' });
  });

  app.post('/signup', { config: signupThrottle }, async (request, reply) => {
    const input = { email: formText(request.body, 'email'), name: formText(request.body, 'name'), password: formText(request.body, 'password') };
    const next = formText(request.body, 'next');
    const result = await signUp(store, input);
    if (result.problems !== undefined) return sendSignUpPage(request, reply, { email: input.email, name: input.name, next }, result.problems, 400);
    await startSession(request, reply, result.user.id, sessions);
    return reply.redirect(safeNext(next), 303);
  });

  app.get('/login', async (request, reply) => {
    if (request.user !== null) return reply.redirect(safeNext(query(request, 'next')), 303);
    return sendLoginPage(request, reply, { next: query(request, 'next') ?? '/filters' });
  });

  app.post('/login', async (request, reply) => {
    const email = formText(request.body, 'email');
    const next = formText(request.body, 'next');
    // Refused before the password is even hashed: a locked account costs the server nothing.
    const lock = throttle.check(email, request.ip);
    if (lock !== null) return sendLoginPage(request, reply, { email, next, error: locked(reply, lock) }, 429);
    const user = await logIn(store, email, formText(request.body, 'password'));
    if (user === null) {
      throttle.failed(email, request.ip);
      const now = throttle.check(email, request.ip);
      return sendLoginPage(request, reply, { email, next, error: now === null ? 'Wrong email or password.' : `Wrong email or password. ${locked(reply, now)}` }, now === null ? 401 : 429);
    }
    throttle.succeeded(email);
    await startSession(request, reply, user.id, sessions);
    return reply.redirect(safeNext(next), 303);
  });

  app.post('/logout', async (request, reply) => {
    await endSession(request, reply, sessions);
    return reply.redirect('/', 303);
  });

  app.get('/account', { preHandler: requireUser }, async (request, reply) => {
    const changed = query(request, 'changed') === 'password';
    return sendAccountPage(request, reply, await accountView(request, changed ? { notice: { kind: 'ok', text: 'Your password was changed. Every other session of your account was signed out.' } } : {}));
  });

  app.post('/account/password', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user;
    if (user === null) return reply;
    // A wrong current password counts as a failed login for the account: no guessing through this form.
    const lock = throttle.check(user.email, request.ip);
    if (lock !== null) return sendAccountPage(request, reply, await accountView(request, { notice: { kind: 'bad', text: locked(reply, lock) } }), 429);
    const result = await changePassword(store, user, formText(request.body, 'current'), formText(request.body, 'password'));
    if (!result.ok) {
      if (result.wrongCurrent) throttle.failed(user.email, request.ip);
      const view = await accountView(request, { password: { errors: { [result.field]: result.message } }, notice: { kind: 'bad', text: 'Your password was not changed.' } });
      return sendAccountPage(request, reply, view, 400);
    }
    // Every session of the account ended with the change; this browser gets a new one.
    await startSession(request, reply, user.id, sessions);
    return reply.redirect('/account?changed=password', 303);
  });

  app.post('/account/tokens', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user;
    if (user === null) return reply;
    const name = formText(request.body, 'name').trim();
    if (name === '') return sendAccountPage(request, reply, await accountView(request, { notice: { kind: 'bad', text: 'Give the new token a name.' } }), 400);
    const created = await createApiToken(store, user.id, name);
    return sendAccountPage(request, reply, await accountView(request, { created: { token: created.token, name: created.stored.name } }));
  });

  app.post<{ Params: { id: string } }>('/account/tokens/:id/revoke', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user;
    if (user === null) return reply;
    const id = /^\d{1,9}$/.test(request.params.id) ? Number(request.params.id) : NaN;
    const revoked = Number.isSafeInteger(id) && (await store.revokeApiToken(user.id, id, sessions.now().toISOString()));
    const notice = revoked ? { kind: 'ok' as const, text: 'The token was revoked: it no longer works.' } : { kind: 'bad' as const, text: 'You have no such token (or it was already revoked).' };
    return sendAccountPage(request, reply, await accountView(request, { notice }), revoked ? 200 : 404);
  });

  app.post('/account/kafka/rotate', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user;
    if (user === null) return reply;
    if (access === null) return sendAccountPage(request, reply, await accountView(request, { notice: { kind: 'bad', text: 'This broker\'s Kafka streams are open: there is no Kafka password to change.' } }), 404);
    const credentials = await access.rotatePassword(user.id);
    const topics = (await store.listFilters({ ownerId: user.id })).filter((f) => isKafkaOutput(f.output) && f.topic !== null).map((f) => f.topic as string);
    const kafka: KafkaCard = { kind: 'credentials', credentials, snippets: clientSnippets(credentials, topics), topics };
    return sendAccountPage(request, reply, await accountView(request, { kafka, notice: { kind: 'ok', text: 'Your Kafka password was changed: the old one no longer works. Give the new one to your clients.' } }));
  });
}
