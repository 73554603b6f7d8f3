// The simulator's as-fast-as-possible rate on the local Kafka: N real-size Rubin alerts (the
// real alerts of ../shared/data replicated with fresh ids and times, ~130 kB with cutouts), and
// N synthetic Rubin alerts with cutouts. Each is timed in two phases, preparing (decode is done
// once up front; toAlert + Avro encoding + Confluent framing per alert) and sending (the replay
// loop: 10,000 alerts per observation, no waiting, acks=all, idempotent producer), with the CPU
// used by this process and by the Kafka broker during the send, to show which side is the limit.
// Run: node bench/simulate.ts [N] [--quick]   (default 20000, --quick 2000; needs the local Kafka: ./nightjar kafka start)
import path from 'node:path';
import { cpus, loadavg } from 'node:os';
import type { ParsedSchema } from '../src/formats/avro-schema.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { combinedSource, schemaDirectory } from '../src/formats/schema-source.ts';
import { createAdmin, createProducer, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { registryPreload } from '../src/registry/registry-preload.ts';
import { startRegistryServer } from '../src/registry/registry-server.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';
import { listAlertInputs } from '../src/simulate/alert-sources.ts';
import type { BatchSenderOptions } from '../src/simulate/batch-sender.ts';
import { RUBIN_CADENCE } from '../src/simulate/cadence.ts';
import { createAlertPreparer, type PreparedAlert } from '../src/simulate/prepared-alert.ts';
import { replay } from '../src/simulate/replay.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { isQuick, Results } from './lib/emit.ts';
import { localServerPids, machineCpuTicks, processCpuSeconds } from './lib/process-stats.ts';
import { replicate as replicateNight, SOURCE_ID_BASE, OBJECT_ID_BASE } from './lib/real-night.ts';

const quick = isQuick();
const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? (quick ? 2_000 : 20_000));
const results = new Results('simulate');
// The issue's target for the simulator (as fast as possible).
const SIMULATOR_TARGET = 20_000;
const PARTITIONS = 4;
const data = path.resolve(repoRoot, '../shared/data');
const REAL_RUBIN = ['fink-broker/datasim', 'boom/alerts/lsst', 'fink-client/datatest/lsst'].map((p) => path.join(data, p));
const settings = defaultSettings();

type Rec = Record<string, unknown>;

/** A copy of a real alert with fresh ids, position and time, in visits of 10,000 (bench/lib/real-night.ts). */
function replicate(template: Rec, i: number): Rec {
  const visitIndex = Math.floor(i / RUBIN_CADENCE.perObservation);
  const objectIndex = i % 5000;
  return replicateNight(template, {
    sourceId: SOURCE_ID_BASE + BigInt(i),
    objectId: OBJECT_ID_BASE + BigInt(objectIndex),
    objectIndex,
    visitNumber: 1_000_000n + BigInt(visitIndex),
    mjd: 61000 + (visitIndex * RUBIN_CADENCE.intervalSeconds) / 86400,
    ra: (objectIndex * 0.072) % 360,
    dec: -60 + ((objectIndex * 0.013) % 80),
    fluxFactor: 1,
  });
}

const mb = (bytes: number): number => bytes / 1e6;
const rate = (n: number, seconds: number): string => `${Math.round(n / seconds).toLocaleString('en-US')} alerts/s`;

interface SendFigures {
  alertsPerSecond: number;
  mbPerSecond: number;
  batches: string;
  /** What the cores could send if they did nothing else: cores / (this process's and Kafka's CPU per alert); undefined without Kafka's CPU. */
  cpuBound: number | undefined;
}

async function sendPhase(label: string, alerts: PreparedAlert[], sender?: BatchSenderOptions): Promise<SendFigures> {
  const topic = `nightjar-bench-simulate-${Date.now().toString(36)}`;
  const admin = createAdmin(settings);
  await createTopic(admin, topic, PARTITIONS);
  const producer = createProducer(settings, { role: 'bench', timeout: 60_000 });
  const pid = localServerPids().kafka;
  try {
    const brokerBefore = pid === undefined ? undefined : processCpuSeconds(pid);
    const machineBefore = machineCpuTicks();
    const cpuBefore = process.cpuUsage();
    const result = await replay(
      { description: label, available: alerts.length, alerts: () => alerts.map((a) => ({ ...a, message: { ...a.message, topic } })), exposures: () => alerts.map((a) => a.exposure) },
      { producer, grouping: { kind: 'fixed', perObservation: RUBIN_CADENCE.perObservation }, observations: -1, intervalSeconds: 0, fast: true, out: () => {}, ...(sender === undefined ? {} : { sender }) },
    );
    const cpu = process.cpuUsage(cpuBefore);
    const brokerAfter = pid === undefined ? undefined : processCpuSeconds(pid);
    const machineAfter = machineCpuTicks();
    const machineBusy = machineBefore !== undefined && machineAfter !== undefined ? (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total) : undefined;
    const nodeCores = (cpu.user + cpu.system) / 1e6 / result.seconds;
    const brokerCores = brokerBefore !== undefined && brokerAfter !== undefined ? (brokerAfter - brokerBefore) / result.seconds : undefined;
    const batches = sender?.maxPartitionBytes === undefined ? '1 MB batches' : `${mb(sender.maxPartitionBytes).toFixed(0)} MB batches`;
    const cpuPerAlert = brokerCores === undefined ? undefined : ((nodeCores + brokerCores) * result.seconds) / result.sent;
    const cpuBound = cpuPerAlert === undefined ? undefined : cpus().length / cpuPerAlert;
    const measured = { alertsPerSecond: result.sent / result.seconds, mbPerSecond: mb(result.bytes) / result.seconds, batches, cpuBound };
    console.log(`  send (${batches}): ${rate(result.sent, result.seconds)}, ${(mb(result.bytes) / result.seconds).toFixed(0)} MB/s (${result.sent} in ${result.seconds.toFixed(2)} s); CPU: nightjar ${nodeCores.toFixed(2)} cores, Kafka broker ${brokerCores?.toFixed(2) ?? '?'} cores; all ${cpus().length} cores ${machineBusy === undefined ? '?' : `${Math.round(machineBusy * 100)}%`} busy` +
        (cpuPerAlert === undefined || cpuBound === undefined ? '' : `; ${(cpuPerAlert * 1000).toFixed(3)} ms of CPU per alert: at most ${rate(cpuBound, 1)} on ${cpus().length} cores`));
    return measured;
  } finally {
    await producer.close();
    await deleteTopic(admin, topic);
    await admin.close();
  }
}

/** The send rate against the target, its MB/s, and the CPU bound (noted on the rate when it puts the target out of reach). */
function addSendFigures(what: string, sent: SendFigures, settings: Record<string, unknown>): void {
  const outOfReach = sent.cpuBound !== undefined && sent.cpuBound < SIMULATOR_TARGET;
  const note = outOfReach ? { note: `out of reach here: sending alone (client and Kafka CPU) bounds this machine at ${Math.round(sent.cpuBound ?? 0)} alerts/s` } : {};
  results.add(`simulator send, ${what}`, sent.alertsPerSecond, 'alerts/s', settings, { target: { min: SIMULATOR_TARGET }, ...note });
  results.add(`simulator send, ${what}`, sent.mbPerSecond, 'MB/s', settings);
  if (sent.cpuBound !== undefined) results.add(`CPU bound of sending (client + Kafka CPU per alert, ${cpus().length} cores), ${what}`, sent.cpuBound, 'alerts/s', settings);
}

async function main(): Promise<void> {
  // Other work on the machine (tests, a second benchmark) lowers every figure: show the load.
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const registry = await startRegistryServer({ store: openRegistryStore({ preload: registryPreload().schemas }) });
  try {
    // Real-size Rubin alerts: the real ones, decoded once, replicated with fresh ids.
    const schemas = combinedSource([schemaDirectory(path.join(data, 'lsst-alert_packet/schema')), builtinSchemas()]);
    const templates: { record: Rec; schema: ParsedSchema }[] = [];
    for (const input of await listAlertInputs(REAL_RUBIN)) for (const d of await readAlertFile(input.path, { schemas })) templates.push({ record: d.record, schema: d.schema });
    const preparer = createAlertPreparer({ topic: 'bench', encoding: 'confluent', partitions: PARTITIONS, registryUrl: registry.url });
    let started = performance.now();
    const real: PreparedAlert[] = [];
    for (let i = 0; i < N; i++) {
      const t = templates[i % templates.length]!;
      real.push(await preparer.prepare(replicate(t.record, i), t.schema));
    }
    let seconds = (performance.now() - started) / 1000;
    let bytes = real.reduce((n, a) => n + a.message.value.length, 0);
    console.log(`real-size Rubin alerts: ${N} copies of ${templates.length} real alerts (fresh ids), mean ${(bytes / N / 1000).toFixed(0)} kB, Confluent wire format`);
    console.log(`  prepare (toAlert + Avro encode + framing): ${rate(N, seconds)}, ${(mb(bytes) / seconds).toFixed(0)} MB/s`);
    const realSettings = { alerts: N, templates: templates.length, meanKb: Math.round(bytes / N / 1000), partitions: PARTITIONS, encoding: 'confluent' };
    results.add('simulator prepare, real-size Rubin (toAlert + Avro encode + framing)', N / seconds, 'alerts/s', realSettings);
    for (const sender of [undefined, { maxPartitionBytes: 8 * 1024 * 1024, maxRequestBytes: 32 * 1024 * 1024 }]) {
      const sent = await sendPhase('real', real, sender);
      addSendFigures(`real-size Rubin, ${sent.batches}`, sent, realSettings);
    }
    real.length = 0;

    // Synthetic Rubin alerts, generated and encoded: with cutouts (real layout, smaller
    // images than LSSTCam's), and without (the size of an alert's catalogue data alone).
    const schema = lsstAlertParsedSchema();
    for (const cutouts of [true, false]) {
      const synthetic: PreparedAlert[] = [];
      started = performance.now();
      for (const record of generateAlerts({ seed: 1, objects: 20_000, count: N, cutouts })) synthetic.push(await preparer.prepare(record, schema));
      seconds = (performance.now() - started) / 1000;
      bytes = synthetic.reduce((n, a) => n + a.message.value.length, 0);
      console.log(`synthetic Rubin alerts ${cutouts ? 'with' : 'without'} cutouts: ${N}, mean ${(bytes / N / 1000).toFixed(1)} kB`);
      console.log(`  generate + prepare: ${rate(N, seconds)}, ${(mb(bytes) / seconds).toFixed(0)} MB/s`);
      const settings = { alerts: N, cutouts, meanKb: Number((bytes / N / 1000).toFixed(1)), partitions: PARTITIONS, encoding: 'confluent' };
      results.add(`simulator generate + prepare, synthetic ${cutouts ? 'with' : 'without'} cutouts`, N / seconds, 'alerts/s', settings);
      const sent = await sendPhase('synthetic', synthetic);
      addSendFigures(`synthetic ${cutouts ? 'with' : 'without'} cutouts`, sent, settings);
    }
  } finally {
    await registry.close();
  }
}

await main();
results.print();
