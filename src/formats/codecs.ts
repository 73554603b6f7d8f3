// Block codecs of Avro object container files: null, deflate (raw RFC 1951) and snappy (raw
// snappy followed by the big-endian CRC32 of the uncompressed data, which is verified).
// Decompression is bounded before any allocation: by a caller's limit and by the largest
// expansion the format allows, so a corrupt length cannot claim gigabytes.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import * as snappy from 'snappyjs';

export type CodecName = 'null' | 'deflate' | 'snappy';

export interface BlockCodec {
  readonly name: CodecName;
  /** Returns the block's uncompressed bytes; throws Error with a reason when they are corrupt. */
  decompress(data: Buffer, maxBytes: number): Buffer;
  compress(data: Buffer, options?: CompressOptions): Buffer;
}

export interface CompressOptions {
  /** zlib level for deflate, 0-9 (default 6, zlib's default and Java Avro's default too). */
  readonly deflateLevel?: number;
}

/** Default ceiling on one uncompressed block or gunzipped file (alerts are ~100 KB). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

// Largest possible expansions: deflate 1032:1 (zlib's documented limit: a 258-byte match per
// two bits), snappy 64/3 < 22 (its densest element is a 3-byte copy of 64 bytes).
const DEFLATE_MAX_RATIO = 1032;
const SNAPPY_MAX_RATIO = 22;

/**
 * The data would decompress to more than the caller's limit: not corrupt as far as anyone can
 * tell, just too large to accept (a decompression bomb looks like this). Decompression stops at
 * the limit, so nothing larger is ever allocated.
 */
export class DecompressedTooLargeError extends Error {
  readonly limit: number;
  constructor(what: string, limit: number, detail: string) {
    super(`${what} decompresses to more than the ${limit}-byte limit (${detail})`);
    this.name = 'DecompressedTooLargeError';
    this.limit = limit;
  }
}

/** Inflates (raw deflate or gzip) with no output beyond maxBytes; more would be DecompressedTooLargeError. */
export function inflateBounded(inflate: (data: Buffer, options: { maxOutputLength: number }) => Buffer, data: Buffer, maxBytes: number, what: string): Buffer {
  // zlib's largest expansion is 1032:1: a bound below the caller's means the data is corrupt, not large.
  const limit = Math.min(maxBytes, data.length * DEFLATE_MAX_RATIO + 1024);
  try {
    return inflate(data, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' && limit === maxBytes) {
      throw new DecompressedTooLargeError(what, maxBytes, `${data.length} bytes compressed`);
    }
    throw new Error(`${what} is corrupt: ${(err as Error).message}`, { cause: err });
  }
}

const nullCodec: BlockCodec = {
  name: 'null',
  decompress: (data) => data,
  compress: (data) => data,
};

const deflateCodec: BlockCodec = {
  name: 'deflate',
  decompress: (data, maxBytes) => inflateBounded(inflateRawSync, data, maxBytes, 'deflate block'),
  compress: (data, options) => deflateRawSync(data, { level: options?.deflateLevel ?? 6 }),
};

const snappyCodec: BlockCodec = {
  name: 'snappy',
  decompress(data, maxBytes) {
    if (data.length < 5) throw new Error(`snappy block of ${data.length} bytes is too short for data and CRC32`);
    const body = data.subarray(0, data.length - 4);
    const limit = Math.min(maxBytes, body.length * SNAPPY_MAX_RATIO + 16);
    let out: Buffer;
    try {
      out = snappy.uncompress(body, limit);
    } catch (err) {
      // snappyjs checks the declared length against the limit before allocating anything.
      if (limit === maxBytes && /too big/.test((err as Error).message)) throw new DecompressedTooLargeError('snappy block', maxBytes, (err as Error).message);
      throw new Error(`snappy block is corrupt: ${(err as Error).message}`, { cause: err });
    }
    const expected = data.readUInt32BE(data.length - 4);
    const actual = crc32(out);
    if (actual !== expected) {
      throw new Error(`snappy block CRC32 mismatch: stored ${hex(expected)}, computed ${hex(actual)}`);
    }
    return out;
  },
  compress(data) {
    const compressed = snappy.compress(data);
    const out = Buffer.allocUnsafe(compressed.length + 4);
    compressed.copy(out, 0);
    out.writeUInt32BE(crc32(data), compressed.length);
    return out;
  },
};

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

const codecs: Record<CodecName, BlockCodec> = { null: nullCodec, deflate: deflateCodec, snappy: snappyCodec };

export function isCodecName(name: string): name is CodecName {
  return Object.hasOwn(codecs, name);
}

/** The codec for an `avro.codec` value; throws for codecs Nightjar does not support (bzip2, xz, zstandard). */
export function blockCodec(name: string): BlockCodec {
  if (!isCodecName(name)) throw new Error(`unsupported Avro codec "${name}" (supported: null, deflate, snappy)`);
  return codecs[name];
}
