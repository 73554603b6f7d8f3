// Observing nights. A night runs from local noon to the next local noon at the survey's
// observatory, so every exposure of one night gets the same number whichever side of UT or
// local midnight it falls on: night = floor(mjd − 0.5 + longitude/360), longitude east-positive
// in degrees (local mean solar time is UT + longitude/360 days; the −0.5 moves the day boundary
// from midnight to noon). The number is the MJD of the local date on which the night begins.
import type { Survey } from '../formats/alert.ts';

/** East longitude in degrees of the site whose nights count for each survey. */
export const OBSERVATORY_LONGITUDE: Readonly<Record<Survey, number>> = {
  lsst: -70.7494, // Rubin Observatory, Cerro Pachón
  elasticc: -70.7494, // simulated Rubin
  plasticc: -70.7494, // simulated Rubin
  ztf: -116.8597, // Samuel Oschin telescope, Palomar
  winter: -116.8597, // WINTER, Palomar
  decam: -70.8065, // Blanco telescope, Cerro Tololo
  rapid: 0, // Roman is in space: no night, so days start at 12:00 UT
  askap: 116.6370, // ASKAP, Murchison Radio-astronomy Observatory
};

/** The night (MJD of the local date at its start) of an exposure at `mjd`, seen from `longitudeDeg`. */
export function nightOf(mjd: number, longitudeDeg: number): number {
  return Math.floor(mjd - 0.5 + longitudeDeg / 360);
}
