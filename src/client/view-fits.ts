// Reading a cutout's FITS primary HDU as a 2D image and stretching it to grey for display.
import type { RgbaImage } from './png.ts';

const BLOCK = 2880;
const CARD = 80;

/** A 2D FITS image: physical values (BZERO + BSCALE·stored), NaN where blank. Row 0 is FITS row 1 (the bottom). */
export interface FitsImage {
  readonly width: number;
  readonly height: number;
  readonly values: Float64Array;
}

/** The primary header as keyword → raw value text (quotes kept off strings, comments dropped), and the data offset. */
export function readFitsHeader(fits: Uint8Array): { cards: Map<string, string>; dataOffset: number } {
  const cards = new Map<string, string>();
  const text = Buffer.from(fits.buffer, fits.byteOffset, fits.byteLength);
  for (let pos = 0; pos + CARD <= text.length; pos += CARD) {
    const card = text.toString('latin1', pos, pos + CARD);
    const key = card.slice(0, 8).trim();
    if (key === 'END') return { cards, dataOffset: Math.ceil((pos + CARD) / BLOCK) * BLOCK };
    if (card.slice(8, 10) !== '= ') continue;
    const raw = card.slice(10);
    const value = raw.trimStart().startsWith("'") ? (/'((?:[^']|'')*)'/.exec(raw)?.[1] ?? '').replace(/''/g, "'").trimEnd() : (raw.split('/')[0] ?? '').trim();
    if (!cards.has(key)) cards.set(key, value);
  }
  throw new Error('FITS header has no END card');
}

function intCard(cards: Map<string, string>, key: string): number | undefined {
  const text = cards.get(key);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`FITS ${key} = "${text}" is not an integer`);
  return n;
}

function numberCard(cards: Map<string, string>, key: string, fallback: number): number {
  const text = cards.get(key);
  if (text === undefined) return fallback;
  const n = Number(text.replace(/D/i, 'E'));
  if (!Number.isFinite(n)) throw new Error(`FITS ${key} = "${text}" is not a number`);
  return n;
}

/**
 * The primary HDU of a FITS file as a 2D image. Throws an Error saying why when it is not a
 * simple 2D image (NAXIS ≠ 2 after dropping axes of length 1, no data, truncated data).
 */
export function readFitsImage(fits: Uint8Array): FitsImage {
  const { cards, dataOffset } = readFitsHeader(fits);
  const bitpix = intCard(cards, 'BITPIX');
  const naxis = intCard(cards, 'NAXIS');
  if (bitpix === undefined || naxis === undefined) throw new Error('FITS header lacks BITPIX or NAXIS');
  if (![8, 16, 32, 64, -32, -64].includes(bitpix)) throw new Error(`FITS BITPIX ${bitpix} is not a valid pixel type`);
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) axes.push(intCard(cards, `NAXIS${i}`) ?? 0);
  const width = axes[0] ?? 0;
  const height = axes[1] ?? 0;
  if (naxis < 2 || axes.slice(2).some((n) => n !== 1)) throw new Error(`FITS primary HDU is not a 2D image (NAXIS = ${naxis}, axes ${axes.join('x') || 'none'})`);
  if (width < 1 || height < 1) throw new Error(`FITS primary HDU has no image data (${width}x${height})`);
  const bytesPerPixel = Math.abs(bitpix) / 8;
  const count = width * height;
  if (dataOffset + count * bytesPerPixel > fits.byteLength) throw new Error(`FITS image ${width}x${height} (BITPIX ${bitpix}) needs ${count * bytesPerPixel} data bytes, the file has ${fits.byteLength - dataOffset}`);
  const bzero = numberCard(cards, 'BZERO', 0);
  const bscale = numberCard(cards, 'BSCALE', 1);
  const blankText = cards.get('BLANK');
  const blank = blankText === undefined || bitpix < 0 ? undefined : Number(blankText);
  const view = new DataView(fits.buffer, fits.byteOffset + dataOffset, count * bytesPerPixel);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * bytesPerPixel;
    // FITS data is big-endian.
    const stored =
      bitpix === 8 ? view.getUint8(at)
      : bitpix === 16 ? view.getInt16(at)
      : bitpix === 32 ? view.getInt32(at)
      : bitpix === 64 ? Number(view.getBigInt64(at))
      : bitpix === -32 ? view.getFloat32(at)
      : view.getFloat64(at);
    values[i] = stored === blank ? Number.NaN : bzero + bscale * stored;
  }
  return { width, height, values };
}

/** The q-quantile (0..1) of sorted finite values, linearly interpolated. */
function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/**
 * Grey RGBA rendering: values between the 0.5th and 99.5th percentile of the finite pixels
 * map linearly to black..white (robust against a few hot pixels, like ds9's 99.5% scale);
 * NaN pixels are drawn dark red. FITS row 1 is the bottom, so rows are flipped for display.
 */
export function stretchToGrey(image: FitsImage, lowQuantile = 0.005, highQuantile = 0.995): RgbaImage {
  const { width, height, values } = image;
  const finite = values.filter((v) => Number.isFinite(v)).sort();
  const lo = finite.length > 0 ? quantile(finite, lowQuantile) : 0;
  const hi = finite.length > 0 ? quantile(finite, highQuantile) : 1;
  const span = hi > lo ? hi - lo : 1;
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x] as number;
      const out = ((height - 1 - y) * width + x) * 4;
      if (!Number.isFinite(v)) {
        pixels.set([96, 0, 0, 255], out);
        continue;
      }
      const grey = Math.round(Math.min(1, Math.max(0, (v - lo) / span)) * 255);
      pixels.set([grey, grey, grey, 255], out);
    }
  }
  return { width, height, pixels };
}
