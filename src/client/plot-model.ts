// The lightcurve plot as geometry: pixel positions of points, error bars, ticks and legend,
// computed once and drawn by both the SVG writer (plot-svg.ts) and the rasteriser (plot-raster.ts).
import type { Alert, Point } from '../formats/alert.ts';

export interface PlotOptions {
  /** Plot magnitudes (y axis inverted: brighter up) instead of flux in nJy. */
  readonly mag?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface PlotPoint {
  readonly x: number;
  readonly y: number;
  /** Ends of the error bar (pixels); equal to y when the point has no error. */
  readonly yLow: number;
  readonly yHigh: number;
  readonly forced: boolean;
}

export interface PlotSeries {
  readonly band: string;
  /** CSS hex colour, `#rrggbb`. */
  readonly colour: string;
  readonly points: readonly PlotPoint[];
}

export interface Tick {
  readonly position: number;
  readonly label: string;
}

export interface PlotModel {
  readonly width: number;
  readonly height: number;
  /** Plot area in pixels (y grows downwards). */
  readonly area: { readonly left: number; readonly top: number; readonly right: number; readonly bottom: number };
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xTicks: readonly Tick[];
  readonly yTicks: readonly Tick[];
  readonly series: readonly PlotSeries[];
}

/** One colour per Rubin/ZTF band, picked to stay distinct on white; other bands are grey. */
export const BAND_COLOURS: Readonly<Record<string, string>> = {
  u: '#7b2cbf',
  g: '#1a9850',
  r: '#d7191c',
  i: '#ff7f00',
  z: '#2166ac',
  y: '#8c510a',
};
const OTHER_BAND_COLOUR = '#606060';
const BAND_ORDER = ['u', 'g', 'r', 'i', 'z', 'y'];

/** Colour of a band name. */
export function bandColour(band: string): string {
  return BAND_COLOURS[band] ?? OTHER_BAND_COLOUR;
}

/** Evenly spaced round tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): { values: number[]; step: number } {
  const span = hi - lo;
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  const values: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { values, step };
}

/** A tick label with as many decimals as the step needs. */
export function tickLabel(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

interface Value {
  readonly point: Point;
  readonly y: number;
  readonly err: number | null;
  readonly forced: boolean;
}

function valueOf(point: Point, forced: boolean, mag: boolean): Value | undefined {
  const y = mag ? point.mag : point.flux;
  if (y === null || !Number.isFinite(y) || !Number.isFinite(point.mjd)) return undefined;
  const err = mag ? point.magErr : point.fluxErr;
  return { point, y, err: err !== null && Number.isFinite(err) && err > 0 ? err : null, forced };
}

/** Range padded by 5% each side; a single value gets ±1 (or ±0.5 for MJD-sized ranges). */
function padded(values: readonly number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/**
 * The plot of an alert's lightcurve (detections filled, forced points hollow): flux (nJy) or,
 * with `mag`, magnitude (inverted) against MJD, one series per band in u g r i z y order.
 * Points without a value on the plotted axis are left out. Throws when none is left.
 */
export function lightcurvePlot(alert: Alert, options: PlotOptions = {}): PlotModel {
  const mag = options.mag === true;
  const width = options.width ?? 800;
  const height = options.height ?? 500;
  const area = { left: 100, top: 40, right: width - 90, bottom: height - 50 };
  const values = [
    ...alert.lightcurve.detections.map((p) => valueOf(p, false, mag)),
    ...alert.lightcurve.forced.map((p) => valueOf(p, true, mag)),
  ].filter((v) => v !== undefined);
  if (values.length === 0) throw new Error(`alert ${alert.sourceId} has no ${mag ? 'magnitudes' : 'fluxes'} to plot`);

  const [x0, x1] = padded(values.map((v) => v.point.mjd));
  const [y0, y1] = padded(values.flatMap((v) => (v.err === null ? [v.y] : [v.y - v.err, v.y + v.err])));
  const px = (mjd: number): number => area.left + ((mjd - x0) / (x1 - x0)) * (area.right - area.left);
  // Magnitudes grow fainter, so the larger value goes to the bottom.
  const py = (y: number): number => (mag ? area.top + ((y - y0) / (y1 - y0)) * (area.bottom - area.top) : area.bottom - ((y - y0) / (y1 - y0)) * (area.bottom - area.top));

  const bands = [...new Set(values.map((v) => v.point.band))].sort((a, b) => {
    const ia = BAND_ORDER.indexOf(a);
    const ib = BAND_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const series = bands.map((band) => ({
    band,
    colour: bandColour(band),
    points: values
      .filter((v) => v.point.band === band)
      .map((v) => ({
        x: px(v.point.mjd),
        y: py(v.y),
        yLow: v.err === null ? py(v.y) : py(v.y - v.err),
        yHigh: v.err === null ? py(v.y) : py(v.y + v.err),
        forced: v.forced,
      })),
  }));

  const xt = niceTicks(x0, x1);
  const yt = niceTicks(y0, y1);
  return {
    width,
    height,
    area,
    title: `${alert.survey} ${alert.objectId} source ${alert.sourceId}`,
    xLabel: `MJD (${alert.timeScale})`,
    yLabel: mag ? 'mag' : 'flux (nJy)',
    xTicks: xt.values.map((v) => ({ position: px(v), label: tickLabel(v, xt.step) })),
    yTicks: yt.values.map((v) => ({ position: py(v), label: tickLabel(v, yt.step) })),
    series,
  };
}

/** Number of plotted points in a model (detections and forced points). */
export function plottedPoints(model: PlotModel): number {
  return model.series.reduce((n, s) => n + s.points.length, 0);
}
