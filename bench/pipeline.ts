// End-to-end throughput of the broker on the local Kafka: N synthetic Rubin alerts (Confluent
// wire format, no cutouts unless --cutouts) are put in a raw topic first, then a broker
// (in-process, in-memory store) consumes them in batches with 0, 10 and 100 active filters
// and the time from its first batch to its last commit is measured. Reports alerts/s and
// where the time went (stage totals from the pipeline's own metrics).
// Run: node bench/pipeline.ts [--alerts 20000] [--filters 0,10,100] [--batch-size 10000] [--cutouts]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings } from '../src/kafka/connection.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { startBroker } from '../src/pipeline/broker.ts';
import type { BatchReport } from '../src/pipeline/pipeline.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore } from '../src/store/index.ts';
import type { FilterOutput } from '../src/store/store.ts';

const { values: args } = parseArgs({
  options: {
    alerts: { type: 'string', default: '20000' },
    filters: { type: 'string', default: '0,10,100' },
    'batch-size': { type: 'string', default: '10000' },
    cutouts: { type: 'boolean', default: false },
    broad: { type: 'boolean', default: false },
  },
});
const alertCount = Number(args.alerts);
const filterCounts = args.filters.split(',').map(Number);
const batchSize = Number(args['batch-size']);

// A spread of filters like users write: cuts on brightness, colour, counts, rates, position;
// outputs in all four Kafka formats and some silent or email ones. Each passes 0.1-5% of the
// synthetic alerts, as a user's filter would; --broad uses loose ones (each passes about half,
// so the filter streams carry several records per alert: a worst case for delivery).
const SELECTIVE = [
  'alertMag < 19.3 AND alertSnr > 5',
  'nSources >= 3 AND latestReliability > 0.9',
  'riseRate_r > 0.05',
  'g_r < -0.2',
  'glat > 45 AND alertMag < 21',
  'fadeRate_r > 0.1',
  'nNights >= 2 AND nReliable >= 3',
  'alertSnr > 150',
  'medianReliability < 0.05 AND alertSnr > 50',
  'ra BETWEEN 10 AND 40 AND decl BETWEEN -40 AND -30',
];
const BROAD = [
  'alertMag < 21 AND alertSnr > 5',
  'nSources >= 3 AND riseRate_r > 0.05',
  'latestMag_g - latestMag_r < 0.5',
  'glat > 20 AND nReliable >= 2',
  'fadeRate_g > 0.1 OR fadeRate_r > 0.1',
  'ra BETWEEN 0 AND 180 AND decl < -20',
  'medianReliability > 0.8 AND nNights >= 2',
  'flux2mag(alertFlux) < 22 AND alertFlux > 0',
  'nPositive > 5 AND lastDiaSourceMjd - firstDiaSourceMjd > 10',
  'g_r IS NOT NULL AND g_r < 0',
];
const WHERES = args.broad ? BROAD : SELECTIVE;
const OUTPUTS: FilterOutput[] = ['kafka', 'kafka-lite', 'kafka-full', 'kafka-avro', 'none', 'email'];

const settings = defaultSettings();
const run = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
const topic = `nightjar-bench-pipeline-${run}`;
const admin = createAdmin(settings);
const created: string[] = [topic];

async function fill(): Promise<void> {
  await createTopic(admin, topic, 3);
  const schema = lsstAlertParsedSchema();
  const producer = createProducer(settings);
  let batch: OutgoingMessage[] = [];
  let sent = 0;
  for (const record of generateAlerts({ seed: 11, objects: 20_000, count: alertCount, cutouts: args.cutouts })) {
    const { value } = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID });
    const source = record.diaSource as { diaObjectId: bigint | null; diaSourceId: bigint };
    batch.push({ topic, key: Buffer.from(String(source.diaObjectId ?? source.diaSourceId)), value });
    if (batch.length === 2000) {
      await sendAll(producer, batch);
      sent += batch.length;
      batch = [];
    }
  }
  await sendAll(producer, batch);
  sent += batch.length;
  await producer.close();
  console.log(`${sent} synthetic alerts in ${topic} (cutouts ${args.cutouts ? 'on' : 'off'})`);
}

async function measure(filters: number): Promise<void> {
  const store = await openStore({ path: ':memory:' });
  const user = await store.createUser({ email: 'bench@nightjar.test', name: 'bench' });
  for (let i = 0; i < filters; i++) {
    const output = OUTPUTS[i % OUTPUTS.length] as FilterOutput;
    const f = await store.saveFilter({ ownerId: user.id, name: `bench ${run} ${i}`, select: 'diaObjectId, ra, decl, alertMag, nSources', where: WHERES[i % WHERES.length] as string, output });
    if (output.startsWith('kafka')) created.push(`nightjar_${user.id}bench${run}${i}`);
    void f;
  }
  const reports: BatchReport[] = [];
  const ends: number[] = [];
  const broker = await startBroker({
    kafka: settings,
    topics: [topic],
    groupId: `nightjar-bench-${run}-${filters}`,
    store,
    httpPort: null,
    deadLetterTopic: `nightjar-bench-dlq-${run}`,
    batchSize,
    batchMs: 1000,
    idleMs: 5000,
    decode: { schemas: builtinSchemas() },
    onBatch: (r) => {
      reports.push(r);
      ends.push(performance.now());
    },
    log: { debug() {}, info() {}, warn: (m, f) => console.warn(m, f), error: (m, f) => console.error(m, f), child() { return this; } },
  });
  await broker.done;
  const m = broker.metrics;
  await broker.stop();
  await store.close();
  const messages = reports.reduce((s, r) => s + r.messages, 0);
  const totalMs = reports.reduce((s, r) => s + r.elapsedMs, 0);
  // Wall time from the start of the first batch's processing to the last commit (includes any wait for fetches).
  const wallMs = (ends.at(-1) ?? 0) - ((ends[0] ?? 0) - (reports[0]?.elapsedMs ?? 0));
  const stages = ['filtersReload', 'decode', 'store', 'filters', 'deliver', 'counters', 'commit'] as const;
  const perStage = stages.map((s) => `${s} ${(reports.reduce((sum, r) => sum + r.stages[s], 0) / 1000).toFixed(2)}`).join(', ');
  const records = reports.reduce((s, r) => s + r.filters.reduce((t, f) => t + f.records, 0), 0);
  const bytes = reports.reduce((s, r) => s + r.filters.reduce((t, f) => t + f.bytes, 0), 0);
  const matches = reports.reduce((s, r) => s + r.filters.reduce((t, f) => t + f.matched, 0), 0);
  console.log(
    `${String(filters).padStart(3)} filters: ${messages} alerts in ${reports.length} batches, ${(totalMs / 1000).toFixed(2)} s processing → ${Math.round((messages * 1000) / totalMs)} alerts/s (wall ${(wallMs / 1000).toFixed(2)} s → ${Math.round((messages * 1000) / wallMs)} alerts/s); ` +
      `${matches} matches, ${records} records (${(bytes / 1e6).toFixed(1)} MB); stages (s): ${perStage}; dead letters ${m.deadLetters.value({ reason: 'undecodable' })}`,
  );
}

try {
  await fill();
  for (const n of filterCounts) await measure(n);
} finally {
  for (const t of [...created, `nightjar-bench-dlq-${run}`]) await deleteTopic(admin, t).catch(() => false);
  await admin.close();
}
