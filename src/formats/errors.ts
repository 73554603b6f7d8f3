// Errors raised by the alert codecs. Every decoding failure of input bytes (truncated, corrupt,
// wrong schema) is a DecodeError carrying where it happened, so a dead-letter entry or a log
// line is enough to find the bad message again.

/** The encodings Nightjar reads and writes (see detect.ts for how they are told apart). */
export type Encoding = 'container' | 'gzip' | 'confluent' | 'schema-in-key' | 'schemaless' | 'json';

export interface DecodeErrorDetails {
  readonly encoding: Encoding;
  /** Byte offset in the input where decoding failed (see `where` for offsets inside blocks). */
  readonly offset: number;
  /** What went wrong, e.g. "string length 2147483647 exceeds the 12 bytes left". */
  readonly reason: string;
  /** Full name of the schema tried, if one was chosen. */
  readonly schemaName?: string | undefined;
  /** Confluent schema id, if known. */
  readonly schemaId?: number | undefined;
  /** File path or topic/partition/offset, as given by the caller. */
  readonly source?: string | undefined;
  /** Extra location, e.g. "block 2, record 5, field diaSource.psfFlux". */
  readonly where?: string | undefined;
  /** The data would decompress to more than the size limit (a decompression bomb or an oversized alert). */
  readonly tooLarge?: boolean | undefined;
  readonly cause?: unknown;
}

/** Input bytes that cannot be decoded. The message names encoding, offset, schema and source. */
export class DecodeError extends Error {
  readonly encoding: Encoding;
  readonly offset: number;
  readonly reason: string;
  readonly schemaName: string | undefined;
  readonly schemaId: number | undefined;
  readonly source: string | undefined;
  readonly where: string | undefined;
  readonly tooLarge: boolean;

  constructor(details: DecodeErrorDetails) {
    super(formatDecodeMessage(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'DecodeError';
    this.encoding = details.encoding;
    this.offset = details.offset;
    this.reason = details.reason;
    this.schemaName = details.schemaName;
    this.schemaId = details.schemaId;
    this.source = details.source;
    this.where = details.where;
    this.tooLarge = details.tooLarge === true;
  }
}

function formatDecodeMessage(d: DecodeErrorDetails): string {
  const schema =
    d.schemaName === undefined && d.schemaId === undefined
      ? 'no schema'
      : `schema ${d.schemaName ?? '?'}${d.schemaId === undefined ? '' : ` (id ${d.schemaId})`}`;
  const from = d.source === undefined ? '' : ` from ${d.source}`;
  const where = d.where === undefined ? '' : `, ${d.where}`;
  return `cannot decode ${d.encoding} message${from}: ${d.reason} (at byte ${d.offset}${where}; ${schema})`;
}

/**
 * Failure inside one Avro record body: the offset in the buffer being read and the field path
 * (`["diaSource", "psfFlux"]`, `["prvDiaSources", 3, "band"]`). Codecs turn it into a
 * DecodeError with the message context.
 */
export class AvroBodyError extends Error {
  readonly offset: number;
  readonly path: (string | number)[] = [];
  readonly reason: string;

  constructor(offset: number, reason: string) {
    super(`${reason} at byte ${offset}`);
    this.name = 'AvroBodyError';
    this.offset = offset;
    this.reason = reason;
  }
}

/** A record that does not match the schema it is being written with. */
export class EncodeError extends Error {
  /** Field path inside the record, e.g. "diaSource.psfFlux". */
  readonly path: string;
  readonly schemaName: string;

  constructor(schemaName: string, path: string, reason: string) {
    super(`cannot encode ${schemaName} record: ${path === '' ? '' : `${path}: `}${reason}`);
    this.name = 'EncodeError';
    this.path = path;
    this.schemaName = schemaName;
  }
}

/**
 * A schema source (registry or directory) could not answer. `kind` tells a missing schema
 * (the message is at fault: `not-found`) from a source that is down or broken (`unavailable`,
 * `invalid`): a pipeline dead-letters the first and retries the others.
 */
export class SchemaSourceError extends Error {
  readonly kind: 'not-found' | 'unavailable' | 'invalid';
  readonly schemaId: number | undefined;
  readonly location: string;

  constructor(kind: SchemaSourceError['kind'], location: string, schemaId: number | undefined, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SchemaSourceError';
    this.kind = kind;
    this.location = location;
    this.schemaId = schemaId;
  }
}
