// Cutout images (postage stamps) in decoded alert records of any survey, found by field name:
//   Rubin, RAPID, ELaSTICC, Fink-Rubin: cutoutScience / cutoutTemplate (RAPID: cutoutReference) /
//     cutoutDifference = bytes of a plain FITS file (or null);
//   ZTF, Fink-ZTF, ASKAP: the same names holding {fileName, stampData}, stampData = gzip FITS;
//   DECam DESIRT: cutoutScience/... = gzip FITS bytes; WINTER: cutout_science/...;
//   DECam DECAT: triggersource.scicutout / refcutout / diffcutout (gzip FITS).
// Cutouts sit at the top of the record or in a nested record (never inside the arrays of
// history), so only records are searched. JSON samples carry them as base64 text.
import { gunzipSync } from 'node:zlib';

export type CutoutKind = 'science' | 'template' | 'difference';

export interface Cutout {
  readonly kind: CutoutKind;
  /** Field path in the record, e.g. `cutoutScience`, `triggersource.scicutout`. */
  readonly path: string;
  /** The image bytes as the record holds them (plain or gzip-compressed FITS). */
  readonly data: Uint8Array;
  /** ZTF-style cutouts name their file (e.g. `candid..._pid..._targ_scimref.fits.gz`). */
  readonly fileName?: string;
}

const CUTOUT_FIELD = /^(?:cutout_?(science|template|reference|difference)|(sci|ref|diff)cutout)$/i;

const KINDS: Readonly<Record<string, CutoutKind>> = {
  science: 'science',
  sci: 'science',
  template: 'template',
  reference: 'template',
  ref: 'template',
  difference: 'difference',
  diff: 'difference',
};

/** The kind of cutout a field holds, judging by its name; undefined for other fields. */
export function cutoutKindOf(fieldName: string): CutoutKind | undefined {
  const m = CUTOUT_FIELD.exec(fieldName);
  if (m === null) return undefined;
  return KINDS[(m[1] ?? m[2] ?? '').toLowerCase()];
}

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** The image bytes of a cutout field's value, or undefined when it holds none (null, empty). */
function imageBytes(value: unknown): { data: Uint8Array; fileName?: string } | undefined {
  if (value instanceof Uint8Array) return value.length > 0 ? { data: value } : undefined;
  if (typeof value === 'string') return value === '' ? undefined : { data: Buffer.from(value, 'base64') };
  if (isRecord(value)) {
    const inner = imageBytes(value.stampData);
    if (inner === undefined) return undefined;
    return typeof value.fileName === 'string' ? { ...inner, fileName: value.fileName } : inner;
  }
  return undefined;
}

/** Every cutout in a record, in field order. */
export function findCutouts(record: Rec): Cutout[] {
  const found: Cutout[] = [];
  const visit = (rec: Rec, prefix: string): void => {
    for (const [name, value] of Object.entries(rec)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const kind = cutoutKindOf(name);
      if (kind !== undefined) {
        const image = imageBytes(value);
        if (image !== undefined) found.push({ kind, path, ...image });
      } else if (isRecord(value)) {
        visit(value, path);
      }
    }
  };
  visit(record, '');
  return found;
}

/**
 * A copy of the record with every cutout field's value replaced by `{"$bytes": n}` (n = the
 * stored image size; a ZTF `{fileName, stampData}` becomes that too), null cutouts kept.
 * Records without cutouts are shared, not copied.
 */
export function withoutCutouts(record: Rec): Rec {
  let copy: Rec | undefined;
  for (const [name, value] of Object.entries(record)) {
    let replaced: unknown = value;
    if (cutoutKindOf(name) !== undefined) {
      const image = imageBytes(value);
      replaced = image === undefined ? value : { $bytes: image.data.length };
    } else if (isRecord(value)) {
      replaced = withoutCutouts(value);
    }
    if (replaced !== value) {
      copy ??= { ...record };
      copy[name] = replaced;
    }
  }
  return copy ?? record;
}

const FITS_START = Buffer.from('SIMPLE  =', 'ascii');
const GZIP_MAGIC = [0x1f, 0x8b];
/** A 30x30 Rubin cutout is ~35 KB, a ZTF one ~60x60; anything past this is not a stamp. */
const MAX_FITS_BYTES = 64 * 1024 * 1024;

/**
 * The cutout as FITS file bytes: gunzipped when compressed (ZTF stamps). Throws an Error
 * saying why when the bytes are not a FITS file (it must start with `SIMPLE  =`).
 */
export function cutoutFits(cutout: Cutout): Buffer {
  let bytes = Buffer.from(cutout.data.buffer, cutout.data.byteOffset, cutout.data.byteLength);
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_FITS_BYTES });
    } catch (err) {
      throw new Error(`cutout ${cutout.path}: gzip data is corrupt or larger than ${MAX_FITS_BYTES} bytes (${(err as Error).message})`, { cause: err });
    }
  }
  if (!bytes.subarray(0, FITS_START.length).equals(FITS_START)) {
    const start = bytes.subarray(0, 16).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    throw new Error(`cutout ${cutout.path} is not a FITS file (${bytes.length} bytes starting "${start}")`);
  }
  return bytes;
}
