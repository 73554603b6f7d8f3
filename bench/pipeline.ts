// End-to-end throughput of the broker against the decoding limit. A realistic night of real-size
// Rubin alerts (the real alerts of ../shared/data replicated with fresh ids, positions and
// times, cutouts kept; Confluent wire format with a schema registry) is put in a raw topic
// first. Then, for each filter count, a broker process (bench/broker-child.ts: a file store,
// batches of 10,000) with that many filters of realistic shapes and outputs consumes the whole
// topic as a new consumer group; the time from the broker being ready to the commit of its last
// batch (every alert stored and filtered, every filter record acknowledged by Kafka) gives the
// alerts per second. The decoding limit is measured on the same messages, in this process, on
// one core. The broker's memory (RSS) is sampled throughout.
// Run: node bench/pipeline.ts [--quick] [--alerts 30000] [--filters 0,10,100,1000] [--batch-size 10000] [--partitions 4]
// [--profile DIR] (a CPU profile of each broker run; summarise with node bench/profile-summary.ts FILE)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { combinedSource, registryClient } from '../src/formats/schema-source.ts';
import { createAdmin, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { startBenchRegistry, runId, Topics } from './lib/bench-kafka.ts';
import { BrokerProcess } from './lib/broker-process.ts';
import { measureDecodeLimit } from './lib/decode-limit.ts';
import { isQuick, Results } from './lib/emit.ts';
import { fillTopic } from './lib/fill.ts';
import { benchFilters, storeWithFilters } from './lib/filters.ts';
import { loadRubinTemplates } from './lib/real-night.ts';

const quick = isQuick();
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    alerts: { type: 'string', default: quick ? '3000' : '30000' },
    filters: { type: 'string', default: quick ? '0,10,100' : '0,10,100,1000' },
    'batch-size': { type: 'string', default: '10000' },
    'batch-ms': { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '4' },
    'decode-sample': { type: 'string', default: quick ? '300' : '2000' },
    /** Writes a CPU profile of each broker run (node --cpu-prof) into this directory. */
    profile: { type: 'string' },
  },
});
const alerts = Number(args.alerts);
const filterCounts = args.filters.split(',').map(Number);
const batchSize = Number(args['batch-size']);
const batchMs = Number(args['batch-ms']);
const partitions = Number(args.partitions);
const perVisit = Math.min(10_000, alerts);
if (!Number.isInteger(alerts / perVisit)) throw new Error(`--alerts must be a multiple of ${perVisit} (whole visits)`);

// Targets of issue 8, by filter count.
const THROUGHPUT_TARGET: Record<number, number> = { 100: 3000, 1000: 1500 };
const RSS_TARGET_MB = 1500;

const kafka = defaultSettings();
const run = runId();
const rawTopic = `nightjar-bench-raw-${run}`;
const results = new Results('pipeline');
const admin = createAdmin(kafka);
const topics = new Topics(admin);
const registry = await startBenchRegistry();
const work = mkdtempSync(path.join(tmpdir(), 'nightjar-bench-pipeline-'));
const mb = (bytes: number): number => bytes / 1e6;

try {
  const templates = await loadRubinTemplates(path.resolve(repoRoot, '../shared/data'));
  await topics.create(rawTopic, partitions);
  const fill = await fillTopic({ kafka, topic: rawTopic, partitions, registryUrl: registry.url, templates, plan: { perVisit, visits: alerts / perVisit }, keep: Number(args['decode-sample']) });
  const meanKb = fill.bytes / fill.sent / 1000;
  console.log(`raw topic ${rawTopic}: ${fill.sent} real-size Rubin alerts (${templates.length} real alerts replicated), mean ${meanKb.toFixed(0)} kB, ${mb(fill.bytes).toFixed(0)} MB, filled in ${fill.seconds.toFixed(1)} s`);
  const data = { alerts: fill.sent, meanKb: Math.round(meanKb), templates: templates.length, encoding: 'confluent' };

  const schemas = combinedSource([registryClient(registry.url), builtinSchemas()]);
  const limit = await measureDecodeLimit(fill.kept, schemas, quick ? 1 : 3);
  fill.kept.length = 0;
  console.log(`decoding limit (one core, Avro only): ${Math.round(limit.alertsPerSecond)} alerts/s, ${limit.mbPerSecond.toFixed(0)} MB/s; decode stage (decode + adapt + features): ${Math.round(limit.stageAlertsPerSecond)} alerts/s`);
  const sample = { messages: limit.messages, meanKb: Math.round(limit.meanBytes / 1000) };
  results.add('decoding limit (Avro decode, one core, no Kafka)', limit.alertsPerSecond, 'alerts/s', sample);
  results.add('decoding limit (Avro decode, one core, no Kafka)', limit.mbPerSecond, 'MB/s', sample);
  results.add('decode stage (decode + adapt + features, one core)', limit.stageAlertsPerSecond, 'alerts/s', sample);

  for (const count of filterCounts) {
    const filterTopicPrefix = `nightjar-bench-f${count}-${run}`;
    const filters = benchFilters(count, filterTopicPrefix);
    for (const f of filters) if (f.topic !== null) topics.track(f.topic);
    const store = path.join(work, `store-${count}.duckdb`);
    await storeWithFilters(store, filters);
    const deadLetterTopic = `nightjar-bench-dlq-${run}`;
    topics.track(deadLetterTopic);
    const settings = { filters: count, batchSize, batchMs, partitions, ...data };
    const broker = new BrokerProcess({ topics: [rawTopic], groupId: `nightjar-bench-${run}-${count}`, store, registryUrl: registry.url, deadLetterTopic, topicPrefix: 'nightjar-bench', batchSize, batchMs }, args.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(args.profile), '--cpu-prof-name', `broker-${count}-filters.cpuprofile`]);
    try {
      const ready = await broker.ready;
      if (ready.filters !== count) throw new Error(`the broker runs ${ready.filters} of the ${count} filters (the others did not compile)`);
      await broker.waitForMessages(fill.sent, Math.max(300_000, fill.sent * 20));
      const batches = broker.batches;
      const last = batches.at(-1)!;
      const seconds = (last.at - ready.at) / 1000;
      const throughput = fill.sent / seconds;
      // Steady state: the batches after the first, over the time between the first's and the last's commits.
      const steady = batches.length >= 3 ? (fill.sent - batches[0]!.messages) / ((last.at - batches[0]!.at) / 1000) : null;
      const stages: Record<string, number> = {};
      for (const b of batches) for (const [k, v] of Object.entries(b.stages)) stages[k] = (stages[k] ?? 0) + v / 1000;
      const records = batches.reduce((n, b) => n + b.records, 0);
      const recordBytes = batches.reduce((n, b) => n + b.bytes, 0);
      const matched = batches.reduce((n, b) => n + b.matched, 0);
      const failed = batches.reduce((n, b) => n + b.failedFilters, 0);
      const deadLetters = batches.reduce((n, b) => n + b.deadLetters, 0);
      if (deadLetters > 0) throw new Error(`${deadLetters} alerts were dead-lettered: the benchmark data should all be processed`);
      const stageText = Object.entries(stages).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
      console.log(
        `${String(count).padStart(4)} filters: ${Math.round(throughput)} alerts/s (${fill.sent} in ${seconds.toFixed(1)} s, ${batches.length} batches; steady ${steady === null ? '—' : Math.round(steady)}/s), ` +
          `${(throughput / limit.alertsPerSecond).toFixed(2)} of the decoding limit; ${matched} matches, ${records} records (${mb(recordBytes).toFixed(1)} MB)${failed > 0 ? `, ${failed} filter failures` : ''}; peak RSS ${mb(broker.peakRssBytes).toFixed(0)} MB; stage seconds: ${stageText}`,
      );
      const memory = broker.peakMemory;
      const memoryMb = { heapUsed: Math.round(mb(memory.heapUsed)), external: Math.round(mb(memory.external)), arrayBuffers: Math.round(mb(memory.arrayBuffers)), rssAfterBatches: Math.round(mb(memory.rss)) };
      console.log(`      broker memory after batches (peak, MB): JS heap ${memoryMb.heapUsed}, external ${memoryMb.external} (array buffers ${memoryMb.arrayBuffers}), RSS ${memoryMb.rssAfterBatches}`);
      const details = { seconds, batches: batches.length, steadyAlertsPerSecond: steady, matches: matched, records, recordMB: mb(recordBytes), filterFailures: failed, stageSeconds: stages, memoryMb };
      const target = THROUGHPUT_TARGET[count];
      results.add(`pipeline throughput, ${count} filters`, throughput, 'alerts/s', settings, { details, ...(target === undefined ? {} : { target: { min: target } }) });
      results.add(`throughput / decoding limit, ${count} filters`, throughput / limit.alertsPerSecond, 'ratio', settings, count === 100 ? { target: { min: 0.5 } } : {});
      results.add(`broker peak RSS, ${count} filters`, mb(broker.peakRssBytes), 'MB', settings, { target: { max: RSS_TARGET_MB } });
    } finally {
      await broker.stop();
    }
  }
} finally {
  await topics.deleteAll();
  await admin.close();
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
results.print();
