// Filters as users write them, for the broker benchmarks: selective cuts (a few alerts in a
// thousand pass), broad ones (a third to a half pass), and ones that call functions (flux2mag,
// angdist, log10, greatest, mjdnow); outputs mixed as on a real broker, most silent or email,
// the rest Kafka streams in Lasair's JSON (plain, lite lightcurve, a few full alerts) or Avro
// for fink-client. Filter i varies its thresholds with i, so no two filters share their SQL.
import { openStore } from '../../src/store/index.ts';
import type { FilterOutput } from '../../src/store/store.ts';

export type FilterShape = 'selective' | 'broad' | 'function';

export interface BenchFilter {
  name: string;
  select: string;
  where: string;
  output: FilterOutput;
  shape: FilterShape;
  /** The filter's topic, for Kafka outputs. */
  topic: string | null;
}

type Make = ((k: number) => string) & { tiny?: true };

/** A form that passes about one alert in a thousand (a sky box, a cone): the only ones given full-alert streams. */
function tiny(make: (k: number) => string): Make {
  return Object.assign(make, { tiny: true as const });
}

// Thresholds move with k (up to ~100 for 1000 filters) in small steps: same selectivity, distinct SQL.
const SELECTIVE: Make[] = [
  (k) => `alertMag < ${(18.6 + k * 0.005).toFixed(3)} AND alertSnr > 10`,
  (k) => `glat > ${(60 + k * 0.1).toFixed(1)} AND alertMag < 21`,
  tiny((k) => `ra BETWEEN ${(k * 3.6).toFixed(1)} AND ${(k * 3.6 + 8).toFixed(1)} AND decl BETWEEN ${(-60 + k * 0.5).toFixed(1)} AND ${(-52 + k * 0.5).toFixed(1)}`),
  (k) => `nSources >= ${40 + Math.floor(k / 10)} AND latestReliability > ${(0.8 + k * 0.001).toFixed(3)}`,
  (k) => `alertSnr > ${150 + k}`,
  (k) => `nNights >= 3 AND alertFlux > ${20_000 + k * 100}`,
];
const BROAD: Make[] = [
  (k) => `alertSnr > ${(5 + k * 0.05).toFixed(2)}`,
  (k) => `alertMag < ${(22 + k * 0.01).toFixed(2)}`,
  (k) => `decl < ${(-10 + k * 0.2).toFixed(1)}`,
  (k) => `alertFlux > 0 AND latestReliability > ${(0.5 + k * 0.002).toFixed(3)}`,
];
const FUNCTION: Make[] = [
  (k) => `flux2mag(alertFlux) < ${(19.5 + k * 0.01).toFixed(2)} AND abs(glat) > 20`,
  tiny((k) => `angdist(ra, decl, ${(k * 3.6).toFixed(1)}, ${(-70 + k * 0.9).toFixed(1)}) < ${7200 + k * 60}`),
  (k) => `log10(abs(alertFlux)) > ${(4.4 + k * 0.004).toFixed(3)} AND nSources >= 2`,
  (k) => `greatest(alertMag, ifnull(latestMag_r, 99)) < ${(19.8 + k * 0.006).toFixed(3)}`,
  (k) => `mjdnow() - lastDiaSourceMjd < ${(0.5 + k * 0.01).toFixed(2)} AND alertSnr > ${100 + k}`,
];

// Broad filters feed classifiers and statistics: silent, email, or a plain JSON stream (their
// streams are cut at the row limit on every batch). Narrow ones take every output, the heavy
// ones too (lite lightcurve, Avro with the lightcurve); a full-alert stream (up to ~1 MB per
// record for a year of history) only on the tiniest forms, as a quota would force. Overall per
// 100 filters: 30 silent, 20 email, 23 plain JSON, 10 lite, 10 Avro, 7 full.
const BROAD_OUTPUTS: FilterOutput[] = ['none', 'email', 'kafka', 'none'];
const NARROW_OUTPUTS: FilterOutput[] = ['none', 'kafka', 'email', 'kafka-lite', 'kafka-avro', 'none', 'kafka', 'email', 'kafka-lite', 'none', 'kafka', 'email', 'kafka-avro', 'kafka', 'none', 'kafka'];
// Per 10 filters: 5 selective, 2 broad, 3 with functions.
const SHAPES: FilterShape[] = ['selective', 'function', 'selective', 'broad', 'selective', 'function', 'selective', 'broad', 'selective', 'function'];

const SELECTS = [
  'diaObjectId, alertSourceId, ra, decl, alertMag, nSources',
  'objectId, alertSourceId, alertMjd, alertBand, alertFlux, alertSnr, latestReliability',
  'diaObjectId, alertSourceId, flux2mag(alertFlux) AS mag, glat, nNights',
];

/** `count` filters of the benchmark mix; Kafka outputs get topics `<topicPrefix>_<i>`. */
export function benchFilters(count: number, topicPrefix: string): BenchFilter[] {
  const filters: BenchFilter[] = [];
  let broad = 0;
  let narrow = 0;
  const seen: Partial<Record<FilterShape, number>> = {};
  for (let i = 0; i < count; i++) {
    const shape = SHAPES[i % SHAPES.length] as FilterShape;
    const makers = shape === 'selective' ? SELECTIVE : shape === 'broad' ? BROAD : FUNCTION;
    // The n-th filter of its shape: each (form, k) once, so no two filters share their SQL.
    const n = (seen[shape] = (seen[shape] ?? -1) + 1);
    const make = makers[n % makers.length] as Make;
    const k = Math.floor(n / makers.length);
    let output = shape === 'broad' ? (BROAD_OUTPUTS[broad++ % BROAD_OUTPUTS.length] as FilterOutput) : (NARROW_OUTPUTS[narrow++ % NARROW_OUTPUTS.length] as FilterOutput);
    if (make.tiny === true && output === 'kafka') output = 'kafka-full';
    filters.push({
      name: `bench ${shape} ${i}`,
      select: SELECTS[i % SELECTS.length] as string,
      where: make(k),
      output,
      shape,
      topic: output.startsWith('kafka') ? `${topicPrefix}_${i}` : null,
    });
  }
  return filters;
}

/** A store file holding these filters (owned by one user), ready for a broker to open. */
export async function storeWithFilters(file: string, filters: readonly BenchFilter[]): Promise<void> {
  const store = await openStore({ path: file });
  try {
    const user = await store.createUser({ email: 'bench@nightjar.test', name: 'bench' });
    for (const f of filters) await store.saveFilter({ ownerId: user.id, name: f.name, select: f.select, where: f.where, output: f.output, topic: f.topic });
  } finally {
    await store.close();
  }
}
