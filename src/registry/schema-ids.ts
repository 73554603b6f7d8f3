// How the registry names schemas: which texts count as the same schema, and which id a new
// schema gets when its name or attributes say one (Rubin's ids).
import { parseSchema, type ParsedSchema } from '../formats/avro-schema.ts';
import { versionIdOf } from '../formats/schema-source.ts';
import { parse } from '../util/json.ts';

/**
 * The identity of a schema: its Avro Parsing Canonical Form, which leaves out docs, defaults,
 * aliases and layout. Texts with the same canonical form write and read the same bytes, so
 * they are one schema with one id: Rubin's published lsst.v10_0 (with docs) and Nightjar's
 * built-in copy (without) are both id 1000, as in Rubin's own registry. Throws when the text
 * is not an Avro schema.
 */
export function schemaKey(text: string): string {
  return schemaKeyOf(parseSchema(text));
}

/** schemaKey of an already parsed schema. */
export function schemaKeyOf(schema: ParsedSchema): string {
  return JSON.stringify(schema.type.schema());
}

type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

/** The first `"confluent:version"` attribute on any object of the schema (Rubin v11+ put it on their records). */
function confluentVersion(node: Json): number | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = confluentVersion(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  const own = node['confluent:version'];
  if (typeof own === 'number' && Number.isInteger(own) && own > 0) return own;
  for (const value of Object.values(node)) {
    const found = confluentVersion(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The id a schema asks for, if any: a `"confluent:version"` attribute (Rubin v11+), else the
 * `vMM_NN` part of its full name as MM*100+NN (`lsst.v9_0.alert` → 900, Rubin's convention and
 * the one schemaDirectory uses). Undefined when neither says anything (e.g. Spark's
 * `topLevelRecord`).
 */
export function derivedSchemaId(text: string, fullName: string): number | undefined {
  let json: Json;
  try {
    json = parse(text) as Json;
  } catch {
    return undefined;
  }
  const id = confluentVersion(json) ?? versionIdOf(fullName);
  return id !== undefined && id > 0 && id <= 0x7fffffff ? id : undefined;
}

/** Full name of a schema's top-level type from its JSON alone (`ns.name`, or the primitive's name). */
export function topLevelName(text: string): string {
  const json = parse(text) as Json;
  if (typeof json === 'string') return json;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return Array.isArray(json) ? 'union' : String(json);
  const name = json.name;
  if (typeof name !== 'string') return String(json.type);
  if (name.includes('.')) return name;
  return typeof json.namespace === 'string' && json.namespace !== '' ? `${json.namespace}.${name}` : name;
}
