// Filters as users write them, for the broker benchmarks. As on Lasair, most are selective: a
// cut on brightness, signal, history or a patch of sky that passes well under 1% of alerts
// (a few in a thousand); some call functions (flux2mag, angdist, log10, greatest, mjdnow), as
// selective; a few are broad (a tenth to a half pass), feeding statistics and classifiers.
// Outputs are mixed as on a real broker: most silent or email, the rest Kafka streams in
// Lasair's JSON (plain, lite lightcurve, a few full alerts) or Avro for fink-client. Filter i
// varies its thresholds or its patch of sky with i, so no two filters share their SQL while
// each form keeps its selectivity. `node bench/pipeline.ts` reports the mean matches and
// records per alert the mix gives on its night.
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

/** A form that passes about one alert in a thousand or fewer (a sky box, a cone): the only ones given full-alert streams. */
function tiny(make: (k: number) => string): Make {
  return Object.assign(make, { tiny: true as const });
}

// Thresholds move with k (the form's k-th use: up to ~120 for 1000 filters) in steps too small
// to change the selectivity much; sky boxes and cones move around the sky instead. The median
// passing fraction of each form on a replicated night of 4,000 alerts is in its comment; with
// 1000 filters: ~8 matches per alert, 4.3 of them from the 20 broad filters.
const SELECTIVE: Make[] = [
  (k) => `alertMag < ${(17.2 + k * 0.002).toFixed(3)} AND alertSnr > 10`, // ~0.7%
  (k) => `glat > ${(60 + k * 0.1).toFixed(1)} AND alertMag < 21`, // ~0.3%
  tiny((k) => `ra BETWEEN ${((k * 7.3) % 352).toFixed(1)} AND ${((k * 7.3) % 352 + 8).toFixed(1)} AND decl BETWEEN ${(-60 + (k % 9) * 9).toFixed(1)} AND ${(-52 + (k % 9) * 9).toFixed(1)}`), // ~0.15%
  (k) => `nSources >= ${10 + (k % 10)} AND alertSnr > ${100 + k}`, // ~0.4%
  (k) => `alertSnr > ${600 + k}`, // ~0.6%
  (k) => `nNights >= 3 AND alertFlux > ${25_000 + k * 50}`, // ~0.2%
];
const BROAD: Make[] = [
  (k) => `alertMag < ${(21 + k * 0.01).toFixed(2)}`, // ~13%
  (k) => `decl < ${(-40 + k * 0.2).toFixed(1)}`, // ~25%
  (k) => `alertSnr > ${(10 + k * 0.05).toFixed(2)} AND latestReliability > 0.5`, // ~30%
];
const FUNCTION: Make[] = [
  (k) => `flux2mag(alertFlux) < ${(18.0 + k * 0.002).toFixed(3)} AND abs(glat) > 20`, // ~0.8%
  tiny((k) => `angdist(ra, decl, ${((k * 11.1) % 360).toFixed(1)}, ${(-70 + (k % 10) * 9).toFixed(1)}) < ${7200 + (k % 5) * 60}`), // ~0.02%
  (k) => `log10(abs(alertFlux)) > ${(5.3 + k * 0.001).toFixed(3)} AND nSources >= 2`, // ~0.9%
  (k) => `greatest(alertMag, ifnull(latestMag_r, 99)) < ${(19.8 + k * 0.002).toFixed(3)}`, // ~0.07%
  (k) => `mjdnow() - lastDiaSourceMjd < ${(0.5 + k * 0.01).toFixed(2)} AND alertSnr > ${500 + k}`, // ~0.6%
];

// Broad filters feed classifiers and statistics: silent, email, or a plain JSON stream (their
// streams are cut at the row limit on every batch). Narrow ones take every output, the heavy
// ones too (lite lightcurve, Avro with the lightcurve); a full-alert stream (up to ~1 MB per
// record for a year of history) only on the tiniest forms, as a quota would force. Overall per
// 1000 filters: 255 silent, 250 email, 205 plain JSON, 123 lite, 122 Avro, 45 full.
const BROAD_OUTPUTS: FilterOutput[] = ['none', 'email', 'kafka', 'none'];
const NARROW_OUTPUTS: FilterOutput[] = ['none', 'kafka', 'email', 'kafka-lite', 'kafka-avro', 'none', 'kafka', 'email', 'kafka-lite', 'none', 'kafka', 'email', 'kafka-avro', 'kafka', 'none', 'email'];
// Per 50 filters: 1 broad (the fourth: 10 filters have one), 35 selective, 14 with functions.
const SHAPES: FilterShape[] = Array.from({ length: 50 }, (_, i): FilterShape => (i === 3 ? 'broad' : i % 7 === 1 || i % 7 === 5 ? 'function' : 'selective'));

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
