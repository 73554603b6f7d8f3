// A streaming reader of tar archives (POSIX ustar, with GNU long names and pax path records,
// which is what GNU tar, bsdtar and Python's tarfile write). It reads 512-byte blocks from any
// async source of chunks — a gunzip stream for .tar.gz — and yields one entry at a time, so a
// night archive of thousands of alerts is never held whole in memory: only the current entry.
//
// Every header's checksum is verified and every size is bounded, so a corrupt or truncated
// archive ends in a TarError that says where, never in a huge allocation or a silent stop.

export const TAR_BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive (long names resolved). */
  readonly name: string;
  readonly type: 'file' | 'directory' | 'other';
  readonly size: number;
  /** The entry's bytes (empty for directories and other types). */
  readonly data: Buffer;
}

export class TarError extends Error {
  /** Byte offset in the (uncompressed) tar stream. */
  readonly offset: number;
  constructor(offset: number, reason: string) {
    super(`${reason} (at byte ${offset} of the tar data)`);
    this.name = 'TarError';
    this.offset = offset;
  }
}

export interface ReadTarOptions {
  /** Largest entry accepted (default 1 GiB): a corrupt size field cannot make us allocate more. */
  readonly maxEntryBytes?: number;
}

/** A FIFO of chunks from which exact byte counts are taken. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  /** Bytes consumed so far (for error offsets). */
  consumed = 0;
  private readonly source: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** Pulls chunks until n bytes are buffered; false if the stream ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'latin1') : Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    return this.length >= n;
  }

  /** Exactly n bytes, or undefined when the stream ends with fewer (the rest is then counted as consumed). */
  async take(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    let out: Buffer;
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0] as Buffer;
        const part = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part);
      }
    }
    this.length -= n;
    this.consumed += n;
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Stops the source (e.g. a gunzip stream) when reading ends early. */
  async close(): Promise<void> {
    await this.source.return?.();
  }
}

/** A NUL-terminated field as text. */
function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? field.length : nul);
}

/** An octal number field (spaces/NULs around it), or GNU's base-256 form for big values. */
function number(block: Buffer, start: number, length: number, what: string, offset: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] as number) & 0x80) !== 0) {
    // Base-256: the remaining bits, big-endian. Only non-negative values fit a size.
    if (((field[0] as number) & 0x40) !== 0) throw new TarError(offset, `negative ${what} in a tar header`);
    let value = (field[0] as number) & 0x3f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] as number);
    if (!Number.isSafeInteger(value)) throw new TarError(offset, `${what} in a tar header is too large`);
    return value;
  }
  const digits = field.toString('latin1').replace(/[\0 ]+$/g, '').replace(/^[ \0]+/, '');
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarError(offset, `${what} field "${digits.slice(0, 20)}" is not an octal number: not a tar header (corrupt or not a tar archive)`);
  return parseInt(digits, 8);
}

/** The header checksum: the sum of all bytes with the checksum field read as spaces. */
function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum;
}

const isZeroBlock = (block: Buffer): boolean => block.every((b) => b === 0);

/** `path=` from a pax extended header ("<len> <key>=<value>\n" records). */
function paxPath(data: Buffer, offset: number): string | undefined {
  let pos = 0;
  let found: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(data.toString('latin1', pos, space));
    if (!Number.isInteger(length) || length <= 0 || pos + length > data.length) throw new TarError(offset, 'malformed pax extended header record');
    const record = data.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') found = record.slice(eq + 1);
    pos += length;
  }
  return found;
}

/**
 * Yields the entries of a tar stream in order. Throws TarError for a bad header checksum, a
 * malformed field, an entry over the size limit, or data that ends before the end-of-archive
 * marker (a truncated archive); errors of the source (e.g. gunzip's) pass through.
 */
export async function* readTarEntries(source: AsyncIterable<Buffer | Uint8Array | string>, options: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const maxEntryBytes = options.maxEntryBytes ?? 1024 ** 3;
  const queue = new ByteQueue(source);
  let longName: string | undefined;
  let paxName: string | undefined;
  try {
    for (;;) {
      const at = queue.consumed;
      const header = await queue.take(TAR_BLOCK);
      if (header === undefined) {
        if (at === 0 && (await queue.atEnd())) throw new TarError(0, 'empty archive: no tar header');
        throw new TarError(at, 'the archive ends before its end-of-archive marker (truncated)');
      }
      if (isZeroBlock(header)) {
        // The end-of-archive marker is two zero blocks; tolerate writers that stop after one.
        const second = await queue.take(TAR_BLOCK);
        if (second !== undefined && !isZeroBlock(second)) throw new TarError(at + TAR_BLOCK, 'a zero block is followed by data: corrupt archive');
        return;
      }
      const stored = number(header, 148, 8, 'checksum', at);
      if (stored !== checksumOf(header)) throw new TarError(at, `tar header checksum mismatch (stored ${stored}, computed ${checksumOf(header)}): corrupt archive`);
      const size = number(header, 124, 12, 'size', at);
      if (size > maxEntryBytes) throw new TarError(at, `entry of ${size} bytes exceeds the ${maxEntryBytes}-byte limit`);
      const typeflag = String.fromCharCode(header[156] as number);
      const padded = Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
      const body = padded === 0 ? Buffer.alloc(0) : await queue.take(padded);
      if (body === undefined) throw new TarError(at, `the archive ends inside an entry of ${size} bytes (truncated)`);
      const data = body.subarray(0, size);

      if (typeflag === 'L') {
        longName = data.toString('utf8').replace(/\0+$/, '');
        continue;
      }
      if (typeflag === 'x') {
        paxName = paxPath(data, at) ?? paxName;
        continue;
      }
      if (typeflag === 'g') continue; // global pax header: nothing Nightjar needs

      const magic = header.toString('latin1', 257, 262);
      const prefix = magic === 'ustar' ? text(header, 345, 155) : '';
      const ownName = prefix === '' ? text(header, 0, 100) : `${prefix}/${text(header, 0, 100)}`;
      const name = paxName ?? longName ?? ownName;
      longName = undefined;
      paxName = undefined;
      const type = typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'directory' : 'other';
      yield { name, type, size, data: type === 'file' ? data : Buffer.alloc(0) };
    }
  } finally {
    await queue.close();
  }
}
