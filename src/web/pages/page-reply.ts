// Helpers every page route uses: the page context of a request, and sending a rendered page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import '../auth/request-user.ts';
import { html, type SafeHtml } from './html.ts';
import { renderPage, type Page, type PageContext } from './layout.ts';

export function pageContext(request: FastifyRequest): PageContext {
  const path = request.url.split('?')[0] ?? '/';
  return { user: request.user, csrfToken: request.csrfToken, path };
}

export function sendPage(request: FastifyRequest, reply: FastifyReply, page: Page, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderPage(pageContext(request), page));
}

/** A page that says something went wrong (not found, forbidden), with a way back. */
export function sendMessagePage(request: FastifyRequest, reply: FastifyReply, status: number, title: string, message: SafeHtml | string): FastifyReply {
  return sendPage(request, reply, {
    title,
    body: html`<section class="message-page"><h1>${title}</h1><p>${message}</p><p><a href="/filters">Filters</a> · <a href="/gallery">Gallery</a> · <a href="/objects">Objects</a></p></section>`,
  }, status);
}
