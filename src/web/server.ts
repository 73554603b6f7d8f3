// The web app on its own HTTP server (for `nightjar web` without a broker; the broker mounts
// webPlugin on its own server instead). Listens on 127.0.0.1 only.
import Fastify, { type FastifyInstance } from 'fastify';
import { UserError } from '../util/errors.ts';
import { webPlugin, type WebOptions } from './app.ts';

export interface WebServer {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startWebServer(options: { port: number; web: WebOptions }): Promise<WebServer> {
  const app = Fastify({ logger: false });
  try {
    await app.register(webPlugin, options.web);
    await app.listen({ host: '127.0.0.1', port: options.port });
  } catch (err) {
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UserError(`port ${options.port} on 127.0.0.1 is in use (a broker or another web app running?); give --port`);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { url: `http://127.0.0.1:${port}`, port, app, close: () => app.close() };
}
