// The web app's protective headers, through @fastify/helmet: a strict Content-Security-Policy
// (scripts and styles only from this site's /static files, no inline script or event handler,
// no framing, forms posting to this site only), HSTS when the app is reached over https,
// X-Content-Type-Options, Referrer-Policy, and Cache-Control: no-store on every answer made for
// a signed-in user (pages, API, live events), so a shared computer's cache keeps nothing private.
import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { bandColour } from '../client/plot-model.ts';
import './auth/request-user.ts';

/** CSP hash source of a style attribute's exact text. */
export function styleHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The only inline style attributes allowed, by hash: the object page's detections table
 * (src/web/pages/object-view.ts, another module's markup) writes a band's colour and the table's
 * height inline. Every other page uses classes of nightjar.css.
 */
export function allowedStyleAttributes(): string[] {
  const colours = new Set(['u', 'g', 'r', 'i', 'z', 'y', 'other'].map((band) => bandColour(band)));
  return [...[...colours].map((c) => `background:${c}`), 'max-height: 28rem'];
}

export function contentSecurityPolicy(): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'style-src-attr': ["'unsafe-hashes'", ...allowedStyleAttributes().map(styleHash)],
    // data: for cutout images written into the page; blob: for images a script makes.
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

export interface SecurityHeaderOptions {
  /** Served behind https (the public URL is https://...): send HSTS. */
  https: boolean;
}

/** Installs the headers on the web app's context (register webPlugin without fastify-plugin: the broker's /metrics is left alone). */
export async function securityHeaders(app: FastifyInstance, options: SecurityHeaderOptions): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy() },
    strictTransportSecurity: options.https ? { maxAge: 365 * 86_400, includeSubDomains: false } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    xContentTypeOptions: true,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.user !== null && !request.url.startsWith('/static/')) reply.header('cache-control', 'no-store');
  });
}
