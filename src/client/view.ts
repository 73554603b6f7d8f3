// `nightjar view`: an alert's main fields as a table, its lightcurve as a plot file and its
// cutouts as PNG images. Survey alerts and filter-stream records (Lasair lite/full JSON,
// Nightjar's Avro stream: see stream-record.ts) alike.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Alert } from '../formats/alert.ts';
import { cutoutFits, findCutouts } from '../stream/cutouts.ts';
import { lightcurvePlot, plottedPoints } from './plot-model.ts';
import { plotToRaster } from './plot-raster.ts';
import { plotToSvg } from './plot-svg.ts';
import { encodePng } from './png.ts';
import type { SavedAlert } from './saved-alerts.ts';
import { savedRecordToAlert } from './stream-record.ts';
import { readFitsImage, stretchToGrey } from './view-fits.ts';

export type PlotFormat = 'png' | 'svg';

export interface ViewOptions {
  readonly outDir: string;
  readonly format: PlotFormat;
  readonly mag: boolean;
}

export type CutoutResult =
  | { readonly kind: string; readonly file: string; readonly width: number; readonly height: number }
  | { readonly kind: string; readonly skipped: string };

export interface ViewResult {
  readonly alert: Alert;
  readonly table: string;
  /** The plot file, or why none was written (no plottable points). */
  readonly plot: { readonly file: string; readonly points: number } | { readonly skipped: string };
  readonly cutouts: readonly CutoutResult[];
}

const fixed = (v: number | null, digits: number): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** The alert's main fields as `name  value` lines. */
export function alertTable(alert: Alert): string {
  const rows: Array<[string, string]> = [
    ['survey', alert.survey],
    ['schema', alert.schema],
    ['object id', `${alert.objectId} (${alert.objectKind})`],
    ['source id', alert.sourceId.toString()],
    ['ra', fixed(alert.ra, 6)],
    ['dec', fixed(alert.dec, 6)],
    ['MJD', `${fixed(alert.mjd, 5)} ${alert.timeScale}`],
    ['band', alert.band],
    ['flux (nJy)', `${fixed(alert.flux, 1)} ± ${fixed(alert.fluxErr, 1)}`],
    ['mag', `${fixed(alert.mag, 3)} ± ${fixed(alert.magErr, 3)}`],
    ['reliability', fixed(alert.reliability, 3)],
    ['detections', String(alert.lightcurve.detections.length)],
    ['forced points', String(alert.lightcurve.forced.length)],
    ['upper limits', String(alert.lightcurve.upperLimits.length)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

/** A PNG of one cutout, or the reason it cannot be drawn. */
export function cutoutPng(data: Parameters<typeof cutoutFits>[0]): { png: Buffer; width: number; height: number } {
  const image = readFitsImage(cutoutFits(data));
  return { png: encodePng(stretchToGrey(image)), width: image.width, height: image.height };
}

/** Views one saved alert: writes `<sourceId>_lightcurve.<format>` and `<sourceId>_<kind>.png` into outDir. */
export async function viewAlert(saved: SavedAlert, options: ViewOptions): Promise<ViewResult> {
  const alert = savedRecordToAlert(saved.record, saved.schemaName);
  const id = alert.sourceId.toString();
  let plot: ViewResult['plot'];
  try {
    const model = lightcurvePlot(alert, { mag: options.mag });
    const file = path.join(options.outDir, `${id}_lightcurve.${options.format}`);
    await writeFile(file, options.format === 'svg' ? plotToSvg(model) : encodePng(plotToRaster(model)));
    plot = { file, points: plottedPoints(model) };
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('to plot')) throw err;
    plot = { skipped: err.message };
  }
  const cutouts: CutoutResult[] = [];
  for (const cutout of findCutouts(saved.record)) {
    try {
      const { png, width, height } = cutoutPng(cutout);
      const file = path.join(options.outDir, `${id}_${cutout.kind}.png`);
      await writeFile(file, png);
      cutouts.push({ kind: cutout.kind, file, width, height });
    } catch (err) {
      cutouts.push({ kind: cutout.kind, skipped: (err as Error).message });
    }
  }
  return { alert, table: alertTable(alert), plot, cutouts };
}
