// The synthetic Rubin alert generator: valid lsst.v10_0 records, reproducible bytes, exact
// 64-bit ids, coherent history, and lightcurves that look like what they claim to be.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import avro from 'avsc';
import { lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { generateAlerts, generateLabelledAlerts, type LabelledAlert } from '../src/simulate/synthetic.ts';
import { createRng } from '../src/simulate/prng.ts';
import { drawModel, sourceFlux, type SnModel } from '../src/simulate/lightcurves.ts';
import { fluxError, fluxToMag, magToFlux } from '../src/simulate/photometry.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const type = lsstAlertParsedSchema().type;
const TWO_POW_53 = 2n ** 53n;
const START_MJD = 61000;

interface Source {
  diaSourceId: bigint; diaObjectId: bigint; visit: bigint; detector: number; midpointMjdTai: number;
  ra: number; dec: number; band: string; psfFlux: number; psfFluxErr: number; scienceFlux: number;
  snr: number; reliability: number; isNegative: boolean;
}
interface Forced { diaForcedSourceId: bigint; diaObjectId: bigint; midpointMjdTai: number; band: string; psfFlux: number; psfFluxErr: number; scienceFlux: number; scienceFluxErr: number }
interface DiaObject { diaObjectId: bigint; nDiaSources: number; ra: number; dec: number; [key: string]: unknown }
interface Alert {
  diaSourceId: bigint; diaSource: Source; prvDiaSources: Source[] | null; prvDiaForcedSources: Forced[] | null;
  diaObject: DiaObject; cutoutDifference: Buffer | null; cutoutScience: Buffer | null; cutoutTemplate: Buffer | null;
}
const view = (a: LabelledAlert): Alert => a.alert as unknown as Alert;

// One simulated sky shared by the tests below: 100 nights of 300 object slots, no cutouts.
const sky = [...generateLabelledAlerts({ seed: 11, objects: 300, nights: 100, cutouts: false })];
const byObject = new Map<bigint, LabelledAlert[]>();
for (const a of sky) {
  const id = view(a).diaObject.diaObjectId;
  const list = byObject.get(id) ?? [];
  list.push(a);
  byObject.set(id, list);
}
/** Each object's full forced-photometry lightcurve, as its last alert carries it. */
function forcedLightcurve(list: LabelledAlert[]): Forced[] {
  return view(list[list.length - 1] as LabelledAlert).prvDiaForcedSources ?? [];
}

function encodeAll(alerts: Iterable<Record<string, unknown>>): Buffer[] {
  return [...alerts].map((a) => type.toBuffer(a));
}

test('the random generator is reproducible, stream-separated and well distributed', () => {
  const a = createRng(42), b = createRng(42), c = createRng(42, 1), d = createRng(43);
  const xs = Array.from({ length: 5 }, () => a.uniform());
  assert.deepEqual(Array.from({ length: 5 }, () => b.uniform()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.uniform()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => d.uniform()), xs);
  const n = 200_000;
  let sum = 0, sum2 = 0, usum = 0;
  const r = createRng(7);
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    sum += z;
    sum2 += z * z;
    const u = r.uniform();
    assert.ok(u > 0 && u < 1);
    usum += u;
  }
  assert.ok(Math.abs(sum / n) < 0.01, `normal mean ${sum / n}`);
  assert.ok(Math.abs(sum2 / n - 1) < 0.01, `normal variance ${sum2 / n}`);
  assert.ok(Math.abs(usum / n - 0.5) < 0.005, `uniform mean ${usum / n}`);
});

test('photometry: nJy magnitudes and a 5-sigma depth that means S/N 5', () => {
  assert.ok(Math.abs(fluxToMag(3631e9)) < 1e-3, '3631 Jy is AB magnitude 0');
  assert.ok(Math.abs(magToFlux(31.4) - 1) < 1e-12);
  const f5 = magToFlux(24.5);
  assert.ok(Math.abs(f5 / fluxError(f5, 24.5) - 5) < 1e-9);
  // Noise grows with the source's flux (sqrt(flux + sky)) and is sky-limited when faint.
  assert.ok(fluxError(magToFlux(18), 24.5) > 2 * fluxError(0, 24.5));
  assert.ok(fluxError(magToFlux(26), 24.5) / fluxError(0, 24.5) < 1.01);
});

test('the supernova model rises for ~15 days, then fades at its decline rate', () => {
  const rng = createRng(3);
  for (let i = 0; i < 50; i++) {
    const sn = drawModel('sn', rng, START_MJD, false) as SnModel;
    const r = 2;
    assert.equal(sourceFlux(sn, r, sn.explosionMjd - 1), 0);
    const peakTime = sn.explosionMjd + sn.riseDays;
    assert.ok(sn.riseDays >= 10 && sn.riseDays <= 20);
    assert.ok(sn.peakMag >= 18 && sn.peakMag <= 22);
    assert.ok(Math.abs(fluxToMag(sourceFlux(sn, r, peakTime)) - sn.peakMag - (sn.colour[r] ?? 0)) < 1e-9);
    let previous = 0;
    for (let t = sn.explosionMjd + 1; t <= peakTime; t += 1) {
      const f = sourceFlux(sn, r, t);
      assert.ok(f > previous, 'rising before peak');
      previous = f;
    }
    for (let t = peakTime + 3; t < peakTime + 120; t += 3) assert.ok(sourceFlux(sn, r, t) < sourceFlux(sn, r, t - 3), 'fading after peak');
    const slope = (fluxToMag(sourceFlux(sn, r, peakTime + 90)) - fluxToMag(sourceFlux(sn, r, peakTime + 60))) / 30;
    assert.ok(Math.abs(slope - sn.fadeRate) < 0.001, `decline ${slope} mag/day vs ${sn.fadeRate}`);
    assert.ok(sn.fadeRate >= 0.02 && sn.fadeRate <= 0.04);
  }
});

test('every record is valid lsst.v10_0 and round-trips to identical bytes', () => {
  assert.ok(sky.length > 5000, `a 100-night sky has thousands of alerts, got ${sky.length}`);
  sky.forEach(({ alert }, i) => {
    const problems: string[] = [];
    const ok = type.isValid(alert, { errorHook: (p: string[]) => problems.push(p.join('.')) });
    assert.ok(ok, `invalid fields: ${problems.join(', ')}`);
    if (i % 5 !== 0) return; // decoding every alert's long history takes avsc a while
    const bytes = type.toBuffer(alert);
    assert.ok(type.toBuffer(type.fromBuffer(bytes)).equals(bytes));
  });
});

test('alerts come in observation-time order, from Rubin-like visits and sky positions', () => {
  let previous = -Infinity;
  const visitTimes = new Map<bigint, number>();
  for (const a of sky) {
    const s = view(a).diaSource;
    assert.ok(s.midpointMjdTai >= previous, 'sorted by midpointMjdTai');
    previous = s.midpointMjdTai;
    assert.ok(s.ra >= 0 && s.ra < 360, `ra ${s.ra}`);
    assert.ok(s.dec >= -90 && s.dec <= 30, `dec ${s.dec}`);
    assert.ok('ugrizy'.includes(s.band) && s.band.length === 1);
    assert.ok(Number.isInteger(s.detector) && s.detector >= 0 && s.detector < 189);
    assert.equal(typeof s.visit, 'bigint');
    const known = visitTimes.get(s.visit);
    if (known !== undefined) assert.equal(known, s.midpointMjdTai, 'one time per visit');
    visitTimes.set(s.visit, s.midpointMjdTai);
  }
  const first = view(sky[0] as LabelledAlert).diaSource.midpointMjdTai;
  assert.ok(first >= START_MJD && previous < START_MJD + 101);
  // Several visits per night, revisits every few nights.
  const nights = new Map<number, Set<bigint>>();
  for (const [visit, t] of visitTimes) {
    const set = nights.get(Math.floor(t - 0.5)) ?? new Set<bigint>();
    set.add(visit);
    nights.set(Math.floor(t - 0.5), set);
  }
  assert.ok(nights.size > 40 && nights.size < 100, `${nights.size} nights with alerts`);
  assert.ok(visitTimes.size / nights.size > 2, 'several visits per night');
  // A field observed twice in a night is observed ~20-40 minutes apart.
  const pairGaps: number[] = [];
  for (const list of byObject.values()) {
    for (let i = 1; i < list.length; i++) {
      const dt = view(list[i] as LabelledAlert).diaSource.midpointMjdTai - view(list[i - 1] as LabelledAlert).diaSource.midpointMjdTai;
      if (dt > 0 && dt < 0.2) pairGaps.push(dt * 1440);
    }
  }
  pairGaps.sort((x, y) => x - y);
  const median = pairGaps[pairGaps.length >> 1] ?? 0;
  assert.ok(median > 15 && median < 60, `median same-night gap ${median} minutes`);
});

test('ids are exact 64-bit BigInts above 2^53 and unique', () => {
  const sourceIds = new Set<bigint>();
  for (const a of sky) {
    const alert = view(a);
    assert.equal(typeof alert.diaSourceId, 'bigint');
    assert.ok(alert.diaSourceId > TWO_POW_53 && alert.diaSourceId < 2n ** 63n);
    assert.equal(alert.diaSource.diaSourceId, alert.diaSourceId);
    assert.ok(!sourceIds.has(alert.diaSourceId), `duplicate diaSourceId ${alert.diaSourceId}`);
    sourceIds.add(alert.diaSourceId);
    assert.ok(alert.diaObject.diaObjectId > TWO_POW_53);
    assert.equal(alert.diaSource.diaObjectId, alert.diaObject.diaObjectId);
    const forcedIds = new Set((alert.prvDiaForcedSources ?? []).map((f) => f.diaForcedSourceId));
    assert.equal(forcedIds.size, alert.prvDiaForcedSources?.length ?? 0, 'forced source ids unique');
    for (const id of forcedIds) assert.ok(typeof id === 'bigint' && id > TWO_POW_53 && !sourceIds.has(id));
  }
  assert.ok(byObject.size > 300, 'transients and artefacts make more diaObjects than slots');
});

test('history: a later alert carries the earlier detections and forced photometry of its object', () => {
  let checked = 0;
  for (const list of byObject.values()) {
    let previous: Alert | null = null;
    list.forEach((a, i) => {
      const alert = view(a);
      const prv = alert.prvDiaSources ?? [];
      // No detection is older than 12 months here, so the history is every earlier alert.
      assert.deepEqual(prv.map((s) => s.diaSourceId), list.slice(0, i).map((x) => view(x).diaSourceId));
      assert.equal(alert.diaObject.nDiaSources, i + 1);
      for (const s of prv) assert.ok(s.midpointMjdTai < alert.diaSource.midpointMjdTai);
      const forced = alert.prvDiaForcedSources ?? [];
      for (const f of forced) {
        assert.equal(f.diaObjectId, alert.diaObject.diaObjectId);
        assert.ok(f.midpointMjdTai < alert.diaSource.midpointMjdTai, 'forced photometry of earlier visits only');
      }
      if (previous !== null) {
        const earlier = new Set((previous.prvDiaForcedSources ?? []).map((f) => f.diaForcedSourceId));
        const now = new Set(forced.map((f) => f.diaForcedSourceId));
        for (const id of earlier) assert.ok(now.has(id), 'forced history only grows');
        assert.ok(now.size > earlier.size, 'the previous visit was measured');
        checked++;
      }
      previous = alert;
    });
  }
  assert.ok(checked > 1000);
});

test('the diaObject summarises the detections per band', () => {
  for (const a of sky.filter((_x, i) => i % 7 === 0)) {
    const alert = view(a);
    const all = [...(alert.prvDiaSources ?? []), alert.diaSource];
    for (const band of 'ugrizy') {
      const inBand = all.filter((s) => s.band === band);
      const o = alert.diaObject;
      assert.equal(o[`${band}_psfFluxNdata`], inBand.length);
      if (inBand.length === 0) {
        assert.equal(o[`${band}_psfFluxMean`], null);
        continue;
      }
      const fluxes = inBand.map((s) => s.psfFlux);
      assert.equal(o[`${band}_psfFluxMax`], Math.max(...fluxes));
      assert.equal(o[`${band}_psfFluxMin`], Math.min(...fluxes));
      const mean = o[`${band}_psfFluxMean`] as number;
      assert.ok(mean >= Math.min(...fluxes) - 1e-6 && mean <= Math.max(...fluxes) + 1e-6);
    }
    assert.equal(alert.diaObject.lastDiaSourceMjdTai, alert.diaSource.midpointMjdTai);
    assert.equal(alert.diaObject.firstDiaSourceMjdTai, all[0]?.midpointMjdTai);
    assert.ok(Math.abs(alert.diaObject.dec - alert.diaSource.dec) < 1 / 3600, 'object position near its sources');
  }
});

test('detections are 5-sigma difference fluxes of both signs; artefacts have low reliability', () => {
  const counts = { sn: 0, periodic: 0, agn: 0, bogus: 0 };
  let negativeVariables = 0;
  const realReliability: number[] = [];
  for (const a of sky) {
    const s = view(a).diaSource;
    counts[a.truth.population]++;
    assert.ok(Math.abs(s.psfFlux) >= 5 * s.psfFluxErr * (1 - 1e-6));
    assert.equal(s.isNegative, s.psfFlux < 0);
    assert.ok(s.reliability >= 0 && s.reliability <= 1);
    if (a.truth.population === 'bogus') {
      assert.ok(s.reliability < 0.3, `artefact reliability ${s.reliability}`);
      assert.equal(view(a).diaObject.nDiaSources, 1);
      assert.equal(view(a).prvDiaSources, null);
    } else {
      realReliability.push(s.reliability);
      if (s.psfFlux < 0) negativeVariables++;
    }
  }
  for (const [population, n] of Object.entries(counts)) assert.ok(n > 200, `${n} ${population} alerts`);
  assert.ok(negativeVariables > 500, 'variables fade below their template too');
  realReliability.sort((x, y) => x - y);
  assert.ok((realReliability[realReliability.length >> 1] ?? 0) > 0.8);
});

test('supernovae: the observed flux rises to a peak and falls again', () => {
  let qualifying = 0, passing = 0;
  for (const list of byObject.values()) {
    const m = list[0]?.truth.model;
    if (m?.kind !== 'sn') continue;
    const peak = m.explosionMjd + m.riseDays;
    const lightcurve = forcedLightcurve(list);
    for (const band of 'ugrizy') {
      const points = lightcurve.filter((f) => f.band === band);
      const early = points.find((f) => f.midpointMjdTai < m.explosionMjd + 3);
      const top = points.find((f) => Math.abs(f.midpointMjdTai - peak) < 4);
      const late = points.findLast((f) => f.midpointMjdTai > peak + 40);
      if (early === undefined || top === undefined || late === undefined || top.psfFlux < 20 * top.psfFluxErr) continue;
      qualifying++;
      if (top.psfFlux > early.psfFlux + 5 * early.psfFluxErr && top.psfFlux > late.psfFlux + 3 * late.psfFluxErr) passing++;
    }
  }
  assert.ok(qualifying >= 5, `${qualifying} well-sampled supernova lightcurves`);
  assert.equal(passing, qualifying);
});

/**
 * Multi-band phase dispersion (Stellingwerf's PDM): scatter within phase bins over the scatter
 * about each band's mean, summed over bands. Near 0 when the data are periodic at `period`,
 * near 1 at an unrelated period. Bands whose variability does not stand well above the noise
 * are skipped.
 */
function phaseDispersion(lightcurve: Forced[], period: number, bins = 6): number {
  let within = 0, withinDof = 0, total = 0, totalDof = 0;
  for (const band of 'ugrizy') {
    const points = lightcurve.filter((f) => f.band === band);
    if (points.length < 10) continue;
    const mean = points.reduce((s, f) => s + f.scienceFlux, 0) / points.length;
    const squares = points.reduce((s, f) => s + (f.scienceFlux - mean) ** 2, 0);
    const noise = points.reduce((s, f) => s + f.scienceFluxErr ** 2, 0) / points.length;
    if (squares / (points.length - 1) < 10 * noise) continue;
    total += squares;
    totalDof += points.length - 1;
    const groups: number[][] = Array.from({ length: bins }, () => []);
    for (const f of points) {
      const cycles = f.midpointMjdTai / period;
      groups[Math.min(bins - 1, Math.floor((cycles - Math.floor(cycles)) * bins))]?.push(f.scienceFlux);
    }
    for (const g of groups) {
      if (g.length < 2) continue;
      const m = g.reduce((s, v) => s + v, 0) / g.length;
      within += g.reduce((s, v) => s + (v - m) ** 2, 0);
      withinDof += g.length - 1;
    }
  }
  return totalDof === 0 ? NaN : within / withinDof / (total / totalDof);
}

test('periodic variables: the lightcurve folds cleanly at the true period and not at others', () => {
  const atTrue: number[] = [], atOthers: number[] = [];
  let clean = 0;
  for (const list of byObject.values()) {
    const m = list[0]?.truth.model;
    if (m?.kind !== 'periodic' || m.shape === 'eclipsing') continue; // a few in-eclipse points say little
    const lightcurve = forcedLightcurve(list);
    const atPeriod = phaseDispersion(lightcurve, m.periodDays);
    if (Number.isNaN(atPeriod)) continue; // no band with enough points yet
    const others: number[] = [];
    for (let k = 0; k < 25; k++) {
      const trial = Math.exp(Math.log(0.05) + Math.log(400) * ((k * 0.618034) % 1));
      if (Math.abs(trial / m.periodDays - 1) > 0.05) others.push(phaseDispersion(lightcurve, trial));
    }
    others.sort((x, y) => x - y);
    const median = others[others.length >> 1] ?? 0;
    // Sparse sampling of a fast-rising sawtooth can put very different fluxes in one phase bin,
    // and nightly sampling makes some aliases fold well too: the per-object bar is modest,
    // the population's must be clear.
    assert.ok(atPeriod < 0.9 * median, `${m.shape} P=${m.periodDays}: dispersion ${atPeriod} at the true period, ${median} at others`);
    atTrue.push(atPeriod);
    atOthers.push(median);
    if (atPeriod < 0.5 * median) clean++;
  }
  assert.ok(atTrue.length >= 10, `${atTrue.length} periodic variables checked`);
  const middle = (xs: number[]): number => xs.sort((x, y) => x - y)[xs.length >> 1] ?? NaN;
  assert.ok(middle(atTrue) < 0.15, `typical dispersion at the true period ${middle(atTrue)}`);
  assert.ok(middle(atOthers) > 0.75, `typical dispersion at other periods ${middle(atOthers)}`);
  assert.ok(clean >= 0.9 * atTrue.length, `${clean} of ${atTrue.length} fold at least twice as well at their period`);
});

test('AGN vary stochastically beyond the noise; flat stretches are pure noise', () => {
  let agn = 0, variable = 0;
  for (const list of byObject.values()) {
    if (list[0]?.truth.model.kind !== 'agn') continue;
    const lightcurve = forcedLightcurve(list);
    const r = lightcurve.filter((f) => f.band === 'r' || f.band === 'i');
    if (r.length < 10) continue;
    agn++;
    const w = r.map((f) => 1 / f.scienceFluxErr ** 2);
    const mean = r.reduce((s, f, i) => s + (w[i] as number) * f.scienceFlux, 0) / w.reduce((s, x) => s + x, 0);
    const chi2 = r.reduce((s, f) => s + ((f.scienceFlux - mean) / f.scienceFluxErr) ** 2, 0) / (r.length - 1);
    if (chi2 > 5) variable++;
  }
  assert.ok(agn >= 10 && variable >= 0.8 * agn, `${variable} of ${agn} AGN variable`);
  // Before a supernova explodes its forced photometry is noise around zero with the quoted errors.
  const pulls: number[] = [];
  for (const list of byObject.values()) {
    const m = list[0]?.truth.model;
    if (m?.kind !== 'sn') continue;
    for (const f of forcedLightcurve(list)) if (f.midpointMjdTai < m.explosionMjd) pulls.push(f.psfFlux / f.psfFluxErr);
  }
  assert.ok(pulls.length > 50, `${pulls.length} pre-explosion measurements`);
  const mean = pulls.reduce((s, p) => s + p, 0) / pulls.length;
  const sd = Math.sqrt(pulls.reduce((s, p) => s + (p - mean) ** 2, 0) / (pulls.length - 1));
  assert.ok(Math.abs(mean) < 0.3 && sd > 0.8 && sd < 1.2, `pulls mean ${mean}, sd ${sd}`);
});

test('same seed, same bytes; another seed, other alerts; cutouts change nothing else', () => {
  const options = { seed: 5, objects: 150, count: 300 };
  const a = encodeAll(generateAlerts(options));
  const b = encodeAll(generateAlerts(options));
  assert.equal(a.length, 300);
  assert.ok(Buffer.concat(a).equals(Buffer.concat(b)));
  const other = encodeAll(generateAlerts({ ...options, seed: 6 }));
  assert.ok(!Buffer.concat(other).equals(Buffer.concat(a)));
  // Without cutouts the records are the same apart from the three images.
  const bare = [...generateAlerts({ ...options, cutouts: false })];
  const full = [...generateAlerts(options)];
  assert.equal(bare.length, full.length);
  full.forEach((alert, i) => {
    const stripped = { ...alert, cutoutDifference: null, cutoutScience: null, cutoutTemplate: null };
    assert.ok(type.toBuffer(stripped).equals(type.toBuffer(bare[i])));
  });
  // A shorter run is a prefix of a longer one.
  const prefix = encodeAll(generateAlerts({ ...options, count: 120 }));
  assert.ok(Buffer.concat(prefix).equals(Buffer.concat(a.slice(0, 120))));
});

/** Minimal FITS reader for the tests: header cards and big-endian float32 pixels. */
function readFits(buf: Buffer): { cards: Map<string, string>; pixels: Float32Array; width: number; height: number } {
  assert.equal(buf.length % 2880, 0, 'whole 2880-byte blocks');
  const cards = new Map<string, string>();
  let end = -1;
  for (let off = 0; off < buf.length; off += 80) {
    const card = buf.toString('latin1', off, off + 80);
    const key = card.slice(0, 8).trim();
    if (key === 'END') {
      end = off;
      break;
    }
    cards.set(key, card.slice(10).split(' / ')[0]?.trim() ?? '');
  }
  assert.ok(end > 0, 'has an END card');
  const width = Number(cards.get('NAXIS1'));
  const height = Number(cards.get('NAXIS2'));
  const dataStart = Math.ceil((end + 80) / 2880) * 2880;
  const pixels = new Float32Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = buf.readFloatBE(dataStart + 4 * i);
  return { cards, pixels, width, height };
}

test('cutouts are valid FITS images showing the difference flux', () => {
  let checked = 0;
  for (const alert of generateAlerts({ seed: 8, objects: 100, count: 150 })) {
    const a = alert as unknown as Alert;
    for (const cutout of [a.cutoutDifference, a.cutoutScience, a.cutoutTemplate]) {
      assert.ok(Buffer.isBuffer(cutout));
      assert.equal(cutout.toString('latin1', 0, 30), 'SIMPLE  =                    T');
      const { cards } = readFits(cutout);
      assert.equal(cards.get('BITPIX'), '-32');
      assert.equal(cards.get('NAXIS'), '2');
      assert.equal(cards.get('CTYPE1'), "'RA---TAN'");
      assert.ok(Math.abs(Number(cards.get('CRVAL2')) - a.diaSource.dec) < 1e-9);
    }
    const diff = readFits(a.cutoutDifference as Buffer);
    assert.equal(diff.width, 30);
    assert.equal(diff.height, 30);
    if (a.diaSource.snr < 30) continue;
    // Sum of the central 10x10 pixels: most of a ~1.7-pixel-sigma PSF.
    let sum = 0;
    for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) sum += diff.pixels[y * 30 + x] as number;
    assert.ok(Math.abs(sum / a.diaSource.psfFlux - 0.95) < 0.15, `stamp flux ${sum} vs psfFlux ${a.diaSource.psfFlux}`);
    checked++;
  }
  assert.ok(checked > 20);
});

const scratch = mkdtempSync(path.join(tmpdir(), 'nightjar-generate-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('`nightjar generate` writes a reproducible Avro container of the same alerts', async () => {
  const run = promisify(execFile);
  const out = path.join(scratch, 'alerts.avro');
  const args = ['--disable-warning=ExperimentalWarning', path.join(repoRoot, 'src/cli/main.ts'), 'generate', '--count', '200', '--seed', '9', '--objects', '100', '--out', out];
  const { stdout } = await run(process.execPath, args);
  assert.match(stdout, /^200 alerts, \d+ objects, MJD 610\d\d\.\d\d-610\d\d\.\d\d \([\d.]+ days\), \d+ bytes .* written to .*alerts\.avro in [\d.]+ s/);
  const file = readFileSync(out);
  // Read back with avsc's own container decoder: the file is standard Avro.
  const records: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    avro.createFileDecoder(out, { parseHook: () => type })
      .on('data', (record: unknown) => records.push(type.toBuffer(record)))
      .on('end', resolve)
      .on('error', reject);
  });
  const expected = encodeAll(generateAlerts({ seed: 9, objects: 100, count: 200 }));
  assert.equal(records.length, 200);
  records.forEach((r, i) => assert.ok(r.equals(expected[i] as Buffer), `record ${i}`));
  await run(process.execPath, [...args.slice(0, -1), `${out}.2`]);
  assert.ok(readFileSync(`${out}.2`).equals(file), 'same seed, same file');
  await assert.rejects(run(process.execPath, [...args.slice(0, 3), '--count', 'ten', '--out', out]), (err: { stderr: string }) => {
    assert.match(err.stderr, /^nightjar: --count must be an integer >= 0, got "ten"\n$/);
    return true;
  });
});
