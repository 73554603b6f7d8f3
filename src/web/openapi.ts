// The OpenAPI 3.1 document of the REST API, written from the route declarations themselves
// (src/web/api/*-api.ts), so every route and its parameters appear exactly as Fastify checks them.
import type { ApiRoute, JsonSchema } from './api/api-route.ts';

export const API_VERSION = '1.0.0';

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

/** /api/v1/filters/:id → /api/v1/filters/{id} */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: JsonSchema | undefined, where: 'path' | 'query'): OpenApiParameter[] {
  if (schema === undefined) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: where, required: where === 'path' || required.has(name), ...(typeof description === 'string' ? { description } : {}), schema: rest };
  });
}

/** The document; `serverUrl` is where the API is reached (the web app's public URL). */
export function openApiDocument(routes: readonly ApiRoute[], serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(route.responses)) {
      responses[status] = { description: doc.description, ...(doc.schema === undefined ? {} : { content: { 'application/json': { schema: doc.schema } } }) };
    }
    const operation: Record<string, unknown> = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').split('/').filter((p) => p !== '' && p !== 'api' && p !== 'v1').map((p) => p[0]?.toUpperCase() + p.slice(1)).join('')}`,
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      tags: [route.tag],
      parameters: [...parameters(route.schema?.params, 'path'), ...parameters(route.schema?.querystring, 'query')],
      ...(route.schema?.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: route.schema.body } } } }),
      responses,
      security: route.auth === false ? [] : [{ bearerToken: [] }, { sessionCookie: [] }],
    };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nightjar API',
      version: API_VERSION,
      description:
        'The REST API of a Nightjar alert broker: query the stored objects in the filter language, read an object with its lightcurve, cone search, manage your filters, read the stream counters. ' +
        'Authenticate with an API token (create one on your account page): Authorization: Bearer <token>. Browsers use the session cookie, and then writes need the page\'s CSRF token in X-CSRF-Token. ' +
        '64-bit ids (diaObjectId, diaSourceId, candid) are bare JSON integers beyond 2^53: read them with a parser that keeps big integers exact. Errors are {"error": message, ...}.',
    },
    ...(serverUrl === undefined ? {} : { servers: [{ url: serverUrl }] }),
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'an API token from your account page' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'nightjar_session', description: 'the browser session (writes also need the X-CSRF-Token header)' },
      },
    },
  };
}
