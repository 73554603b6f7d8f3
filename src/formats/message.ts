// Decoding and encoding of one Kafka message (or file) in any of the alert encodings.
import { gunzipSync } from 'node:zlib';
import { parseSchemaBytes, type ParsedSchema } from './avro-schema.ts';
import { DecompressedTooLargeError, DEFAULT_MAX_DECOMPRESSED_BYTES, inflateBounded, type CodecName } from './codecs.ts';
import { containerRecords, readContainer, writeContainer, type ContainerFile } from './container.ts';
import { detectEncoding } from './detect.ts';
import { AvroBodyError, DecodeError, EncodeError, SchemaSourceError, type Encoding } from './errors.ts';
import { formatPath, recordCodec } from './record-codec.ts';
import type { SchemaSource } from './schema-source.ts';
import { CONFLUENT_HEADER_SIZE, frameConfluent, readConfluentFrame } from './wire.ts';

export interface DecodedRecord {
  /** How the Avro data was framed; for a gzip-wrapped file, the encoding inside (see `gzipped`). */
  readonly encoding: Encoding;
  /** True when the input was gzip-compressed around that encoding. */
  readonly gzipped: boolean;
  /** The writer schema. */
  readonly schema: ParsedSchema;
  /** Confluent schema id (wire format only). */
  readonly schemaId?: number;
  readonly record: Record<string, unknown>;
  /** The record's raw Avro body (a view into the input or its uncompressed block). */
  readonly bytes: Buffer;
}

export interface DecodeOptions {
  /** Resolves Confluent schema ids (a registry client or a schema directory). */
  readonly schemas?: SchemaSource | undefined;
  /**
   * The writer schema for schemaless bodies; also used for Confluent messages when no
   * `schemas` source is given (the id is then not checked).
   */
  readonly schema?: ParsedSchema | undefined;
  /** File path or topic/partition/offset, for error messages. */
  readonly source?: string | undefined;
  /** Largest gunzipped message or uncompressed container block accepted (default 256 MB). */
  readonly maxDecompressedBytes?: number | undefined;
}

interface Frame {
  readonly options: DecodeOptions;
  readonly gzipped: boolean;
}

function fail(frame: Frame, encoding: Encoding, offset: number, reason: string, extra: { schema?: ParsedSchema | undefined; schemaId?: number | undefined; where?: string; tooLarge?: boolean; cause?: unknown } = {}): never {
  const where = [extra.where, frame.gzipped ? 'offsets in the gunzipped data' : undefined].filter((w) => w !== undefined).join(', ');
  throw new DecodeError({
    encoding,
    offset,
    reason,
    schemaName: extra.schema?.name,
    schemaId: extra.schemaId,
    source: frame.options.source,
    where: where === '' ? undefined : where,
    tooLarge: extra.tooLarge,
    cause: extra.cause,
  });
}

const isRecordValue = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Decodes one schemaless body that must fill `body` exactly. */
function decodeBody(frame: Frame, encoding: Encoding, body: Buffer, headerSize: number, schema: ParsedSchema, schemaId?: number): DecodedRecord {
  let value: unknown;
  try {
    value = recordCodec(schema).decodeExact(body);
  } catch (err) {
    const e = err as AvroBodyError;
    const where = e.path.length > 0 ? `field ${formatPath(e.path)}` : undefined;
    return fail(frame, encoding, headerSize + e.offset, e.reason, { schema, schemaId, ...(where === undefined ? {} : { where }), cause: err });
  }
  if (!isRecordValue(value)) fail(frame, encoding, headerSize, `schema ${schema.name} is not a record schema`, { schema, schemaId });
  const out: DecodedRecord = { encoding, gzipped: frame.gzipped, schema, record: value, bytes: body };
  return schemaId === undefined ? out : { ...out, schemaId };
}

async function decodeConfluent(frame: Frame, value: Buffer): Promise<DecodedRecord[]> {
  const forced = frame.options.schema;
  try {
    return [await decodeConfluentFrame(frame, value)];
  } catch (err) {
    // A schemaless body may start with 0x00 (see detect.ts): when the caller gave a schema,
    // the whole value read with it is the other candidate, whatever made the Confluent reading
    // fail (an unknown id or a body that does not fit).
    if (forced === undefined || !(err instanceof DecodeError)) throw err;
    try {
      return [decodeBody(frame, 'schemaless', value, 0, forced)];
    } catch {
      throw err;
    }
  }
}

async function decodeConfluentFrame(frame: Frame, value: Buffer): Promise<DecodedRecord> {
  const { schemas, schema: forced } = frame.options;
  const { schemaId, body } = readConfluentFrame(value);
  if (schemas === undefined) {
    if (forced === undefined) fail(frame, 'confluent', 1, `Confluent wire format (schema id ${schemaId}) needs a schema source: a registry URL or a schema directory`, { schemaId });
    return decodeBody(frame, 'confluent', body, CONFLUENT_HEADER_SIZE, forced, schemaId);
  }
  let schema: ParsedSchema;
  try {
    schema = await schemas.byId(schemaId);
  } catch (err) {
    // A missing id is the message's fault (dead-letter it); an unreachable source is not.
    if (err instanceof SchemaSourceError && err.kind === 'not-found') {
      return fail(frame, 'confluent', 1, err.message, { schemaId, cause: err });
    }
    throw err;
  }
  return decodeBody(frame, 'confluent', body, CONFLUENT_HEADER_SIZE, schema, schemaId);
}

function gunzip(frame: Frame, value: Buffer): Buffer {
  try {
    // Bounded like a deflate block (gzip is deflate).
    return inflateBounded(gunzipSync, value, frame.options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES, 'gzip data');
  } catch (err) {
    return fail(frame, 'gzip', 0, (err as Error).message, { tooLarge: err instanceof DecompressedTooLargeError, cause: err });
  }
}

function readContainerIn(frame: Frame, value: Buffer): ContainerFile {
  try {
    return readContainer(value, { source: frame.options.source, maxDecompressedBytes: frame.options.maxDecompressedBytes });
  } catch (err) {
    if (!frame.gzipped || !(err instanceof DecodeError)) throw err;
    const where = [err.where, 'offsets in the gunzipped data'].filter((w) => w !== undefined).join(', ');
    throw new DecodeError({ ...err, where, cause: err.cause });
  }
}

async function decodeFramed(frame: Frame, value: Buffer, key: Buffer | null | undefined): Promise<DecodedRecord[]> {
  const encoding = detectEncoding(value, key);
  switch (encoding) {
    case 'container': {
      const file = readContainerIn(frame, value);
      const schema = file.header.schema;
      return containerRecords(file).map((r, i) => {
        if (!isRecordValue(r.value)) fail(frame, 'container', 0, `schema ${schema.name} is not a record schema`, { schema, where: `record ${i}` });
        return { encoding, gzipped: frame.gzipped, schema, record: r.value, bytes: r.bytes };
      });
    }
    case 'gzip':
      if (frame.gzipped) fail(frame, 'gzip', 0, 'gzip data inside gzip data');
      return decodeFramed({ ...frame, gzipped: true }, gunzip(frame, value), key);
    case 'schema-in-key': {
      let schema: ParsedSchema;
      try {
        schema = parseSchemaBytes(key as Buffer);
      } catch (err) {
        return fail(frame, 'schema-in-key', 0, `message key is not a valid Avro schema: ${(err as Error).message}`, { cause: err });
      }
      return [decodeBody(frame, 'schema-in-key', value, 0, schema)];
    }
    case 'confluent':
      return decodeConfluent(frame, value);
    case 'json':
    case 'schemaless': {
      const schema = frame.options.schema;
      if (schema === undefined) {
        return fail(frame, encoding, 0, encoding === 'json' ? 'message is JSON, not Avro' : 'schemaless Avro needs a schema (give one, e.g. the .avsc the stream was written with)');
      }
      return [decodeBody(frame, 'schemaless', value, 0, schema)];
    }
  }
}

/**
 * Decodes a Kafka message value (and key) or a file's bytes into its records: a container
 * can hold many, the other encodings hold one. Throws DecodeError for bytes that cannot be
 * decoded; a schema source that is unreachable throws its SchemaSourceError instead (the
 * message may be fine: retry rather than dead-letter).
 */
export async function decodeMessage(value: Buffer, key: Buffer | null | undefined, options: DecodeOptions = {}): Promise<DecodedRecord[]> {
  return decodeFramed({ options, gzipped: false }, value, key);
}

export interface EncodeOptions {
  readonly encoding: 'confluent' | 'container' | 'schemaless' | 'schema-in-key';
  readonly schema: ParsedSchema;
  /** Required for 'confluent'. */
  readonly schemaId?: number | undefined;
  /** Container block codec (default null). */
  readonly codec?: CodecName | undefined;
}

/** Encodes one record as a Kafka message (key and value) in the given encoding. */
export function encodeMessage(record: Record<string, unknown>, options: EncodeOptions): { key: Buffer | null; value: Buffer } {
  const { schema } = options;
  const body = recordCodec(schema).encode(record);
  switch (options.encoding) {
    case 'confluent':
      if (options.schemaId === undefined) throw new EncodeError(schema.name, '', 'the Confluent wire format needs a schemaId');
      return { key: null, value: frameConfluent(options.schemaId, body) };
    case 'container':
      return { key: null, value: writeContainer([body], { schema, codec: options.codec ?? 'null' }) };
    case 'schemaless':
      return { key: null, value: body };
    case 'schema-in-key':
      return { key: Buffer.from(schema.text, 'utf8'), value: body };
  }
}
