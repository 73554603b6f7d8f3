// A band's positive-flux detections as parallel arrays of time and flux (nJy), sorted by time.
// Colours and rates need only these two numbers per point; magnitudes are taken only of the few
// points they end up using, not of every point.
import { magToFlux } from '../formats/alert.ts';

export interface FluxSeries {
  length: number;
  mjd: number[];
  /** Positive fluxes, nJy. */
  flux: number[];
}

export function emptySeries(): FluxSeries {
  return { length: 0, mjd: [], flux: [] };
}

/** Appends a point with a positive flux; callers append in time order. */
export function pushPoint(series: FluxSeries, mjd: number, flux: number): void {
  series.mjd.push(mjd);
  series.flux.push(flux);
  series.length++;
}

/** A series from points given in time order as magnitudes (for tests and callers outside the feature pass). */
export function seriesOfMags(points: readonly { mjd: number; mag: number }[]): FluxSeries {
  const series = emptySeries();
  for (const p of points) pushPoint(series, p.mjd, magToFlux(p.mag));
  return series;
}
