// The Confluent schema registry REST subset that alert producers and consumers use, as a
// Fastify plugin:
//   GET  /schemas/ids/{id}                       → {"schema": "<text>"}
//   GET  /subjects                               → ["subject", ...]
//   GET  /subjects/{subject}/versions            → [1, 2, ...]
//   GET  /subjects/{subject}/versions/{version}  → {"subject", "version", "id", "schema"} (version: n, latest or -1)
//   POST /subjects/{subject}/versions            {"schema": "<text>"} → {"id": n}
//   POST /subjects/{subject}                     {"schema": "<text>"} → the version holding it (lookup)
// Errors are Confluent's bodies, {"error_code": 40403, "message": "..."}, which its clients parse.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REGISTRY_ERROR, RegistryError } from './registry-errors.ts';
import type { RegistryStore } from './registry-store.ts';

export interface RegistryRoutesOptions {
  readonly store: RegistryStore;
}

/** The content type Confluent's registry answers with (and its clients send). */
export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const JSON_TYPES = ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/octet-stream'];

function parseId(text: string): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw new RegistryError(REGISTRY_ERROR.schemaNotFound, `Schema ${text} not found`);
  return id;
}

function parseVersion(text: string): number | 'latest' {
  if (text === 'latest' || text === '-1') return 'latest';
  const version = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(version) || version < 1 || version > 0x7fffffff) {
    throw new RegistryError(REGISTRY_ERROR.invalidVersion, `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
  }
  return version;
}

function schemaFromBody(body: unknown): string {
  const b = body as { schema?: unknown; schemaType?: unknown; references?: unknown } | null | undefined;
  if (b === null || typeof b !== 'object' || typeof b.schema !== 'string') {
    throw new RegistryError(REGISTRY_ERROR.invalidSchema, 'Invalid schema: the request body must be a JSON object with a "schema" string');
  }
  if (b.schemaType !== undefined && b.schemaType !== 'AVRO') {
    throw new RegistryError(REGISTRY_ERROR.invalidSchema, `Invalid schema: schemaType ${String(b.schemaType)} is not supported (this registry holds Avro schemas only)`);
  }
  if (Array.isArray(b.references) && b.references.length > 0) {
    throw new RegistryError(REGISTRY_ERROR.invalidSchema, 'Invalid schema: schema references are not supported; register one self-contained schema');
  }
  return b.schema;
}

function subjectMissing(subject: string): RegistryError {
  return new RegistryError(REGISTRY_ERROR.subjectNotFound, `Subject '${subject}' not found.`);
}

/** Sends a Confluent-style error for registry errors and for Fastify's own (bad JSON, …). */
export function sendRegistryError(error: FastifyError | RegistryError | Error, _request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof RegistryError) {
    void reply.code(error.status).type(REGISTRY_CONTENT_TYPE).send(error.body());
    return;
  }
  const status = (error as FastifyError).statusCode ?? 500;
  const code = status >= 500 ? REGISTRY_ERROR.storeError : status;
  void reply.code(status).type(REGISTRY_CONTENT_TYPE).send({ error_code: code, message: error.message });
}

/** Confluent's answer for a path it does not serve. */
export function sendRegistryNotFound(_request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).type(REGISTRY_CONTENT_TYPE).send({ error_code: 404, message: 'HTTP 404 Not Found' });
}

/** Registers the registry's routes on a Fastify instance (or an encapsulated plugin context). */
export async function registryRoutes(app: FastifyInstance, options: RegistryRoutesOptions): Promise<void> {
  const { store } = options;
  // Confluent's clients send their vendor JSON type; parse it like application/json.
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (err) {
      done(Object.assign(new Error(`Unexpected request body: ${(err as Error).message}`), { statusCode: 400 }), undefined);
    }
  });
  app.setErrorHandler(sendRegistryError);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.getHeader('content-type')?.toString().startsWith('application/json')) reply.type(REGISTRY_CONTENT_TYPE);
    return payload;
  });

  app.get('/', async () => ({}));

  app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (request) => {
    const id = parseId(request.params.id);
    const schema = store.schemaById(id);
    if (schema === undefined) throw new RegistryError(REGISTRY_ERROR.schemaNotFound, `Schema ${id} not found`);
    return { schema: schema.text };
  });

  app.get('/subjects', async () => store.subjects());

  app.get<{ Params: { subject: string } }>('/subjects/:subject/versions', async (request) => {
    const versions = store.versions(request.params.subject);
    if (versions === undefined) throw subjectMissing(request.params.subject);
    return versions;
  });

  app.get<{ Params: { subject: string; version: string } }>('/subjects/:subject/versions/:version', async (request) => {
    const { subject } = request.params;
    const version = parseVersion(request.params.version);
    if (store.versions(subject) === undefined) throw subjectMissing(subject);
    const found = store.version(subject, version);
    if (found === undefined) throw new RegistryError(REGISTRY_ERROR.versionNotFound, `Version ${version} not found.`);
    return { subject: found.subject, version: found.version, id: found.id, schema: found.schema };
  });

  app.post<{ Params: { subject: string } }>('/subjects/:subject/versions', async (request) => {
    const text = schemaFromBody(request.body);
    const { id } = store.register(request.params.subject, text);
    return { id };
  });

  app.post<{ Params: { subject: string } }>('/subjects/:subject', async (request) => {
    const { subject } = request.params;
    const text = schemaFromBody(request.body);
    if (store.versions(subject) === undefined) throw subjectMissing(subject);
    const found = store.lookup(subject, text);
    if (found === undefined) throw new RegistryError(REGISTRY_ERROR.schemaNotFound, 'Schema not found');
    return { subject: found.subject, version: found.version, id: found.id, schema: found.schema };
  });
}
