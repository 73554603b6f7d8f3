// The builder's JSON endpoints, called by builder.js: check a draft while it is typed
// (POST /filters/check) and run it over the stored objects with a row and time limit
// (POST /filters/run). Both answer the validator's problems (box, offset, message) when the
// filter is wrong. Ids go to the browser as text so JavaScript keeps them exact.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { findColumn, primaryTable } from '../../filters/catalog.ts';
import { STREAM_OUTPUTS, type StreamOutput } from '../../delivery/output-modes.ts';
import { findStoredMatches } from '../../service/stored-matches.ts';
import type { FilterProblem } from '../../service/types.ts';
import { browserSafe } from './format.ts';
import type { PageServices } from './page-services.ts';
import { columnCountProblem, sqlLengthProblems } from '../input-limits.ts';

export const MAX_RUN_ROWS = 1000;
export const MAX_RUN_MS = 20_000;

interface Draft {
  select: string;
  where: string;
  name?: string;
  output?: StreamOutput;
}

function readDraft(body: unknown): Draft | string {
  if (body === null || typeof body !== 'object') return 'send a JSON object with "select" and "where"';
  const b = body as Record<string, unknown>;
  if (typeof b.select !== 'string') return '"select" must be text';
  if (b.where !== undefined && typeof b.where !== 'string') return '"where" must be text';
  const tooLong = sqlLengthProblems(b)[0];
  if (tooLong !== undefined) return tooLong.message;
  const draft: Draft = { select: b.select, where: typeof b.where === 'string' ? b.where : '' };
  if (typeof b.name === 'string' && b.name.trim() !== '') draft.name = b.name;
  if (typeof b.output === 'string' && (STREAM_OUTPUTS as readonly string[]).includes(b.output)) draft.output = b.output as StreamOutput;
  return draft;
}

/** A limit from the request: a whole number within [1, max], else the default. */
export function clampLimit(value: unknown, fallback: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(n)));
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: message });
}

function problemsReply(reply: FastifyReply, problems: readonly FilterProblem[]): FastifyReply {
  return reply.code(422).send({ problems });
}

export async function builderDataRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  const columns = primaryTable(services.catalog);

  app.post('/filters/check', async (request, reply) => {
    const draft = readDraft(request.body);
    if (typeof draft === 'string') return badRequest(reply, draft);
    const compiled = await services.validator.compile(draft);
    return reply.send({ problems: Array.isArray(compiled) ? compiled : [] });
  });

  app.post('/filters/run', async (request, reply) => {
    const draft = readDraft(request.body);
    if (typeof draft === 'string') return badRequest(reply, draft);
    const body = request.body as Record<string, unknown>;
    const rowLimit = clampLimit(body.rowLimit, 100, MAX_RUN_ROWS);
    const timeLimitMs = clampLimit(body.timeLimitMs, 10_000, MAX_RUN_MS);
    const compiled = await services.validator.compile({ select: draft.select, where: draft.where });
    if (Array.isArray(compiled)) return problemsReply(reply, compiled);
    const tooWide = columnCountProblem(compiled.columns);
    if (tooWide !== null) return problemsReply(reply, [tooWide]);
    const started = performance.now();
    let found;
    try {
      // One row more than asked tells whether there were more.
      found = await findStoredMatches(services.options.store, compiled, rowLimit + 1, timeLimitMs);
    } catch (error) {
      // Time limit, or a value DuckDB refuses at run time (a cast of text, say): the user's to fix.
      return reply.code(422).send({ error: `the filter could not run over the stored objects: ${(error as Error).message}` });
    }
    const matches = found.matches.slice(0, rowLimit);
    return reply.send({
      columns: compiled.columns,
      units: compiled.columns.map((c) => findColumn(columns, c)?.unit ?? null),
      rows: matches.map((m) => compiled.columns.map((c) => browserSafe(m.row[c]))),
      objects: matches.map((m) => ({ survey: m.key.survey, objectId: String(m.key.objectId) })),
      truncated: found.matches.length > rowLimit || found.truncated,
      rowLimit,
      elapsedMs: Math.round(performance.now() - started),
    });
  });
}
