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
 * Removes field defaults that do not match the first union branch. The Avro spec requires a
 * union default to match its first branch; IPAC's ZTF headers (`["float","null"]` with
 * default null) and Spark-written files break that rule. Defaults only matter when resolving
 * a reader schema against a writer schema, never when decoding with the writer schema, so
 * dropping them changes nothing about the bytes.
 */
function dropInvalidUnionDefaults(node: Json): Json {
  if (Array.isArray(node)) return node.map(dropInvalidUnionDefaults);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) out[key] = dropInvalidUnionDefaults(value);
  if (Array.isArray(out.fields)) {
    out.fields = out.fields.map((field) => {
      if (field === null || typeof field !== 'object' || Array.isArray(field)) return field;
      const type = field.type;
      if (!('default' in field) || !Array.isArray(type)) return field;
      if (defaultMatchesBranch(field.default ?? null, type[0] ?? null)) return field;
      const { default: _dropped, ...rest } = field;
      return rest;
    });
  }
  return out;
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
    default: return true; // a named type reference: let avsc judge
  }
}

/** `"long"` or `{"type": "long", ...}`; logical types on long (timestamp-millis) stay BigInt too. */
function isLong(s: unknown): boolean {
  if (s === 'long') return true;
  return typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long';
}

const cache = new Map<string, ParsedSchema>();

/**
 * Parses an Avro schema (JSON text or object). Named types already parsed can be passed in
 * `registry` (for schemas split over several .avsc files). Results for text input are cached.
 */
export function parseSchema(schema: string | object, registry?: Record<string, Type>): ParsedSchema {
  const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
  const cached = registry === undefined ? cache.get(text) : undefined;
  if (cached) return cached;
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(`schema is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const type = avro.Type.forSchema(dropInvalidUnionDefaults(json) as avro.Schema, {
    registry: registry ?? {},
    wrapUnions: 'auto',
    typeHook: (s: unknown) => (isLong(s) ? BigIntLong : undefined),
  } as Partial<avro.ForSchemaOptions>);
  const parsed: ParsedSchema = { name: type.name ?? type.typeName, text, type };
  if (registry === undefined) cache.set(text, parsed);
  return parsed;
}
