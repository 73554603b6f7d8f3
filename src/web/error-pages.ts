// What the web app answers when a page route fails: a 4xx says what was wrong; anything else is
// a 500 page with an error id, never a stack trace or the error's text (which may quote SQL, a
// path or a secret). The full error goes to the log under the same id, with secrets masked.
import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { createLogger } from '../util/log.ts';
import { isApiPath } from './auth/require-user.ts';
import { sendMessagePage } from './pages/page-reply.ts';
import { logPath, redactSecrets } from './redact.ts';

const log = createLogger({ component: 'web' });

/** A short id that ties an error answer to its log line. */
export function newErrorId(): string {
  return randomBytes(6).toString('hex');
}

/** Logs an unexpected error under a new id (message and stack redacted) and returns the id. */
export function logInternalError(request: { method: string; url: string }, error: Error): string {
  const errorId = newErrorId();
  log.error('web request failed', {
    errorId,
    method: request.method,
    path: logPath(request.url),
    error: redactSecrets(error.message),
    stack: redactSecrets((error.stack ?? '').split('\n').slice(1, 8).join('\n')),
  });
  return errorId;
}

function json(reply: FastifyReply, status: number, body: Record<string, unknown>): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/** Whether the client asked for JSON (the builder's fetches) rather than a page. */
function wantsJson(request: FastifyRequest): boolean {
  return isApiPath(request.url) || (request.headers['content-type'] ?? '').includes('json') || (request.headers.accept ?? '').includes('application/json');
}

export function pageErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const message = fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? `the request body is over the limit of ${request.routeOptions.bodyLimit ?? 0} bytes`
      : fastifyError.validation !== undefined || fastifyError.code?.startsWith('FST_ERR_CTP') === true ? `the request is not valid: ${error.message}` : error.message;
    if (status === 429 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '60');
    if (wantsJson(request)) return json(reply, status, { error: message });
    return sendMessagePage(request, reply, status, status === 413 ? 'Too large' : 'Not done', message);
  }
  const errorId = logInternalError(request, error);
  if (wantsJson(request)) return json(reply, 500, { error: `internal error; it was logged on the server with id ${errorId}`, errorId });
  return sendMessagePage(request, reply, 500, 'Something went wrong', `The server could not answer this request. It was logged with the id ${errorId}: give it if you report the problem.`);
}
