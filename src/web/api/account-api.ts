// /api/v1/me and /api/v1/tokens: who you are, and your API tokens (created, listed, revoked).
import { createApiToken, MAX_TOKEN_NAME_LENGTH } from '../auth/api-tokens.ts';
import { userOf, type ApiContext } from './api-context.ts';
import { ApiError } from './api-errors.ts';
import { authErrors, errorSchema, objectSchema, type ApiRoute, type JsonSchema } from './api-route.ts';

const tokenSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, name: { type: 'string' }, prefix: { type: 'string', description: 'the token\'s first characters' },
    createdAt: { type: 'string', format: 'date-time' }, lastUsedAt: { type: ['string', 'null'], format: 'date-time' }, revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

export function accountRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/me',
      tag: 'account',
      summary: 'Who you are signed in as',
      responses: { 200: { description: 'your account', schema: { type: 'object', properties: { id: { type: 'integer' }, email: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string' }, auth: { type: 'string', enum: ['session', 'token'] } } } }, ...authErrors() },
      handler: async (request) => {
        const user = userOf(request);
        return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt, auth: request.authMethod };
      },
    },
    {
      method: 'GET',
      url: '/api/v1/tokens',
      tag: 'account',
      summary: 'Your API tokens (never the secrets)',
      responses: { 200: { description: 'newest first, revoked ones included', schema: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } } }, ...authErrors() },
      handler: async (request) => {
        const tokens = await ctx.store.listApiTokens(userOf(request).id);
        return { tokens: tokens.map(({ userId: _userId, ...rest }) => rest) };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/tokens',
      tag: 'account',
      summary: 'Create an API token',
      description: 'The answer holds the token: keep it, it is not shown again. Send it as Authorization: Bearer <token>.',
      schema: { body: objectSchema({ name: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_NAME_LENGTH, description: 'a label, e.g. "laptop"' } }, ['name']) },
      status: 201,
      responses: { 201: { description: 'created', schema: { type: 'object', properties: { token: { type: 'string' }, ...((tokenSchema.properties ?? {}) as Record<string, unknown>) } } }, ...authErrors() },
      handler: async (request) => {
        const { name } = request.body as { name: string };
        if (name.trim() === '') throw new ApiError(400, 'give the token a name');
        const created = await createApiToken(ctx.store, userOf(request).id, name);
        const { userId: _userId, ...stored } = created.stored;
        return { token: created.token, ...stored };
      },
    },
    {
      method: 'DELETE',
      url: '/api/v1/tokens/:id',
      tag: 'account',
      summary: 'Revoke an API token',
      schema: { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } }, required: ['id'] } },
      responses: { 200: { description: 'revoked', schema: { type: 'object', properties: { id: { type: 'integer' }, revoked: { type: 'boolean' } } } }, 404: { description: 'you have no such token (or it was revoked already)', schema: errorSchema }, ...authErrors() },
      handler: async (request) => {
        const { id } = request.params as { id: number };
        const revoked = await ctx.store.revokeApiToken(userOf(request).id, id, ctx.now().toISOString());
        if (!revoked) throw new ApiError(404, `you have no API token ${id} that is not revoked`, { tokenId: id });
        return { id, revoked: true };
      },
    },
  ];
}
