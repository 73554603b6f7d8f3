// Avro schema parsing shared by every codec: longs are BigInt (64-bit ids stay exact), and
// the schema quirks found in real alert data are tolerated instead of rejected.
import avro from 'avsc';
import type { Type } from 'avsc';

/** Avro long as BigInt. Reads the zig-zag varint directly: no float round trip, ever. */
const BigIntLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as bigint | number | string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export interface ParsedSchema {
  /** Full name of the top-level type, e.g. `lsst.v10_0.alert` or `ztf.alert`. */
  readonly name: string;
  /** The schema JSON text exactly as it was given (kept to write identical headers). */
  readonly text: string;
  /** The avsc type used to read and write records. */
  readonly type: Type;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Repairs the quirks of real alert schemas so avsc accepts them; none changes the bytes.
 * - Field defaults that do not match the field's type (for a union: its first branch) are
 *   dropped. IPAC's ZTF headers put `"default": null` on `["float","null"]`, Spark-written
 *   files do the same, ELaSTICC's lvkAlertContent on a plain `"string"`. Defaults only matter
 *   when resolving a reader schema against a different writer schema, never when decoding
 *   with the writer schema itself.
 * - Repeated field names are renamed (see renameDuplicateFields).
 */
function repairSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(repairSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) out[key] = repairSchema(value);
  if (Array.isArray(out.fields)) {
    out.fields = renameDuplicateFields(out.fields).map((field) => {
      if (field === null || typeof field !== 'object' || Array.isArray(field) || !('default' in field)) return field;
      const type = field.type ?? null;
      if (defaultMatchesBranch(field.default ?? null, Array.isArray(type) ? (type[0] ?? null) : type)) return field;
      const { default: _dropped, ...rest } = field;
      return rest;
    });
  }
  return out;
}

/**
 * Renames repeated field names (`x`, `x` → `x`, `x__duplicate2`). WINTER's alert schema
 * declares `sgmag1` twice; Avro data is positional, so the bytes decode and re-encode the same,
 * and a record can only hold one value per key.
 */
function renameDuplicateFields(fields: Json[]): Json[] {
  const seen = new Map<string, number>();
  return fields.map((field) => {
    if (field === null || typeof field !== 'object' || Array.isArray(field) || typeof field.name !== 'string') return field;
    const count = (seen.get(field.name) ?? 0) + 1;
    seen.set(field.name, count);
    return count === 1 ? field : { ...field, name: `${field.name}__duplicate${count}` };
  });
}

function defaultMatchesBranch(value: Json, branch: Json): boolean {
  const kind = typeof branch === 'string' ? branch : branch !== null && !Array.isArray(branch) && typeof branch === 'object' ? String(branch.type) : '';
  switch (kind) {
    case 'null': return value === null;
    case 'boolean': return typeof value === 'boolean';
    case 'int': case 'long': case 'float': case 'double': return typeof value === 'number';
    case 'string': case 'bytes': case 'enum': case 'fixed': return typeof value === 'string';
    case 'array': return Array.isArray(value);
    case 'map': case 'record': return value !== null && typeof value === 'object' && !Array.isArray(value);
    // A named type reference (record, enum or fixed): null never matches one; other values
    // are left for avsc to judge.
    default: return value !== null;
  }
}

/** `"long"` or `{"type": "long", ...}`; logical types on long (timestamp-millis) stay BigInt too. */
function isLong(s: unknown): boolean {
  if (s === 'long') return true;
  return typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long';
}

// Parsed schemas by text, least recently used first. A stream uses a handful of schemas; the
// bound keeps one that sends ever-different schema texts (a broken or hostile producer) from
// growing memory without end: each parsed Rubin schema with its compiled codec holds ~0.2 MB.
const cache = new Map<string, ParsedSchema>();
const CACHE_LIMIT = 64;

/**
 * Parses an Avro schema (JSON text or object). Named types already parsed can be passed in
 * `registry` (for schemas split over several .avsc files). Results for text input are cached.
 */
export function parseSchema(schema: string | object, registry?: Record<string, Type>): ParsedSchema {
  const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
  const cached = registry === undefined ? cache.get(text) : undefined;
  if (cached) {
    cache.delete(text);
    cache.set(text, cached);
    return cached;
  }
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`schema is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const type = avro.Type.forSchema(repairSchema(json) as avro.Schema, {
    registry: registry ?? {},
    wrapUnions: 'auto',
    typeHook: (s: unknown) => (isLong(s) ? BigIntLong : undefined),
  } as Partial<avro.ForSchemaOptions>);
  const parsed: ParsedSchema = { name: type.name ?? type.typeName, text, type };
  if (registry === undefined) {
    cache.set(text, parsed);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  }
  return parsed;
}

// Messages of one stream repeat one writer schema (container headers, Fink keys): keep the
// last few by their raw bytes so a message costs a memcmp, not a UTF-8 decode and a lookup
// keyed by a 30 KB string.
const recentBytes: { bytes: Buffer; schema: ParsedSchema }[] = [];
const RECENT_BYTES = 16;

/** Parses a schema given as UTF-8 JSON bytes; the last few distinct byte strings are cached. */
export function parseSchemaBytes(bytes: Buffer): ParsedSchema {
  const index = recentBytes.findIndex((entry) => entry.bytes.equals(bytes));
  if (index >= 0) {
    const entry = recentBytes[index] as (typeof recentBytes)[number];
    if (index > 0) recentBytes.unshift(...recentBytes.splice(index, 1));
    return entry.schema;
  }
  const schema = parseSchema(bytes.toString('utf8'));
  recentBytes.unshift({ bytes: Buffer.from(bytes), schema });
  if (recentBytes.length > RECENT_BYTES) recentBytes.pop();
  return schema;
}
