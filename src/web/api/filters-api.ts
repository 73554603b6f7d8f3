// /api/v1/filters: the signed-in user's filters through the filter service (so saving a Kafka
// filter resets and backfills its stream exactly as `nightjar filter` does), public filters to
// read, and the builder's validate and run.
import { STREAM_OUTPUTS } from '../../delivery/output-modes.ts';
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH } from '../../service/filter-validation.ts';
import type { FilterChanges, FilterDraft, FilterView, NewFilter, ShowResult } from '../../service/types.ts';
import type { StoredFilter, StoredUser } from '../../store/store.ts';
import { userOf, type ApiContext } from './api-context.ts';
import { ApiError } from './api-errors.ts';
import { authErrors, errorSchema, objectSchema, type ApiRoute, type JsonSchema } from './api-route.ts';
import { MAX_SQL_LENGTH } from '../input-limits.ts';
import { runDraft } from './object-queries.ts';

export const MAX_RUN_ROWS = 1000;

const text = (description: string, maxLength?: number): JsonSchema => ({ type: 'string', description, ...(maxLength === undefined ? {} : { maxLength }) });

export const filterSettings: Record<string, JsonSchema> = {
  name: text('the filter\'s name; also names its Kafka topic', MAX_NAME_LENGTH),
  description: text('what the filter is for', MAX_DESCRIPTION_LENGTH),
  select: text(`the SELECT box, e.g. "diaObjectId, ra, decl, alertMag" (at most ${MAX_SQL_LENGTH} characters)`, MAX_SQL_LENGTH),
  where: text(`the WHERE box, e.g. "alertMag < 19 AND nSources > 3"; empty: every object (at most ${MAX_SQL_LENGTH} characters)`, MAX_SQL_LENGTH),
  tables: { type: 'array', items: { type: 'string' }, maxItems: 100, description: 'extra tables to join (the objects table is always read)' },
  public: { type: 'boolean', description: 'whether other users can see (and copy) it; default false' },
  output: { type: 'string', enum: [...STREAM_OUTPUTS], description: 'what happens to matches: none, email (daily digest), kafka (plain), kafka-lite (lite lightcurve), kafka-full (full alert), kafka-avro (Avro, fink-client)' },
  active: { type: 'boolean', description: 'whether it runs on incoming alerts; default true' },
};

const draftProperties: Record<string, JsonSchema> = {
  select: filterSettings.select as JsonSchema,
  where: filterSettings.where as JsonSchema,
  tables: filterSettings.tables as JsonSchema,
  name: filterSettings.name as JsonSchema,
  output: filterSettings.output as JsonSchema,
};
const limitProperty: JsonSchema = { type: 'integer', minimum: 1, maximum: MAX_RUN_ROWS, default: 100, description: `rows returned at most (1-${MAX_RUN_ROWS})` };

const idParams: JsonSchema = { type: 'object', properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647, description: 'filter id' } }, required: ['id'] };

const problemSchema: JsonSchema = {
  type: 'object',
  properties: {
    part: { type: 'string', description: 'select, where, tables, or a setting (name, output, ...)' },
    offset: { type: 'integer', description: 'position in that box\'s text (UTF-16 code units), or the index in tables' },
    message: { type: 'string' },
  },
  required: ['part', 'offset', 'message'],
};
const problemsError: JsonSchema = { type: 'object', properties: { error: { type: 'string' }, problems: { type: 'array', items: problemSchema } }, required: ['error', 'problems'] };

const filterSchema: JsonSchema = {
  type: 'object',
  description: 'a stored filter',
  properties: {
    id: { type: 'integer' }, ownerId: { type: 'integer' }, ownerEmail: { type: ['string', 'null'], description: 'only on your own filters' },
    name: { type: 'string' }, description: { type: 'string' }, select: { type: 'string' }, where: { type: 'string' }, tables: { type: 'array', items: { type: 'string' } },
    public: { type: 'boolean' }, output: { type: 'string', enum: [...STREAM_OUTPUTS] }, active: { type: 'boolean' },
    topic: { type: ['string', 'null'], description: 'its Kafka topic, for a Kafka output' }, createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
  },
};
const saveSchema: JsonSchema = {
  type: 'object',
  properties: {
    filter: filterSchema,
    stream: { type: ['object', 'null'], description: 'for a Kafka filter whose stream was emptied and refilled: topic, deleted, records (at most 10 put in), bytes, dropped, rows, warning' },
    deletedTopic: { type: ['string', 'null'] },
  },
};
const rowsSchema: JsonSchema = {
  type: 'object',
  properties: {
    columns: { type: 'array', items: { type: 'string' } },
    rows: { type: 'array', items: { type: 'object' }, description: 'one object per row, keyed by column; 64-bit ids are bare JSON integers, exact (parse them as big integers)' },
    objects: { type: 'array', items: { type: 'object', properties: { survey: { type: 'string' }, objectKind: { type: 'string' }, objectId: { type: 'string' } } }, description: 'the object of each row, for /api/v1/objects/{survey}/{objectId}' },
    truncated: { type: 'boolean', description: 'more rows matched than the limit' },
    elapsedMs: { type: 'number' },
  },
  required: ['columns', 'rows', 'truncated', 'elapsedMs'],
};

/** A filter as another user may see it: without its owner's email. */
function forViewer<T extends FilterView | StoredFilter>(filter: T, user: StoredUser): T {
  return filter.ownerId === user.id || !('ownerEmail' in filter) ? filter : { ...filter, ownerEmail: null };
}

/** The stored filter if the user may read it (own or public); 404 otherwise, so private filters are not revealed. */
async function readable(ctx: ApiContext, user: StoredUser, id: number): Promise<StoredFilter> {
  const filter = await ctx.store.getFilter(id);
  if (filter === null || (filter.ownerId !== user.id && !filter.public)) throw new ApiError(404, `there is no filter ${id}`, { filterId: id });
  return filter;
}

async function writable(ctx: ApiContext, user: StoredUser, id: number): Promise<StoredFilter> {
  const filter = await readable(ctx, user, id);
  if (filter.ownerId !== user.id) throw new ApiError(403, `filter ${id} belongs to another user: copy it into a new filter of your own instead`, { filterId: id });
  return filter;
}

export function filterRoutes(ctx: ApiContext): ApiRoute[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/filters',
      tag: 'filters',
      summary: 'Your filters',
      responses: { 200: { description: 'your filters, by id', schema: { type: 'object', properties: { filters: { type: 'array', items: filterSchema } } } }, ...authErrors() },
      handler: async (request) => ({ filters: await ctx.filters.list({ owner: userOf(request).id }) }),
    },
    {
      method: 'GET',
      url: '/api/v1/filters/public',
      tag: 'filters',
      summary: 'Public filters (everyone\'s)',
      responses: { 200: { description: 'every public filter, by id', schema: { type: 'object', properties: { filters: { type: 'array', items: filterSchema } } } }, ...authErrors() },
      handler: async (request) => {
        const user = userOf(request);
        const filters = (await ctx.filters.list()).filter((f) => f.public);
        return { filters: filters.map((f) => forViewer(f, user)) };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/filters',
      tag: 'filters',
      summary: 'Create a filter',
      description: 'Saves a filter owned by you. A Kafka filter gets its topic, emptied, with up to 10 records from the stored objects put in at once (see "stream" in the answer).',
      schema: { body: objectSchema(filterSettings, ['name', 'select']) },
      status: 201,
      responses: { 201: { description: 'saved', schema: saveSchema }, 400: { description: 'the filter has problems (each with its box and position)', schema: problemsError }, 409: { description: 'another filter already writes to the topic this name gives', schema: errorSchema }, ...authErrors() },
      handler: async (request) => {
        const body = request.body as Omit<NewFilter, 'owner'>;
        return ctx.filters.add({ ...body, owner: userOf(request).id });
      },
    },
    {
      method: 'POST',
      url: '/api/v1/filters/validate',
      tag: 'builder',
      summary: 'Check a filter draft',
      description: 'The problems of a draft (SELECT, WHERE, tables; name and output when given), each with the box and the position in it, as the builder shows them inline.',
      schema: { body: objectSchema(draftProperties, ['select']) },
      responses: { 200: { description: 'valid, or its problems', schema: { type: 'object', properties: { valid: { type: 'boolean' }, problems: { type: 'array', items: problemSchema } } } }, ...authErrors() },
      handler: async (request) => {
        const problems = await ctx.filters.validate(request.body as FilterDraft);
        return { valid: problems.length === 0, problems };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/filters/run',
      tag: 'builder',
      summary: 'Run a filter draft over the stored objects',
      description: 'What the builder\'s "Run" does: the draft runs over every stored object (newest alert first), with a row limit and a time limit. A draft with problems answers 400 with them.',
      schema: { body: objectSchema({ ...draftProperties, limit: limitProperty }, ['select']) },
      responses: { 200: { description: 'the rows', schema: rowsSchema }, 400: { description: 'the draft has problems, or the query ran past its time limit', schema: problemsError }, ...authErrors() },
      handler: async (request) => {
        userOf(request);
        const { limit, ...draft } = request.body as FilterDraft & { limit?: number };
        const outcome = await runDraft(ctx.store, ctx.validator, draft, limit ?? 100, ctx.limits);
        if (outcome.problems !== undefined) throw new ApiError(400, problemsMessage(outcome.problems.length), { problems: outcome.problems });
        return outcome.run;
      },
    },
    {
      method: 'GET',
      url: '/api/v1/filters/:id',
      tag: 'filters',
      summary: 'A filter with its stream and counters',
      description: 'Your filter, or a public one. Counters are per night (UTC dates).',
      schema: { params: idParams },
      responses: { 200: { description: 'the filter, its output label, its Kafka stream (topic, records retained) and counters', schema: { type: 'object', properties: { filter: filterSchema, outputLabel: { type: 'string' }, stream: { type: ['object', 'null'] }, counters: { type: 'array', items: { type: 'object' } }, totals: { type: 'object' } } } }, 404: { description: 'no such filter (or a private filter of another user)', schema: errorSchema }, ...authErrors() },
      handler: async (request) => {
        const user = userOf(request);
        const { id } = request.params as { id: number };
        await readable(ctx, user, id);
        const shown: ShowResult = await ctx.filters.show(id);
        return { ...shown, filter: forViewer(shown.filter, user) };
      },
    },
    {
      method: 'PUT',
      url: '/api/v1/filters/:id',
      tag: 'filters',
      summary: 'Change your filter',
      description: 'The fields given replace the stored ones. A change to the name, SELECT, WHERE, tables or output of a Kafka filter empties its stream and puts up to 10 records back.',
      schema: { params: idParams, body: objectSchema(filterSettings) },
      responses: { 200: { description: 'saved', schema: saveSchema }, 400: { description: 'the filter has problems', schema: problemsError }, 404: { description: 'no such filter', schema: errorSchema }, 409: { description: 'topic taken', schema: errorSchema }, ...authErrors(), 403: { description: 'not your filter, or no CSRF token with the session cookie', schema: errorSchema } },
      handler: async (request) => {
        const { id } = request.params as { id: number };
        await writable(ctx, userOf(request), id);
        return ctx.filters.update(id, request.body as FilterChanges);
      },
    },
    {
      method: 'DELETE',
      url: '/api/v1/filters/:id',
      tag: 'filters',
      summary: 'Delete your filter (and its Kafka topic)',
      schema: { params: idParams },
      responses: { 200: { description: 'deleted', schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, topic: { type: ['string', 'null'] }, topicDeleted: { type: 'boolean' }, warning: { type: 'string' } } } }, 404: { description: 'no such filter', schema: errorSchema }, ...authErrors(), 403: { description: 'not your filter, or no CSRF token with the session cookie', schema: errorSchema } },
      handler: async (request) => {
        const { id } = request.params as { id: number };
        await writable(ctx, userOf(request), id);
        return ctx.filters.remove(id);
      },
    },
  ];
}

export function problemsMessage(count: number): string {
  return `the filter has ${count === 1 ? 'a problem' : `${count} problems`}`;
}

export { limitProperty, draftProperties, rowsSchema, problemsError };
