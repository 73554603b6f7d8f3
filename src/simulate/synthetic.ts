// Seeded synthetic Rubin alert stream (lsst.v10_0 layout): a sky of supernova-like transients,
// periodic variables, AGN and artefacts, observed by a survey with Rubin's cadence, producing
// alerts with detection and forced-photometry history, a diaObject summary and FITS cutouts.
// The same options give byte-identical alerts; alerts come out in observation-time order.
import { blankLsstRecord } from '../formats/lsst-schema.ts';
import { summariseObject } from './dia-object-summary.ts';
import type { ForcedEntry, ObjectHistory } from './dia-object-summary.ts';
import { CutoutRenderer } from './fits-cutout.ts';
import {
  DEFAULT_MIX, POPULATIONS, advanceAgn, drawModel, hostFlux, sourceFlux, templateSourceFlux,
} from './lightcurves.ts';
import type { LightcurveModel, Population } from './lightcurves.ts';
import { BANDS, fluxError } from './photometry.ts';
import { createRng } from './prng.ts';
import type { Rng } from './prng.ts';
import { FIELD_RADIUS_DEG, drawFields, exposureKey, planNight, wrapRa } from './survey.ts';
import type { Field, Visit } from './survey.ts';

export interface SyntheticOptions {
  /** Any safe integer; the same seed and options give the same alerts, byte for byte. */
  readonly seed: number;
  /**
   * Number of object slots on the sky. A slot hosts one source at a time; a faded transient
   * is replaced by a new one and every artefact is its own diaObject, so a long run has more
   * diaObjects than slots.
   */
  readonly objects: number;
  /** Stop after this many alerts. */
  readonly count?: number;
  /** Stop after this many nights (default: unlimited when `count` is given, else 30). */
  readonly nights?: number;
  /** First night (MJD, its integer part is used; default 61000 = 2025-11-21). */
  readonly startMjd?: number;
  /** Attach FITS cutouts (science, template, difference); default true. */
  readonly cutouts?: boolean;
  /** Cutout side in pixels (default 30, as Rubin's). */
  readonly cutoutSize?: number;
  /** Object slots per sky field (default 100); fewer means fewer alerts per visit. */
  readonly objectsPerField?: number;
  /** Population fractions (normalised; default sn 0.3, periodic 0.3, agn 0.15, bogus 0.25). */
  readonly mix?: Partial<Record<Population, number>>;
  /** History kept in alerts, in days (default 365, Rubin's 12 months). */
  readonly historyDays?: number;
}

/** Ground truth about an alert, for tests and demos (never part of the alert itself). */
export interface AlertTruth {
  readonly population: Population;
  /** The object slot; successive objects of a slot share it. */
  readonly slot: number;
  /** The source's lightcurve model (shared, not a snapshot: an AGN's walk state moves on). */
  readonly model: LightcurveModel;
  /** True difference flux (nJy) at this visit, without noise. */
  readonly trueDifferenceFlux: number;
}

export interface LabelledAlert {
  readonly alert: Record<string, unknown>;
  readonly truth: AlertTruth;
}

/** Alerts only: the stream a survey would send. */
export function* generateAlerts(options: SyntheticOptions): Generator<Record<string, unknown>> {
  for (const { alert } of generateLabelledAlerts(options)) yield alert;
}

const DEFAULT_START_MJD = 61000;
const DEFAULT_NIGHTS = 30;
const DETECTORS = 189;
const DETECTION_SIGMA = 5;
const PRECOVERY_DAYS = 30;
const PIXEL_SCALE_ARCSEC = 0.2;
/** Without a night limit, give up if this many nights pass without a single alert. */
const MAX_EMPTY_NIGHTS = 3650;
const MAX_OBJECTS_PER_FIELD = 1 << 19;

/** Independent random streams, so that e.g. turning cutouts off changes nothing else. */
const STREAM = { survey: 1, population: 2, measurement: 3, cutouts: 4, variability: 5 } as const;

interface Slot {
  readonly index: number;
  readonly field: Field;
  /** Number within the field: the low bits of the ids of its sources. */
  readonly indexInField: number;
  readonly population: Population;
  model: LightcurveModel;
  ra: number;
  dec: number;
  history: ObjectHistory | null;
  /** This visit's measurement (null for artefact slots). */
  current: Measurement | null;
  /** Measurements at visits before the object was first detected, kept for precovery. */
  recent: Measurement[];
}

interface Measurement {
  readonly visit: Visit;
  readonly detector: number;
  readonly trueDifferenceFlux: number;
  readonly templateSourceFlux: number;
  readonly hostFlux: number;
  readonly psfFlux: number;
  readonly psfFluxErr: number;
  readonly scienceFlux: number;
  readonly scienceFluxErr: number;
  readonly templateFlux: number;
  readonly templateFluxErr: number;
}

interface Detection {
  readonly slot: Slot;
  readonly m: Measurement;
  readonly diaSourceId: bigint;
  readonly bogus: boolean;
}

const BLANK_SOURCE = blankLsstRecord('diaSource');
const BLANK_FORCED = blankLsstRecord('diaForcedSource');

/** Alerts with their ground truth. */
export function* generateLabelledAlerts(options: SyntheticOptions): Generator<LabelledAlert> {
  const o = validate(options);
  if (o.count === 0) return;
  const surveyRng = createRng(o.seed, STREAM.survey);
  const popRng = createRng(o.seed, STREAM.population);
  const measRng = createRng(o.seed, STREAM.measurement);
  const varRng = createRng(o.seed, STREAM.variability);
  const renderer = o.cutouts ? new CutoutRenderer(createRng(o.seed, STREAM.cutouts), o.cutoutSize) : null;

  const fields = drawFields(Math.ceil(o.objects / o.objectsPerField), o.startMjd, surveyRng);
  const slotsByField: Slot[][] = fields.map(() => []);
  const mixWeights = POPULATIONS.map((p) => o.mix[p]);
  for (let index = 0; index < o.objects; index++) {
    const field = fields[index % fields.length] as Field;
    const population = POPULATIONS[popRng.pick(mixWeights)] ?? 'bogus';
    const [ra, dec] = positionInField(field, popRng);
    const fieldSlots = slotsByField[field.index] as Slot[];
    fieldSlots.push({
      index, field, indexInField: fieldSlots.length, population,
      model: drawModel(population, popRng, o.startMjd, true),
      ra, dec, history: null, current: null, recent: [],
    });
  }

  let emitted = 0;
  let lastAlertNight = 0;
  for (let night = 0; o.nights === undefined || night < o.nights; night++) {
    for (const visit of planNight(fields, night, o.startMjd, surveyRng)) {
      const slots = slotsByField[visit.field.index] as Slot[];
      const detections = measureVisit(visit, slots, popRng, measRng, varRng);
      for (const d of detections) {
        if (o.count !== undefined && emitted >= o.count) return;
        yield buildAlert(d, visit, o, measRng, renderer);
        emitted++;
        lastAlertNight = night;
      }
      recordForcedPhotometry(visit, slots, o);
    }
    if (o.count !== undefined && emitted >= o.count) return;
    if (o.nights === undefined && night - lastAlertNight > MAX_EMPTY_NIGHTS) {
      throw new Error(`synthetic alerts: no alert in ${MAX_EMPTY_NIGHTS} simulated nights (seed ${o.seed}, ${o.objects} objects, mix ${JSON.stringify(o.mix)})`);
    }
  }
}

interface Resolved {
  seed: number;
  objects: number;
  count: number | undefined;
  nights: number | undefined;
  startMjd: number;
  cutouts: boolean;
  cutoutSize: number;
  objectsPerField: number;
  mix: Record<Population, number>;
  historyDays: number;
}

function validate(options: SyntheticOptions): Resolved {
  const positiveInt = (name: string, v: number | undefined, max = Number.MAX_SAFE_INTEGER): void => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0 || v > max)) {
      throw new Error(`synthetic alerts: ${name} must be an integer in 0..${max}, got ${v}`);
    }
  };
  positiveInt('objects', options.objects);
  positiveInt('count', options.count);
  positiveInt('nights', options.nights);
  positiveInt('objectsPerField', options.objectsPerField, MAX_OBJECTS_PER_FIELD);
  if (!Number.isSafeInteger(options.seed)) throw new Error(`synthetic alerts: seed must be a safe integer, got ${options.seed}`);
  if (options.objects < 1) throw new Error('synthetic alerts: objects must be at least 1');
  const mix = { ...DEFAULT_MIX, ...options.mix };
  for (const p of POPULATIONS) {
    if (!(mix[p] >= 0)) throw new Error(`synthetic alerts: mix.${p} must be a number >= 0, got ${mix[p]}`);
  }
  if (POPULATIONS.every((p) => mix[p] === 0)) throw new Error('synthetic alerts: the population mix is all zero');
  const startMjd = options.startMjd ?? DEFAULT_START_MJD;
  if (!Number.isFinite(startMjd) || startMjd < 40587 || startMjd > 70000) {
    throw new Error(`synthetic alerts: startMjd must be an MJD between 40587 (1970) and 70000, got ${startMjd}`);
  }
  const historyDays = options.historyDays ?? 365;
  if (!(historyDays >= 0)) throw new Error(`synthetic alerts: historyDays must be >= 0, got ${historyDays}`);
  return {
    seed: options.seed,
    objects: options.objects,
    count: options.count,
    nights: options.nights ?? (options.count === undefined ? DEFAULT_NIGHTS : undefined),
    startMjd,
    cutouts: options.cutouts ?? true,
    cutoutSize: options.cutoutSize ?? 30,
    objectsPerField: Math.max(1, options.objectsPerField ?? 100),
    mix,
    historyDays,
  };
}

/** A uniform random position within a field's circle (reflected over the pole if need be). */
function positionInField(field: Field, rng: Rng): [number, number] {
  const r = FIELD_RADIUS_DEG * Math.sqrt(rng.uniform());
  const theta = 2 * Math.PI * rng.uniform();
  let dec = field.dec + r * Math.sin(theta);
  let ra = field.ra + (r * Math.cos(theta)) / Math.max(Math.cos((dec * Math.PI) / 180), 0.02);
  if (dec < -90) {
    dec = -180 - dec;
    ra += 180;
  }
  return [wrapRa(ra), dec];
}

/**
 * Measures every slot of the visited field: renews faded transients, moves AGN walks, draws
 * the photometry, and returns the detections (|S/N| >= 5 on the difference image, or an
 * artefact) ordered by diaSourceId.
 */
function measureVisit(visit: Visit, slots: readonly Slot[], popRng: Rng, measRng: Rng, varRng: Rng): Detection[] {
  const detections: Detection[] = [];
  for (const slot of slots) {
    const detector = measRng.int(DETECTORS);
    const idBase = exposureKey(visit, detector) << 20n;
    if (slot.model.kind === 'bogus') {
      if (!measRng.chance(slot.model.ratePerVisit)) continue;
      const [ra, dec] = positionInField(slot.field, popRng);
      slot.ra = ra;
      slot.dec = dec;
      const m = measureArtefact(visit, detector, measRng);
      detections.push({ slot, m, diaSourceId: idBase | BigInt(slot.indexInField), bogus: true });
      continue;
    }
    if (slot.model.kind === 'sn' && visit.mjd > slot.model.endMjd) renewTransient(slot, visit.mjd, popRng);
    if (slot.model.kind === 'agn') advanceAgn(slot.model, visit.mjd, varRng);
    const m = measureSource(slot.model, visit, detector, measRng);
    slot.current = m;
    if (slot.history === null) {
      slot.recent.push(m);
      pruneOlderThan(slot.recent, visit.mjd - PRECOVERY_DAYS, (x) => x.visit.mjd);
    }
    if (Math.abs(m.psfFlux) >= DETECTION_SIGMA * m.psfFluxErr) {
      detections.push({ slot, m, diaSourceId: idBase | BigInt(slot.indexInField), bogus: false });
    }
  }
  detections.sort((a, b) => (a.diaSourceId < b.diaSourceId ? -1 : a.diaSourceId > b.diaSourceId ? 1 : 0));
  return detections;
}

/** A faded transient leaves the sky; a new one (new position, new diaObject later) takes its slot. */
function renewTransient(slot: Slot, mjd: number, rng: Rng): void {
  slot.model = drawModel('sn', rng, mjd, false);
  [slot.ra, slot.dec] = positionInField(slot.field, rng);
  slot.history = null;
  slot.recent = [];
}

function measureSource(model: LightcurveModel, visit: Visit, detector: number, rng: Rng): Measurement {
  const band = visit.band;
  const source = sourceFlux(model, band, visit.mjd);
  const template = templateSourceFlux(model, band);
  const host = hostFlux(model, band);
  const err = fluxError(source + host, visit.depthMag);
  // The difference image also carries the (much smaller) template noise.
  const diffErr = err * 1.03;
  const trueDifferenceFlux = source - template;
  return {
    visit, detector, trueDifferenceFlux, templateSourceFlux: template, hostFlux: host,
    psfFlux: trueDifferenceFlux + diffErr * rng.normal(),
    psfFluxErr: diffErr,
    scienceFlux: source + host + err * rng.normal(),
    scienceFluxErr: err,
    templateFlux: template + host + (err / 4) * rng.normal(),
    templateFluxErr: err / 4,
  };
}

/** An artefact: a spurious 5-9 sigma blip (either sign) on an empty patch of sky. */
function measureArtefact(visit: Visit, detector: number, rng: Rng): Measurement {
  const err = fluxError(0, visit.depthMag) * 1.03;
  const snr = DETECTION_SIGMA + rng.range(0, 4);
  const psfFlux = (rng.chance(0.5) ? 1 : -1) * snr * err;
  return {
    visit, detector, trueDifferenceFlux: 0, templateSourceFlux: 0, hostFlux: 0,
    psfFlux, psfFluxErr: err,
    scienceFlux: err * rng.normal(), scienceFluxErr: err,
    templateFlux: (err / 4) * rng.normal(), templateFluxErr: err / 4,
  };
}

function buildAlert(d: Detection, visit: Visit, o: Resolved, rng: Rng, renderer: CutoutRenderer | null): LabelledAlert {
  const { slot, m } = d;
  const processed = visit.mjd + rng.range(60, 180) / 86400;
  const snr = Math.abs(m.psfFlux) / m.psfFluxErr;
  const positionErrArcsec = Math.hypot(visit.seeingArcsec / (2.355 * snr), 0.01);
  const positionErrDeg = positionErrArcsec / 3600;
  const ra = wrapRa(slot.ra + (positionErrDeg * rng.normal()) / Math.max(Math.cos((slot.dec * Math.PI) / 180), 0.02));
  const dec = Math.max(-90, Math.min(90, slot.dec + positionErrDeg * rng.normal()));

  let history = d.bogus ? null : slot.history;
  if (history === null) {
    history = { diaObjectId: d.diaSourceId, nDiaSources: 0, firstDiaSourceMjd: visit.mjd, sources: [], forced: [] };
    if (!d.bogus) {
      slot.history = history;
      // Precovery: forced photometry at the earlier visits of the last 30 days.
      for (const past of slot.recent) if (past.visit !== visit) history.forced.push(forcedEntry(past, history.diaObjectId, slot, processed));
      slot.recent = [];
    }
  }
  const cutoff = visit.mjd - o.historyDays;
  pruneOlderThan(history.sources, cutoff, (s) => s.mjd);
  pruneOlderThan(history.forced, cutoff, (f) => f.mjd);

  const record = diaSourceRecord(d, visit, history.diaObjectId, ra, dec, positionErrDeg, snr, processed, rng);
  const prvDiaSources = history.sources.length > 0 ? history.sources.map((s) => s.record) : null;
  const prvDiaForcedSources = history.forced.length > 0 ? history.forced.map((f) => f.record) : null;
  history.sources.push({
    record, mjd: visit.mjd, band: visit.band, ra, dec, positionErrDeg,
    psfFlux: m.psfFlux, psfFluxErr: m.psfFluxErr, scienceFlux: m.scienceFlux, scienceFluxErr: m.scienceFluxErr,
  });
  history.nDiaSources++;
  const diaObject = summariseObject(history, processed);

  let cutouts: { science: Buffer; template: Buffer; difference: Buffer } | null = null;
  if (renderer !== null) {
    cutouts = renderer.render({
      ra, dec, mjd: visit.mjd, band: BANDS[visit.band] ?? 'r', seeingArcsec: visit.seeingArcsec,
      differenceFlux: m.psfFlux, templateSourceFlux: m.templateSourceFlux, hostFlux: m.hostFlux, fluxErr: m.scienceFluxErr,
    });
  }
  const alert: Record<string, unknown> = {
    diaSourceId: d.diaSourceId,
    observation_reason: visit.field.observationReason,
    target_name: visit.field.targetName,
    diaSource: record,
    prvDiaSources,
    prvDiaForcedSources,
    diaObject,
    ssSource: null,
    mpc_orbits: null,
    cutoutDifference: cutouts?.difference ?? null,
    cutoutScience: cutouts?.science ?? null,
    cutoutTemplate: cutouts?.template ?? null,
  };
  return { alert, truth: { population: d.bogus ? 'bogus' : slot.population, slot: slot.index, model: slot.model, trueDifferenceFlux: m.trueDifferenceFlux } };
}

function diaSourceRecord(
  d: Detection, visit: Visit, diaObjectId: bigint, ra: number, dec: number,
  positionErrDeg: number, snr: number, processed: number, rng: Rng,
): Readonly<Record<string, unknown>> {
  const { m } = d;
  const s: Record<string, unknown> = { ...BLANK_SOURCE };
  const psfSigmaArcsec = visit.seeingArcsec / 2.355;
  const bbox = Math.min(101, Math.round(15 + 3 * Math.sqrt(snr)));
  const ndata = bbox * bbox;
  const chi2 = ndata * (1 + 0.05 * rng.normal());
  s.diaSourceId = d.diaSourceId;
  s.visit = visit.visit;
  s.detector = m.detector;
  s.diaObjectId = diaObjectId;
  s.midpointMjdTai = visit.mjd;
  s.ra = ra;
  s.raErr = positionErrDeg;
  s.dec = dec;
  s.decErr = positionErrDeg;
  s.ra_dec_Cov = positionErrDeg * positionErrDeg * 0.1 * rng.normal();
  s.x = rng.range(0, 4072);
  s.xErr = (positionErrDeg * 3600) / PIXEL_SCALE_ARCSEC;
  s.y = rng.range(0, 4000);
  s.yErr = (positionErrDeg * 3600) / PIXEL_SCALE_ARCSEC;
  s.centroid_flag = false;
  s.apFlux = m.psfFlux * (1 + 0.03 * rng.normal());
  s.apFluxErr = m.psfFluxErr * 1.6;
  s.apFlux_flag = false;
  s.apFlux_flag_apertureTruncated = false;
  s.isNegative = m.psfFlux < 0;
  s.snr = snr;
  s.psfFlux = m.psfFlux;
  s.psfFluxErr = m.psfFluxErr;
  s.psfLnL = -0.5 * chi2 - ndata * 0.9189385;
  s.psfChi2 = chi2;
  s.psfNdata = ndata;
  s.psfFlux_flag = false;
  s.psfFlux_flag_edge = false;
  s.psfFlux_flag_noGoodPixels = false;
  s.scienceFlux = m.scienceFlux;
  s.scienceFluxErr = m.scienceFluxErr;
  s.forced_PsfFlux_flag = false;
  s.forced_PsfFlux_flag_edge = false;
  s.forced_PsfFlux_flag_noGoodPixels = false;
  s.templateFlux = m.templateFlux;
  s.templateFluxErr = m.templateFluxErr;
  const moment = psfSigmaArcsec * psfSigmaArcsec;
  s.ixxPSF = moment;
  s.iyyPSF = moment;
  s.ixyPSF = 0.02 * moment * rng.normal();
  s.shape_flag = false;
  s.shape_flag_no_pixels = false;
  s.shape_flag_not_contained = false;
  s.shape_flag_parent_source = false;
  s.band = BANDS[visit.band] ?? null;
  s.timeProcessedMjdTai = processed;
  s.bboxSize = bbox;
  s.pixelFlags = false;
  s.pixelFlags_bad = false;
  s.pixelFlags_edge = false;
  s.pixelFlags_nodata = false;
  s.pixelFlags_nodataCenter = false;
  s.pixelFlags_interpolated = false;
  s.pixelFlags_interpolatedCenter = false;
  s.pixelFlags_offimage = false;
  s.pixelFlags_saturated = false;
  s.pixelFlags_saturatedCenter = false;
  s.pixelFlags_suspect = false;
  s.pixelFlags_suspectCenter = false;
  s.pixelFlags_streak = false;
  s.pixelFlags_streakCenter = false;
  s.pixelFlags_injected = false;
  s.pixelFlags_injectedCenter = false;
  s.pixelFlags_injected_template = false;
  s.pixelFlags_injected_templateCenter = false;
  s.glint_trail = false;
  s.dipoleFitAttempted = true;
  if (d.bogus) {
    // Artefacts: cosmic rays, bad subtractions (dipoles), satellite streaks, chip edges.
    const kind = rng.pick([0.35, 0.35, 0.15, 0.15]);
    s.pixelFlags_cr = kind === 0;
    s.pixelFlags_crCenter = kind === 0;
    s.isDipole = kind === 1;
    s.pixelFlags_streak = kind === 2;
    s.pixelFlags_streakCenter = kind === 2;
    s.glint_trail = kind === 2 && rng.chance(0.3);
    s.pixelFlags_edge = kind === 3;
    s.psfFlux_flag_edge = kind === 3;
    if (kind === 1) {
      s.dipoleMeanFlux = Math.abs(m.psfFlux) * rng.range(1, 3);
      s.dipoleMeanFluxErr = m.psfFluxErr;
      s.dipoleFluxDiff = m.psfFlux;
      s.dipoleFluxDiffErr = m.psfFluxErr * 1.4;
      s.dipoleLength = rng.range(0.3, 1.5);
      s.dipoleAngle = rng.range(0, 360);
      s.dipoleChi2 = ndata * rng.range(0.9, 1.3);
      s.dipoleNdata = ndata;
    }
    // Cosmic rays are sharper than the PSF, streaks and dipoles broader.
    const shape = kind === 0 ? rng.range(0.2, 0.6) : rng.range(1, 3);
    s.ixx = moment * shape;
    s.iyy = moment * shape * rng.range(0.5, 2);
    s.ixy = moment * 0.3 * rng.normal();
    s.extendedness = rng.uniform();
    s.reliability = 0.3 * rng.uniform() ** 2;
  } else {
    s.pixelFlags_cr = false;
    s.pixelFlags_crCenter = false;
    s.isDipole = false;
    s.ixx = moment * (1 + 0.05 * rng.normal());
    s.iyy = moment * (1 + 0.05 * rng.normal());
    s.ixy = 0.02 * moment * rng.normal();
    s.extendedness = 0.1 * rng.uniform();
    // Real sources: the classifier is confident at high S/N, less so near threshold, and now
    // and then simply wrong.
    s.reliability = rng.chance(0.03) ? 0.6 * rng.uniform() : 1 - 0.5 * Math.exp(-(snr - DETECTION_SIGMA) / 6) * rng.uniform();
  }
  return Object.freeze(s);
}

function forcedEntry(m: Measurement, diaObjectId: bigint, slot: Slot, processed: number): ForcedEntry {
  const f: Record<string, unknown> = { ...BLANK_FORCED };
  f.diaForcedSourceId = (exposureKey(m.visit, m.detector) << 20n) | (1n << 19n) | BigInt(slot.indexInField);
  f.diaObjectId = diaObjectId;
  f.ra = slot.ra;
  f.dec = slot.dec;
  f.visit = m.visit.visit;
  f.detector = m.detector;
  f.psfFlux = m.psfFlux;
  f.psfFluxErr = m.psfFluxErr;
  f.midpointMjdTai = m.visit.mjd;
  f.scienceFlux = m.scienceFlux;
  f.scienceFluxErr = m.scienceFluxErr;
  f.band = BANDS[m.visit.band] ?? null;
  f.timeProcessedMjdTai = processed;
  return { record: Object.freeze(f), mjd: m.visit.mjd, band: m.visit.band, psfFlux: m.psfFlux, psfFluxErr: m.psfFluxErr };
}

/** After a visit's alerts: forced photometry of every known diaObject of the field at this visit. */
function recordForcedPhotometry(visit: Visit, slots: readonly Slot[], o: Resolved): void {
  for (const slot of slots) {
    const history = slot.history;
    const m = slot.current;
    if (history === null || m === null || m.visit !== visit) continue;
    history.forced.push(forcedEntry(m, history.diaObjectId, slot, visit.mjd + 0.002));
    pruneOlderThan(history.forced, visit.mjd - o.historyDays, (f) => f.mjd);
  }
}

function pruneOlderThan<T>(list: T[], cutoff: number, mjdOf: (x: T) => number): void {
  let drop = 0;
  while (drop < list.length && mjdOf(list[drop] as T) < cutoff) drop++;
  if (drop > 0) list.splice(0, drop);
}
