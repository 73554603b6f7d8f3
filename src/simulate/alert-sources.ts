// Where replayed alerts come from on disk: alert files (.avro, .avro.gz), folders of them
// (nights in sub-folders), and night archives (.tar.gz, .tgz, .tar) read as streams.
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../util/errors.ts';
import { readTarEntries } from './tar-reader.ts';

const ALERT_FILE = /\.avro(\.gz)?$/i;
const ARCHIVE_FILE = /\.(tar\.gz|tgz|tar)$/i;

/** One input: an alert file (any encoding readAlertFile knows) or a tar archive of them. */
export interface AlertInput {
  readonly kind: 'file' | 'archive';
  readonly path: string;
}

/** One alert file's bytes; `name` is its path, or `archive:member` inside an archive. */
export interface AlertBytes {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Whether a name inside a folder or archive is an alert file. */
export function isAlertFileName(name: string): boolean {
  return ALERT_FILE.test(name);
}

/**
 * The inputs under the given paths, in a stable order: a folder is walked recursively for
 * alert files and archives (sorted by path); a file named explicitly is taken as an archive
 * when its name says so, else as an alert file. Throws UserError for a path that does not exist.
 */
export async function listAlertInputs(paths: readonly string[]): Promise<AlertInput[]> {
  const inputs: AlertInput[] = [];
  for (const given of paths) {
    let info;
    try {
      info = await stat(given);
    } catch (err) {
      throw new UserError(`cannot read ${given}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (info.isDirectory()) {
      const entries = await readdir(given, { recursive: true, withFileTypes: true });
      const found = entries
        .filter((e) => e.isFile() && (ALERT_FILE.test(e.name) || ARCHIVE_FILE.test(e.name)))
        .map((e) => path.join(e.parentPath, e.name))
        .sort();
      for (const file of found) inputs.push({ kind: ARCHIVE_FILE.test(file) ? 'archive' : 'file', path: file });
    } else {
      inputs.push({ kind: ARCHIVE_FILE.test(given) ? 'archive' : 'file', path: given });
    }
  }
  return inputs;
}

/** Reads one alert file whole (alert files are one to a few alerts). */
export async function readInputFile(file: string): Promise<Buffer> {
  return readFile(file);
}

/** True when the file starts with gzip's magic bytes. */
async function isGzipFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * The alert files inside a tar archive (gzipped or not, told by its bytes), streamed one entry
 * at a time. Other entries (folders, READMEs) are passed over. Throws TarError, or zlib's error
 * for corrupt gzip data, when the archive is damaged: the entries already yielded came before it.
 */
export async function* readArchive(file: string): AsyncGenerator<AlertBytes> {
  const gzipped = await isGzipFile(file);
  const raw = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const stream = gzipped ? pipeline(raw, createGunzip({ chunkSize: 256 * 1024 }), () => {}) : raw;
  try {
    for await (const entry of readTarEntries(stream)) {
      if (entry.type === 'file' && ALERT_FILE.test(entry.name)) yield { name: `${file}:${entry.name}`, bytes: entry.data };
    }
  } finally {
    raw.destroy();
    stream.destroy();
  }
}
