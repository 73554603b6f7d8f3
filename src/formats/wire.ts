// Confluent wire format (Rubin's Kafka alerts): byte 0 = 0 (magic), bytes 1..4 = big-endian
// schema registry id, then the schemaless Avro body.

export const CONFLUENT_MAGIC = 0x00;
export const CONFLUENT_HEADER_SIZE = 5;
const MAX_SCHEMA_ID = 0x7fffffff; // Confluent ids are Java ints

/** True when the bytes can hold a Confluent header (magic 0 and at least 5 bytes). */
export function hasConfluentHeader(value: Buffer): boolean {
  return value.length >= CONFLUENT_HEADER_SIZE && value[0] === CONFLUENT_MAGIC;
}

/** Schema id and body (a view, not a copy). The caller checks hasConfluentHeader first. */
export function readConfluentFrame(value: Buffer): { schemaId: number; body: Buffer } {
  if (!hasConfluentHeader(value)) throw new Error('not a Confluent wire-format message (needs magic byte 0 and a 4-byte schema id)');
  return { schemaId: value.readUInt32BE(1), body: value.subarray(CONFLUENT_HEADER_SIZE) };
}

/** Prefixes an Avro body with the Confluent header. */
export function frameConfluent(schemaId: number, body: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new Error(`Confluent schema id must be an integer in 0..${MAX_SCHEMA_ID}, got ${schemaId}`);
  }
  const out = Buffer.allocUnsafe(CONFLUENT_HEADER_SIZE + body.length);
  out[0] = CONFLUENT_MAGIC;
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, CONFLUENT_HEADER_SIZE);
  return out;
}
