// The few facts the consumer shows and names files by, from any alert it hands back: the
// object and source ids, when the alert was observed, band and magnitude. Avro alert records
// go through the survey adapters (toAlert); Lasair-style JSON records are read by their usual
// field names.
import { toAlert } from '../formats/adapters/index.ts';
import { fluxToMag } from '../formats/alert.ts';
import type { ConsumedAlertRecord } from './consumer.ts';

export interface AlertSummary {
  /** objectId / diaObjectId as text (exact digits), or null when the alert names none. */
  objectId: string | null;
  /** diaSourceId / candid as text, or null. */
  sourceId: string | null;
  /** When the triggering detection was observed, or null when unknown. */
  observedAt: Date | null;
  band: string | null;
  mag: number | null;
}

const MJD_UNIX_EPOCH = 40587;
/** TAI − UTC since 2017 (Rubin's times are TAI). */
const TAI_MINUS_UTC_S = 37;

/** A UTC date from an MJD (TAI MJDs are shifted by the 37 leap seconds). */
export function mjdToDate(mjd: number, scale: 'TAI' | 'UTC'): Date {
  const ms = (mjd - MJD_UNIX_EPOCH) * 86_400_000 - (scale === 'TAI' ? TAI_MINUS_UTC_S * 1000 : 0);
  return new Date(Math.round(ms));
}

/** "YYYY-MM-DD HH:MM:SS" in UTC. */
export function utcText(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const idText = (v: unknown): string | null => (typeof v === 'bigint' || typeof v === 'number' || (typeof v === 'string' && v !== '') ? String(v) : null);
const numberOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const first = <T>(rec: Record<string, unknown>, keys: readonly string[], read: (v: unknown) => T | null): T | null => {
  for (const k of keys) {
    const v = read(rec[k]);
    if (v !== null) return v;
  }
  return null;
};

/** Facts of a Lasair-style JSON record (plain, lite or full). */
export function summariseJson(rec: Record<string, unknown>): AlertSummary {
  const nested = typeof rec.alert === 'object' && rec.alert !== null ? (rec.alert as Record<string, unknown>) : {};
  const sources = Array.isArray(nested.diaSourcesList) ? (nested.diaSourcesList as Record<string, unknown>[]) : [];
  const latest = sources.at(-1) ?? {};
  const utc = typeof rec.UTC === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.test(rec.UTC) ? new Date(`${rec.UTC.slice(0, 10)}T${rec.UTC.slice(11, 19)}Z`) : null;
  const mjdTai = first(rec, ['alertMjd', 'midpointMjdTai', 'lastDiaSourceMjdTai', 'mjdmax'], numberOf) ?? numberOf(latest.midpointMjdTai);
  const flux = first(rec, ['psfFlux'], numberOf) ?? numberOf(latest.psfFlux);
  return {
    objectId: first(rec, ['diaObjectId', 'objectId', 'objectid'], idText),
    sourceId: first(rec, ['diaSourceId', 'candid'], idText) ?? idText(latest.diaSourceId),
    observedAt: mjdTai !== null ? mjdToDate(mjdTai, 'TAI') : utc,
    band: first(rec, ['band', 'filterName', 'fid'], (v) => (v === null || v === undefined ? null : String(v))) ?? (typeof latest.band === 'string' ? latest.band : null),
    mag: first(rec, ['mag', 'magpsf', 'latestMag', 'lastMag'], numberOf) ?? fluxToMag(flux),
  };
}

/** Facts of any consumed alert; an Avro record no adapter knows gives only what its fields name. */
export function summarise(alert: ConsumedAlertRecord): AlertSummary {
  if (alert.schema === null) return summariseJson(alert.value);
  try {
    const a = toAlert(alert.value, alert.schema.name);
    return { objectId: String(a.objectId), sourceId: a.sourceId.toString(), observedAt: mjdToDate(a.mjd, a.timeScale), band: a.band, mag: a.mag };
  } catch {
    return summariseJson(alert.value);
  }
}
