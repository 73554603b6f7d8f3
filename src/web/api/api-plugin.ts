// The REST API as one Fastify plugin, registered with the prefix /api: the routes of the
// *-api.ts modules under /api/v1, the OpenAPI document at /api/openapi.json, JSON errors
// (api-errors.ts), per-user rate limits (by user when signed in, else by IP) answered with 429
// and Retry-After, a body size limit, and JSON bodies only (anything else is 415).
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireUser } from '../auth/require-user.ts';
import { openApiDocument } from '../openapi.ts';
import { accountRoutes } from './account-api.ts';
import type { ApiContext } from './api-context.ts';
import { apiErrorHandler, sendJson } from './api-errors.ts';
import type { ApiRoute } from './api-route.ts';
import { counterRoutes } from './counters-api.ts';
import { filterRoutes } from './filters-api.ts';
import { objectRoutes } from './objects-api.ts';

export const API_PREFIX = '/api';

export interface ApiRateLimit {
  /** Requests allowed per window and key (user, or IP when anonymous). */
  max: number;
  windowMs: number;
}

export interface ApiPluginOptions {
  context: ApiContext;
  rateLimit: ApiRateLimit;
  /** Largest request body, bytes. */
  bodyLimit: number;
  publicUrl?: string;
}

/** Every route of the API, in documentation order. */
export function apiRoutes(context: ApiContext): ApiRoute[] {
  return [...accountRoutes(context), ...objectRoutes(context), ...filterRoutes(context), ...counterRoutes(context)];
}

/** The rate-limit key: the user when signed in, else the client's address. */
export function rateLimitKey(request: FastifyRequest): string {
  return request.user === null ? `ip:${request.ip}` : `user:${request.user.id}`;
}

export async function apiPlugin(app: FastifyInstance, options: ApiPluginOptions): Promise<void> {
  const routes = apiRoutes(options.context);
  // JSON only: the web app's form parser (and Fastify's text/plain one) stay with the pages.
  for (const type of ['application/x-www-form-urlencoded', 'text/plain']) if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  app.setErrorHandler(apiErrorHandler);
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => sendJson(reply, 404, { error: `no API route ${request.method} ${request.url.split('?')[0]}; see /api/openapi.json` }));
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.windowMs,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) => Object.assign(new Error(`too many requests: at most ${context.max} per ${Math.round(options.rateLimit.windowMs / 1000)} s; retry in ${context.after}`), { statusCode: context.statusCode }),
  });

  const document = openApiDocument(routes, options.publicUrl);
  app.get('/openapi.json', async (_request, reply) => sendJson(reply, 200, document));

  for (const route of routes) {
    if (!route.url.startsWith(`${API_PREFIX}/`)) throw new Error(`API route ${route.url} is not under ${API_PREFIX}`);
    app.route({
      method: route.method,
      url: route.url.slice(API_PREFIX.length),
      bodyLimit: options.bodyLimit,
      ...(route.schema === undefined ? {} : { schema: route.schema }),
      // onRequest, not preHandler: an anonymous call is answered 401 before its body is even read or checked.
      ...(route.auth === false ? {} : { onRequest: requireUser }),
      handler: async (request, reply) => {
        const result = await route.handler(request, reply);
        if (reply.sent) return reply;
        return sendJson(reply, route.status ?? 200, result);
      },
    });
  }
}
