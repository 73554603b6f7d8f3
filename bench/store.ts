// Cost of Store.writeBatch for Rubin-visit-sized batches (10,000 alerts), on a file store:
// synthetic alerts whose objects carry 20-50 history points (detections and forced photometry,
// growing by one or two per alert as a real stream does), then real Fink-distributed Rubin and
// ZTF alerts. Also times lightcurve reads and a filter over the stored objects.
// The default run reaches a steady state like a survey's: after a few batches every object has
// been seen, and each alert adds one or two points to a history of up to 50. More objects than
// alerts per batch (e.g. --objects 300000) instead keeps bringing in objects never seen, each with
// 20-50 points to add. Run: node bench/store.ts [--batches 30] [--objects 30000]
// [--batch-size 10000] [--memory] [--checkpoint 256MB] [--quick] (3 batches of 2000 over 5000 objects)
// [--cutouts none|all|matched]: the alerts carry the three cutouts of real Rubin alerts (~115 KB,
// from ../shared/data, replicated) and the store keeps them with every batch (all) or, after the
// batch, those of --matched alerts per batch (default 1000, Lasair's row limit of one filter).
// Then a real-size night as bench/pipeline.ts stores it: the real Rubin alerts replicated by
// bench/lib/real-night.ts (visits of --batch-size alerts, half as many objects as alerts, long
// real histories), written visit by visit to a new store. [--night 30000] alerts (0: none);
// [--night-only] skips the synthetic part (for profiling: node --cpu-prof bench/store.ts --night-only).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { featuresForBatch } from '../src/features/compute.ts';
import { catalog } from '../src/features/columns.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert, Point } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { isFilterErrors, parseFilter } from '../src/filters/index.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { createRng } from '../src/simulate/prng.ts';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/index.ts';
import { isQuick, Results } from './lib/emit.ts';
import { loadRubinTemplates, realNight } from './lib/real-night.ts';

const quick = isQuick();
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    batches: { type: 'string', default: quick ? '3' : '30' },
    objects: { type: 'string', default: quick ? '5000' : '30000' },
    'batch-size': { type: 'string', default: quick ? '2000' : '10000' },
    memory: { type: 'boolean', default: false },
    checkpoint: { type: 'string' },
    cutouts: { type: 'string', default: 'none' },
    matched: { type: 'string', default: '1000' },
    night: { type: 'string', default: quick ? '4000' : '30000' },
    'night-only': { type: 'boolean', default: false },
  },
});
const cutoutPolicy = args.cutouts;
if (!['none', 'all', 'matched'].includes(cutoutPolicy)) throw new Error(`--cutouts must be none, all or matched, not ${cutoutPolicy}`);
const matchedPerBatch = Number(args.matched);
const batches = Number(args.batches);
const objectCount = Number(args.objects);
const batchSize = Number(args['batch-size']);

const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'];
const BASE_ID = 170_000_000_000_000_000n; // above 2^53, as Rubin ids are
const rng = createRng(20251121);

// Objects are kept as a few numbers, their points recomputed from (object, index) when an
// alert is made: the bench then holds a batch, not a sky, as the broker does.
interface ObjectState {
  index: number;
  ra: number;
  dec: number;
  start: number;
  /** Points so far (detections and forced); an alert carries the last 50 at most. */
  points: number;
}

const MAX_HISTORY = 50;

/** Point k of object i: every third one is forced photometry; ids unique, above 2^53. */
function pointOf(object: ObjectState, k: number): Point {
  const seed = Math.imul(object.index + 1, 2654435761) ^ Math.imul(k + 1, 40503);
  const flux = 500 + ((seed >>> 0) % 49_500);
  return {
    sourceId: BASE_ID * 2n + BigInt(object.index) * 100_000n + BigInt(k),
    mjd: object.start + k * 0.7 + ((seed >>> 8) % 1000) / 5000,
    band: BANDS[(seed >>> 3) % BANDS.length] as string,
    flux,
    fluxErr: flux * 0.05,
    mag: 31.4 - 2.5 * Math.log10(flux),
    magErr: 0.05,
    reliability: ((seed >>> 4) % 1000) / 1000,
    scienceFlux: flux * 3,
    scienceFluxErr: flux * 0.05,
    ra: object.ra,
    dec: object.dec,
  };
}

/** An object with 20-50 points of history already, as after months of a survey. */
function newObject(index: number): ObjectState {
  return { index, ra: rng.range(0, 360), dec: rng.range(-90, 30), start: 61000 + rng.range(0, 30), points: 20 + rng.int(31) };
}

/** The object's next alert: one new detection, sometimes a forced point too; at most 50 points of history. */
function nextAlert(object: ObjectState): Alert {
  object.points += rng.chance(0.5) ? 2 : 1;
  // The newest point triggers the alert, so it must be a detection.
  if (object.points % 3 === 0) object.points++;
  const detections: Point[] = [];
  const forced: Point[] = [];
  for (let k = Math.max(0, object.points - MAX_HISTORY); k < object.points; k++) ((k + 1) % 3 === 0 ? forced : detections).push(pointOf(object, k));
  const trigger = detections[detections.length - 1] as Point;
  return {
    survey: 'lsst',
    schema: 'lsst.v10_0.alert',
    schemaVersion: '10.0',
    alertId: null,
    objectId: BASE_ID + BigInt(object.index),
    objectKind: 'object',
    sourceId: trigger.sourceId as bigint,
    ra: object.ra,
    dec: object.dec,
    mjd: trigger.mjd,
    timeScale: 'TAI',
    band: trigger.band,
    flux: trigger.flux,
    fluxErr: trigger.fluxErr,
    mag: trigger.mag,
    magErr: trigger.magErr,
    reliability: trigger.reliability,
    snr: 20,
    lightcurve: { detections, forced, upperLimits: [] },
    cutouts: {},
    record: {},
  };
}

function stats(samples: number[]): string {
  const sorted = samples.slice().sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return `mean ${mean.toFixed(0)} ms, median ${median.toFixed(0)} ms, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(0)} ms`;
}

async function readReal(file: string): Promise<Alert[]> {
  return (await readAlertFile(path.resolve(repoRoot, '../shared/data', file))).map(({ record, schema }) => toAlert(record, schema.name));
}

// Real Rubin cutouts, handed out in turn to the synthetic alerts (each keeps its own bytes).
const rubinCutouts = cutoutPolicy === 'none' ? [] : (await readReal('fink-client/datatest/lsst/part-2-918301.avro')).map((a) => a.cutouts);
let nextCutouts = 0;
function withCutouts(alert: Alert): Alert {
  if (rubinCutouts.length === 0) return alert;
  alert.cutouts = rubinCutouts[nextCutouts++ % rubinCutouts.length] as Alert['cutouts'];
  return alert;
}

/** The synthetic batches, then replays, the real Fink alerts, lightcurve reads and a filter, on one store. */
async function syntheticRun(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-store-bench-'));
  const file = args.memory ? ':memory:' : path.join(dir, 'store.duckdb');
  let store: Store | undefined;
  try {
    store = await openStore(args.checkpoint === undefined ? { path: file } : { path: file, checkpointThreshold: args.checkpoint });
    console.log(`store: ${file}; ${os.cpus().length} cores; batches of ${batchSize} alerts over ${objectCount} objects`);
    const objects = Array.from({ length: objectCount }, (_, i) => newObject(i));
    const times: number[] = [];
    const cutoutTimes: number[] = [];
    for (let b = 0; b < batches; b++) {
      const alerts = Array.from({ length: batchSize }, () => withCutouts(nextAlert(objects[rng.int(objectCount)] as ObjectState)));
      const rows = featuresForBatch(alerts);
      const historyPoints = alerts.reduce((n, a) => n + a.lightcurve.detections.length + a.lightcurve.forced.length, 0);
      const result = await store.writeBatch({ alerts, objects: rows, keepCutouts: cutoutPolicy === 'all' });
      let elapsed = result.elapsedMs;
      let cutoutsWritten = result.cutouts;
      let cutoutsNote = '';
      if (cutoutPolicy === 'matched') {
        // As the pipeline does after the filters: the matched alerts' cutouts, in a write of their own.
        const started = performance.now();
        cutoutsWritten = await store.writeCutouts(alerts.slice(0, matchedPerBatch));
        const cutoutsMs = performance.now() - started;
        cutoutTimes.push(cutoutsMs);
        elapsed += cutoutsMs;
        cutoutsNote = ` = ${result.elapsedMs.toFixed(0)} batch + ${cutoutsMs.toFixed(0)} cutouts`;
      }
      times.push(elapsed);
      const counts = await store.counts();
      console.log(
        `batch ${String(b + 1).padStart(3)}: ${elapsed.toFixed(0).padStart(5)} ms${cutoutsNote}  (${historyPoints} points in the alerts, ${result.points} new; ` +
          `store: ${counts.objects} objects, ${counts.points} points, ${counts.alerts} alerts${cutoutPolicy === 'none' ? '' : `; cutouts of ${cutoutsWritten} objects written`})`,
      );
    }
    const half = Math.floor(times.length / 2);
    const settings = { batches, batchSize, objects: objectCount, store: args.memory ? 'memory' : 'file', cutouts: cutoutPolicy };
    const later = times.slice(half);
    results.add('store write, first batch (every object new)', times[0] ?? null, 'ms/batch', settings);
    results.add(`store write, batches ${half + 1}-${times.length} (steady state), mean`, later.reduce((a, b) => a + b, 0) / Math.max(1, later.length), 'ms/batch', settings);
    results.add(`store write, batches ${half + 1}-${times.length} (steady state), max`, later.length === 0 ? null : Math.max(...later), 'ms/batch', settings);
    if (cutoutTimes.length > 0) {
      results.add(`cutouts of ${matchedPerBatch} matched alerts written after the batch, mean`, cutoutTimes.reduce((a, b) => a + b, 0) / cutoutTimes.length, 'ms/batch', settings);
      console.log(`cutouts of ${matchedPerBatch} matched alerts per batch: ${stats(cutoutTimes)}`);
    }
    console.log(`synthetic, ${batchSize} alerts per batch: all ${stats(times)}; first batch (every object new) ${times[0]?.toFixed(0)} ms; batches ${half + 1}-${times.length} ${stats(times.slice(half))}`);

    const replay = Array.from({ length: batchSize }, () => nextAlert(objects[rng.int(objectCount)] as ObjectState));
    const replayRows = featuresForBatch(replay);
    await store.writeBatch({ alerts: replay, objects: replayRows });
    const again = await store.writeBatch({ alerts: replay, objects: replayRows });
    console.log(`replay of a stored batch (nothing new): ${again.elapsedMs.toFixed(0)} ms, ${again.points} points and ${again.alerts} alerts added`);

    const rubin = await readReal('fink-client/datatest/lsst/part-2-918301.avro');
    const ztf = await readReal('fink-client/datatest/ztf/part-3-305711.avro');
    for (const [name, real] of [['Rubin v10 (Fink)', rubin], ['ZTF 4.02 (Fink)', ztf]] as const) {
      const points = real.reduce((n, a) => n + a.lightcurve.detections.length + a.lightcurve.forced.length + a.lightcurve.upperLimits.length, 0);
      const first = await store.writeBatch({ alerts: real, objects: featuresForBatch(real) });
      const second = await store.writeBatch({ alerts: real, objects: featuresForBatch(real) });
      console.log(`real ${name}: ${real.length} alerts with ${points} points: ${first.elapsedMs.toFixed(0)} ms (${first.points} points, ${first.upperLimits} limits added), replayed ${second.elapsedMs.toFixed(0)} ms`);
    }

    const sample = objects.slice(0, 200);
    const started = performance.now();
    for (const o of sample) await store.lightcurve({ survey: 'lsst', objectKind: 'object', objectId: BASE_ID + BigInt(o.index) });
    console.log(`lightcurve read: ${((performance.now() - started) / sample.length).toFixed(1)} ms per object`);
    const filter = await parseFilter({ select: 'objectId, diaObjectId, flux2mag(alertFlux) AS mag', where: 'nSources > 20 AND alertMag < 21' }, catalog());
    if (isFilterErrors(filter)) throw new Error(JSON.stringify(filter));
    const query = await store.queryObjects(`${filter.sql} ORDER BY "objects"."alertMjd" DESC`, { rowLimit: 10 });
    console.log(`filter over all stored objects, newest 10: ${query.elapsedMs.toFixed(1)} ms`);
  } finally {
    const closing = performance.now();
    await store?.close();
    console.log(`close (final checkpoint): ${(performance.now() - closing).toFixed(0)} ms`);
    if (file !== ':memory:') console.log(`file size: ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A real-size night (bench/lib/real-night.ts), visit by visit, into a new store: what bench/pipeline.ts's broker stores. */
async function nightRun(alertCount: number): Promise<void> {
  const perVisit = Math.min(batchSize, alertCount);
  const visits = Math.ceil(alertCount / perVisit);
  const templates = await loadRubinTemplates(path.resolve(repoRoot, '../shared/data'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-store-bench-night-'));
  const file = args.memory ? ':memory:' : path.join(dir, 'store.duckdb');
  let store: Store | undefined;
  try {
    store = await openStore(args.checkpoint === undefined ? { path: file } : { path: file, checkpointThreshold: args.checkpoint });
    console.log(`real-size night: ${visits} visits of ${perVisit} alerts (${templates.length} real Rubin alerts replicated, ${Math.ceil((visits * perVisit) / 2)} objects)`);
    const times: number[] = [];
    let batch: Alert[] = [];
    const write = async (): Promise<void> => {
      const historyPoints = batch.reduce((n, a) => n + a.lightcurve.detections.length + a.lightcurve.forced.length, 0);
      const objects = featuresForBatch(batch);
      // The alerts' making leaves garbage behind; collected here (with node --expose-gc) so it is not timed as the store's.
      (globalThis as { gc?: () => void }).gc?.();
      const result = await (store as Store).writeBatch({ alerts: batch, objects });
      times.push(result.elapsedMs);
      console.log(`visit ${String(times.length).padStart(3)}: ${result.elapsedMs.toFixed(0).padStart(5)} ms  (${historyPoints} points in the alerts, ${result.points} new; ${result.objectsWritten} objects rows written)`);
      batch = [];
    };
    for (const a of realNight(templates, { perVisit, visits })) {
      batch.push(toAlert(a.record, a.schema.name));
      if (batch.length === perVisit) await write();
    }
    if (batch.length > 0) await write();
    const settings = { alerts: visits * perVisit, batchSize: perVisit, objects: Math.ceil((visits * perVisit) / 2), templates: templates.length, store: args.memory ? 'memory' : 'file' };
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    results.add('store write, real-size Rubin night, first visit (every object new)', times[0] ?? null, 'ms/batch', settings);
    results.add('store write, real-size Rubin night, mean per visit', mean, 'ms/batch', settings);
    results.add('store write, real-size Rubin night, max per visit', Math.max(...times), 'ms/batch', settings);
    console.log(`real-size night: ${stats(times)} per visit of ${perVisit} alerts`);
  } finally {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const results = new Results('store');
if (!args['night-only']) await syntheticRun();
const nightAlerts = Number(args.night);
if (nightAlerts > 0) await nightRun(nightAlerts);
results.print();
