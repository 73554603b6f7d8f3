// The filter service over HTTP, as a Fastify plugin (register it without a prefix):
//   GET    /api/filters[?owner=EMAIL|ID]  → {"filters": [FilterView, ...]}
//   GET    /api/filters/:id               → ShowResult (filter, output label, stream, counters)
//   POST   /api/filters                   NewFilter → 201 SaveResult
//   PUT    /api/filters/:id               FilterChanges → SaveResult
//   DELETE /api/filters/:id               → RemoveResult
//   POST   /api/filters/validate          FilterDraft → {"valid": bool, "errors": [FilterProblem, ...]}
// Shapes are those of src/service/types.ts. Bodies are JSON, checked against the schemas below
// (unknown fields are refused, so a misspelt "selct" is an error, not ignored). Responses are
// written with src/util/json.ts, so 64-bit ids (diaObjectId in a backfill's rows) are exact
// digits. Errors: {"error": code, "message": text, ...}:
//   400 invalid-filter  + "errors": [{part, offset, message}, ...] (a bad filter, or a body
//                       field of the wrong type); 400 bad-request (a malformed request)
//   404 not-found + "filterId"    409 topic-taken + "topic", "filterId", "filterName"    500 error
// The plugin sets its own error handler and serializer, which apply to its routes only.
//
// Admin token: when the broker also serves the web app, this API (which acts for any owner) must
// not be open to web users, so the broker gives it a random admin token, written to a file only
// its own user can read (<store>.admin-token, mode 0600); every request must then carry it in the
// X-Nightjar-Admin-Token header (401 otherwise). `nightjar filter` reads the file. A PostgreSQL
// store has no folder beside it: the token then stays in the broker process (the API is closed
// to everyone else), and `nightjar filter --store <url>` works on the store directly instead —
// whoever can reach the database can change filters there anyway, so no secret is kept in it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STREAM_OUTPUTS } from '../delivery/output-modes.ts';
import { UserError } from '../util/errors.ts';
import { stringify } from '../util/json.ts';
import { FilterNotFoundError, FilterServiceError, TopicTakenError } from './errors.ts';
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH } from './filter-validation.ts';
import type { FilterChanges, FilterDraft, FilterField, FilterManager, FilterProblem, NewFilter } from './types.ts';

export interface FilterApiOptions {
  service: FilterManager;
  /** When set, every request must carry it in the X-Nightjar-Admin-Token header. */
  adminToken?: string;
}

export const ADMIN_TOKEN_HEADER = 'x-nightjar-admin-token';

/** Where the broker keeps the admin token of the filter API for a store file. */
export function adminTokenPath(storePath: string): string {
  return `${storePath}.admin-token`;
}

/** A fresh admin token. */
export function newAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the token readable by this user only (0600), replacing an older one. */
export function writeAdminToken(file: string, token: string): void {
  rmSync(file, { force: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
}

export function removeAdminToken(file: string): void {
  rmSync(file, { force: true });
}

/** The token in the file, or undefined when there is no such file. */
export function readAdminToken(file: string): string | undefined {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? undefined : token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const UNAUTHORIZED_MESSAGE =
  `this API needs the broker's admin token in the ${ADMIN_TOKEN_HEADER} header (with a store file the broker writes it next to it: <store>.admin-token; ` +
  'with a PostgreSQL store there is none: `nightjar filter --store <its URL>` works on the store directly)';

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The body of an error answer. */
export interface ApiErrorBody {
  error: 'invalid-filter' | 'bad-request' | 'not-found' | 'topic-taken' | 'unauthorized' | 'error';
  message: string;
  errors?: FilterProblem[];
  topic?: string;
  /** The filter not found, or the one that has the topic. */
  filterId?: number;
  filterName?: string;
}

const FIELDS: readonly FilterField[] = ['select', 'where', 'tables', 'name', 'description', 'owner', 'output', 'public', 'active'];

const settingsProperties = {
  name: { type: 'string', maxLength: MAX_NAME_LENGTH },
  description: { type: 'string', maxLength: MAX_DESCRIPTION_LENGTH },
  select: { type: 'string' },
  where: { type: 'string' },
  tables: { type: 'array', items: { type: 'string' }, maxItems: 100 },
  public: { type: 'boolean' },
  output: { type: 'string', enum: [...STREAM_OUTPUTS] },
  active: { type: 'boolean' },
} as const;

function objectSchema(properties: Record<string, unknown>, required: string[]): Record<string, unknown> {
  // propertyNames rather than additionalProperties: false, which Fastify's Ajv setup (removeAdditional) would silently strip.
  return { type: 'object', properties, required, propertyNames: { enum: Object.keys(properties) } };
}

// owner: an email or a user id; a JSON number is taken as its digits (Fastify's Ajv coerces it to a string).
const newFilterSchema = objectSchema({ owner: { type: 'string', minLength: 1 }, ...settingsProperties }, ['owner', 'name', 'select']);
const changesSchema = objectSchema(settingsProperties, []);
const draftSchema = objectSchema({ select: settingsProperties.select, where: settingsProperties.where, tables: settingsProperties.tables, name: settingsProperties.name, output: settingsProperties.output }, ['select']);
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } }, required: ['id'] };
const listQuery = { type: 'object', properties: { owner: { type: 'string', minLength: 1 } } };

function isField(name: string): name is FilterField {
  return (FIELDS as readonly string[]).includes(name);
}

/** Fields of a request body that no schema property names (refused by propertyNames). */
function unknownFields(error: FastifyError): string[] {
  return (error.validation ?? []).filter((item) => item.keyword === 'propertyNames').map((item) => String(item.params.propertyName));
}

/** Fastify's schema errors as filter problems when each names a field; undefined otherwise. */
function schemaProblems(error: FastifyError): FilterProblem[] | undefined {
  if (error.validationContext !== 'body' || error.validation === undefined) return undefined;
  const problems: FilterProblem[] = [];
  for (const item of error.validation) {
    const path = item.instancePath.split('/');
    const top = path[1] ?? (typeof item.params.missingProperty === 'string' ? item.params.missingProperty : '');
    if (!isField(top)) return undefined;
    const message = item.instancePath === '' ? `${top} is missing` : `${path.slice(1).join('.')} ${item.message ?? 'is not valid'}`;
    // For an item of the tables list, the offset is its index, as the filter compiler gives it.
    problems.push({ part: top, offset: top === 'tables' && path[2] !== undefined ? Number(path[2]) : 0, message });
  }
  return problems.length > 0 ? problems : undefined;
}

function sendError(error: FastifyError | Error, _request: FastifyRequest, reply: FastifyReply): void {
  let status: number;
  let body: ApiErrorBody;
  const fastifyError = error as FastifyError;
  if (error instanceof FilterServiceError) {
    status = error.status;
    body = { error: error.code, message: error.message };
    if ('problems' in error) body.errors = [...(error as { problems: FilterProblem[] }).problems];
    if (error instanceof TopicTakenError) {
      body.topic = error.topic;
      body.filterId = error.otherFilterId;
      body.filterName = error.otherName;
    }
    if (error instanceof FilterNotFoundError) body.filterId = error.filterId;
  } else if (fastifyError.validation !== undefined) {
    status = 400;
    const unknown = unknownFields(fastifyError);
    const problems = unknown.length > 0 ? undefined : schemaProblems(fastifyError);
    if (unknown.length > 0) body = { error: 'bad-request', message: `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((f) => `"${f}"`).join(', ')} in the request body` };
    else body = problems === undefined ? { error: 'bad-request', message: error.message } : { error: 'invalid-filter', message: error.message, errors: problems };
  } else if (error instanceof UserError || (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500)) {
    status = fastifyError.statusCode !== undefined && fastifyError.statusCode < 500 ? fastifyError.statusCode : 400;
    body = { error: 'bad-request', message: error.message };
  } else {
    status = 500;
    body = { error: 'error', message: error.message };
  }
  void reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Registers the filter routes (see the file comment) on a Fastify instance or plugin context. */
export async function filterApiRoutes(app: FastifyInstance, options: FilterApiOptions): Promise<void> {
  const { service } = options;
  app.setReplySerializer((payload) => stringify(payload));
  app.setErrorHandler(sendError);
  const adminToken = options.adminToken;
  if (adminToken !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      const given = request.headers[ADMIN_TOKEN_HEADER];
      if (typeof given === 'string' && sameToken(given, adminToken)) return;
      const body: ApiErrorBody = { error: 'unauthorized', message: UNAUTHORIZED_MESSAGE };
      return reply.code(401).type('application/json; charset=utf-8').send(body);
    });
  }

  app.get<{ Querystring: { owner?: string } }>('/api/filters', { schema: { querystring: listQuery } }, async (request) => {
    const owner = request.query.owner;
    return { filters: await service.list(owner === undefined ? {} : { owner }) };
  });

  app.post<{ Body: FilterDraft }>('/api/filters/validate', { schema: { body: draftSchema } }, async (request) => {
    const errors = await service.validate(request.body);
    return { valid: errors.length === 0, errors };
  });

  app.get<{ Params: { id: string } }>('/api/filters/:id', { schema: { params: idParams } }, async (request) => service.show(Number(request.params.id)));

  app.post<{ Body: NewFilter }>('/api/filters', { schema: { body: newFilterSchema } }, async (request, reply) => {
    const result = await service.add(request.body);
    return reply.code(201).send(result);
  });

  app.put<{ Params: { id: string }; Body: FilterChanges }>('/api/filters/:id', { schema: { params: idParams, body: changesSchema } }, async (request) =>
    service.update(Number(request.params.id), request.body),
  );

  app.delete<{ Params: { id: string } }>('/api/filters/:id', { schema: { params: idParams } }, async (request) => service.remove(Number(request.params.id)));
}
