// The broker's one HTTP server, on 127.0.0.1 only: Prometheus metrics (GET /metrics), health
// (GET /health: 200 while batches flow, 503 while the broker retries a batch, stops or has
// failed), and the filter API (/api/filters, src/service/filter-api.ts) over the broker's own
// store, which only this process may write. With `web`, the web app (src/web/app.ts: pages,
// accounts, /api/v1) is served too, at / instead of the JSON index, and /api/filters then needs
// the admin token.
import Fastify, { type FastifyInstance } from 'fastify';
import { filterApiRoutes } from '../service/filter-api.ts';
import type { Store } from '../store/store.ts';
import { webPlugin, type WebOptions } from '../web/app.ts';
import type { FilterManager } from '../service/types.ts';
import { UserError } from '../util/errors.ts';
import { stringify } from '../util/json.ts';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.ts';
import { renderMetrics, type PipelineMetrics } from './pipeline-metrics.ts';

/** The broker's default HTTP port. */
export const DEFAULT_HTTP_PORT = 18080;

export interface Health {
  status: 'starting' | 'running' | 'retrying' | 'stopping' | 'stopped' | 'failed';
  /** Why the broker is retrying or failed. */
  detail?: string;
  topics: readonly string[];
  groupId: string;
  batches: number;
  messages: number;
  /** ISO time of the last committed batch. */
  lastBatchAt: string | null;
  startedAt: string;
}

export interface BrokerHttpOptions {
  /** 0 picks a free port. */
  port: number;
  metrics: PipelineMetrics;
  health: () => Health;
  /** The filter service, served at /api/filters. */
  filters?: FilterManager;
  /** Required by /api/filters (X-Nightjar-Admin-Token) when set. */
  adminToken?: string;
  /** Serve the web app over this store (needs `filters`). */
  web?: BrokerWebOptions;
}

/** The web app's settings when the broker serves it; the filters, metrics and health are the broker's. */
export interface BrokerWebOptions extends Omit<WebOptions, 'filters' | 'metrics' | 'health' | 'store'> {
  store: Store;
}

export interface BrokerHttp {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function createBrokerApp(options: Omit<BrokerHttpOptions, 'port'>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(renderMetrics(options.metrics)));
  app.get('/health', async (_request, reply) => {
    const health = options.health();
    return reply.code(health.status === 'running' ? 200 : 503).type('application/json; charset=utf-8').send(stringify(health));
  });
  if (options.web === undefined) {
    app.get('/', async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(stringify({
        name: 'nightjar broker',
        endpoints: { metrics: '/metrics', health: '/health', ...(options.filters === undefined ? {} : { filters: '/api/filters' }) },
      })),
    );
  }
  // Registered as a child context: the plugin's serializer and error handler stay on its routes.
  if (options.filters !== undefined) await app.register(filterApiRoutes, { service: options.filters, ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }) });
  if (options.web !== undefined) {
    if (options.filters === undefined) throw new Error('the web app needs the filter service');
    if (options.adminToken === undefined) throw new Error('serving the web app needs an admin token for /api/filters');
    const web: WebOptions = { ...options.web, filters: options.filters, metrics: options.metrics, health: options.health };
    await app.register(webPlugin, web);
  }
  return app;
}

/** Starts the server on 127.0.0.1 (never another interface). */
export async function startBrokerHttp(options: BrokerHttpOptions): Promise<BrokerHttp> {
  const app = await createBrokerApp(options);
  try {
    await app.listen({ host: '127.0.0.1', port: options.port });
  } catch (err) {
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UserError(`port ${options.port} on 127.0.0.1 is in use (another broker running?); give --http-port`);
    }
    throw new Error(`cannot start the broker's HTTP server on 127.0.0.1:${options.port}: ${(err as Error).message}`, { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { url: `http://127.0.0.1:${port}`, port, app, close: () => app.close() };
}
