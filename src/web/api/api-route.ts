// One REST route, declared once: Fastify registers it (api-plugin.ts) and the OpenAPI document
// (src/web/openapi.ts) is written from the same declaration, so the two cannot disagree.
import type { FastifyReply, FastifyRequest } from 'fastify';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A JSON Schema (draft 2020-12 subset that Fastify's Ajv and OpenAPI 3.1 both read). */
export type JsonSchema = Record<string, unknown>;

export interface ApiResponseDoc {
  description: string;
  schema?: JsonSchema;
}

export interface ApiRoute {
  method: HttpMethod;
  /** Full path in Fastify's form, e.g. /api/v1/filters/:id. */
  url: string;
  summary: string;
  description?: string;
  tag: string;
  /** Whether a signed-in user (session or API token) is required; default true. */
  auth?: boolean;
  /** Validated by Fastify before the handler runs. */
  schema?: { params?: JsonSchema; querystring?: JsonSchema; body?: JsonSchema };
  /** Documented only (not used to serialise: responses are written by src/util/json.ts). */
  responses: Record<number, ApiResponseDoc>;
  /** Status of a successful answer (default 200). */
  status?: number;
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Shorthand for an object schema whose unknown properties are refused (propertyNames: Fastify's Ajv would silently strip them under additionalProperties: false). */
export function objectSchema(properties: Record<string, JsonSchema>, required: string[] = [], description?: string): JsonSchema {
  return { type: 'object', properties, required, propertyNames: { enum: Object.keys(properties) }, ...(description === undefined ? {} : { description }) };
}

/** The {error, ...} body of every failed answer. */
export const errorSchema: JsonSchema = {
  type: 'object',
  properties: { error: { type: 'string', description: 'what went wrong, for a person to read' } },
  required: ['error'],
  additionalProperties: true,
};

/** The error answers every authenticated route may give. */
export function authErrors(): Record<number, ApiResponseDoc> {
  return {
    401: { description: 'not signed in: no session cookie or Authorization: Bearer <API token>, or the token is not valid', schema: errorSchema },
    403: { description: 'a write with the session cookie but without the CSRF token', schema: errorSchema },
    429: { description: 'too many requests: wait the Retry-After seconds', schema: errorSchema },
  };
}
