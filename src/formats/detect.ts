// Tells the encoding of a Kafka message (or file) from its bytes.
//
// Rules, in order (the first that matches wins):
//  1. value starts with `Obj\x01`                      → 'container' (ZTF, Fink files)
//  2. value starts with 1f 8b                           → 'gzip' (ELaSTICC .avro.gz; gunzip, detect again)
//  3. key is a JSON object containing a "type" member   → 'schema-in-key' (Fink livestream: the key
//     is the writer schema's JSON text, the value a schemaless body)
//  4. value starts with 0x00 and has at least 5 bytes  → 'confluent' (Rubin: magic 0, schema id)
//  5. value's first and last non-blank bytes are { }    → 'json' (Lasair-style JSON alerts)
//  6. anything else                                      → 'schemaless'
//
// Ambiguities, and why this order:
//  - A schemaless body can start with 0x00 too: a first field that is a long/int 0, a false
//    boolean, or a union in its first branch (often null). Bytes alone cannot tell it from a
//    Confluent header; rule 4 prefers Confluent because that is what Rubin sends. When the
//    caller gives a schema, decodeMessage (message.ts) tries the
//    Confluent reading first and falls back to reading the whole value as schemaless.
//  - A schemaless body can also start with `{` (0x7b, a zig-zag varint for -62) or even with
//    the container or gzip magic; real alert schemas start with an id (a non-negative long,
//    even first byte), so 0x7b or 0x1f first bytes do not occur in practice.
//  - Rule 3 needs only a cheap look at the key: a key that merely looks like JSON but is not a
//    schema fails later, when the schema is parsed, with a DecodeError.
import type { Encoding } from './errors.ts';
import { isContainer } from './container.ts';
import { hasConfluentHeader } from './wire.ts';

const isBlank = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function firstNonBlank(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) if (!isBlank(buf[i] as number)) return buf[i] as number;
  return -1;
}

function lastNonBlank(buf: Buffer): number {
  for (let i = buf.length - 1; i >= 0; i--) if (!isBlank(buf[i] as number)) return buf[i] as number;
  return -1;
}

/** True when the bytes look like a JSON object: first/last non-blank bytes are `{` and `}`. */
export function looksLikeJsonObject(buf: Buffer): boolean {
  return firstNonBlank(buf) === 0x7b && lastNonBlank(buf) === 0x7d;
}

export function isGzip(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** True when a Kafka key carries an Avro schema as JSON text (Fink livestream). */
export function isSchemaKey(key: Buffer | null | undefined): key is Buffer {
  return key !== null && key !== undefined && looksLikeJsonObject(key) && key.includes('"type"');
}

/** The encoding of a message from its bytes (see the rules above). */
export function detectEncoding(value: Buffer, key?: Buffer | null): Encoding {
  if (isContainer(value)) return 'container';
  if (isGzip(value)) return 'gzip';
  if (isSchemaKey(key)) return 'schema-in-key';
  if (hasConfluentHeader(value)) return 'confluent';
  if (looksLikeJsonObject(value)) return 'json';
  return 'schemaless';
}
