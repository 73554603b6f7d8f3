// The broker as a separate process for the benchmarks, so its memory (RSS) is its own and the
// benchmark process's work does not share its event loop. Started by bench/lib/broker-process.ts
// with one JSON argument (ChildSettings); writes one JSON line per event on stdout:
//   {"event":"ready","at":<epoch ms>,"filters":N}
//   {"event":"batch","at":<epoch ms>,"messages":..,"processed":..,"elapsedMs":..,"stages":{..},"records":..,"bytes":..,"matched":..,"memory":{rss,heapUsed,external,arrayBuffers}}
//   {"event":"stopped","at":<epoch ms>,"batches":..,"messages":..,"maxRssBytes":..}
// It stops (finishing the batch under way) when its stdin closes or on SIGTERM.
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { combinedSource, registryClient } from '../src/formats/schema-source.ts';
import { defaultSettings } from '../src/kafka/connection.ts';
import { startBroker } from '../src/pipeline/broker.ts';
import type { BatchReport } from '../src/pipeline/pipeline.ts';
import { createLogger } from '../src/util/log.ts';
import { stringify } from '../src/util/json.ts';
import { processMemory } from './lib/process-stats.ts';

export interface ChildSettings {
  topics: string[];
  groupId: string;
  /** DuckDB store file, with the filters already saved in it. */
  store: string;
  registryUrl: string;
  deadLetterTopic: string;
  topicPrefix: string;
  batchSize: number;
  batchMs: number;
  /** Most bytes of messages per batch (default: the broker's). */
  batchBytes?: number;
}

const epochMs = (): number => performance.timeOrigin + performance.now();
const emit = (event: Record<string, unknown>): void => void process.stdout.write(`${stringify({ ...event, at: epochMs() })}\n`);

function batchEvent(r: BatchReport): Record<string, unknown> {
  let records = 0;
  let bytes = 0;
  let matched = 0;
  let failedFilters = 0;
  for (const f of r.filters) {
    records += f.records;
    bytes += f.bytes;
    matched += f.matched;
    if (f.error !== undefined) failedFilters++;
  }
  // Where the memory is, to tell the JS heap and Kafka's buffers from native memory (DuckDB).
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const memory = { rss, heapUsed, external, arrayBuffers };
  return { event: 'batch', number: r.number, messages: r.messages, processed: r.processed, objects: r.objects, deadLetters: r.deadLetters, elapsedMs: r.elapsedMs, stages: r.stages, records, bytes, matched, failedFilters, memory };
}

const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;
const log = createLogger({ component: 'bench-broker' });
const broker = await startBroker({
  kafka: defaultSettings(),
  topics: settings.topics,
  groupId: settings.groupId,
  store: settings.store,
  httpPort: null,
  topicPrefix: settings.topicPrefix,
  deadLetterTopic: settings.deadLetterTopic,
  batchSize: settings.batchSize,
  batchMs: settings.batchMs,
  ...(settings.batchBytes === undefined ? {} : { batchBytes: settings.batchBytes }),
  decode: { schemas: combinedSource([registryClient(settings.registryUrl), builtinSchemas()]) },
  onBatch: (r) => emit(batchEvent(r)),
  log,
});
emit({ event: 'ready', filters: broker.pipeline.filters.filters.length });

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void broker.stop();
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
try {
  const result = await broker.done;
  await broker.stop();
  // VmHWM, not getrusage's maxRSS: that one survives exec, so it starts at the RSS of the
  // benchmark process that spawned this one (gigabytes of encoded alerts), not this process's.
  emit({ event: 'stopped', batches: result.batches, messages: result.messages, maxRssBytes: processMemory(process.pid)?.hwm ?? 0 });
  process.exit(0);
} catch (err) {
  log.error('broker failed', { error: (err as Error).message });
  await broker.stop().catch(() => undefined);
  process.exit(1);
}
