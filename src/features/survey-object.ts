// What the survey itself says about the object, read from the alert record's `diaObject` (the
// Alert model keeps the photometry but not this summary). Rubin and the simulations built on
// its layout (ELaSTICC, PLAsTiCC, RAPID) give a mean position; Rubin gives per-band mean PSF
// fluxes in nJy (v5+ `g_psfFluxMean`, v3/v4 `gPSFluxMean`). ELaSTICC and PLAsTiCC's means are
// in SNANA flux units and are not used.
import type { Alert } from '../formats/alert.ts';
import { isRecord } from '../formats/adapters/read.ts';
import { BANDS } from './bands.ts';

export interface SurveyObject {
  ra: number | null;
  dec: number | null;
  /** Mean difference-image PSF flux per band (BANDS order), nJy; null where not given. */
  meanFlux: (number | null)[];
}

const MEAN_FLUX_KEYS = BANDS.map((band) => [`${band}_psfFluxMean`, `${band}PSFluxMean`] as const);

const NO_MEANS: readonly null[] = BANDS.map(() => null);

/** A finite number, else null: Spark writes absent values as null, Rubin may write NaN. */
function finite(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  // JSON read with src/util/json.ts gives a whole-number float beyond 2^53 as BigInt.
  if (typeof value === 'bigint') return Number(value);
  return null;
}

/** The survey's own object summary, or null when the alert carries no diaObject. */
export function surveyObject(alert: Alert): SurveyObject | null {
  const diaObject = alert.record.diaObject;
  if (!isRecord(diaObject)) return null;
  const meanFlux = alert.survey === 'lsst'
    ? MEAN_FLUX_KEYS.map(([current, old]) => finite(diaObject[current] ?? diaObject[old]))
    : NO_MEANS.slice();
  return { ra: finite(diaObject.ra), dec: finite(diaObject.dec ?? diaObject.decl), meanFlux };
}
