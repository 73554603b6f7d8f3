// Avro object container files (ZTF Kafka messages, Fink and Rubin sample files):
//   magic "Obj\x01", metadata map (avro.schema, avro.codec, ...), 16-byte sync marker,
//   then blocks of: record count, byte size, (compressed) records, sync marker.
// Reading keeps every record's raw bytes so round trips can be checked record by record;
// writing takes the same metadata order, sync marker and block layout to reproduce a file.
import { randomBytes } from 'node:crypto';
import { parseSchemaBytes, type ParsedSchema } from './avro-schema.ts';
import { blockCodec, DecompressedTooLargeError, DEFAULT_MAX_DECOMPRESSED_BYTES, type CodecName } from './codecs.ts';
import { AvroBodyError, DecodeError } from './errors.ts';
import { AvroReader, AvroWriter, formatPath, recordCodec } from './record-codec.ts';

export const CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
const SYNC_SIZE = 16;
/** Java Avro's default sync interval: a new block once the current one holds this many bytes. */
const DEFAULT_BLOCK_BYTES = 64_000;

export interface ContainerHeader {
  readonly schema: ParsedSchema;
  readonly codec: CodecName;
  /** Every metadata entry in file order, avro.schema and avro.codec included. */
  readonly metadata: ReadonlyArray<readonly [string, Buffer]>;
  readonly sync: Buffer;
  /** Bytes taken by magic, metadata and sync marker: the first block starts here. */
  readonly length: number;
}

export interface ContainerRecord {
  readonly value: unknown;
  /** The record's Avro body: a view into the (uncompressed) block data, not a copy. */
  readonly bytes: Buffer;
}

export interface ContainerBlock {
  /** File offset of the block (its record count). */
  readonly offset: number;
  readonly count: number;
  /** The block's payload as stored in the file. */
  readonly stored: Buffer;
  /** The payload uncompressed (the same buffer as `stored` for codec null). */
  readonly data: Buffer;
  readonly records: readonly ContainerRecord[];
}

export interface ContainerFile {
  readonly header: ContainerHeader;
  readonly blocks: readonly ContainerBlock[];
}

export interface ReadContainerOptions {
  /** File path or topic/partition/offset, for error messages. */
  readonly source?: string | undefined;
  /** Largest uncompressed block accepted (default 256 MB). */
  readonly maxDecompressedBytes?: number | undefined;
}

export function isContainer(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x4f && buf[1] === 0x62 && buf[2] === 0x6a && buf[3] === 0x01;
}

function fail(options: ReadContainerOptions | undefined, offset: number, reason: string, extra: Partial<{ schema: ParsedSchema; where: string; tooLarge: boolean; cause: unknown }> = {}): never {
  throw new DecodeError({
    encoding: 'container',
    offset,
    reason,
    source: options?.source,
    schemaName: extra.schema?.name,
    where: extra.where,
    tooLarge: extra.tooLarge,
    cause: extra.cause,
  });
}

/** Parses magic, metadata and sync marker. Throws DecodeError. */
export function readContainerHeader(buf: Buffer, options?: ReadContainerOptions): ContainerHeader {
  if (!isContainer(buf)) fail(options, 0, `not an Avro container file (first bytes ${buf.subarray(0, 4).toString('hex')}, expected 4f626a01)`);
  const r = new AvroReader(buf, 4, buf.length);
  const metadata: [string, Buffer][] = [];
  let schemaOffset = -1;
  try {
    for (let n = r.blockCount(2); n !== 0; n = r.blockCount(2)) {
      for (let i = 0; i < n; i++) {
        const key = r.string();
        if (key === 'avro.schema') schemaOffset = r.pos;
        metadata.push([key, r.bytes()]);
      }
    }
  } catch (err) {
    if (err instanceof AvroBodyError) fail(options, err.offset, `header metadata: ${err.reason}`);
    throw err;
  }
  if (buf.length - r.pos < SYNC_SIZE) fail(options, r.pos, 'truncated: header sync marker expected');
  const sync = buf.subarray(r.pos, r.pos + SYNC_SIZE);
  const length = r.pos + SYNC_SIZE;

  const schemaBytes = metadata.find(([key]) => key === 'avro.schema')?.[1];
  if (schemaBytes === undefined) fail(options, 4, 'header has no avro.schema entry');
  const codecName = metadata.find(([key]) => key === 'avro.codec')?.[1].toString('utf8') ?? 'null';
  let codec: CodecName;
  try {
    codec = blockCodec(codecName).name;
  } catch (err) {
    return fail(options, 4, (err as Error).message);
  }
  let schema: ParsedSchema;
  try {
    schema = parseSchemaBytes(schemaBytes);
  } catch (err) {
    return fail(options, schemaOffset, `invalid avro.schema in header: ${(err as Error).message}`, { cause: err });
  }
  return { schema, codec, metadata, sync, length };
}

/** Reads a whole container: header, every block, every record (decoded, with its raw bytes). */
export function readContainer(buf: Buffer, options?: ReadContainerOptions): ContainerFile {
  const header = readContainerHeader(buf, options);
  const { schema, sync } = header;
  const codec = blockCodec(header.codec);
  const records = recordCodec(schema);
  const maxBytes = options?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const blocks: ContainerBlock[] = [];
  const r = new AvroReader(buf, header.length, buf.length);
  while (r.pos < buf.length) {
    const offset = r.pos;
    const where = `block ${blocks.length}`;
    let count: number;
    let size: number;
    try {
      count = Number(r.long());
      size = Number(r.long());
    } catch (err) {
      return fail(options, (err as AvroBodyError).offset, `${where}: ${(err as AvroBodyError).reason}`, { schema });
    }
    if (count < 0 || size < 0) fail(options, offset, `${where}: negative record count ${count} or size ${size}`, { schema });
    const left = buf.length - r.pos;
    if (size + SYNC_SIZE > left) fail(options, offset, `${where}: size ${size} plus sync marker exceeds the ${left} bytes left (truncated file?)`, { schema });
    const dataOffset = r.pos;
    const stored = buf.subarray(dataOffset, dataOffset + size);
    r.pos += size;
    if (!buf.subarray(r.pos, r.pos + SYNC_SIZE).equals(sync)) fail(options, r.pos, `${where}: sync marker does not match the header's`, { schema });
    r.pos += SYNC_SIZE;

    let data: Buffer;
    try {
      data = codec.decompress(stored, maxBytes);
    } catch (err) {
      return fail(options, dataOffset, `${where}: ${(err as Error).message}`, { schema, tooLarge: err instanceof DecompressedTooLargeError, cause: err });
    }
    if (records.minSize > 0 ? count * records.minSize > data.length : count > data.length + 1_000_000) {
      fail(options, offset, `${where}: ${count} records cannot fit in ${data.length} bytes`, { schema });
    }
    const decoded: ContainerRecord[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      try {
        const { value, end } = records.decode(data, p, data.length);
        decoded.push({ value, bytes: data.subarray(p, end) });
        p = end;
      } catch (err) {
        const e = err as AvroBodyError;
        const field = e.path.length > 0 ? `, field ${formatPath(e.path)}` : '';
        // For codec null the block is a view of the file, so the offset maps back to it.
        const fileOffset = data === stored ? dataOffset + e.offset : dataOffset;
        const inBlock = data === stored ? '' : `, byte ${e.offset} of the uncompressed block`;
        return fail(options, fileOffset, e.reason, { schema, where: `${where}, record ${i}${inBlock}${field}`, cause: err });
      }
    }
    if (p !== data.length) fail(options, data === stored ? dataOffset + p : dataOffset, `${where}: ${data.length - p} bytes left after its ${count} records`, { schema });
    blocks.push({ offset, count, stored, data, records: decoded });
  }
  return { header, blocks };
}

/** All records of a container, in order. */
export function containerRecords(file: ContainerFile): ContainerRecord[] {
  return file.blocks.flatMap((block) => block.records);
}

export interface WriteContainerOptions {
  /** Written as avro.schema (its exact text). */
  readonly schema: ParsedSchema;
  readonly codec?: CodecName;
  /**
   * Metadata entries in the order to write them. avro.schema and avro.codec take their place
   * in this list if present (their values come from `schema` and `codec`), else lead it.
   */
  readonly metadata?: ReadonlyArray<readonly [string, Buffer | string]>;
  /** 16 bytes; random by default. */
  readonly sync?: Buffer;
  /** Records per block, summing to the number of records; by default ~64 KB blocks. */
  readonly blockCounts?: readonly number[];
  readonly deflateLevel?: number;
}

/** The options that rewrite `file` exactly (for codec null: byte for byte). */
export function containerLayout(file: ContainerFile): WriteContainerOptions {
  return {
    schema: file.header.schema,
    codec: file.header.codec,
    metadata: file.header.metadata,
    sync: file.header.sync,
    blockCounts: file.blocks.map((b) => b.count),
  };
}

function defaultBlockCounts(bodies: readonly Buffer[]): number[] {
  const counts: number[] = [];
  let count = 0;
  let bytes = 0;
  for (const body of bodies) {
    count++;
    bytes += body.length;
    if (bytes >= DEFAULT_BLOCK_BYTES) {
      counts.push(count);
      count = 0;
      bytes = 0;
    }
  }
  if (count > 0) counts.push(count);
  return counts;
}

/** Writes a container file from encoded record bodies (see recordCodec().encode). */
export function writeContainer(bodies: readonly Buffer[], options: WriteContainerOptions): Buffer {
  const codecName = options.codec ?? 'null';
  const codec = blockCodec(codecName);
  const sync = options.sync ?? randomBytes(SYNC_SIZE);
  if (sync.length !== SYNC_SIZE) throw new Error(`sync marker must be ${SYNC_SIZE} bytes, got ${sync.length}`);
  const counts = options.blockCounts ?? defaultBlockCounts(bodies);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== bodies.length) throw new Error(`block layout holds ${total} records but ${bodies.length} were given`);

  const given = options.metadata ?? [];
  const entries: [string, Buffer][] = [];
  const special = (key: string): Buffer | undefined =>
    key === 'avro.schema' ? Buffer.from(options.schema.text, 'utf8') : key === 'avro.codec' ? Buffer.from(codecName, 'utf8') : undefined;
  for (const key of ['avro.schema', 'avro.codec']) {
    if (!given.some(([k]) => k === key)) entries.push([key, special(key) as Buffer]);
  }
  for (const [key, value] of given) entries.push([key, special(key) ?? (typeof value === 'string' ? Buffer.from(value, 'utf8') : value)]);

  const w = new AvroWriter(bodies.reduce((n, b) => n + b.length, 0) + 64 * 1024);
  w.reserve(4);
  CONTAINER_MAGIC.copy(w.buf, w.pos);
  w.pos += 4;
  if (entries.length > 0) {
    w.varint(entries.length * 2);
    for (const [key, value] of entries) {
      w.string(key);
      w.bytes(value);
    }
  }
  w.varint(0);
  w.fixed(sync, SYNC_SIZE);

  let next = 0;
  for (const count of counts) {
    const data = Buffer.concat(bodies.slice(next, next + count));
    next += count;
    const stored = codec.compress(data, options.deflateLevel === undefined ? undefined : { deflateLevel: options.deflateLevel });
    w.long(BigInt(count));
    w.long(BigInt(stored.length));
    w.fixed(stored, stored.length);
    w.fixed(sync, SYNC_SIZE);
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}
