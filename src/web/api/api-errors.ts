// Every failed API answer is JSON {"error": message, ...details} with the status that fits:
// 400 bad input (malformed JSON, schema, filter problems), 401, 403, 404, 409, 413, 415, 429,
// 500 (an error id that is in the server's log: never a stack trace, SQL or the error's text). Installed on the API's own context.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FilterServiceError, FilterValidationError, TopicTakenError } from '../../service/errors.ts';
import { StoreQueryError } from '../../store/errors.ts';
import { UserError } from '../../util/errors.ts';
import { stringify } from '../../util/json.ts';
import { logInternalError } from '../error-pages.ts';

/** An error meant for the API caller, with its status and extra fields for the body. */
export class ApiError extends Error {
  readonly status: number;
  readonly details: Record<string, unknown>;
  constructor(status: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(stringify(body));
}

/** Fastify's schema errors as a list of {where, message}. */
function validationDetails(error: FastifyError): { in: string; path: string; message: string }[] {
  // A refused property name is reported twice by Ajv (the enum under propertyNames, then propertyNames itself): keep the second.
  const items = (error.validation ?? []).filter((item) => !item.schemaPath.includes('/propertyNames/'));
  return items.map((item) => ({
    in: error.validationContext ?? 'request',
    path: item.instancePath === '' ? (typeof item.params.missingProperty === 'string' ? `/${item.params.missingProperty}` : '/') : item.instancePath,
    message: item.keyword === 'propertyNames' ? `unknown field "${String(item.params.propertyName)}"` : (item.message ?? 'is not valid'),
  }));
}

export function apiErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const fastifyError = error as FastifyError;
  if (error instanceof ApiError) return sendJson(reply, error.status, { error: error.message, ...error.details });
  if (error instanceof FilterValidationError) return sendJson(reply, 400, { error: error.message, problems: error.problems });
  if (error instanceof TopicTakenError) return sendJson(reply, 409, { error: error.message, topic: error.topic });
  if (error instanceof FilterServiceError) return sendJson(reply, error.status, { error: error.message });
  if (error instanceof StoreQueryError) {
    if (error.kind === 'error') {
      const errorId = logInternalError(request, error);
      return sendJson(reply, 500, { error: `the query failed in the store; it was logged on the server with id ${errorId}`, kind: error.kind, errorId });
    }
    const message = error.kind === 'timeout' ? 'the query was stopped at its time limit: make the WHERE condition more selective' : 'the query was refused';
    return sendJson(reply, 400, { error: message, kind: error.kind });
  }
  if (fastifyError.validation !== undefined) {
    const details = validationDetails(fastifyError);
    const first = details[0];
    return sendJson(reply, 400, { error: first === undefined ? 'the request is not valid' : `${first.in} ${first.path}: ${first.message}`, validation: details });
  }
  const status = fastifyError.statusCode;
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendJson(reply, 415, { error: `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send JSON (Content-Type: application/json)` });
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendJson(reply, 413, { error: `the request body is over the limit of ${request.routeOptions.bodyLimit ?? 0} bytes` });
  if (status === 429) {
    return sendJson(reply, 429, { error: error.message });
  }
  if (status !== undefined && status >= 400 && status < 500) return sendJson(reply, status, { error: error.message });
  if (error instanceof UserError) return sendJson(reply, 400, { error: error.message });
  const errorId = logInternalError(request, error);
  return sendJson(reply, 500, { error: `internal error; it was logged on the server with id ${errorId}`, errorId });
}
