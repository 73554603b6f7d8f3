// Alerts saved to disk (`nightjar consume --save`, survey dumps): list the files under any
// number of files and folders, and read each file's records with their writer schema name.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readAlertFile, type ReadAlertFileOptions } from '../formats/files.ts';
import { UserError } from '../util/errors.ts';
import { parse } from '../util/json.ts';

/** One saved alert record. */
export interface SavedAlert {
  /** The file it came from. */
  readonly file: string;
  /** Place of the record in its file (0-based). */
  readonly index: number;
  /** Writer schema full name; for JSON files the `schema` field when present, else '' (adapters then go by the record's fields). */
  readonly schemaName: string;
  /** The decoded record; from JSON, bytes are base64 strings and 64-bit integers BigInt. */
  readonly record: Record<string, unknown>;
}

const SAVED_FILE = /\.(avro|avro\.gz|json|jsonl)$/;

/** True for the file names saved alerts have: .avro, .avro.gz, .json, .jsonl. */
export function isSavedAlertFile(name: string): boolean {
  return SAVED_FILE.test(name);
}

/**
 * The saved alert files named by `paths`: a file is taken as given, a folder is walked
 * recursively for {@link isSavedAlertFile} names (each folder's list sorted). Duplicates are dropped.
 */
export async function listSavedAlertFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw new UserError(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (info.isDirectory()) {
      const entries = await readdir(p, { recursive: true, withFileTypes: true });
      files.push(...entries.filter((e) => e.isFile() && isSavedAlertFile(e.name)).map((e) => path.join(e.parentPath, e.name)).sort());
    } else {
      files.push(p);
    }
  }
  return [...new Set(files)];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON alert: either `{schema, record, ...}` (a saved message with its schema name) or the bare record. */
function fromJson(value: unknown, file: string, index: number): SavedAlert {
  if (!isRecord(value)) throw new UserError(`${file}: JSON value ${index + 1} is not an object`);
  if (isRecord(value.record) && (typeof value.schema === 'string' || isRecord(value.schema))) {
    const schema = value.schema;
    const schemaName = typeof schema === 'string' ? schema : typeof schema.name === 'string' ? schema.name : '';
    return { file, index, schemaName, record: value.record };
  }
  return { file, index, schemaName: '', record: value };
}

function readJsonAlerts(text: string, file: string): SavedAlert[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let whole: unknown;
  try {
    whole = parse(trimmed);
  } catch {
    // Not one JSON document: JSON Lines, one alert per line.
    return trimmed
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, i) => {
        let value: unknown;
        try {
          value = parse(line);
        } catch (err) {
          throw new UserError(`${file}: line ${i + 1} is not JSON (${(err as Error).message})`);
        }
        return fromJson(value, file, i);
      });
  }
  return Array.isArray(whole) ? whole.map((v, i) => fromJson(v, file, i)) : [fromJson(whole, file, 0)];
}

/** Every alert record in one saved file (.json/.jsonl/.json.gz by name or content, else any Avro encoding). */
export async function readSavedAlerts(file: string, options: ReadAlertFileOptions = {}): Promise<SavedAlert[]> {
  if (/\.jsonl?(\.gz)?$/.test(file)) {
    let bytes = await readFile(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    return readJsonAlerts(bytes.toString('utf8'), file);
  }
  const records = await readAlertFile(file, options);
  return records.map((d, index) => ({ file, index, schemaName: d.schema.name, record: d.record }));
}
