// Colours from near-simultaneous detections in two bands. A colour only means something if the
// source did not change between the two exposures, so the pair must lie within a short window.
import { fluxToMag } from '../formats/alert.ts';
import type { FluxSeries } from './series.ts';

/** Largest time between the two detections of a colour, minutes. */
export const COLOUR_WINDOW_MINUTES = 40;

const WINDOW_DAYS = COLOUR_WINDOW_MINUTES / 1440;
// MJDs are doubles near 6e4 (resolution ~7e-12 d): a pair written exactly 40 minutes apart can
// come out a few ulps over. 1e-9 d (0.1 ms) of slack keeps it in, and changes nothing real.
const SLACK_DAYS = 1e-9;

/**
 * mag_a − mag_b from the latest pair of detections, one in each series, at most
 * COLOUR_WINDOW_MINUTES apart: the pair whose later detection is the most recent, and among
 * those the closest in time. Null when no pair is close enough.
 */
export function colour(a: FluxSeries, b: FluxSeries): number | null {
  if (a.length === 0 || b.length === 0) return null;
  const reach = WINDOW_DAYS + SLACK_DAYS;
  let bestLater = -Infinity;
  let bestGap = Infinity;
  let bestA = -1;
  let bestB = -1;
  for (let i = a.length - 1; i >= 0; i--) {
    const ta = a.mjd[i] as number;
    // Every pair with this or an earlier detection of `a` ends by ta + reach.
    if (ta + reach < bestLater) break;
    for (let j = firstAtOrAfter(b, ta - reach); j < b.length; j++) {
      const tb = b.mjd[j] as number;
      if (tb > ta + reach) break;
      const later = ta > tb ? ta : tb;
      const gap = Math.abs(ta - tb);
      if (later > bestLater || (later === bestLater && gap < bestGap)) {
        bestLater = later;
        bestGap = gap;
        bestA = i;
        bestB = j;
      }
    }
  }
  if (bestA < 0) return null;
  // Both fluxes are positive, so both magnitudes exist.
  return (fluxToMag(a.flux[bestA] as number) as number) - (fluxToMag(b.flux[bestB] as number) as number);
}

/** Index of the first point at or after `mjd` (binary search; series are sorted by time). */
function firstAtOrAfter(series: FluxSeries, mjd: number): number {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((series.mjd[mid] as number) < mjd) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
