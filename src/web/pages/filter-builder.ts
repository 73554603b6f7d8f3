// The filter builder's routes: /filters/new (blank, or ?from=<id> to copy a filter into your
// own), /filters/:id/edit, and their Save posts, which go through the filter service and come
// back to the filter page with what happened to the stream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STREAM_OUTPUTS, isKafkaOutput, type StreamOutput } from '../../delivery/output-modes.ts';
import { FilterServiceError, FilterValidationError } from '../../service/errors.ts';
import type { FilterProblem, SaveResult } from '../../service/types.ts';
import { requireUser } from '../auth/require-user.ts';
import { logInternalError } from '../error-pages.ts';
import { sqlLengthProblems } from '../input-limits.ts';
import { builderBody, type BuilderState } from './builder-view.ts';
import type { Flash } from './flash.ts';
import { filterIdParam, isOwner, visibleFilter, type PageServices } from './page-services.ts';
import { sendMessagePage, sendPage } from './page-reply.ts';

const DEFAULT_SELECT = 'objectId, ra, decl, alertMjd, alertBand, alertMag';
const DEFAULT_WHERE = 'nSources >= 3\nAND alertMag < 21';

interface SaveForm {
  select: string;
  where: string;
  name: string;
  description: string;
  public: boolean;
  output: StreamOutput;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The builder form as posted (application/x-www-form-urlencoded); unknown outputs fall back to none and are reported by the service. */
function readForm(body: unknown): SaveForm {
  const b = (body ?? {}) as Record<string, unknown>;
  const output = text(b.output);
  return {
    select: text(b.select),
    where: text(b.where),
    name: text(b.name),
    description: text(b.description),
    public: b.public === 'on' || b.public === 'true',
    output: (STREAM_OUTPUTS as readonly string[]).includes(output) ? (output as StreamOutput) : 'none',
  };
}

/** What the filter page says after a save, from the service's SaveResult. */
export function saveFlash(result: SaveResult, created: boolean): Flash {
  const lines = [created ? `Filter "${result.filter.name}" saved.` : `Filter "${result.filter.name}" updated.`];
  let kind: Flash['kind'] = 'ok';
  const stream = result.stream;
  if (stream !== null) {
    const moved = stream.previousTopic === null ? '' : ` (renamed from ${stream.previousTopic}, which was deleted)`;
    lines.push(`Its stream ${stream.topic}${moved} was reset: ${stream.deleted === 1 ? '1 old record was' : `${stream.deleted} old records were`} deleted and ${stream.records === 1 ? '1 record was' : `${stream.records} records were`} put in it from the stored objects.`);
    if (stream.dropped > 0) lines.push(`${stream.dropped} records were over the size limit and not put in.`);
    if (stream.failed > 0) lines.push(`${stream.failed} records could not be encoded${stream.firstFailure === undefined ? '' : `: ${stream.firstFailure}`}.`);
    if (stream.warning !== undefined) {
      lines.push(stream.warning);
      kind = 'warn';
    }
  }
  if (result.deletedTopic !== null) lines.push(`It no longer writes to Kafka: its topic ${result.deletedTopic} was deleted.`);
  return { kind, lines };
}

function state(services: PageServices, request: FastifyRequest, fields: SaveForm, extra: Partial<BuilderState> & Pick<BuilderState, 'action' | 'heading' | 'filterId'>): BuilderState {
  return {
    ...fields,
    problems: [],
    signedIn: request.user !== null,
    csrfToken: request.csrfToken,
    path: request.url,
    reference: services.reference,
    ...extra,
  };
}

function sendBuilder(request: FastifyRequest, reply: FastifyReply, s: BuilderState, status = 200): FastifyReply {
  return sendPage(request, reply, { title: s.heading, body: builderBody(s), scripts: ['/static/builder.js'] }, status);
}

async function save(services: PageServices, request: FastifyRequest, reply: FastifyReply, id: number | null): Promise<FastifyReply> {
  const form = readForm(request.body);
  const user = request.user;
  if (user === null) return reply.redirect('/login', 303);
  const heading = id === null ? 'New filter' : 'Edit filter';
  const action = id === null ? '/filters/new' : `/filters/${id}/edit`;
  const again = (problems: readonly FilterProblem[], status: number, notice?: BuilderState['notice']): FastifyReply =>
    sendBuilder(request, reply, state(services, request, form, { action, heading, filterId: id, problems, notice }), status);
  const tooLong = sqlLengthProblems(form);
  if (tooLong.length > 0) return again(tooLong, 400, { kind: 'bad', text: 'The filter was not saved: it is too long.' });
  try {
    const changes = { name: form.name, description: form.description, select: form.select, where: form.where, public: form.public, output: form.output };
    const result = id === null ? await services.options.filters.add({ owner: user.id, ...changes }) : await services.options.filters.update(id, changes);
    const token = services.flash.put(saveFlash(result, id === null), user.id);
    return reply.redirect(`/filters/${result.filter.id}?saved=${token}`, 303);
  } catch (error) {
    if (error instanceof FilterValidationError) {
      return again(error.problems, 422, { kind: 'bad', text: 'The filter was not saved: see the problems marked below.' });
    }
    if (error instanceof FilterServiceError) return again([{ part: 'name', offset: 0, message: error.message }], error.status, { kind: 'bad', text: error.message });
    const errorId = logInternalError(request, error as Error);
    return again([], 503, { kind: 'bad', text: `The filter was not saved: ${(error as Error).message} (logged with id ${errorId})` });
  }
}

export async function builderRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  app.get('/filters/new', async (request, reply) => {
    const from = filterIdParam((request.query as Record<string, string | undefined>).from);
    const blank: SaveForm = { select: DEFAULT_SELECT, where: DEFAULT_WHERE, name: '', description: '', public: false, output: 'none' };
    if (from === null) return sendBuilder(request, reply, state(services, request, blank, { action: '/filters/new', heading: 'New filter', filterId: null }));
    const source = await visibleFilter(services, request, from);
    if (source === null) return sendMessagePage(request, reply, 404, 'Filter not found', 'There is no such filter, or it is private.');
    const copy: SaveForm = { select: source.select, where: source.where, name: `${source.name} copy`, description: source.description, public: false, output: 'none' };
    return sendBuilder(request, reply, state(services, request, copy, {
      action: '/filters/new',
      heading: 'New filter',
      filterId: null,
      notice: { kind: 'ok', text: `Copied from "${source.name}". Change it as you like and save it as your own filter.` },
    }));
  });

  app.post('/filters/new', { preHandler: requireUser }, async (request, reply) => save(services, request, reply, null));

  app.get('/filters/:id/edit', { preHandler: requireUser }, async (request, reply) => {
    const id = filterIdParam((request.params as Record<string, string>).id);
    const filter = await visibleFilter(services, request, id);
    if (filter === null || !isOwner(request, filter)) return sendMessagePage(request, reply, 404, 'Filter not found', 'There is no such filter among yours.');
    const fields: SaveForm = { select: filter.select, where: filter.where, name: filter.name, description: filter.description, public: filter.public, output: filter.output };
    return sendBuilder(request, reply, state(services, request, fields, {
      action: `/filters/${filter.id}/edit`,
      heading: `Edit ${filter.name}`,
      filterId: filter.id,
      ...(isKafkaOutput(filter.output) ? { notice: { kind: 'warn' as const, text: `Saving changes to the SQL, name or streaming option resets the stream ${filter.topic ?? ''}: its records are deleted and up to 10 new ones put in.` } } : {}),
    }));
  });

  app.post('/filters/:id/edit', { preHandler: requireUser }, async (request, reply) => {
    const id = filterIdParam((request.params as Record<string, string>).id);
    const filter = await visibleFilter(services, request, id);
    if (filter === null || !isOwner(request, filter)) return sendMessagePage(request, reply, 404, 'Filter not found', 'There is no such filter among yours.');
    return save(services, request, reply, filter.id);
  });
}
