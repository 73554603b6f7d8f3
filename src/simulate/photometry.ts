// Photometric conventions of the synthetic survey: AB magnitudes and fluxes in nJy (Rubin's
// unit; mag = -2.5 log10(flux) + 31.4), and a noise model for single 30-second visits.
import { LSST_BANDS } from '../formats/lsst-schema.ts';
import type { LsstBand } from '../formats/lsst-schema.ts';

/** AB zero point for fluxes in nJy. */
export const NJY_ZERO_POINT = 31.4;

export function magToFlux(mag: number): number {
  return 10 ** ((NJY_ZERO_POINT - mag) / 2.5);
}

export function fluxToMag(flux: number): number {
  return NJY_ZERO_POINT - 2.5 * Math.log10(flux);
}

/** Bands by index (0 = u … 5 = y); the simulators work with indices, records with names. */
export const BANDS: readonly LsstBand[] = LSST_BANDS;

/** Median single-visit 5-sigma point-source depths (AB mag), close to Rubin's design values. */
export const MEDIAN_DEPTH: readonly number[] = [23.7, 24.8, 24.5, 24.1, 23.5, 22.6];

/** Share of visits per band, roughly Rubin's baseline survey mix. */
export const BAND_WEIGHTS: readonly number[] = [0.07, 0.09, 0.22, 0.22, 0.2, 0.2];

/** Detected electrons per nJy in a 30 s visit (sets the source Poisson term). */
const ELECTRONS_PER_NJY = 1.9;

/** Flat-field and calibration floor: fractional error that no exposure time removes. */
const CALIBRATION_FLOOR = 0.003;

/**
 * 1-sigma PSF-flux error for a source of total flux `flux` (nJy) in a visit of 5-sigma depth
 * `depthMag`: sky noise (fixed so that a source at the depth has S/N exactly 5) plus the
 * source's own Poisson noise plus a calibration floor. Noise grows as sqrt(flux + sky).
 */
export function fluxError(flux: number, depthMag: number): number {
  const f5 = magToFlux(depthMag);
  const skyVariance = Math.max((f5 / 5) ** 2 - f5 / ELECTRONS_PER_NJY - (CALIBRATION_FLOOR * f5) ** 2, 1);
  const f = Math.max(flux, 0);
  return Math.sqrt(skyVariance + f / ELECTRONS_PER_NJY + (CALIBRATION_FLOOR * f) ** 2);
}
