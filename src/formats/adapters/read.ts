// Typed reads of decoded records for the adapters. Records come from Avro (BigInt longs,
// Buffer bytes, unions unwrapped to value|null) or from JSON read with src/util/json.ts (ids
// within 2^53 are numbers, larger ones BigInt; cutouts may be base64 strings). Every read
// names its field path, so a bad record fails with an AdapterError that says where.
import { AdapterError } from './errors.ts';

export type Rec = Record<string, unknown>;

/** A field name, or the names it has had across schema versions (newest first). */
export type Keys = string | readonly string[];

/** Where a read happens: the writer schema and the path of the enclosing record. */
export interface Place {
  readonly schema: string;
  readonly path: string;
}

export function rootPlace(schema: string): Place {
  return { schema, path: '' };
}

/** The place of a nested record or array item, e.g. `prvDiaSources[3]`. */
export function childPlace(place: Place, segment: string): Place {
  return { schema: place.schema, path: place.path === '' ? segment : `${place.path}.${segment}` };
}

function fieldName(place: Place, keys: Keys): string {
  const [first, ...others] = typeof keys === 'string' ? [keys] : keys;
  const name = place.path === '' ? String(first) : `${place.path}.${String(first)}`;
  return others.length === 0 ? name : `${name} (or ${others.join(', ')})`;
}

/** The first of `keys` with a non-null value, else null. */
export function value(rec: Rec, keys: Keys): unknown {
  if (typeof keys === 'string') return rec[keys] ?? null;
  for (const key of keys) {
    const v = rec[key];
    if (v !== undefined && v !== null) return v;
  }
  return null;
}

/** The first of `keys` present in the record (even if null), or undefined. */
export function presentKey(rec: Rec, keys: readonly string[]): string | undefined {
  return keys.find((key) => key in rec);
}

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function invalid(place: Place, keys: Keys, detail: string): AdapterError {
  return new AdapterError(place.schema, fieldName(place, keys), 'invalid', detail);
}

function missing(place: Place, keys: Keys): AdapterError {
  return new AdapterError(place.schema, fieldName(place, keys), 'missing');
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'a record';
  return `${typeof v} ${String(v)}`;
}

// Each reader comes in two forms: `reqNumber(rec, keys, place)` looks the field up, and
// `reqNumberOf(value, keys, place)` checks a value the caller already loaded. Hot loops over
// history items load fields directly (`s.psfFlux ?? s.psFlux`): a named property access keeps
// its own inline cache, where one shared lookup helper would see every record shape there is.

// Floats: JSON may carry a whole-number float beyond 2^53 as BigInt; it is still a float.
function toNumber(keys: Keys, place: Place, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw invalid(place, keys, `expected a number, got ${describe(v)}`);
}

export function reqNumberOf(v: unknown, keys: Keys, place: Place): number {
  if (v === null || v === undefined) throw missing(place, keys);
  const n = toNumber(keys, place, v);
  if (Number.isNaN(n)) throw invalid(place, keys, 'NaN');
  return n;
}

/** A number, or null when absent, null or NaN (Spark writes NaN for missing floats). */
export function optNumberOf(v: unknown, keys: Keys, place: Place): number | null {
  if (v === null || v === undefined) return null;
  const n = toNumber(keys, place, v);
  return Number.isNaN(n) ? null : n;
}

export function reqNumber(rec: Rec, keys: Keys, place: Place): number {
  return reqNumberOf(value(rec, keys), keys, place);
}

export function optNumber(rec: Rec, keys: Keys, place: Place): number | null {
  return optNumberOf(value(rec, keys), keys, place);
}

function toId(keys: Keys, place: Place, v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return BigInt(v);
    // A 64-bit id that already went through a JavaScript number has lost its low digits.
    const detail = Number.isInteger(v) ? `${v} exceeds 2^53 and was read as a JavaScript number (precision lost; parse JSON with src/util/json.ts)` : `${v} is not an integer`;
    throw invalid(place, keys, detail);
  }
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw invalid(place, keys, `expected an integer id, got ${describe(v)}`);
}

export function reqIdOf(v: unknown, keys: Keys, place: Place): bigint {
  if (v === null || v === undefined) throw missing(place, keys);
  return toId(keys, place, v);
}

/** An id, or null when absent, null or 0 (Spark-written files put 0 for a missing id). */
export function optIdOf(v: unknown, keys: Keys, place: Place): bigint | null {
  if (v === null || v === undefined) return null;
  const id = toId(keys, place, v);
  return id === 0n ? null : id;
}

export function reqId(rec: Rec, keys: Keys, place: Place): bigint {
  return reqIdOf(value(rec, keys), keys, place);
}

export function optId(rec: Rec, keys: Keys, place: Place): bigint | null {
  return optIdOf(value(rec, keys), keys, place);
}

export function reqStringOf(v: unknown, keys: Keys, place: Place): string {
  if (v === null || v === undefined || v === '') throw missing(place, keys);
  if (typeof v !== 'string') throw invalid(place, keys, `expected a string, got ${describe(v)}`);
  return v;
}

export function reqString(rec: Rec, keys: Keys, place: Place): string {
  return reqStringOf(value(rec, keys), keys, place);
}

export function optString(rec: Rec, keys: Keys, place: Place): string | null {
  const v = value(rec, keys);
  if (v === null) return null;
  if (typeof v !== 'string') throw invalid(place, keys, `expected a string, got ${describe(v)}`);
  return v;
}

export function optBooleanOf(v: unknown, keys: Keys, place: Place): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'boolean') throw invalid(place, keys, `expected a boolean, got ${describe(v)}`);
  return v;
}

export function optBoolean(rec: Rec, keys: Keys, place: Place): boolean | null {
  return optBooleanOf(value(rec, keys), keys, place);
}

export function reqRecord(rec: Rec, keys: Keys, place: Place): Rec {
  const v = value(rec, keys);
  if (v === null) throw missing(place, keys);
  if (!isRecord(v)) throw invalid(place, keys, `expected a record, got ${describe(v)}`);
  return v;
}

export function optRecord(rec: Rec, keys: Keys, place: Place): Rec | null {
  const v = value(rec, keys);
  if (v === null) return null;
  if (!isRecord(v)) throw invalid(place, keys, `expected a record, got ${describe(v)}`);
  return v;
}

/**
 * Reads each item of an array field (absent or null = no items) with `read`. The item's place
 * is one object reused for the whole array, its path (`prvDiaSources[3]`) built only when an
 * error asks for it: alerts carry hundreds of history items and errors are rare.
 */
export function mapRecordItems<T>(rec: Rec, key: string, place: Place, read: (item: Rec, itemPlace: Place) => T): T[] {
  const v = rec[key] ?? null;
  if (v === null) return [];
  if (!Array.isArray(v)) throw invalid(place, key, `expected an array, got ${describe(v)}`);
  const base = place.path === '' ? key : `${place.path}.${key}`;
  let index = 0;
  const itemPlace: Place = {
    schema: place.schema,
    get path() {
      return `${base}[${index}]`;
    },
  };
  const out: T[] = [];
  for (; index < v.length; index++) {
    const item: unknown = v[index];
    if (!isRecord(item)) throw new AdapterError(place.schema, itemPlace.path, 'invalid', `expected a record, got ${describe(item)}`);
    out.push(read(item, itemPlace));
  }
  return out;
}

/** Bytes as the record holds them; JSON samples carry base64 text, decoded here. */
export function optBytes(rec: Rec, keys: Keys, place: Place): Uint8Array | undefined {
  const v = value(rec, keys);
  if (v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  throw invalid(place, keys, `expected bytes, got ${describe(v)}`);
}

/** A cutout given either as bytes or as a ZTF-style `{fileName, stampData}` record. */
export function optCutout(rec: Rec, keys: Keys, place: Place): Uint8Array | undefined {
  const v = value(rec, keys);
  if (isRecord(v)) {
    const key = typeof keys === 'string' ? keys : (presentKey(rec, keys) ?? String(keys[0]));
    return optBytes(v, 'stampData', childPlace(place, key));
  }
  return optBytes(rec, keys, place);
}
