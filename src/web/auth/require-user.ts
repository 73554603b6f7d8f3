// A preHandler for routes that need a signed-in user: pages send the browser to the login page
// (coming back afterwards), the API answers 401 with a JSON error.
import type { FastifyReply, FastifyRequest } from 'fastify';
import './request-user.ts';

/** True for the JSON API's routes (they never redirect). */
export function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/');
}

export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.user !== null) return;
  if (isApiPath(request.url)) {
    await reply.code(401).header('www-authenticate', 'Bearer').type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: 'sign in or send an API token (Authorization: Bearer <token>)' }));
    return;
  }
  await reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
}
