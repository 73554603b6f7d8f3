// Nightjar's schema registry as an HTTP server on loopback: the Confluent REST subset of
// registry-routes.ts over a RegistryStore.
import Fastify, { type FastifyInstance } from 'fastify';
import { registryRoutes, sendRegistryNotFound } from './registry-routes.ts';
import type { RegistryStore } from './registry-store.ts';

/** Confluent's usual registry port, Nightjar's default. */
export const DEFAULT_REGISTRY_PORT = 18081;

/** Schemas are JSON texts of up to a few hundred kB (Rubin's full alert schema is ~70 kB). */
const BODY_LIMIT = 16 * 1024 * 1024;

/** A Fastify app serving the registry (not listening: use inject, or startRegistryServer). */
export async function createRegistryApp(store: RegistryStore): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
  app.setNotFoundHandler(sendRegistryNotFound);
  await app.register(registryRoutes, { store });
  return app;
}

export interface RunningRegistry {
  /** e.g. http://127.0.0.1:18081 */
  readonly url: string;
  readonly port: number;
  readonly store: RegistryStore;
  close(): Promise<void>;
}

export interface StartRegistryOptions {
  readonly store: RegistryStore;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
}

/** Starts the registry on 127.0.0.1 (never another interface). */
export async function startRegistryServer(options: StartRegistryOptions): Promise<RunningRegistry> {
  const app = await createRegistryApp(options.store);
  try {
    await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${options.port} is in use` : (err as Error).message;
    throw new Error(`cannot start the schema registry on 127.0.0.1:${options.port ?? 0}: ${why}`, { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  return { url: `http://127.0.0.1:${port}`, port, store: options.store, close: () => app.close() };
}
