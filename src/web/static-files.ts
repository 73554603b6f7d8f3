// The web app's static files (CSS, scripts, icons) from src/web/public, under /static/. Only
// plain file names of that folder are served (no sub-paths, no dot files), with a content type
// from a short list and an ETag so browsers revalidate cheaply.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function staticFiles(app: FastifyInstance, options: { dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? PUBLIC_DIR;
  app.get<{ Params: { name: string } }>('/static/:name', async (request, reply) => {
    const name = request.params.name;
    const type = TYPES[path.extname(name).toLowerCase()];
    if (!NAME.test(name) || name.includes('..') || type === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    const file = path.join(dir, name);
    let info;
    try {
      info = await stat(file);
    } catch {
      return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    }
    if (!info.isFile()) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(type).send(await readFile(file));
  });
}
