// Latency at Rubin cadence, on two kinds of data (bench/lib/fill.ts): real-size Rubin alerts
// (the real alerts of ../shared/data replicated, cutouts kept, ~134 kB) and the synthetic
// generator's Rubin alerts with cutouts (~27 kB). For each, the simulator sends visits of
// 10,000 alerts, each visit one burst, every --interval seconds (Rubin: 39 s; shortened here,
// the burst kept) into a raw topic while a broker process (bench/broker-child.ts, the broker's
// batch bounds: --batch-size messages, --batch-bytes, closed --batch-ms after their first
// message) runs --filters filters of realistic shapes. Raw and filter topics use
// LogAppendTime, so both ends of every measurement are the Kafka broker's clock. Afterwards
// both are read back:
//   per filter record: its append to the filter topic − its alert's append to the raw topic;
//   per visit: its last filter record − its last alert's append, and the commit of the batch
//   that completed the visit (every alert stored and filtered) − its last alert's append.
// The broker's memory (RSS) is sampled throughout. Visits are encoded before the clock starts
// (about 1.3 GB per visit of real-size alerts in this process), so encoding does not compete
// with the broker. A warm-up visit (1,000 alerts, not measured) goes first, as a running
// broker would have seen alerts before: its first batch pays for compiling code and opening
// everything.
// Run: node bench/latency.ts [--quick] [--data real,synthetic] [--visits 4] [--per-visit 10000] [--interval 15]
//   [--filters 100] [--batch-size 10000] [--batch-bytes N] [--batch-ms 1000] [--partitions 4] [--profile DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_RETENTION_MS } from '../src/delivery/filter-output.ts';
import { DEFAULT_MAX_RECORD_BYTES } from '../src/delivery/stream-encoder.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { combinedSource, registryClient } from '../src/formats/schema-source.ts';
import { createAdmin, createProducer, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { readWholeTopic } from '../src/kafka/read-topic.ts';
import { RECORD_BATCH_FRAMING_BYTES } from '../src/kafka/topics.ts';
import { DEFAULT_BATCH_BYTES } from '../src/pipeline/ingest.ts';
import { replay } from '../src/simulate/replay.ts';
import { parse } from '../src/util/json.ts';
import { LOG_APPEND_TIME, runId, startBenchRegistry, Topics } from './lib/bench-kafka.ts';
import { BrokerProcess } from './lib/broker-process.ts';
import { isQuick, Results } from './lib/emit.ts';
import { BENCH_DATA, DATA_LABEL, nightPreparer, nightRecords, prepareNight, type BenchData } from './lib/fill.ts';
import { benchFilters, storeWithFilters } from './lib/filters.ts';
import { loadRubinTemplates } from './lib/real-night.ts';
import { maximum, percentile } from './lib/stats.ts';

const quick = isQuick();
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    data: { type: 'string', default: BENCH_DATA.join(',') },
    visits: { type: 'string', default: quick ? '2' : '4' },
    'per-visit': { type: 'string', default: quick ? '1000' : '10000' },
    interval: { type: 'string', default: quick ? '4' : '15' },
    filters: { type: 'string', default: quick ? '10' : '100' },
    'batch-size': { type: 'string', default: '10000' },
    'batch-ms': { type: 'string', default: '1000' },
    'batch-bytes': { type: 'string', default: String(DEFAULT_BATCH_BYTES) },
    partitions: { type: 'string', default: '4' },
    profile: { type: 'string' },
  },
});
const datasets = args.data.split(',').map((d) => d.trim()) as BenchData[];
for (const d of datasets) if (!BENCH_DATA.includes(d)) throw new Error(`--data takes ${BENCH_DATA.join(', ')}, not ${d}`);
const visits = Number(args.visits);
const perVisit = Number(args['per-visit']);
const interval = Number(args.interval);
const filterCount = Number(args.filters);
const batchSize = Number(args['batch-size']);
const batchMs = Number(args['batch-ms']);
const batchBytes = Number(args['batch-bytes']);
const partitions = Number(args.partitions);
const WARM_UP = 1000;

const kafka = defaultSettings();
const run = runId();
const results = new Results('latency');
const admin = createAdmin(kafka);
const topics = new Topics(admin);
const registry = await startBenchRegistry();
const work = mkdtempSync(path.join(tmpdir(), 'nightjar-bench-latency-'));
const templates = await loadRubinTemplates(path.resolve(repoRoot, '../shared/data'));

/** The alertSourceId of a filter record: JSON (Lasair) or Avro with the schema in the key (Fink). */
async function sourceIdOfRecord(key: Buffer | undefined, value: Buffer, topic: string): Promise<bigint> {
  let record: Record<string, unknown>;
  if (key !== undefined && key.length > 0) record = (await decodeMessage(value, key, { source: topic }))[0]?.record ?? {};
  else record = parse(value.toString('utf8')) as Record<string, unknown>;
  const id = record.alertSourceId;
  if (typeof id === 'bigint') return id;
  if (typeof id === 'number') return BigInt(id);
  throw new Error(`a record of ${topic} has no alertSourceId`);
}

/** The diaSourceId of a raw Rubin message. */
async function sourceIdOfRaw(value: Buffer, key: Buffer | undefined, schemas: ReturnType<typeof combinedSource>, where: string): Promise<bigint> {
  const source = (await decodeMessage(value, key, { schemas }))[0]?.record.diaSource as { diaSourceId: bigint } | undefined;
  if (source === undefined) throw new Error(`raw message ${where} has no diaSource`);
  return source.diaSourceId;
}

async function measure(data: BenchData): Promise<void> {
  const label = DATA_LABEL[data];
  const rawTopic = `nightjar-bench-cadence-${data}-${run}`;
  await topics.create(rawTopic, partitions, LOG_APPEND_TIME);
  const filters = benchFilters(filterCount, `nightjar-bench-lat-${data}-${run}`);
  const filterTopicConfig = { ...LOG_APPEND_TIME, 'retention.ms': String(DEFAULT_RETENTION_MS), 'max.message.bytes': String(DEFAULT_MAX_RECORD_BYTES + RECORD_BATCH_FRAMING_BYTES) };
  for (const f of filters) if (f.topic !== null) await topics.create(f.topic, 1, filterTopicConfig);
  const store = path.join(work, `store-${data}.duckdb`);
  await storeWithFilters(store, filters);

  // Visit 0 is the warm-up: only its first WARM_UP alerts are sent. Measured visits are 1..visits.
  let started = performance.now();
  const warmUp = Math.min(WARM_UP, perVisit);
  const records = nightRecords(data, templates, { perVisit, visits: visits + 1, visitSeconds: interval });
  const night = await prepareNight(nightPreparer(rawTopic, partitions, registry.url), records, (i) => i >= warmUp && i < perVisit);
  const warm = night.splice(0, warmUp);
  // The visit of each alert, by its source id: measured visits 0..visits-1 (the warm-up is -1).
  const visitOf = new Map<bigint, number>();
  for (const a of warm) visitOf.set(a.sourceId, -1);
  night.forEach((a, i) => visitOf.set(a.sourceId, Math.floor(i / perVisit)));
  const bytes = night.reduce((n, a) => n + a.message.value.length, 0);
  const meanKb = bytes / night.length / 1000;
  console.log(`${visits} visits of ${perVisit} ${label} alerts encoded (mean ${meanKb.toFixed(1)} kB, ${(bytes / 1e9).toFixed(2)} GB) in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const deadLetterTopic = `nightjar-bench-dlq-${run}`;
  topics.track(deadLetterTopic);
  const broker = new BrokerProcess(
    { topics: [rawTopic], groupId: `nightjar-bench-${data}-${run}`, store, registryUrl: registry.url, deadLetterTopic, topicPrefix: 'nightjar-bench', batchSize, batchMs, batchBytes },
    args.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(args.profile), '--cpu-prof-name', `broker-latency-${data}-${filterCount}-filters.cpuprofile`],
  );
  let peakRss: number;
  let readyAt = 0;
  let memoryMb: Record<string, number> = {};
  try {
    const ready = await broker.ready;
    readyAt = ready.at;
    if (ready.filters !== filterCount) throw new Error(`the broker runs ${ready.filters} of the ${filterCount} filters`);
    const producer = createProducer(kafka, { role: 'bench-simulator', timeout: 60_000 });
    try {
      await replay(
        { description: 'warm-up', available: warm.length, alerts: () => warm, exposures: () => [] },
        { producer, grouping: { kind: 'fixed', perObservation: warmUp }, observations: -1, intervalSeconds: 0, fast: true, out: () => {} },
      );
      await broker.waitForMessages(warmUp, 300_000);
      console.log(`warm-up visit of ${warmUp} alerts processed`);
      started = performance.now();
      await replay(
        { description: `${label} alerts`, available: night.length, alerts: () => night, exposures: () => [] },
        { producer, grouping: { kind: 'fixed', perObservation: perVisit }, observations: -1, intervalSeconds: interval, fast: false, out: (line) => console.log(`  simulator: ${line}`) },
      );
    } finally {
      await producer.close();
    }
    night.length = 0; // the encoded night is no longer needed
    await broker.waitForMessages(warmUp + visits * perVisit, 300_000);
    console.log(`simulator and broker done in ${((performance.now() - started) / 1000).toFixed(1)} s; broker batches: ${broker.batches.map((b) => b.messages).join(', ')}`);
  } finally {
    await broker.stop();
    peakRss = broker.peakRssBytes;
    const m = broker.peakMemory;
    memoryMb = { heapUsed: Math.round(m.heapUsed / 1e6), external: Math.round(m.external / 1e6), arrayBuffers: Math.round(m.arrayBuffers / 1e6), rssAfterBatches: Math.round(m.rss / 1e6) };
  }

  // Raw appends, by alert: decode each message for its diaSourceId.
  const schemas = combinedSource([registryClient(registry.url), builtinSchemas()]);
  const rawAppend = new Map<bigint, number>();
  const pending: Promise<void>[] = [];
  started = performance.now();
  await readWholeTopic(kafka, admin, rawTopic, (m) => {
    const at = Number(m.timestamp);
    pending.push(sourceIdOfRaw(m.value, m.key, schemas, `${m.partition}/${m.offset}`).then((id) => void rawAppend.set(id, at)));
  });
  await Promise.all(pending);
  console.log(`raw topic read back: ${rawAppend.size} alerts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await topics.delete(rawTopic);

  const visitOfId = (id: bigint): number => {
    const v = visitOf.get(id);
    if (v === undefined) throw new Error(`alert ${id} is not one the simulator sent`);
    return v;
  };
  const lastRaw = new Array<number>(visits).fill(0);
  for (const [id, at] of rawAppend) {
    const v = visitOfId(id);
    if (v >= 0) lastRaw[v] = Math.max(lastRaw[v] ?? 0, at);
  }
  const latencies: number[] = [];
  const lastRecord = new Array<number>(visits).fill(Number.NaN);
  let recordCount = 0;
  for (const f of filters) {
    if (f.topic === null) continue;
    const found: { key: Buffer | undefined; value: Buffer; at: number }[] = [];
    await readWholeTopic(kafka, admin, f.topic, (m) => found.push({ key: m.key, value: m.value, at: Number(m.timestamp) }));
    for (const r of found) {
      const id = await sourceIdOfRecord(r.key, r.value, f.topic);
      const raw = rawAppend.get(id);
      if (raw === undefined) throw new Error(`a record of ${f.topic} names alert ${id}, which is not in the raw topic`);
      const v = visitOfId(id);
      if (v < 0) continue; // the warm-up
      latencies.push(r.at - raw);
      lastRecord[v] = Number.isNaN(lastRecord[v] as number) ? r.at : Math.max(lastRecord[v] as number, r.at);
      recordCount++;
    }
  }
  // The commit that completed visit v: the first batch whose running total covers its alerts.
  const visitDone: number[] = [];
  let total = -warmUp;
  for (const b of broker.batches) {
    total += b.messages;
    while (visitDone.length < visits && total >= (visitDone.length + 1) * perVisit) visitDone.push(b.at);
  }
  const perVisitRecord = lastRecord.map((t, v) => (t - (lastRaw[v] as number)) / 1000);
  const perVisitDone = visitDone.map((t, v) => (t - (lastRaw[v] as number)) / 1000);
  const seconds = latencies.map((ms) => ms / 1000);
  // How long the broker took per visit when it had nothing else to do: its busiest stretch of batches.
  const batchSeconds = broker.batches.slice(1).map((b) => b.elapsedMs / 1000);
  // Where that time went, per visit (the pipeline's stages).
  const stageSeconds: Record<string, number> = {};
  for (const b of broker.batches.slice(1)) for (const [k, v] of Object.entries(b.stages)) stageSeconds[k] = (stageSeconds[k] ?? 0) + v / 1000 / visits;
  // The kernel's high-water mark covers start-up and shutdown too; the samples while batches ran do not.
  const runningRss = broker.peakRssSampled(readyAt, broker.batches.at(-1)?.at ?? readyAt);
  const stoppingRss = broker.peakRssSampled(broker.batches.at(-1)?.at ?? readyAt, Number.POSITIVE_INFINITY);
  console.log(`${recordCount} filter records: latency p50 ${percentile(seconds, 50).toFixed(2)} s, p99 ${percentile(seconds, 99).toFixed(2)} s, max ${maximum(seconds).toFixed(2)} s`);
  console.log(`broker seconds per visit by stage: ${Object.entries(stageSeconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  console.log(`per visit, last alert → last filter record (s): ${perVisitRecord.map((s) => s.toFixed(2)).join(', ')}`);
  console.log(`per visit, last alert → batch committed (s): ${perVisitDone.map((s) => s.toFixed(2)).join(', ')}; broker busy ${batchSeconds.reduce((a, b) => a + b, 0).toFixed(1)} s over ${batchSeconds.length} batches after the warm-up; peak RSS ${(peakRss / 1e6).toFixed(0)} MB (sampled: ${(runningRss / 1e6).toFixed(0)} MB while batches ran, ${(stoppingRss / 1e6).toFixed(0)} MB while stopping)`);

  const settings = { data: label, visits, perVisit, intervalSeconds: interval, filters: filterCount, batchSize, batchMB: Number((batchBytes / 1e6).toFixed(0)), batchMs, partitions, meanKb: Number(meanKb.toFixed(1)) };
  results.add(`latency raw append → filter append, p50, ${label}`, percentile(seconds, 50), 's', settings, { details: { records: recordCount } });
  results.add(`latency raw append → filter append, p99, ${label}`, percentile(seconds, 99), 's', settings, { target: { max: 2 }, details: { records: recordCount } });
  results.add(`latency raw append → filter append, max, ${label}`, maximum(seconds), 's', settings, { details: { records: recordCount } });
  results.add(`visit: last alert → last filter record, worst visit, ${label}`, maximum(perVisitRecord.filter((s) => !Number.isNaN(s))), 's', settings, { target: { max: 4 }, details: { perVisit: perVisitRecord } });
  results.add(`visit: last alert → batch committed, worst visit, ${label}`, maximum(perVisitDone), 's', settings, { target: { max: 4 }, details: { perVisit: perVisitDone } });
  results.add(`broker processing time per visit, ${label}`, batchSeconds.reduce((a, b) => a + b, 0) / visits, 's', settings, { details: { batches: batchSeconds.length, stageSeconds } });
  results.add(`broker peak RSS at cadence, ${filterCount} filters, ${label}`, peakRss / 1e6, 'MB', settings, { target: { max: 1500 }, details: { memoryMb, whileBatchesRanMb: Math.round(runningRss / 1e6), whileStoppingMb: Math.round(stoppingRss / 1e6) } });
}

try {
  for (const data of datasets) await measure(data);
} finally {
  await topics.deleteAll();
  await admin.close();
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
results.print();
