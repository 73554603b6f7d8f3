// A realistic Rubin night made from the real alerts in ../shared/data: each real alert is a
// template that many alerts are copied from, with fresh ids (diaSourceId, diaObjectId, history
// ids), a fresh object position on Rubin's sky, a per-object brightness (fluxes scaled, so
// magnitude cuts select a fraction), and times moved to the visit's time (history keeps its
// spacing before it). Cutouts and every other field are kept as they were: the alerts have
// the real layout and the real sizes (~100-300 kB, uncompressed FITS cutouts).
//
// The ids say where an alert sits in the night: diaSourceId = SOURCE_ID_BASE + its index in the
// night, so a benchmark can tell an alert's visit from the id alone (visitOfSource).
import path from 'node:path';
import type { ParsedSchema } from '../../src/formats/avro-schema.ts';
import { builtinSchemas } from '../../src/formats/builtin-schemas.ts';
import { readAlertFile } from '../../src/formats/files.ts';
import { combinedSource, schemaDirectory } from '../../src/formats/schema-source.ts';
import { listAlertInputs } from '../../src/simulate/alert-sources.ts';

type Rec = Record<string, unknown>;

export interface Template {
  readonly record: Rec;
  readonly schema: ParsedSchema;
  /** Where it was read from. */
  readonly file: string;
}

/** The real Rubin alerts: LSSTCam (v9.0) and rehearsal (v7.4) alerts as Fink stored them, BOOM's Confluent-framed v7.1/7.3/9.0, Fink's real v10.0 with long histories. */
export const REAL_RUBIN_DIRS = ['fink-broker/datasim', 'boom/alerts/lsst', 'fink-client/datatest/lsst'] as const;

export const SOURCE_ID_BASE = 170_000_000_000_000_000n;
export const OBJECT_ID_BASE = 180_000_000_000_000_000n;
const HISTORY_ID_BASE = 190_000_000_000_000_000n;
/** History ids per object (an alert carries at most a year of history: a few hundred points). */
const HISTORY_IDS_PER_OBJECT = 4096n;

/** Reads every real Rubin alert under dataDir (the schemas of lsst-alert_packet decode the Confluent-framed ones). */
export async function loadRubinTemplates(dataDir: string): Promise<Template[]> {
  const schemas = combinedSource([schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema')), builtinSchemas()]);
  const templates: Template[] = [];
  for (const input of await listAlertInputs(REAL_RUBIN_DIRS.map((d) => path.join(dataDir, d)))) {
    for (const d of await readAlertFile(input.path, { schemas })) {
      const source = d.record.diaSource;
      if (source === null || typeof source !== 'object') throw new Error(`${input.path}: not a Rubin alert (no diaSource record)`);
      templates.push({ record: d.record, schema: d.schema, file: input.path });
    }
  }
  if (templates.length === 0) throw new Error(`no real Rubin alerts under ${REAL_RUBIN_DIRS.map((d) => path.join(dataDir, d)).join(', ')}`);
  return templates;
}

export interface NightPlan {
  /** Alerts per visit (Rubin: ~10,000). */
  readonly perVisit: number;
  readonly visits: number;
  /** Distinct objects; fewer than alerts means objects come back in later visits. Default: half the alerts. */
  readonly objects?: number;
  /** First visit's MJD (default: now, so mjdnow() filters see a live night). */
  readonly startMjd?: number;
  /** Seconds between visits in the alerts' own times (default 39). */
  readonly visitSeconds?: number;
  /** First visit number (default 1). */
  readonly firstVisit?: number;
  readonly seed?: number;
}

export interface NightAlert {
  readonly record: Rec;
  readonly schema: ParsedSchema;
  /** 0-based visit of the night. */
  readonly visit: number;
  /** 0-based index in the night. */
  readonly index: number;
  readonly sourceId: bigint;
}

/** The MJD of a moment (Unix epoch = MJD 40587). */
export function mjdOf(epochMs: number): number {
  return 40587 + epochMs / 86_400_000;
}

/** A 32-bit mix of two integers (for per-object values that do not depend on the order they are asked in). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function unit(a: number, b: number): number {
  return mix(a, b) / 2 ** 32;
}

/** Which object alert `index` of the night belongs to: a scrambled walk, so objects recur in other visits. */
export function objectIndexOf(index: number, objects: number, seed: number): number {
  return mix(index, seed) % objects;
}

/** An object's place on the sky: uniform over Rubin's footprint, declination -90 to +30. */
export function objectPosition(objectIndex: number, seed: number): { ra: number; dec: number } {
  const ra = unit(objectIndex, seed + 1) * 360;
  const lo = Math.sin((-90 * Math.PI) / 180);
  const hi = Math.sin((30 * Math.PI) / 180);
  const dec = (Math.asin(lo + unit(objectIndex, seed + 2) * (hi - lo)) * 180) / Math.PI;
  return { ra, dec };
}

/** An object's brightness relative to its template: magnitudes spread 2 mag either way. */
export function objectFluxFactor(objectIndex: number, seed: number): number {
  return 10 ** (-0.4 * (unit(objectIndex, seed + 3) * 4 - 2));
}

export interface Replica {
  readonly sourceId: bigint;
  readonly objectId: bigint;
  readonly objectIndex: number;
  /** The visit number written into diaSource.visit. */
  readonly visitNumber: bigint;
  readonly mjd: number;
  readonly ra: number;
  readonly dec: number;
  readonly fluxFactor: number;
}

const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
const isMjdField = (key: string): boolean => /mjd|midPointTai/i.test(key) && !/withdrawn/i.test(key);

/**
 * One point of the alert (diaSource, a history point, the diaObject) moved to the replica:
 * ids, position (the template's offsets from its own trigger position kept), times, fluxes.
 */
function movePoint(point: Rec, r: Replica, ref: { ra: number; dec: number }, mjdShift: number, scaleFlux: boolean): Rec {
  const out: Rec = { ...point };
  if ('diaObjectId' in out && out.diaObjectId !== null) out.diaObjectId = r.objectId;
  if (typeof out.ra === 'number') out.ra = (((r.ra + (out.ra - ref.ra)) % 360) + 360) % 360;
  if (typeof out.dec === 'number') out.dec = Math.max(-90, Math.min(90, r.dec + (out.dec - ref.dec)));
  for (const [key, value] of Object.entries(out)) {
    if (typeof value === 'number' && Number.isFinite(value) && value > 10_000 && isMjdField(key)) out[key] = value + mjdShift;
  }
  if (scaleFlux) {
    for (const key of ['psfFlux', 'apFlux', 'scienceFlux']) if (typeof out[key] === 'number') out[key] = (out[key] as number) * r.fluxFactor;
    if (typeof out.snr === 'number') out.snr = out.snr * r.fluxFactor;
  }
  return out;
}

/** A copy of the template as the replica's alert; the template is not changed (cutouts are shared, not copied). */
export function replicate(template: Rec, r: Replica): Rec {
  const source = template.diaSource as Rec;
  const ref = { ra: typeof source.ra === 'number' ? source.ra : 0, dec: typeof source.dec === 'number' ? source.dec : 0 };
  const templateMjd = [source.midpointMjdTai, source.midPointTai].find((v): v is number => typeof v === 'number') ?? r.mjd;
  const shift = r.mjd - templateMjd;
  const out: Rec = { ...template };
  const trigger = movePoint(source, r, ref, shift, true);
  trigger.diaSourceId = r.sourceId;
  if ('visit' in trigger) trigger.visit = r.visitNumber;
  out.diaSource = trigger;
  if ('diaSourceId' in out) out.diaSourceId = r.sourceId;
  if ('alertId' in out) out.alertId = r.sourceId;
  const historyBase = HISTORY_ID_BASE + BigInt(r.objectIndex) * HISTORY_IDS_PER_OBJECT;
  let k = 0n;
  for (const list of ['prvDiaSources', 'prvDiaForcedSources', 'prvDiaNondetectionLimits']) {
    const points = out[list];
    if (!Array.isArray(points)) continue;
    out[list] = points.map((p: unknown) => {
      if (!isRec(p)) return p;
      const moved = movePoint(p, r, ref, shift, list !== 'prvDiaNondetectionLimits');
      if (typeof moved.diaSourceId === 'bigint') moved.diaSourceId = historyBase + (k++ % HISTORY_IDS_PER_OBJECT);
      if (typeof moved.diaForcedSourceId === 'bigint') moved.diaForcedSourceId = historyBase + (k++ % HISTORY_IDS_PER_OBJECT);
      return moved;
    });
  }
  if (isRec(out.diaObject)) {
    const moved = movePoint(out.diaObject, r, ref, shift, false);
    moved.diaObjectId = r.objectId;
    out.diaObject = moved;
  }
  return out;
}

/** The visit (0-based) of an alert of a night with this many alerts per visit, from its diaSourceId. */
export function visitOfSource(sourceId: bigint, perVisit: number): number {
  return Number((sourceId - SOURCE_ID_BASE) / BigInt(perVisit));
}

/** The night's alerts in order, visit by visit; made as they are asked for (a night does not fit in memory). */
export function* realNight(templates: readonly Template[], plan: NightPlan): Generator<NightAlert> {
  const total = plan.perVisit * plan.visits;
  const objects = Math.max(1, plan.objects ?? Math.ceil(total / 2));
  const seed = plan.seed ?? 1;
  const startMjd = plan.startMjd ?? mjdOf(Date.now());
  const visitDays = (plan.visitSeconds ?? 39) / 86_400;
  const firstVisit = BigInt(plan.firstVisit ?? 1);
  for (let index = 0; index < total; index++) {
    const visit = Math.floor(index / plan.perVisit);
    const objectIndex = objectIndexOf(index, objects, seed);
    // An object keeps its template, so its alerts across the night tell one story.
    const template = templates[objectIndex % templates.length] as Template;
    const { ra, dec } = objectPosition(objectIndex, seed);
    const sourceId = SOURCE_ID_BASE + BigInt(index);
    const record = replicate(template.record, {
      sourceId,
      objectId: OBJECT_ID_BASE + BigInt(objectIndex),
      objectIndex,
      visitNumber: firstVisit + BigInt(visit),
      mjd: startMjd + visit * visitDays,
      ra,
      dec,
      fluxFactor: objectFluxFactor(objectIndex, seed),
    });
    yield { record, schema: template.schema, visit, index, sourceId };
  }
}
