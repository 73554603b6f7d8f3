// The diaObject record of an alert: position and per-band flux statistics summarised from the
// object's detections (diaSources) and forced photometry, as Rubin's pipeline fills them.
import { blankLsstRecord } from '../formats/lsst-schema.ts';
import { BANDS } from './photometry.ts';
import { raDifference, wrapRa } from './survey.ts';

/** What the summary needs of one detection (the record itself rides along for the alert). */
export interface SourceEntry {
  readonly record: Readonly<Record<string, unknown>>;
  readonly mjd: number;
  readonly band: number;
  readonly ra: number;
  readonly dec: number;
  readonly positionErrDeg: number;
  readonly psfFlux: number;
  readonly psfFluxErr: number;
  readonly scienceFlux: number;
  readonly scienceFluxErr: number;
}

export interface ForcedEntry {
  readonly record: Readonly<Record<string, unknown>>;
  readonly mjd: number;
  readonly band: number;
  readonly psfFlux: number;
  readonly psfFluxErr: number;
}

export interface ObjectHistory {
  readonly diaObjectId: bigint;
  /** Lifetime counts and dates (the lists below only keep the history window). */
  nDiaSources: number;
  readonly firstDiaSourceMjd: number;
  sources: SourceEntry[];
  forced: ForcedEntry[];
}

const BLANK = blankLsstRecord('diaObject');
const KEYS = BANDS.map((b) => ({
  psfFluxMean: `${b}_psfFluxMean`, psfFluxMeanErr: `${b}_psfFluxMeanErr`, psfFluxSigma: `${b}_psfFluxSigma`,
  psfFluxNdata: `${b}_psfFluxNdata`, fpFluxMean: `${b}_fpFluxMean`, fpFluxMeanErr: `${b}_fpFluxMeanErr`,
  scienceFluxMean: `${b}_scienceFluxMean`, scienceFluxMeanErr: `${b}_scienceFluxMeanErr`,
  psfFluxMin: `${b}_psfFluxMin`, psfFluxMax: `${b}_psfFluxMax`, psfFluxMaxSlope: `${b}_psfFluxMaxSlope`,
  psfFluxErrMean: `${b}_psfFluxErrMean`,
}));

/**
 * Builds the diaObject as of a visit: `history.sources` must already include the current
 * detection; forced photometry covers the previous visits. Bands without data keep null
 * statistics and an Ndata of 0.
 */
export function summariseObject(history: ObjectHistory, validityStartMjd: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...BLANK };
  out.diaObjectId = history.diaObjectId;
  out.validityStartMjdTai = validityStartMjd;

  // Position: inverse-variance weighted mean, with RA offsets taken around the first detection
  // so that objects straddling RA 0/360 average correctly.
  const first = history.sources[0];
  if (first === undefined) throw new Error(`diaObject ${history.diaObjectId} has no diaSource to summarise`);
  let sw = 0, sra = 0, sdec = 0;
  for (const s of history.sources) {
    const w = 1 / (s.positionErrDeg * s.positionErrDeg);
    sw += w;
    sra += w * raDifference(s.ra, first.ra);
    sdec += w * s.dec;
  }
  const posErr = Math.sqrt(1 / sw);
  out.ra = wrapRa(first.ra + sra / sw);
  out.dec = sdec / sw;
  out.raErr = posErr;
  out.decErr = posErr;
  out.ra_dec_Cov = 0;

  // One pass over each list, accumulating per band.
  const nb = BANDS.length;
  const n = new Float64Array(nb), w = new Float64Array(nb), wf = new Float64Array(nb);
  const sum = new Float64Array(nb), sum2 = new Float64Array(nb), errSum = new Float64Array(nb);
  const sciW = new Float64Array(nb), sciWF = new Float64Array(nb);
  const min = new Float64Array(nb).fill(Infinity), max = new Float64Array(nb).fill(-Infinity);
  const maxSlope = new Float64Array(nb).fill(-Infinity);
  const prevMjd = new Float64Array(nb).fill(NaN), prevFlux = new Float64Array(nb);
  for (const s of history.sources) {
    const b = s.band;
    const wi = 1 / (s.psfFluxErr * s.psfFluxErr);
    const sciWi = 1 / (s.scienceFluxErr * s.scienceFluxErr);
    n[b]! += 1; w[b]! += wi; wf[b]! += wi * s.psfFlux; sum[b]! += s.psfFlux; sum2[b]! += s.psfFlux * s.psfFlux;
    errSum[b]! += s.psfFluxErr; sciW[b]! += sciWi; sciWF[b]! += sciWi * s.scienceFlux;
    if (s.psfFlux < min[b]!) min[b] = s.psfFlux;
    if (s.psfFlux > max[b]!) max[b] = s.psfFlux;
    if (s.mjd > prevMjd[b]!) maxSlope[b] = Math.max(maxSlope[b]!, (s.psfFlux - prevFlux[b]!) / (s.mjd - prevMjd[b]!));
    prevMjd[b] = s.mjd;
    prevFlux[b] = s.psfFlux;
  }
  const fw = new Float64Array(nb), fwf = new Float64Array(nb);
  for (const f of history.forced) {
    const wi = 1 / (f.psfFluxErr * f.psfFluxErr);
    fw[f.band]! += wi;
    fwf[f.band]! += wi * f.psfFlux;
  }
  for (let b = 0; b < nb; b++) {
    const k = KEYS[b]!;
    const nd = n[b]!;
    out[k.psfFluxNdata] = nd;
    if (nd > 0) {
      out[k.psfFluxMean] = wf[b]! / w[b]!;
      out[k.psfFluxMeanErr] = Math.sqrt(1 / w[b]!);
      const mean = sum[b]! / nd;
      out[k.psfFluxSigma] = nd > 1 ? Math.sqrt(Math.max(0, (sum2[b]! - nd * mean * mean) / (nd - 1))) : null;
      out[k.scienceFluxMean] = sciWF[b]! / sciW[b]!;
      out[k.scienceFluxMeanErr] = Math.sqrt(1 / sciW[b]!);
      out[k.psfFluxMin] = min[b];
      out[k.psfFluxMax] = max[b];
      out[k.psfFluxMaxSlope] = maxSlope[b] === -Infinity ? null : maxSlope[b];
      out[k.psfFluxErrMean] = errSum[b]! / nd;
    }
    if (fw[b]! > 0) {
      out[k.fpFluxMean] = fwf[b]! / fw[b]!;
      out[k.fpFluxMeanErr] = Math.sqrt(1 / fw[b]!);
    }
  }
  out.firstDiaSourceMjdTai = history.firstDiaSourceMjd;
  out.lastDiaSourceMjdTai = history.sources[history.sources.length - 1]?.mjd ?? null;
  out.nDiaSources = history.nDiaSources;
  return out;
}
