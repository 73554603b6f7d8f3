// The image bytes of a DuckDB file store's cutouts, kept outside DuckDB in append-only segment
// files (`<store file>.cutouts/000001.seg`, ...). Writing ~65 MB of images per batch of 1,000
// real-size alerts took 450-550 ms as DuckDB BLOBs (written to its log, then again at
// checkpoint, with up to ~1.6 GB of native memory its memory limit did not contain); appended to
// a file and fsync'ed it takes ~65 ms. object_cutouts keeps where each image is (cutouts-sql.ts).
//
// Only appends: bytes are never overwritten, so a row committed in the store always points at
// bytes that were synced before the commit. Bytes no row points at (replaced images, writes whose
// transaction failed, a crash between the append and the commit) are reclaimed by compaction
// (duckdb-store.ts), which copies a segment's live images to the active segment and deletes it.
import fs from 'node:fs';
import path from 'node:path';

/** Where an image's bytes are: in which segment, from which byte, how many. */
export interface ImageLocation {
  segment: number;
  position: number;
  length: number;
}

export interface SegmentOptions {
  /** A segment past this size is closed and the next one started (default 256 MiB). */
  segmentBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 256 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{6,})\.seg$/;
// fs.writev takes at most IOV_MAX (1024 on Linux) buffers a call.
const MAX_BUFFERS_PER_WRITE = 1024;

/** The segment directory of a store file. */
export function segmentDirectory(storeFile: string): string {
  return `${storeFile}.cutouts`;
}

function segmentName(segment: number): string {
  return `${String(segment).padStart(6, '0')}.seg`;
}

export class CutoutSegments {
  readonly directory: string;
  readonly segmentBytes: number;
  private readonly readOnly: boolean;
  /** The segment appended to, and its size; 0 before the first append of a new directory. */
  private active = 0;
  private activeSize = 0;
  private activeFile: fs.promises.FileHandle | null = null;
  /** Read handles, opened on first use. */
  private readonly readers = new Map<number, fs.promises.FileHandle>();

  private constructor(directory: string, readOnly: boolean, options: SegmentOptions) {
    this.directory = directory;
    this.readOnly = readOnly;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!(this.segmentBytes > 0)) throw new Error(`segmentBytes must be positive, not ${this.segmentBytes}`);
  }

  /** Opens the segments of a store file; the newest segment is appended to at its end. */
  static open(storeFile: string, readOnly: boolean, options: SegmentOptions = {}): CutoutSegments {
    const segments = new CutoutSegments(segmentDirectory(storeFile), readOnly, options);
    if (!readOnly) fs.mkdirSync(segments.directory, { recursive: true });
    const existing = segments.list();
    const newest = existing.at(-1);
    if (newest !== undefined) {
      segments.active = newest.segment;
      segments.activeSize = newest.bytes;
    }
    return segments;
  }

  /** The segment files and their sizes, oldest first. */
  list(): { segment: number; bytes: number }[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: { segment: number; bytes: number }[] = [];
    for (const name of names) {
      const match = SEGMENT_NAME.exec(name);
      if (match === null) continue;
      out.push({ segment: Number(match[1]), bytes: fs.statSync(path.join(this.directory, name)).size });
    }
    return out.sort((a, b) => a.segment - b.segment);
  }

  /** The segment appends go to (0: none yet). */
  get activeSegment(): number {
    return this.active;
  }

  /**
   * Appends images (each one an array of byte ranges, written one after the other) and syncs them
   * to disk; returns where each went, in order. Starts a new segment first when the active one is
   * full; one call's images always go to one segment.
   */
  async append(images: readonly Uint8Array[]): Promise<ImageLocation[]> {
    if (this.readOnly) throw new Error(`cutout segments ${this.directory} are open read-only`);
    if (images.length === 0) return [];
    if (this.activeFile === null || this.activeSize >= this.segmentBytes) await this.startSegment();
    const file = this.activeFile as fs.promises.FileHandle;
    const locations: ImageLocation[] = [];
    let position = this.activeSize;
    for (const image of images) {
      locations.push({ segment: this.active, position, length: image.length });
      position += image.length;
    }
    try {
      for (let i = 0; i < images.length; i += MAX_BUFFERS_PER_WRITE) await writeAll(file, images.slice(i, i + MAX_BUFFERS_PER_WRITE));
      await file.sync();
    } catch (error) {
      // Where the file now ends is unknown: the next append starts a new segment.
      await this.closeActive();
      throw new Error(`cutout segment ${this.pathOf(this.active)}: appending ${images.length} images failed: ${(error as Error).message}`, { cause: error });
    }
    this.activeSize = position;
    return locations;
  }

  /** The bytes at a location; an error naming the segment when the file is gone or too short. */
  async read(location: ImageLocation): Promise<Uint8Array> {
    const handle = await this.reader(location.segment);
    const bytes = Buffer.allocUnsafe(location.length);
    let done = 0;
    while (done < location.length) {
      const { bytesRead } = await handle.read(bytes, done, location.length - done, location.position + done);
      if (bytesRead === 0) throw new Error(`cutout segment ${this.pathOf(location.segment)} ends before byte ${location.position + location.length} (an image of ${location.length} bytes at ${location.position})`);
      done += bytesRead;
    }
    return bytes;
  }

  /** Deletes a closed segment (its live images copied elsewhere first). */
  async remove(segment: number): Promise<void> {
    if (segment === this.active) throw new Error(`cutout segment ${this.pathOf(segment)} is the active one`);
    const handle = this.readers.get(segment);
    this.readers.delete(segment);
    await handle?.close();
    await fs.promises.rm(this.pathOf(segment), { force: true });
  }

  async close(): Promise<void> {
    await this.closeActive();
    const handles = [...this.readers.values()];
    this.readers.clear();
    await Promise.all(handles.map((h) => h.close()));
  }

  pathOf(segment: number): string {
    return path.join(this.directory, segmentName(segment));
  }

  private async startSegment(): Promise<void> {
    await this.closeActive();
    const next = this.active + 1;
    // 'a' never overwrites: after a crash the new segment may exist with dead bytes only.
    const file = await fs.promises.open(this.pathOf(next), 'a');
    this.active = next;
    this.activeFile = file;
    this.activeSize = (await file.stat()).size;
    // The new file's directory entry must survive a crash too.
    const dir = await fs.promises.open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async closeActive(): Promise<void> {
    if (this.activeFile === null) return;
    const file = this.activeFile;
    this.activeFile = null;
    await file.close();
    // Reopened (and its size read from the file) by the next append.
    this.activeSize = this.segmentBytes;
  }

  private async reader(segment: number): Promise<fs.promises.FileHandle> {
    let handle = this.readers.get(segment);
    if (handle === undefined) {
      handle = await fs.promises.open(this.pathOf(segment), 'r');
      const raced = this.readers.get(segment);
      if (raced !== undefined) {
        await handle.close();
        return raced;
      }
      this.readers.set(segment, handle);
    }
    return handle;
  }
}

/** writev until every byte is written (a call may write fewer). */
async function writeAll(file: fs.promises.FileHandle, buffers: readonly Uint8Array[]): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  while (pending.length > 0) {
    let { bytesWritten: written } = await file.writev(pending);
    const rest: Uint8Array[] = [];
    for (const b of pending) {
      if (written >= b.length) {
        written -= b.length;
        continue;
      }
      rest.push(written > 0 ? b.subarray(written) : b);
      written = 0;
    }
    pending = rest;
  }
}
