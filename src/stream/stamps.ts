// Writing an alert's cutouts as FITS files: `<name>_<kind>.fits` in a directory, where name
// is the alert's source id (diaSourceId, candid) so the files of one alert sort together.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cutoutFits, type Cutout } from './cutouts.ts';

export interface StampResult {
  /** Paths of the files written. */
  readonly written: string[];
  /** Cutouts that were not written, with the reason (e.g. not a FITS file). */
  readonly problems: string[];
}

/** Writes each cutout that holds a FITS image (gunzipped when compressed) as `<dir>/<name>_<kind>.fits`. */
export async function writeStamps(dir: string, name: string, cutouts: readonly Cutout[]): Promise<StampResult> {
  const written: string[] = [];
  const problems: string[] = [];
  if (cutouts.length === 0) return { written, problems };
  await mkdir(dir, { recursive: true });
  for (const cutout of cutouts) {
    let fits: Buffer;
    try {
      fits = cutoutFits(cutout);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const file = path.join(dir, `${name}_${cutout.kind}.fits`);
    await writeFile(file, fits);
    written.push(file);
  }
  return { written, problems };
}
