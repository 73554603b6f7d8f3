// The synthetic survey's pointing plan: sky fields, which nights each is observed (weather,
// observing season, ~3-night revisits), and the visits of one night (pairs ~30 minutes apart,
// in one or two bands), with Rubin-style visit ids.
import type { Rng } from './prng.ts';
import { BAND_WEIGHTS, MEDIAN_DEPTH } from './photometry.ts';

const MJD_UNIX_EPOCH = 40587;
/** Night window in days after 0h UTC of the night's date: ~23:15 to ~09:10 UTC (Chile). */
const NIGHT_START = 0.97;
const NIGHT_LENGTH = 0.41;
/** Field radius in degrees (Rubin's field of view is 9.6 deg^2). */
export const FIELD_RADIUS_DEG = 1.75;
/** Half-width of the observing season in RA distance from the anti-Sun (degrees). */
const SEASON_HALF_WIDTH = 120;
const CLEAR_NIGHT_FRACTION = 0.8;
/** Nights between revisits of a field and their probabilities (mean ~3). */
const REVISIT_GAPS = [1, 2, 3, 4, 5, 7];
const REVISIT_WEIGHTS = [0.15, 0.2, 0.3, 0.2, 0.1, 0.05];
/** Visits per field per night: 1, 2 or 3. */
const VISITS_PER_NIGHT_WEIGHTS = [0.1, 0.75, 0.15];
const MAX_VISITS_PER_NIGHT = 32767;

export interface Field {
  readonly index: number;
  readonly ra: number;
  readonly dec: number;
  /** Rubin's scheduler tags: survey program and target region. */
  readonly observationReason: string;
  readonly targetName: string;
  /** The first night index on which the field is due again. */
  nextNight: number;
}

export interface Visit {
  /** Rubin-style visit id: dayObs * 100000 + sequence number. */
  readonly visit: bigint;
  /** Days since 1970-01-01 of the night and the visit's sequence number in it (id packing). */
  readonly nightDay: number;
  readonly seq: number;
  readonly mjd: number;
  readonly band: number;
  /** 5-sigma point-source depth of this visit (seeing and sky vary visit to visit). */
  readonly depthMag: number;
  readonly seeingArcsec: number;
  readonly field: Field;
}

/**
 * Places fields uniformly in dec on the sky Rubin sees (dec -90..+30). Their RAs are drawn
 * within the observing season at the start date, so a run is not out of season for months.
 */
export function drawFields(count: number, startMjd: number, rng: Rng): Field[] {
  const antiSun = antiSunRa(startMjd);
  const fields: Field[] = [];
  for (let index = 0; index < count; index++) {
    // Fields east of the anti-Sun stay in season longer: every field has >= 100 nights left.
    const ra = wrapRa(antiSun + rng.range(-20, 100));
    // Uniform on the sphere up to dec +30 (less a field radius, so objects stay within it).
    const dec = (Math.asin(rng.range(-1, Math.sin(((30 - FIELD_RADIUS_DEG) * Math.PI) / 180))) * 180) / Math.PI;
    const b = galacticLatitude(ra, dec);
    fields.push({
      index, ra, dec,
      observationReason: 'wfd',
      targetName: Math.abs(b) < 15 ? 'galactic_plane' : 'lowdust',
      nextNight: rng.int(3),
    });
  }
  return fields;
}

/** The visits of one night, in time order, with sequence numbers assigned in that order. */
export function planNight(fields: readonly Field[], night: number, startMjd: number, rng: Rng): Visit[] {
  const nightMjd = Math.floor(startMjd) + night;
  if (!rng.chance(CLEAR_NIGHT_FRACTION)) return [];
  const antiSun = antiSunRa(nightMjd + NIGHT_START + NIGHT_LENGTH / 2);
  const planned: { mjd: number; band: number; field: Field }[] = [];
  for (const field of fields) {
    if (night < field.nextNight) continue;
    if (Math.abs(raDifference(field.ra, antiSun)) > SEASON_HALF_WIDTH) continue; // out of season: due when it returns
    const nVisits = 1 + rng.pick(VISITS_PER_NIGHT_WEIGHTS);
    const spacing = rng.range(0.014, 0.028); // 20-40 minutes
    const first = nightMjd + NIGHT_START + rng.range(0, NIGHT_LENGTH - spacing * (nVisits - 1));
    let band = rng.pick(BAND_WEIGHTS);
    for (let k = 0; k < nVisits; k++) {
      // Rubin pairs visits in the same band or a neighbouring one (g+r, r+i, i+z, ...).
      if (k > 0 && rng.chance(0.6)) band = Math.min(5, Math.max(0, band + (rng.chance(0.5) ? 1 : -1)));
      planned.push({ mjd: first + k * spacing + rng.range(0, 0.0005), band, field });
    }
    field.nextNight = night + (REVISIT_GAPS[rng.pick(REVISIT_WEIGHTS)] ?? 3);
  }
  if (planned.length > MAX_VISITS_PER_NIGHT) {
    throw new Error(`synthetic survey: ${planned.length} visits planned for night ${night}, more than ${MAX_VISITS_PER_NIGHT}; use fewer fields`);
  }
  planned.sort((a, b) => a.mjd - b.mjd);
  const nightDay = nightMjd - MJD_UNIX_EPOCH;
  const dayObs = BigInt(dayObsOf(nightMjd));
  return planned.map((p, i) => {
    const seq = i + 1;
    const seeingArcsec = Math.min(2, Math.max(0.5, 0.8 + 0.15 * rng.normal()));
    // Worse seeing and brighter sky make shallower images.
    const depthMag = (MEDIAN_DEPTH[p.band] ?? 24) - 1.25 * Math.log10(seeingArcsec / 0.8) + 0.2 * rng.normal();
    return { visit: dayObs * 100000n + BigInt(seq), nightDay, seq, mjd: p.mjd, band: p.band, depthMag, seeingArcsec, field: p.field };
  });
}

/**
 * Packs (night, visit sequence, detector) into one integer, the way Rubin packs exposure ids;
 * shifted left by 20 bits it leaves room for a per-detector source number. With nights counted
 * from 1970 the resulting source ids are ~1.8e17, the size of real Rubin ids (above 2^53).
 */
export function exposureKey(visit: Visit, detector: number): bigint {
  return ((BigInt(visit.nightDay) << 15n) | BigInt(visit.seq)) << 8n | BigInt(detector);
}

/** YYYYMMDD of an MJD's UTC date (Rubin's dayObs of a night starting that evening in Chile). */
export function dayObsOf(mjd: number): number {
  const d = new Date((Math.floor(mjd) - MJD_UNIX_EPOCH) * 86_400_000);
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/** RA opposite the mean Sun: what transits at local midnight. */
function antiSunRa(mjd: number): number {
  return wrapRa(280.46 + 0.9856474 * (mjd - 51544.5) + 180);
}

export function wrapRa(ra: number): number {
  const r = ra % 360;
  return r < 0 ? r + 360 : r;
}

/** a - b in degrees, in (-180, 180]. */
export function raDifference(a: number, b: number): number {
  const d = wrapRa(a - b);
  return d > 180 ? d - 360 : d;
}

function galacticLatitude(ra: number, dec: number): number {
  const rad = Math.PI / 180;
  const poleRa = 192.85948 * rad;
  const poleDec = 27.12825 * rad;
  const sinB = Math.sin(dec * rad) * Math.sin(poleDec) + Math.cos(dec * rad) * Math.cos(poleDec) * Math.cos(ra * rad - poleRa);
  return Math.asin(Math.max(-1, Math.min(1, sinB))) / rad;
}
