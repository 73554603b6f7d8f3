// Cost of objectFeatures per alert on real Fink-distributed alerts (long Rubin histories and
// ZTF). Run: node bench/features.ts
import path from 'node:path';
import type { Alert } from '../src/formats/alert.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { objectFeatures } from '../src/features/compute.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { isQuick, Results } from './lib/emit.ts';

const data = path.resolve(repoRoot, '../shared/data');

async function readAlerts(file: string): Promise<Alert[]> {
  return (await readAlertFile(path.join(data, file))).map(({ record, schema }) => toAlert(record, schema.name));
}

/** Mean microseconds per objectFeatures call, after a warm-up round. */
function microsecondsPerAlert(alerts: readonly Alert[], minCalls: number): number {
  const rounds = Math.max(1, Math.ceil(minCalls / alerts.length));
  for (let r = 0; r < rounds; r++) for (const alert of alerts) objectFeatures(alert);
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const alert of alerts) objectFeatures(alert);
  return Number(process.hrtime.bigint() - started) / 1000 / (rounds * alerts.length);
}

const quick = isQuick();
const results = new Results('features');
const rubin = (await readAlerts('fink-client/datatest/lsst/part-2-918301.avro')).filter((a) => a.lightcurve.detections.length > 100);
const ztf = await readAlerts('fink-client/datatest/ztf/part-3-305711.avro');
const mean = (alerts: Alert[], count: (a: Alert) => number): string => (alerts.reduce((n, a) => n + count(a), 0) / alerts.length).toFixed(0);
const rubinCalls = quick ? 2000 : 20000;
const ztfCalls = quick ? 5000 : 50000;
const rubinUs = microsecondsPerAlert(rubin, rubinCalls);
const ztfUs = microsecondsPerAlert(ztf, ztfCalls);
console.log(`features, Rubin v10 (Fink, ${mean(rubin, (a) => a.lightcurve.detections.length)} detections + ${mean(rubin, (a) => a.lightcurve.forced.length)} forced): ${rubinUs.toFixed(1)} µs per alert`);
console.log(`features, ZTF 4.02 (Fink, ${mean(ztf, (a) => a.lightcurve.detections.length)} detections): ${ztfUs.toFixed(1)} µs per alert`);
results.add('object features, real Rubin v10 alerts (long histories)', rubinUs, 'µs/alert', { alerts: rubin.length, calls: rubinCalls, detections: Number(mean(rubin, (a) => a.lightcurve.detections.length)), forced: Number(mean(rubin, (a) => a.lightcurve.forced.length)) });
results.add('object features, real ZTF 4.02 alerts', ztfUs, 'µs/alert', { alerts: ztf.length, calls: ztfCalls, detections: Number(mean(ztf, (a) => a.lightcurve.detections.length)) });
results.print();
