// GET /filters/:id/live: a filter's new matches as server-sent events while its page is open.
// The store is polled with afterSeq (contract A: seq only grows), so each match is sent once,
// in order; a reconnecting browser sends Last-Event-ID (the last seq it got) and misses nothing.
// Events: "match" (one MatchData as JSON, id = seq), "gone" (the filter was deleted).
import type { FastifyInstance } from 'fastify';
import { sleep } from '../../util/sleep.ts';
import { matchData } from '../pages/match-table.ts';
import { filterIdParam, visibleFilter, type PageServices } from '../pages/page-services.ts';
import { SseStreams } from './sse.ts';

export interface LiveOptions {
  /** How often the store is asked for new matches (default 1000 ms). */
  pollMs?: number;
  /** A heartbeat comment after this long without an event (default 15 s). */
  heartbeatMs?: number;
}

/** Matches sent per poll at most; a backlog drains over the next polls. */
const BATCH = 200;

function seqFrom(text: string | undefined): bigint {
  return text !== undefined && /^\d{1,30}$/.test(text) ? BigInt(text) : 0n;
}

export async function liveRoutes(app: FastifyInstance, services: PageServices, options: LiveOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new SseStreams();
  app.addHook('preClose', async () => {
    streams.endAll();
  });

  app.get('/filters/:id/live', async (request, reply) => {
    const id = filterIdParam((request.params as Record<string, string>).id);
    const filter = await visibleFilter(services, request, id);
    if (filter === null) return reply.code(404).send({ error: 'no such filter, or it is private' });
    const query = request.query as Record<string, string | undefined>;
    const lastEventId = request.headers['last-event-id'];
    let after = seqFrom(typeof lastEventId === 'string' ? lastEventId : query.after);
    const stream = streams.start(reply);
    const stop = new AbortController();
    void stream.done.then(() => stop.abort());
    let quietSince = Date.now();
    stream.send('ready', JSON.stringify({ after: after.toString() }));
    while (!stream.closed) {
      try {
        const fresh = await services.options.store.filterMatches(filter.id, { afterSeq: after, newestFirst: false, limit: BATCH });
        for (const match of fresh) {
          stream.send('match', JSON.stringify(matchData(match)), match.seq.toString());
          if (match.seq > after) after = match.seq;
        }
        if (fresh.length > 0) quietSince = Date.now();
        else if (Date.now() - quietSince >= heartbeatMs) {
          stream.comment('still here');
          quietSince = Date.now();
          if ((await services.options.store.getFilter(filter.id)) === null) {
            stream.send('gone', '{}');
            stream.end();
            break;
          }
        }
        if (fresh.length === BATCH) continue;
      } catch (error) {
        // The store is closing or failed: tell the browser to retry later rather than spin.
        request.log.warn({ err: error, filterId: filter.id }, 'live matches: reading the store failed');
        stream.end();
        break;
      }
      await sleep(pollMs, stop.signal).catch(() => undefined);
    }
  });
}
