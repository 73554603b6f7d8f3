// Small synthetic postage stamps as minimal FITS files: one primary HDU holding a 2-D
// 32-bit float image (BITPIX = -32, big-endian) with a TAN WCS, in 2880-byte blocks.
import type { Rng } from './prng.ts';

const BLOCK = 2880;
const CARD = 80;
const NOISE_TABLE_SIZE = 1 << 16;

export interface FitsImageInfo {
  readonly width: number;
  readonly height: number;
  readonly ra: number;
  readonly dec: number;
  readonly pixelScaleArcsec: number;
  readonly mjd: number;
  readonly band: string;
}

const staticCards = new Map<string, string>();

/** The header of a 2-D float32 image with a TAN WCS centred on (ra, dec), padded to whole blocks. */
export function fitsImageHeader(info: FitsImageInfo): Buffer {
  // Everything but the pointing, date and band is the same for every stamp of one size.
  const key = `${info.width}x${info.height}@${info.pixelScaleArcsec}`;
  let fixed = staticCards.get(key);
  if (fixed === undefined) {
    const scale = info.pixelScaleArcsec / 3600;
    fixed = [
      logicalCard('SIMPLE', true, 'conforms to FITS standard'),
      numberCard('BITPIX', -32, '32-bit IEEE floating point'),
      numberCard('NAXIS', 2),
      numberCard('NAXIS1', info.width),
      numberCard('NAXIS2', info.height),
      stringCard('BUNIT', 'nJy'),
      stringCard('CTYPE1', 'RA---TAN'),
      stringCard('CTYPE2', 'DEC--TAN'),
      realCard('CRPIX1', (info.width + 1) / 2),
      realCard('CRPIX2', (info.height + 1) / 2),
      realCard('CD1_1', -scale),
      realCard('CD1_2', 0),
      realCard('CD2_1', 0),
      realCard('CD2_2', scale),
    ].join('');
    staticCards.set(key, fixed);
  }
  const text = fixed +
    realCard('CRVAL1', info.ra) +
    realCard('CRVAL2', info.dec) +
    realCard('MJD-OBS', info.mjd, 'TAI') +
    stringCard('FILTER', info.band) +
    'END'.padEnd(CARD, ' ');
  return Buffer.from(text.padEnd(Math.ceil(text.length / BLOCK) * BLOCK, ' '), 'latin1');
}

/**
 * A FITS file: the given header, then the pixels (row-major, first row = FITS's bottom row) as
 * big-endian float32, zero-padded to whole blocks.
 */
export function encodeFitsImage(header: Buffer, pixels: Float32Array): Buffer {
  const dataBytes = pixels.length * 4;
  const out = Buffer.allocUnsafe(header.length + Math.ceil(dataBytes / BLOCK) * BLOCK);
  header.copy(out, 0);
  Buffer.from(pixels.buffer, pixels.byteOffset, dataBytes).copy(out, header.length);
  // FITS is big-endian; swap in place in the output (the input array is left alone).
  out.subarray(header.length, header.length + dataBytes).swap32();
  out.fill(0, header.length + dataBytes);
  return out;
}

function card(key: string, value: string, comment?: string): string {
  const text = `${key.padEnd(8, ' ')}= ${value}${comment === undefined ? '' : ` / ${comment}`}`;
  return text.slice(0, CARD).padEnd(CARD, ' ');
}

function logicalCard(key: string, value: boolean, comment?: string): string {
  return card(key, (value ? 'T' : 'F').padStart(20, ' '), comment);
}

function numberCard(key: string, value: number, comment?: string): string {
  return card(key, String(value).padStart(20, ' '), comment);
}

function realCard(key: string, value: number, comment?: string): string {
  // Fixed-format real: always has an exponent with a capital E, right-justified in columns 11-30.
  return card(key, value.toExponential(12).toUpperCase().padStart(20, ' '), comment);
}

function stringCard(key: string, value: string, comment?: string): string {
  return card(key, `'${value.replace(/'/g, "''").padEnd(8, ' ')}'`, comment);
}

/**
 * Renders the three Rubin cutouts (science, template, difference) of a point source, using a
 * shared table of normal deviates with a random start and stride per image: pixel noise that
 * is cheap enough for millions of alerts.
 */
export class CutoutRenderer {
  private readonly noise: Float32Array;
  private readonly rng: Rng;
  private readonly size: number;
  private readonly gx: Float64Array;
  private readonly gy: Float64Array;
  private readonly hx: Float64Array;
  private readonly hy: Float64Array;
  private readonly science: Float32Array;
  private readonly template: Float32Array;
  private readonly difference: Float32Array;

  constructor(rng: Rng, size: number) {
    if (!Number.isInteger(size) || size < 4 || size > 512) throw new Error(`cutout size must be an integer in 4..512, got ${size}`);
    this.rng = rng;
    this.size = size;
    this.noise = new Float32Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) this.noise[i] = rng.normal();
    this.gx = new Float64Array(size);
    this.gy = new Float64Array(size);
    this.hx = new Float64Array(size);
    this.hy = new Float64Array(size);
    this.science = new Float32Array(size * size);
    this.template = new Float32Array(size * size);
    this.difference = new Float32Array(size * size);
  }

  /**
   * Fluxes are PSF fluxes in nJy; `fluxErr` is the science image's 1-sigma PSF-flux error, from
   * which the per-pixel noise follows (a PSF of width s integrates noise over ~4*pi*s^2 pixels).
   */
  render(p: {
    ra: number; dec: number; mjd: number; band: string; seeingArcsec: number;
    differenceFlux: number; templateSourceFlux: number; hostFlux: number; fluxErr: number;
  }): { science: Buffer; template: Buffer; difference: Buffer } {
    const n = this.size;
    const pixelScale = 0.2;
    const sigma = p.seeingArcsec / 2.355 / pixelScale;
    const hostSigma = 3 * sigma;
    const cx = (n - 1) / 2 + this.rng.range(-0.5, 0.5);
    const cy = (n - 1) / 2 + this.rng.range(-0.5, 0.5);
    for (let i = 0; i < n; i++) {
      this.gx[i] = Math.exp(-0.5 * ((i - cx) / sigma) ** 2);
      this.gy[i] = Math.exp(-0.5 * ((i - cy) / sigma) ** 2);
      this.hx[i] = Math.exp(-0.5 * ((i - cx) / hostSigma) ** 2);
      this.hy[i] = Math.exp(-0.5 * ((i - cy) / hostSigma) ** 2);
    }
    const psfNorm = 1 / (2 * Math.PI * sigma * sigma);
    // The fit sees ~20% of the host's total light (see lightcurves.ts), so scale it back up.
    const hostNorm = (p.hostFlux / 0.2) / (2 * Math.PI * hostSigma * hostSigma);
    const pixelSigma = p.fluxErr / Math.sqrt(4 * Math.PI * sigma * sigma);
    // Scratch images: encodeFitsImage copies the pixels out, so they can be reused.
    const { science, template, difference } = this;
    const [s0, s1] = this.noiseCursor();
    const [t0, t1] = this.noiseCursor();
    const mask = NOISE_TABLE_SIZE - 1;
    const templateSigma = pixelSigma / 4; // a coadd of many visits is deeper
    for (let y = 0, k = 0; y < n; y++) {
      const gy = this.gy[y] as number;
      const hy = this.hy[y] as number;
      for (let x = 0; x < n; x++, k++) {
        const psf = (this.gx[x] as number) * gy * psfNorm;
        const staticLight = p.templateSourceFlux * psf + hostNorm * (this.hx[x] as number) * hy;
        const noiseS = pixelSigma * (this.noise[(s0 + k * s1) & mask] as number);
        const noiseT = templateSigma * (this.noise[(t0 + k * t1) & mask] as number);
        const t = staticLight + noiseT;
        const s = staticLight + p.differenceFlux * psf + noiseS;
        science[k] = s;
        template[k] = t;
        difference[k] = s - t;
      }
    }
    // The three stamps share one footprint, so they share one header.
    const header = fitsImageHeader({ width: n, height: n, ra: p.ra, dec: p.dec, pixelScaleArcsec: pixelScale, mjd: p.mjd, band: p.band });
    return {
      science: encodeFitsImage(header, science),
      template: encodeFitsImage(header, template),
      difference: encodeFitsImage(header, difference),
    };
  }

  /** A random start and odd stride: an odd stride visits every table entry before repeating. */
  private noiseCursor(): [number, number] {
    return [this.rng.int(NOISE_TABLE_SIZE), 1 + 2 * this.rng.int(NOISE_TABLE_SIZE / 2)];
  }
}
