// Where writer schemas come from for Confluent wire-format messages: a schema registry
// (Confluent REST API) or a local directory tree of .avsc files.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSchema, type ParsedSchema } from './avro-schema.ts';
import { SchemaSourceError } from './errors.ts';

export interface SchemaEntry {
  /** Confluent schema id. */
  readonly id: number;
  /** Full name of the top-level type, e.g. `lsst.v9_0.alert`. */
  readonly name: string;
  /** Registry subject (for a directory: the full name, as RecordNameStrategy would register it). */
  readonly subject: string;
  readonly version: number;
  /** One self-contained schema JSON text, as a registry serves it. */
  readonly text: string;
}

export interface SchemaSource {
  /** Directory path or registry URL (without credentials), for messages. */
  readonly location: string;
  /**
   * The writer schema registered under a Confluent schema id. Rejects with SchemaSourceError:
   * kind `not-found` when the id is unknown, `unavailable`/`invalid` when the source fails.
   */
  byId(id: number): Promise<ParsedSchema>;
  /** Every schema the source holds, by id. */
  list(): Promise<SchemaEntry[]>;
}

// --- directory of .avsc files -------------------------------------------------------------

export interface DirectorySchema {
  /** Confluent id, when one can be derived (see schemaDirectory). */
  readonly id: number | undefined;
  readonly name: string;
  /** Self-contained JSON text: every named type defined inline at its first use. */
  readonly text: string;
  /** The .avsc files it was assembled from, root file first. */
  readonly files: readonly string[];
}

export interface SchemaDirectory extends SchemaSource {
  /** Every top-level schema found (types no other file in its folder refers to). */
  readonly schemas: readonly DirectorySchema[];
  /** Files or folders that could not be used, with the reason (the rest still load). */
  readonly problems: readonly string[];
  /** A top-level schema by full name, e.g. `lsst.v4_1.brokerClassfication`. */
  byName(name: string): ParsedSchema;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);
const COMPLEX = new Set([...NAMED, 'array', 'map']);

const isObject = (node: Json): node is JsonObject => node !== null && typeof node === 'object' && !Array.isArray(node);

/** Full name of a named definition, given the namespace around it. */
function fullNameOf(node: JsonObject, enclosing: string): { fullName: string; namespace: string } {
  const name = String(node.name);
  if (name.includes('.')) return { fullName: name, namespace: name.slice(0, name.lastIndexOf('.')) };
  const namespace = typeof node.namespace === 'string' ? node.namespace : enclosing;
  return { fullName: namespace === '' ? name : `${namespace}.${name}`, namespace };
}

interface Definition {
  readonly node: JsonObject;
  /** Namespace the definition appeared in (needed when it is moved into another file's tree). */
  readonly enclosing: string;
  readonly file: string;
}

/**
 * Visits every type position of a schema, with the namespace in force there: named
 * definitions (`define`) and name references (`reference`).
 */
function visitTypes(node: Json, ns: string, on: { define(fullName: string, node: JsonObject, enclosing: string): void; reference(name: string, ns: string): void }): void {
  if (typeof node === 'string') {
    if (!PRIMITIVES.has(node)) on.reference(node, ns);
  } else if (Array.isArray(node)) {
    for (const branch of node) visitTypes(branch, ns, on);
  } else if (isObject(node)) {
    const type = node.type;
    if (typeof type === 'string' && NAMED.has(type)) {
      const { fullName, namespace } = fullNameOf(node, ns);
      on.define(fullName, node, ns);
      if (Array.isArray(node.fields)) for (const field of node.fields) if (isObject(field)) visitTypes(field.type ?? null, namespace, on);
    } else if (type === 'array') {
      visitTypes(node.items ?? null, ns, on);
    } else if (type === 'map') {
      visitTypes(node.values ?? null, ns, on);
    } else if (type !== undefined) {
      visitTypes(type, ns, on); // {"type": "long", "logicalType": ...} or {"type": "other.Name"}
    }
  }
}

/** Candidate full names for a reference, in Avro's resolution order. */
function resolveName(name: string, ns: string): string[] {
  return name.includes('.') || ns === '' ? [name] : [`${ns}.${name}`, name];
}

/**
 * Copies `node` with every named type referenced but not yet defined replaced by its
 * definition (recursively), so the result parses on its own. `emitted` holds the full names
 * already defined earlier in the output, which stay references.
 */
function inline(node: Json, ns: string, defs: ReadonlyMap<string, Definition>, emitted: Set<string>, used: Set<string>): Json {
  if (typeof node === 'string') {
    if (PRIMITIVES.has(node)) return node;
    const fullName = resolveName(node, ns).find((n) => emitted.has(n) || defs.has(n));
    if (fullName === undefined && COMPLEX.has(node)) throw new Error(`"${node}" used as a type name (a complex type needs an object: {"type": "${node}", ...})`);
    if (fullName === undefined) throw new Error(`unknown type "${node}"`);
    if (emitted.has(fullName)) return node;
    const def = defs.get(fullName) as Definition;
    used.add(def.file);
    // A definition moved away from its file keeps its namespace explicitly.
    const moved = typeof def.node.namespace !== 'string' && !String(def.node.name).includes('.') && def.enclosing !== ns
      ? { ...def.node, namespace: def.enclosing }
      : def.node;
    return inline(moved, def.enclosing, defs, emitted, used);
  }
  if (Array.isArray(node)) return node.map((branch) => inline(branch, ns, defs, emitted, used));
  if (!isObject(node)) return node;
  const type = node.type;
  if (typeof type === 'string' && NAMED.has(type)) {
    const { fullName, namespace } = fullNameOf(node, ns);
    if (emitted.has(fullName)) return fullName; // defined twice (e.g. also in its own file): refer to the first
    emitted.add(fullName);
    if (!Array.isArray(node.fields)) return node;
    const fields = node.fields.map((field) => (isObject(field) ? { ...field, type: inline(field.type ?? null, namespace, defs, emitted, used) } : field));
    return { ...node, fields };
  }
  if (type === 'array') return { ...node, items: inline(node.items ?? null, ns, defs, emitted, used) };
  if (type === 'map') return { ...node, values: inline(node.values ?? null, ns, defs, emitted, used) };
  if (type !== undefined && typeof type !== 'string') return { ...node, type: inline(type, ns, defs, emitted, used) };
  if (typeof type === 'string' && !PRIMITIVES.has(type)) return { ...node, type: inline(type, ns, defs, emitted, used) };
  return node;
}

/** `lsst.v7_1.alert` → 701, `rapid.v01_00.alert` → 100: a `vMM_NN` name part as MM*100+NN. */
export function versionIdOf(fullName: string): number | undefined {
  const match = /(?:^|\.)v(\d+)_(\d+)(?:\.|$)/.exec(fullName);
  if (match === null) return undefined;
  return Number(match[1]) * 100 + Number(match[2]);
}

/** The first "confluent:version" attribute on a named record in the schema, if any. */
function confluentVersionOf(node: Json): number | undefined {
  let found: number | undefined;
  visitTypes(node, '', {
    define(_name, def) {
      const v = def['confluent:version'];
      if (found === undefined && typeof v === 'number' && Number.isInteger(v) && v >= 0) found = v;
    },
    reference() {},
  });
  return found;
}

function listAvscFiles(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.avsc'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

interface Assembled extends DirectorySchema {
  readonly typeCount: number;
}

/** Assembles the top-level schemas of one folder (one schema version split over files). */
function assembleFolder(files: ReadonlyMap<string, Json>, problems: string[]): Assembled[] {
  const defs = new Map<string, Definition>();
  const roots = new Map<string, { file: string; node: JsonObject; fullName: string }>();
  const referencedFromOtherFiles = new Set<string>();
  for (const [file, root] of files) {
    if (!isObject(root) || typeof root.type !== 'string' || !NAMED.has(root.type)) {
      problems.push(`${file}: top-level schema is not a named type; skipped`);
      continue;
    }
    const { fullName } = fullNameOf(root, '');
    roots.set(fullName, { file, node: root, fullName });
    const ownNames = new Set<string>();
    const references: [string, string][] = [];
    visitTypes(root, '', {
      define(name, node, enclosing) {
        ownNames.add(name);
        if (!defs.has(name)) defs.set(name, { node, enclosing, file });
      },
      reference(name, ns) {
        references.push([name, ns]);
      },
    });
    for (const [name, ns] of references) {
      for (const candidate of resolveName(name, ns)) if (!ownNames.has(candidate)) referencedFromOtherFiles.add(candidate);
    }
  }
  const out: Assembled[] = [];
  for (const { file, node, fullName } of roots.values()) {
    if (referencedFromOtherFiles.has(fullName)) continue;
    const emitted = new Set<string>();
    const used = new Set<string>([file]);
    let text: string;
    try {
      text = JSON.stringify(inline(node, '', defs, emitted, used));
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}; skipped`);
      continue;
    }
    const id = confluentVersionOf(JSON.parse(text) as Json) ?? versionIdOf(fullName);
    out.push({ id, name: fullName, text, files: [...used], typeCount: emitted.size });
  }
  return out;
}

/**
 * Loads every .avsc file under `dir` (recursively). Files in one folder form one schema
 * version (Rubin splits `lsst.vX_Y` over alert, diaSource, diaObject, ... files): references
 * between them are resolved in any order and each top-level schema is assembled into one
 * self-contained JSON text. Its schema id is the "confluent:version" attribute of a record in
 * it if present (Rubin v11+), else the `vMM_NN` part of its name as MM*100+NN (lsst.v7_1 → 701,
 * rapid.v01_00 → 100). When two top-level schemas of a folder would get the same id (Rubin
 * v10+ ships a standalone ssObject next to alert), the one assembled from the most named types
 * (the alert) takes it; the other stays available by name. Loading is synchronous: it runs
 * once at startup, and the result is usable at once.
 */
export function schemaDirectory(dir: string): SchemaDirectory {
  const location = path.resolve(dir);
  let files: string[];
  try {
    files = listAvscFiles(location);
  } catch (err) {
    throw new SchemaSourceError('unavailable', location, undefined, `cannot read schema directory ${location}: ${(err as Error).message}`, err);
  }
  const problems: string[] = [];
  const folders = new Map<string, Map<string, Json>>();
  for (const file of files) {
    let json: Json;
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as Json;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}; skipped`);
      continue;
    }
    const folder = path.dirname(file);
    if (!folders.has(folder)) folders.set(folder, new Map());
    folders.get(folder)?.set(file, json);
  }

  const schemas: DirectorySchema[] = [];
  const byIdText = new Map<number, DirectorySchema>();
  for (const folderFiles of folders.values()) {
    const assembled = assembleFolder(folderFiles, problems).sort((a, b) => b.typeCount - a.typeCount);
    const folderIds = new Set<number>();
    for (const { typeCount: _typeCount, ...schema } of assembled) {
      const id = schema.id;
      if (id === undefined || folderIds.has(id)) {
        schemas.push({ ...schema, id: undefined }); // a smaller schema of the same version: by name only
        continue;
      }
      folderIds.add(id);
      const taken = byIdText.get(id);
      if (taken !== undefined) {
        problems.push(`${schema.files[0]}: id ${id} already taken by ${taken.name} (${taken.files[0]}); ${schema.name} is available by name only`);
        schemas.push({ ...schema, id: undefined });
        continue;
      }
      byIdText.set(id, schema);
      schemas.push(schema);
    }
  }

  const parsed = new Map<string, ParsedSchema>();
  const parse = (schema: DirectorySchema): ParsedSchema => {
    let p = parsed.get(schema.name);
    if (p === undefined) {
      try {
        p = parseSchema(schema.text);
      } catch (err) {
        throw new SchemaSourceError('invalid', location, schema.id, `schema ${schema.name} from ${schema.files[0]} does not parse: ${(err as Error).message}`, err);
      }
      parsed.set(schema.name, p);
    }
    return p;
  };
  const knownIds = (): string => [...byIdText.keys()].sort((a, b) => a - b).join(', ');

  return {
    location,
    schemas,
    problems,
    async byId(id) {
      const schema = byIdText.get(id);
      if (schema === undefined) throw new SchemaSourceError('not-found', location, id, `schema id ${id} not found in schema directory ${location} (ids there: ${knownIds() || 'none'})`);
      return parse(schema);
    },
    byName(name) {
      const schema = schemas.find((s) => s.name === name);
      if (schema === undefined) throw new SchemaSourceError('not-found', location, undefined, `schema ${name} not found in schema directory ${location}`);
      return parse(schema);
    },
    async list() {
      return [...byIdText.values()]
        .sort((a, b) => (a.id as number) - (b.id as number))
        .map((s) => ({ id: s.id as number, name: s.name, subject: s.name, version: 1, text: s.text }));
    },
  };
}

// --- Confluent schema registry ------------------------------------------------------------

export interface RegistryOptions {
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
}

/** The URL without user:password (those go in an Authorization header, never in messages). */
export function splitCredentials(url: string): { base: string; authorization: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SchemaSourceError('invalid', url, undefined, `schema registry URL "${url}" is not a valid URL`);
  }
  const authorization =
    parsed.username === '' ? undefined : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  return { base: parsed.toString().replace(/\/+$/, ''), authorization };
}

/**
 * A Confluent schema registry client: `GET {url}/schemas/ids/{id}` → `{"schema": "<json>"}`.
 * Schemas are cached by id for the life of the client (registry ids are immutable); a failed
 * lookup is not cached, so it is retried next time.
 */
export function registryClient(url: string, options: RegistryOptions = {}): SchemaSource {
  const { base, authorization } = splitCredentials(url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cache = new Map<number, Promise<ParsedSchema>>();

  async function get(pathname: string, id: number | undefined): Promise<unknown> {
    const target = `${base}${pathname}`;
    let response: Response;
    try {
      response = await fetch(target, {
        headers: { accept: 'application/vnd.schemaregistry.v1+json, application/json', ...(authorization === undefined ? {} : { authorization }) },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new SchemaSourceError('unavailable', base, id, `schema registry ${base} unreachable (GET ${pathname}${id === undefined ? '' : ` for schema id ${id}`}): ${why}`, err);
    }
    const body = await response.text().catch(() => '');
    if (!response.ok) {
      const detail = body.length > 200 ? `${body.slice(0, 200)}…` : body;
      const kind = response.status === 404 ? 'not-found' : response.status >= 500 ? 'unavailable' : 'invalid';
      const what = id === undefined ? `GET ${pathname}` : `schema id ${id}`;
      throw new SchemaSourceError(kind, base, id, `schema registry ${base}: ${what} ${response.status === 404 ? 'not found' : 'failed'} (HTTP ${response.status}${detail === '' ? '' : `: ${detail}`})`);
    }
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new SchemaSourceError('invalid', base, id, `schema registry ${base}: GET ${pathname} returned invalid JSON`);
    }
  }

  function toSchema(reply: unknown, pathname: string, id: number | undefined): ParsedSchema {
    const r = reply as { schema?: unknown; schemaType?: unknown } | null;
    if (r === null || typeof r !== 'object' || typeof r.schema !== 'string') {
      throw new SchemaSourceError('invalid', base, id, `schema registry ${base}: GET ${pathname} has no "schema" string`);
    }
    if (r.schemaType !== undefined && r.schemaType !== 'AVRO') {
      throw new SchemaSourceError('invalid', base, id, `schema registry ${base}: schema id ${id} is ${String(r.schemaType)}, not Avro`);
    }
    try {
      return parseSchema(r.schema);
    } catch (err) {
      throw new SchemaSourceError('invalid', base, id, `schema registry ${base}: schema id ${id} does not parse: ${(err as Error).message}`, err);
    }
  }

  return {
    location: base,
    byId(id) {
      let pending = cache.get(id);
      if (pending === undefined) {
        const pathname = `/schemas/ids/${id}`;
        pending = get(pathname, id).then((reply) => toSchema(reply, pathname, id));
        pending.catch(() => cache.delete(id));
        cache.set(id, pending);
      }
      return pending;
    },
    async list() {
      const subjects = await get('/subjects', undefined);
      if (!Array.isArray(subjects)) throw new SchemaSourceError('invalid', base, undefined, `schema registry ${base}: GET /subjects did not return a list`);
      const entries: SchemaEntry[] = [];
      for (const subject of subjects) {
        const pathname = `/subjects/${encodeURIComponent(String(subject))}/versions/latest`;
        const reply = (await get(pathname, undefined)) as { id?: unknown; version?: unknown };
        const schema = toSchema(reply, pathname, typeof reply.id === 'number' ? reply.id : undefined);
        entries.push({ id: Number(reply.id), name: schema.name, subject: String(subject), version: Number(reply.version), text: schema.text });
      }
      return entries.sort((a, b) => a.id - b.id);
    },
  };
}

// --- several sources ------------------------------------------------------------------------

/** Asks each source in turn; an id missing from one is looked up in the next. */
export function combinedSource(sources: readonly SchemaSource[]): SchemaSource {
  const location = sources.map((s) => s.location).join(' + ');
  return {
    location,
    async byId(id) {
      const misses: string[] = [];
      for (const source of sources) {
        try {
          return await source.byId(id);
        } catch (err) {
          if (!(err instanceof SchemaSourceError) || err.kind !== 'not-found') throw err;
          misses.push(err.message);
        }
      }
      throw new SchemaSourceError('not-found', location, id, misses.length > 0 ? misses.join('; ') : `schema id ${id}: no schema sources configured`);
    },
    async list() {
      const seen = new Set<number>();
      const all: SchemaEntry[] = [];
      for (const source of sources) {
        for (const entry of await source.list()) {
          if (seen.has(entry.id)) continue;
          seen.add(entry.id);
          all.push(entry);
        }
      }
      return all.sort((a, b) => a.id - b.id);
    },
  };
}
