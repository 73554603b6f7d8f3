// Rise and fade rates of one band's lightcurve, measured from its peak. Both are rates of
// magnitude change per day and both are ≥ 0 by construction, since the peak is the brightest
// point: rise = how fast it brightened from its first detection to the peak, fade = how fast it
// has faded from the peak to its latest detection.
import { fluxToMag } from '../formats/alert.ts';
import type { FluxSeries } from './series.ts';

/**
 * Shortest time, hours, over which a rate is measured. Rubin revisits a field within ~30
 * minutes; over such a gap 0.05 mag of noise alone reads as ~2 mag/day.
 */
export const MIN_RATE_BASELINE_HOURS = 1;

// Less 1e-9 d (0.1 ms): MJD subtraction rounding must not drop a pair exactly an hour apart.
const MIN_BASELINE_DAYS = MIN_RATE_BASELINE_HOURS / 24 - 1e-9;

export interface RiseFade {
  /** (mag_first − mag_peak) / (mjd_peak − mjd_first), mag/day; null if the peak is under the baseline after the first detection. */
  rise: number | null;
  /** (mag_latest − mag_peak) / (mjd_latest − mjd_peak), mag/day; null if the latest detection is under the baseline after the peak. */
  fade: number | null;
}

/** Rise and fade rates of a time-sorted series of positive fluxes; the peak is its brightest point (the earliest of equals). */
export function riseFade(series: FluxSeries): RiseFade {
  const n = series.length;
  if (n < 2) return { rise: null, fade: null };
  // The brightest point has the largest flux (all fluxes in a series are positive).
  let peak = 0;
  for (let i = 1; i < n; i++) if ((series.flux[i] as number) > (series.flux[peak] as number)) peak = i;
  const tPeak = series.mjd[peak] as number;
  const mPeak = magOf(series, peak);
  const tFirst = series.mjd[0] as number;
  const tLast = series.mjd[n - 1] as number;
  const rise = tPeak - tFirst >= MIN_BASELINE_DAYS ? (magOf(series, 0) - mPeak) / (tPeak - tFirst) : null;
  const fade = tLast - tPeak >= MIN_BASELINE_DAYS ? (magOf(series, n - 1) - mPeak) / (tLast - tPeak) : null;
  return { rise, fade };
}

function magOf(series: FluxSeries, i: number): number {
  return fluxToMag(series.flux[i] as number) as number;
}
