// The schema registry's state: schemas by id and the versions of each subject, kept in one JSON
// file so ids survive restarts (a consumer holding id 1000 must still get the same schema).
//
// Several processes may share the file (`nightjar registry` and a simulator's in-process
// registry): every change re-reads it first and replaces it atomically (write, then rename).
// Two registrations at the very same instant from two processes can still lose one; the
// registry is a development and test tool, not a replicated service.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseSchema } from '../formats/avro-schema.ts';
import { REGISTRY_ERROR, RegistryError } from './registry-errors.ts';
import { derivedSchemaId, schemaKey, schemaKeyOf, topLevelName } from './schema-ids.ts';

export interface RegisteredSchema {
  readonly id: number;
  /** The text exactly as first registered (served back byte for byte). */
  readonly text: string;
  /** Full name of the top-level type. */
  readonly name: string;
}

export interface SubjectVersion {
  readonly subject: string;
  /** 1-based, in registration order. */
  readonly version: number;
  readonly id: number;
  readonly schema: string;
}

export interface Registration {
  readonly id: number;
  readonly version: number;
  /** False when the subject already had this schema (nothing changed). */
  readonly created: boolean;
}

export interface RegistryStore {
  /** The backing file, or undefined for a store that lives in memory only. */
  readonly file: string | undefined;
  /**
   * Registers a schema under a subject; idempotent: the same schema (same canonical form, see
   * schemaKey) gets the same id under every subject, and the same version under the same
   * subject; the text first registered is the one served. Throws
   * RegistryError 42201 for a text that is not an Avro schema.
   */
  register(subject: string, text: string): Registration;
  /** The version of a subject that holds this schema, if any. */
  lookup(subject: string, text: string): SubjectVersion | undefined;
  schemaById(id: number): RegisteredSchema | undefined;
  subjects(): string[];
  /** The version numbers of a subject, or undefined when the subject does not exist. */
  versions(subject: string): number[] | undefined;
  /** One version of a subject (`latest` = the highest); undefined when absent. */
  version(subject: string, version: number | 'latest'): SubjectVersion | undefined;
  /** Every schema, by id. */
  list(): RegisteredSchema[];
}

export interface PreloadSchema {
  readonly subject: string;
  readonly text: string;
}

export interface OpenRegistryOptions {
  /** JSON file to load and keep up to date; omitted: memory only. */
  readonly file?: string | undefined;
  /** Registered at open (idempotent), e.g. Nightjar's built-in lsst.v10_0 and a --schema-dir. */
  readonly preload?: readonly PreloadSchema[];
}

const FORMAT = 'nightjar-schema-registry/1';

interface State {
  schemas: Map<number, RegisteredSchema & { key: string }>;
  byKey: Map<string, number>;
  /** subject → ids, version n at index n-1. */
  subjects: Map<string, number[]>;
}

interface FileContent {
  format: string;
  schemas: { id: number; schema: string }[];
  subjects: Record<string, number[]>;
}

function emptyState(): State {
  return { schemas: new Map(), byKey: new Map(), subjects: new Map() };
}

/** Canonical forms of the texts seen, so re-reading the file does not parse every schema again. */
const keyCache = new Map<string, string>();

/** Adds a schema read back from the file (checked as Avro when it was registered). */
function addSchema(state: State, id: number, text: string, where: string): void {
  let name: string;
  let key: string;
  try {
    key = keyCache.get(text) ?? schemaKey(text);
    keyCache.set(text, key);
    name = topLevelName(text);
  } catch (err) {
    throw new Error(`${where}: schema id ${id} is not an Avro schema: ${(err as Error).message}`, { cause: err });
  }
  state.schemas.set(id, { id, text, name, key });
  if (!state.byKey.has(key)) state.byKey.set(key, id);
}

function readState(file: string): State {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new Error(`cannot read schema registry store ${file}: ${(err as Error).message}`, { cause: err });
  }
  let content: FileContent;
  try {
    content = JSON.parse(text) as FileContent;
  } catch (err) {
    throw new Error(`schema registry store ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (content === null || typeof content !== 'object' || content.format !== FORMAT || !Array.isArray(content.schemas) || typeof content.subjects !== 'object') {
    throw new Error(`schema registry store ${file} is not a ${FORMAT} file`);
  }
  const state = emptyState();
  for (const entry of content.schemas) {
    if (!Number.isInteger(entry?.id) || entry.id <= 0 || typeof entry.schema !== 'string') throw new Error(`schema registry store ${file}: bad schema entry ${JSON.stringify(entry).slice(0, 80)}`);
    addSchema(state, entry.id, entry.schema, file);
  }
  for (const [subject, ids] of Object.entries(content.subjects)) {
    if (!Array.isArray(ids) || ids.some((id) => !state.schemas.has(id))) throw new Error(`schema registry store ${file}: subject ${subject} refers to unknown schema ids`);
    state.subjects.set(subject, [...ids]);
  }
  return state;
}

function writeState(file: string, state: State): void {
  const content: FileContent = {
    format: FORMAT,
    schemas: [...state.schemas.values()].sort((a, b) => a.id - b.id).map(({ id, text }) => ({ id, schema: text })),
    subjects: Object.fromEntries([...state.subjects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(content, null, 1) + '\n');
    renameSync(temp, file);
  } catch (err) {
    throw new RegistryError(REGISTRY_ERROR.storeError, `cannot write schema registry store ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The smallest positive id nobody holds. */
function nextFreeId(state: State): number {
  let id = 1;
  while (state.schemas.has(id)) id++;
  return id;
}

/** Opens (or creates) a registry store; throws Error naming the file when it is unreadable. */
export function openRegistryStore(options: OpenRegistryOptions = {}): RegistryStore {
  const file = options.file === undefined ? undefined : path.resolve(options.file);
  // The file is re-read only when it changed (another process registered something).
  let seen = '';
  const fileStamp = (): string => {
    if (file === undefined) return '';
    try {
      const s = statSync(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'absent';
    }
  };
  const refresh = (): void => {
    if (file === undefined) return;
    const stamp = fileStamp();
    if (stamp === seen) return;
    state = readState(file);
    seen = stamp;
  };
  let state = emptyState();
  refresh();

  const versionOf = (subject: string, ids: number[], index: number): SubjectVersion => {
    const id = ids[index] as number;
    return { subject, version: index + 1, id, schema: (state.schemas.get(id) as RegisteredSchema).text };
  };

  const keyOf = (text: string): { key: string; name: string } => {
    try {
      const parsed = parseSchema(text);
      return { key: schemaKeyOf(parsed), name: parsed.name };
    } catch (err) {
      throw new RegistryError(REGISTRY_ERROR.invalidSchema, `Invalid schema: ${(err as Error).message}`, { cause: err });
    }
  };

  const store: RegistryStore = {
    file,
    register(subject, text) {
      const { key, name } = keyOf(text);
      refresh();
      let id = state.byKey.get(key);
      const ids = state.subjects.get(subject) ?? [];
      if (id !== undefined) {
        const index = ids.indexOf(id);
        if (index >= 0) return { id, version: index + 1, created: false };
      } else {
        const wanted = derivedSchemaId(text, name);
        id = wanted !== undefined && !state.schemas.has(wanted) ? wanted : nextFreeId(state);
        state.schemas.set(id, { id, text, name, key });
        state.byKey.set(key, id);
      }
      ids.push(id);
      state.subjects.set(subject, ids);
      if (file !== undefined) {
        writeState(file, state);
        seen = fileStamp();
      }
      return { id, version: ids.length, created: true };
    },
    lookup(subject, text) {
      const { key } = keyOf(text);
      refresh();
      const id = state.byKey.get(key);
      const ids = state.subjects.get(subject);
      if (id === undefined || ids === undefined) return undefined;
      const index = ids.indexOf(id);
      return index < 0 ? undefined : versionOf(subject, ids, index);
    },
    schemaById(id) {
      refresh();
      const schema = state.schemas.get(id);
      return schema === undefined ? undefined : { id: schema.id, text: schema.text, name: schema.name };
    },
    subjects() {
      refresh();
      return [...state.subjects.keys()].sort();
    },
    versions(subject) {
      refresh();
      const ids = state.subjects.get(subject);
      return ids?.map((_, i) => i + 1);
    },
    version(subject, version) {
      refresh();
      const ids = state.subjects.get(subject);
      if (ids === undefined || ids.length === 0) return undefined;
      const index = version === 'latest' ? ids.length - 1 : version - 1;
      return index >= 0 && index < ids.length ? versionOf(subject, ids, index) : undefined;
    },
    list() {
      refresh();
      return [...state.schemas.values()].sort((a, b) => a.id - b.id).map(({ id, text, name }) => ({ id, text, name }));
    },
  };

  for (const { subject, text } of options.preload ?? []) store.register(subject, text);
  return store;
}
