// /api/v1/counters: the pipeline's counters per night and the signed-in user's filters' counters,
// plus the broker's live state when the web app runs inside the broker.
import { userOf, type ApiContext } from './api-context.ts';
import { ApiError } from './api-errors.ts';
import { authErrors, errorSchema, type ApiRoute, type JsonSchema } from './api-route.ts';

const night: JsonSchema = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a UTC date, YYYY-MM-DD (inclusive)' };

/** Live figures from the broker's metrics (absent when the web app runs without a broker). */
function live(ctx: ApiContext): Record<string, unknown> | null {
  if (ctx.metrics === undefined) return null;
  const m = ctx.metrics;
  const health = ctx.health?.();
  return {
    // Counted per raw topic.
    alertsIn: (health?.topics ?? []).reduce((sum, topic) => sum + m.alertsIn.value({ topic }), 0),
    alertsProcessed: m.alertsProcessed.value(),
    batches: m.batches.value(),
    alertsPerSecond: m.alertsPerSecond.value(),
    ...(health === undefined ? {} : { status: health.status, lastBatchAt: health.lastBatchAt, startedAt: health.startedAt, topics: health.topics }),
  };
}

export function counterRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/counters',
      tag: 'streams',
      summary: 'Stream counters: the pipeline per night, your filters per night',
      schema: { querystring: { type: 'object', properties: { from: night, to: night } } },
      responses: {
        200: {
          description: 'counters, oldest night first',
          schema: {
            type: 'object',
            properties: {
              pipeline: { type: 'array', items: { type: 'object', properties: { night: { type: 'string' }, alertsIn: { type: 'integer' }, processed: { type: 'integer' }, deadLetters: { type: 'integer' }, batches: { type: 'integer' } } } },
              filters: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, counters: { type: 'array', items: { type: 'object', properties: { night: { type: 'string' }, matched: { type: 'integer' }, records: { type: 'integer' }, bytes: { type: 'integer' }, dropped: { type: 'integer' } } } } } } },
              live: { type: ['object', 'null'], description: 'the running broker\'s totals since it started, and its status' },
            },
          },
        },
        400: { description: 'a bad date', schema: errorSchema },
        ...authErrors(),
      },
      handler: async (request) => {
        const user = userOf(request);
        const { from, to } = request.query as { from?: string; to?: string };
        for (const d of [from, to]) if (d !== undefined && Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw new ApiError(400, `${d} is not a date`);
        const range = { ...(from === undefined ? {} : { fromNight: from }), ...(to === undefined ? {} : { toNight: to }) };
        const pipeline = await ctx.store.pipelineCounters(range);
        const own = await ctx.store.listFilters({ ownerId: user.id });
        const filters = [];
        for (const f of own) filters.push({ id: f.id, name: f.name, counters: (await ctx.store.filterCounters(f.id, range)).map(({ filterId: _id, ...c }) => c) });
        return { pipeline, filters, live: live(ctx) };
      },
    },
  ];
}
