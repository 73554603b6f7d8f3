// A minimal PNG encoder/decoder for 8-bit RGBA images: enough to write plots and cutouts
// without an image library, and to read our own output back in tests.
import { crc32, deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_RGBA = 6;
const BYTES_PER_PIXEL = 4;

/** An RGBA raster: `pixels` holds width·height·4 bytes, row by row from the top. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  // The CRC covers the type and the data, not the length.
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes an RGBA raster as a PNG file (filter type 0 on every row, zlib level 9). */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, pixels } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`PNG size must be positive integers, got ${width}x${height}`);
  const rowBytes = width * BYTES_PER_PIXEL;
  if (pixels.length !== rowBytes * height) throw new Error(`PNG ${width}x${height} needs ${rowBytes * height} RGBA bytes, got ${pixels.length}`);
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0;
    raw.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE_RGBA;
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes an 8-bit RGBA, non-interlaced PNG (what {@link encodePng} writes; all five row
 * filters are undone). Checks the signature and every chunk's CRC; throws saying what is wrong.
 */
export function decodePng(file: Uint8Array): RgbaImage {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file (bad signature)');
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos + 12 <= buf.length) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    const crc = buf.readUInt32BE(pos + 8 + length);
    if ((crc32(data, crc32(buf.subarray(pos + 4, pos + 8))) >>> 0) !== crc) throw new Error(`PNG chunk ${type} at byte ${pos} has a bad CRC`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== COLOR_TYPE_RGBA || data[12] !== 0) throw new Error(`PNG is not 8-bit non-interlaced RGBA (depth ${data[8]}, colour type ${data[9]}, interlace ${data[12]})`);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + length;
  }
  if (width === 0 || height === 0) throw new Error('PNG has no IHDR chunk');
  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = width * BYTES_PER_PIXEL;
  if (raw.length !== (rowBytes + 1) * height) throw new Error(`PNG image data is ${raw.length} bytes, expected ${(rowBytes + 1) * height}`);
  const pixels = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)] as number;
    const src = y * (rowBytes + 1) + 1;
    const out = y * rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const value = raw[src + x] as number;
      const left = x >= BYTES_PER_PIXEL ? (pixels[out + x - BYTES_PER_PIXEL] as number) : 0;
      const up = y > 0 ? (pixels[out - rowBytes + x] as number) : 0;
      const upLeft = y > 0 && x >= BYTES_PER_PIXEL ? (pixels[out - rowBytes + x - BYTES_PER_PIXEL] as number) : 0;
      const predicted = filter === 0 ? 0 : filter === 1 ? left : filter === 2 ? up : filter === 3 ? (left + up) >> 1 : filter === 4 ? paeth(left, up, upLeft) : -1;
      if (predicted < 0) throw new Error(`PNG row ${y} has unknown filter type ${filter}`);
      pixels[out + x] = (value + predicted) & 0xff;
    }
  }
  return { width, height, pixels };
}
