// Lightcurve models of the synthetic sky: what a source's true flux is in a band at a time.
// Drawing parameters uses a generator; evaluating a model is a pure function of time, except
// the AGN random walk, whose state moves forward with time.
import type { Rng } from './prng.ts';
import { magToFlux } from './photometry.ts';

export type Population = 'sn' | 'periodic' | 'agn' | 'bogus';
export const POPULATIONS: readonly Population[] = ['sn', 'periodic', 'agn', 'bogus'];

/** Default population mix (fractions of the object slots). */
export const DEFAULT_MIX: Readonly<Record<Population, number>> = { sn: 0.3, periodic: 0.3, agn: 0.15, bogus: 0.25 };

/** Per-band arrays are indexed u g r i z y (0..5). */
type PerBand = readonly number[];

/** Supernova-like transient: fireball rise, then a linear decline in magnitude. */
export interface SnModel {
  readonly kind: 'sn';
  readonly explosionMjd: number;
  /** Days from explosion to r-band peak. */
  readonly riseDays: number;
  readonly peakMag: number;
  /** r-band decline after peak, mag/day. */
  readonly fadeRate: number;
  /** Peak magnitude offset from r per band (colour). */
  readonly colour: PerBand;
  /** Decline rate relative to r per band: blue bands fade faster, so the colour reddens. */
  readonly fadeScale: PerBand;
  /** Host galaxy flux (nJy) per band inside the PSF-fit footprint; 0 for a hostless event. */
  readonly hostFlux: PerBand;
  /** After this date the event is too faint to matter and the slot can host a new one. */
  readonly endMjd: number;
}

export type PeriodicShape = 'rrlyrae' | 'sinusoid' | 'eclipsing';

/** Periodic variable star. */
export interface PeriodicModel {
  readonly kind: 'periodic';
  readonly shape: PeriodicShape;
  readonly periodDays: number;
  /** Peak-to-peak amplitude (mag) in g; eclipse depth for eclipsing binaries. */
  readonly amplitude: number;
  /** Date of phase 0. */
  readonly epochMjd: number;
  readonly meanMag: number;
  readonly colour: PerBand;
  /** Amplitude relative to g per band (pulsators vary more in the blue). */
  readonly amplitudeScale: PerBand;
  /** Mean flux per band over one cycle: what a template coadd contains. */
  readonly templateFlux: PerBand;
}

/** AGN-like stochastic variability: a damped random walk in magnitude. */
export interface AgnModel {
  readonly kind: 'agn';
  readonly meanMag: number;
  readonly tauDays: number;
  /** Structure function at infinity (mag); the walk's rms is sfInf/sqrt(2). */
  readonly sfInf: number;
  readonly colour: PerBand;
  readonly amplitudeScale: PerBand;
  readonly templateFlux: PerBand;
  /** Current state of the walk (mutable): magnitude offset at `mjd`. */
  state: { mjd: number; dm: number };
}

/** Noise-only detections: artefacts with no astrophysical flux. */
export interface BogusModel {
  readonly kind: 'bogus';
  /** Chance that one visit of the field produces an artefact in this slot. */
  readonly ratePerVisit: number;
}

export type LightcurveModel = SnModel | PeriodicModel | AgnModel | BogusModel;

const LN10_04 = 0.4 * Math.LN10;
/** Days over which the post-peak decline bends from flat to its linear rate. */
const SN_ROUNDING_DAYS = 10;
/** The magnitude at which a transient counts as gone. */
const SN_FAINT_LIMIT = 27;

export function drawModel(kind: Population, rng: Rng, nowMjd: number, initial: boolean): LightcurveModel {
  switch (kind) {
    case 'sn': return drawSn(rng, nowMjd, initial);
    case 'periodic': return drawPeriodic(rng, nowMjd);
    case 'agn': return drawAgn(rng, nowMjd);
    case 'bogus': return { kind: 'bogus', ratePerVisit: rng.range(0.1, 0.4) };
  }
}

/**
 * A new supernova. At the start of a run (`initial`) explosions are spread over the past
 * months too, so the sky begins with events at every phase; later ones explode after `nowMjd`.
 */
function drawSn(rng: Rng, nowMjd: number, initial: boolean): SnModel {
  const explosionMjd = initial ? nowMjd + rng.range(-120, 40) : nowMjd + rng.range(0, 40);
  const riseDays = rng.range(12, 19);
  // Brighter events are rarer (there is more volume far away): skew peaks towards 22.
  const peakMag = 18 + 4 * rng.uniform() ** 0.4;
  const fadeRate = rng.range(0.02, 0.04);
  const colourBase = [0.6, 0.05, 0, 0.3, 0.35, 0.45];
  const colour = colourBase.map((c) => c + 0.1 * rng.normal());
  const fadeScale = [1.8, 1.4, 1, 0.85, 0.75, 0.7];
  const hasHost = rng.chance(0.75);
  const hostMag = rng.range(19.5, 23.5);
  // Only ~20% of an extended host's light falls inside the point-source fit.
  const hostColour = [1.5, 0.6, 0, -0.35, -0.6, -0.7];
  const hostFlux = hostColour.map((c) => (hasHost ? 0.2 * magToFlux(hostMag + c) : 0));
  const declineDays = (SN_FAINT_LIMIT - peakMag) / fadeRate + SN_ROUNDING_DAYS;
  const endMjd = explosionMjd + riseDays + Math.min(declineDays, 300);
  return { kind: 'sn', explosionMjd, riseDays, peakMag, fadeRate, colour, fadeScale, hostFlux, endMjd };
}

function drawPeriodic(rng: Rng, nowMjd: number): PeriodicModel {
  const shape: PeriodicShape = (['rrlyrae', 'sinusoid', 'eclipsing'] as const)[rng.pick([0.45, 0.35, 0.2])] ?? 'sinusoid';
  let periodDays: number, amplitude: number, gr: number;
  if (shape === 'rrlyrae') {
    periodDays = rng.range(0.45, 0.85);
    amplitude = rng.range(0.5, 1.1);
    gr = rng.range(0.1, 0.4);
  } else if (shape === 'sinusoid') {
    periodDays = Math.exp(rng.range(Math.log(0.1), Math.log(10))); // 2.4 hours to 10 days
    amplitude = rng.range(0.15, 0.6);
    gr = rng.range(0, 1.2);
  } else {
    periodDays = rng.range(0.8, 8);
    amplitude = rng.range(0.4, 1.2);
    gr = rng.range(0, 1);
  }
  const colour = [gr + 0.9 + 0.8 * gr, gr, 0, -0.35 * gr - 0.02, -0.55 * gr - 0.04, -0.65 * gr - 0.05];
  const amplitudeScale = shape === 'eclipsing' ? [1, 1, 1, 1, 1, 1] : [1.3, 1, 0.8, 0.65, 0.55, 0.5];
  const partial = { kind: 'periodic' as const, shape, periodDays, amplitude, epochMjd: nowMjd - rng.range(0, periodDays), meanMag: rng.range(16, 21.5), colour, amplitudeScale };
  const templateFlux = colour.map((_c, band) => cycleMeanFlux({ ...partial, templateFlux: [] }, band));
  return { ...partial, templateFlux };
}

function drawAgn(rng: Rng, nowMjd: number): AgnModel {
  const meanMag = rng.range(18, 22);
  const sfInf = rng.range(0.15, 0.35);
  const colour = [0.35, 0.2, 0, -0.1, -0.15, -0.2].map((c) => c + 0.05 * rng.normal());
  return {
    kind: 'agn', meanMag, tauDays: rng.range(50, 300), sfInf, colour,
    amplitudeScale: [1.4, 1.2, 1, 0.85, 0.75, 0.7],
    templateFlux: colour.map((c) => magToFlux(meanMag + c)),
    state: { mjd: nowMjd, dm: (sfInf / Math.SQRT2) * rng.normal() },
  };
}

/** Magnitude offset of a periodic star from its mean at phase 0..1 (positive = fainter). */
export function periodicOffset(shape: PeriodicShape, amplitude: number, phase: number): number {
  switch (shape) {
    case 'sinusoid':
      return -0.5 * amplitude * Math.sin(2 * Math.PI * phase);
    case 'rrlyrae':
      // Fast rise over 15% of the cycle, slow linear decline: the classic RRab sawtooth.
      return phase < 0.15 ? amplitude * (0.5 - phase / 0.15) : amplitude * (-0.5 + (phase - 0.15) / 0.85);
    case 'eclipsing': {
      const d1 = Math.min(phase, 1 - phase);
      const d2 = Math.abs(phase - 0.5);
      const w = 0.03;
      return amplitude * (Math.exp(-0.5 * (d1 / w) ** 2) + 0.4 * Math.exp(-0.5 * (d2 / w) ** 2));
    }
  }
}

function cycleMeanFlux(m: PeriodicModel, band: number): number {
  let sum = 0;
  const n = 200;
  for (let k = 0; k < n; k++) sum += periodicFlux(m, band, m.epochMjd + (k / n) * m.periodDays);
  return sum / n;
}

function periodicFlux(m: PeriodicModel, band: number, mjd: number): number {
  const cycles = (mjd - m.epochMjd) / m.periodDays;
  const phase = cycles - Math.floor(cycles);
  const dm = periodicOffset(m.shape, m.amplitude * (m.amplitudeScale[band] ?? 1), phase);
  return magToFlux(m.meanMag + (m.colour[band] ?? 0) + dm);
}

function snFlux(m: SnModel, band: number, mjd: number): number {
  const x = mjd - m.explosionMjd;
  if (x <= 0) return 0;
  const peak = magToFlux(m.peakMag + (m.colour[band] ?? 0));
  // Blue bands peak a little earlier than red ones.
  const rise = m.riseDays + (band - 2) * 0.8;
  if (x < rise) {
    const s = Math.sin((Math.PI / 2) * (x / rise));
    return peak * s * s;
  }
  const y = x - rise;
  const rate = m.fadeRate * (m.fadeScale[band] ?? 1);
  // Linear decline in magnitude, bent so that the lightcurve is smooth at the peak.
  const dm = rate * (y - SN_ROUNDING_DAYS * (1 - Math.exp(-y / SN_ROUNDING_DAYS)));
  return peak * Math.exp(-LN10_04 * dm);
}

/**
 * Moves an AGN's random walk to `mjd` (an Ornstein-Uhlenbeck step, exact for any interval).
 * Must be called with non-decreasing dates.
 */
export function advanceAgn(m: AgnModel, mjd: number, rng: Rng): void {
  const dt = mjd - m.state.mjd;
  if (dt <= 0) return;
  const decay = Math.exp(-dt / m.tauDays);
  const sigma = m.sfInf / Math.SQRT2;
  m.state.dm = m.state.dm * decay + sigma * Math.sqrt(1 - decay * decay) * rng.normal();
  m.state.mjd = mjd;
}

/** True flux (nJy) of the variable source itself, without host light. AGN: at its current state. */
export function sourceFlux(m: LightcurveModel, band: number, mjd: number): number {
  switch (m.kind) {
    case 'sn': return snFlux(m, band, mjd);
    case 'periodic': return periodicFlux(m, band, mjd);
    case 'agn': return magToFlux(m.meanMag + (m.colour[band] ?? 0) + (m.amplitudeScale[band] ?? 1) * m.state.dm);
    case 'bogus': return 0;
  }
}

/** Flux of the variable source in the template coadd (a supernova is not in it yet). */
export function templateSourceFlux(m: LightcurveModel, band: number): number {
  return m.kind === 'periodic' || m.kind === 'agn' ? (m.templateFlux[band] ?? 0) : 0;
}

/** Static host light inside the point-source fit, present in template and science images. */
export function hostFlux(m: LightcurveModel, band: number): number {
  return m.kind === 'sn' ? (m.hostFlux[band] ?? 0) : 0;
}
