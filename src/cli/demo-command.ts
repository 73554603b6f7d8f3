// `nightjar demo`: the whole broker on one machine, as the quickstart's main command. It starts
// (or reuses) the local Kafka, a schema registry and the broker in this process (store, filter
// engine, HTTP server with /metrics and /api/filters), creates a few example filters through
// the filter service (one per kind of stream), then streams synthetic Rubin alerts (Confluent
// wire format, one burst per visit) into the raw topic at a short cadence. It prints what runs
// where, one line per visit sent and per batch the broker processed (alerts in, matches per
// filter), and how to consume a filter stream; at the end, the first record of a stream. The
// broker serves the web app too (pages, accounts, REST API), with a demo account that owns the
// example filters and whose password is printed.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { STREAM_OUTPUT_LABELS } from '../delivery/output-modes.ts';
import { DEFAULT_TOPIC_PREFIX } from '../delivery/topic-name.ts';
import { builtinSchemas } from '../formats/builtin-schemas.ts';
import { combinedSource, registryClient } from '../formats/schema-source.ts';
import { createAdmin, createConsumer, defaultSettings, type KafkaSettings } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import { startLocalKafka } from '../kafka/local-broker.ts';
import { localKafkaConfig, repoRoot } from '../kafka/local-config.ts';
import { createTopic, DEFAULT_MAX_MESSAGE_BYTES, deleteTopic, rawTopicConfig } from '../kafka/topics.ts';
import { DEFAULT_DEAD_LETTER_TOPIC, startBroker, type RunningBroker } from '../pipeline/broker.ts';
import { DEFAULT_HTTP_PORT } from '../pipeline/http-server.ts';
import { DEAD_LETTER_KINDS } from '../pipeline/dead-letters.ts';
import type { BatchReport } from '../pipeline/pipeline.ts';
import { registryPreload } from '../registry/registry-preload.ts';
import { startRegistryServer, type RunningRegistry } from '../registry/registry-server.ts';
import { openRegistryStore } from '../registry/registry-store.ts';
import type { NewFilter } from '../service/types.ts';
import { runSimulation } from '../simulate/simulation.ts';
import { UserError } from '../util/errors.ts';
import { hashPassword } from '../web/auth/passwords.ts';
import { randomSecret } from '../web/auth/secrets.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { segmentDirectory } from '../store/cutout-segments.ts';
import { sleep } from '../util/sleep.ts';
import { integerFlag } from './flag-values.ts';

interface DemoFlags {
  visits: string;
  interval: string;
  seed: string;
  objects: string;
  topic: string;
  topicPrefix: string;
  httpPort: string;
  store: string;
  cutouts: boolean;
}

export const DEMO_STORE_PATH = path.join(repoRoot, '.data', 'demo', 'nightjar.duckdb');
const DEMO_OWNER = 'demo@nightjar.invalid';

/** The example filters: one of each kind of stream, tuned to match some synthetic alerts early on. */
export const DEMO_FILTERS: readonly Omit<NewFilter, 'owner'>[] = [
  {
    name: 'bright transients',
    description: 'Bright, significant detections (Lasair plain stream: the selected columns and UTC).',
    select: 'diaObjectId, ra, decl, alertMag, alertBand, alertSnr, nSources',
    where: 'alertMag < 20 AND alertSnr > 10',
    output: 'kafka',
  },
  {
    name: 'SN-like candidates',
    description: 'Objects with two or more positive, reliable detections, with their lite lightcurve.',
    select: 'diaObjectId, ra, decl, alertMag, nSources, nPositive, riseRate_r',
    where: 'nPositive >= 2 AND medianReliability > 0.5 AND alertMag < 23',
    output: 'kafka-lite',
  },
  {
    name: 'high SNR Avro',
    description: 'High signal-to-noise, reliable detections as Avro with the schema in the key (fink-client reads it).',
    select: 'diaObjectId, ra, decl, alertMag, alertBand, alertSnr',
    where: 'alertSnr > 50 AND medianReliability > 0.9',
    output: 'kafka-avro',
  },
  {
    name: 'blue objects digest',
    description: 'Objects bluer than g - r = 0 (email digest: counted here, mailed once the email service runs).',
    select: 'diaObjectId, ra, decl, g_r',
    where: 'g_r < 0',
    output: 'email',
  },
];

const say = (line: string): void => void process.stdout.write(line + '\n');

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the broker locally: Kafka, schema registry, broker with example filters, and simulated Rubin alerts streamed through it')
    .option('--visits <n>', 'stop after this many visits (0 = run until Ctrl-C)', '0')
    .option('--interval <seconds>', 'seconds between visits (Rubin: 39)', '5')
    .option('--seed <n>', 'seed of the synthetic sky', '42')
    .option('--objects <n>', 'object slots on the synthetic sky', '20000')
    .option('--no-cutouts', 'alerts without cutout images (smaller, faster)')
    .option('--topic <name>', 'raw alert topic (recreated at start)', 'nightjar-demo-raw')
    .option('--topic-prefix <prefix>', 'first part of the filter topic names', DEFAULT_TOPIC_PREFIX)
    .option('--http-port <port>', 'broker HTTP port on 127.0.0.1 (/metrics, /health, /api/filters; 0: any free port)', String(DEFAULT_HTTP_PORT))
    .option('--store <file.duckdb>', 'the demo\'s store (recreated at start)', DEMO_STORE_PATH)
    .action(async (flags: DemoFlags) => runDemo(flags));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function kB(bytes: number): string {
  return bytes < 10_000 ? `${bytes} B` : `${(bytes / 1000).toFixed(1)} kB`;
}

/** Seed 001's consumer code, as a Python program to paste (confluent_kafka, json.loads). */
export function pythonConsumerSnippet(bootstrap: string, topic: string): string {
  return [
    "python3 - <<'EOF'",
    'import json',
    'from confluent_kafka import Consumer',
    `consumer = Consumer({'bootstrap.servers': '${bootstrap}', 'group.id': 'demo-reader', 'auto.offset.reset': 'smallest'})`,
    `consumer.subscribe(['${topic}'])`,
    'n = 0',
    'while n < 10:',
    '    msg = consumer.poll(timeout=20)',
    '    if msg is None:',
    '        break',
    '    if msg.error():',
    '        print(str(msg.error()))',
    '        break',
    '    print(json.dumps(json.loads(msg.value()), indent=2))',
    '    n += 1',
    "print('No more messages available')",
    'consumer.close()',
    'EOF',
  ].join('\n');
}

function batchLine(r: BatchReport): string {
  const dead = r.deadLetters === 0 ? '' : `, ${plural(r.deadLetters, 'dead letter')}`;
  const matches = r.filters.map((f) => `${f.name} ${f.error === undefined ? f.matched : 'failed'}`).join(', ');
  return `broker: batch ${r.number}: ${plural(r.messages, 'alert')} in, ${r.processed} processed${dead} in ${(r.elapsedMs / 1000).toFixed(2)} s; matches: ${matches === '' ? 'no filters' : matches}`;
}

/** The first record of a topic (a fresh group from the start), or undefined after timeoutMs. */
async function firstRecord(settings: KafkaSettings, topic: string, timeoutMs: number): Promise<Buffer | undefined> {
  const consumer = createConsumer(settings, { groupId: `nightjar-demo-reader-${Date.now()}`, fromBeginning: true, role: 'demo-reader' });
  const timer = setTimeout(() => void consumer.close().catch(() => undefined), timeoutMs);
  try {
    const stream = await consumer.consume([topic]);
    for await (const message of stream) return message.value;
    return undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    await consumer.close().catch(() => undefined);
  }
}

/** A logger that passes on warnings and errors only. */
function problemsOnly(log: Logger): Logger {
  return { debug: () => {}, info: () => {}, warn: log.warn, error: log.error, child: (fields) => problemsOnly(log.child(fields)) };
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const maxVisits = integerFlag(flags.visits, '--visits', 0);
  const interval = Number(flags.interval);
  if (!(interval >= 0) || !Number.isFinite(interval)) throw new UserError(`--interval must be a number of seconds, not "${flags.interval}"`);
  const seed = integerFlag(flags.seed, '--seed', 0);
  const objects = integerFlag(flags.objects, '--objects', 1);
  const httpPort = integerFlag(flags.httpPort, '--http-port', 0);

  if (!process.env.NIGHTJAR_KAFKA_BOOTSTRAP) {
    const started = await startLocalKafka(localKafkaConfig(), { onProgress: (line) => say(`kafka: ${line}`) });
    say(started.alreadyRunning ? `kafka: already running on ${started.status.bootstrap}` : `kafka: started on ${started.status.bootstrap} in ${(started.timings.totalMs / 1000).toFixed(1)} s`);
  }
  const settings = defaultSettings();
  const bootstrap = settings.bootstrap.join(',');
  const admin = createAdmin(settings);
  try {
    await deleteTopic(admin, flags.topic);
    await createTopic(admin, flags.topic, 3, rawTopicConfig(DEFAULT_MAX_MESSAGE_BYTES));
  } catch (err) {
    throw new UserError(`cannot set up topic ${flags.topic} on ${bootstrap}: ${describeError(err)}`);
  } finally {
    await admin.close();
  }

  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping: the broker finishes its batch and commits (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let registry: RunningRegistry | undefined;
  let broker: RunningBroker | undefined;
  try {
    registry = await startRegistryServer({ store: openRegistryStore({ preload: registryPreload().schemas }) });
    say(`schema registry: ${registry.url} (in-process; Nightjar's lsst.v10_0 is id 1000)`);

    const storePath = path.resolve(flags.store);
    for (const file of [storePath, `${storePath}.wal`, segmentDirectory(storePath)]) rmSync(file, { force: true, recursive: true });
    // The broker's structured logs (stderr) show only problems, unless NIGHTJAR_LOG_LEVEL asks for more.
    const log = process.env.NIGHTJAR_LOG_LEVEL ? createLogger({ component: 'demo-broker' }) : problemsOnly(createLogger({ component: 'demo-broker' }));
    broker = await startBroker({
      kafka: settings,
      topics: [flags.topic],
      groupId: `nightjar-demo-${Date.now()}`,
      store: storePath,
      httpPort,
      topicPrefix: flags.topicPrefix,
      deadLetterTopic: DEFAULT_DEAD_LETTER_TOPIC,
      batchMs: 500,
      decode: { schemas: combinedSource([registryClient(registry.url), builtinSchemas()]) },
      log,
      web: {},
      onBatch: (r) => say(batchLine(r)),
    });
    say(`store: ${storePath} (new)`);
    const http = broker.http;
    say(`broker: consuming ${flags.topic} (3 partitions) as group ${broker.groupId}; dead letters to ${broker.deadLetterTopic}`);
    if (http !== null) say(`broker: metrics ${http.url}/metrics, health ${http.url}/health, filters API ${http.url}/api/filters`);

    // The demo account: it owns the example filters, so logging in shows them with their streams.
    const password = randomSecret(9);
    const owner = await broker.store.createUser({ email: DEMO_OWNER, name: 'Demo astronomer', passwordHash: await hashPassword(password) });
    const topics: string[] = [];
    let avro: string | undefined;
    for (const filter of DEMO_FILTERS) {
      const saved = await broker.service.add({ ...filter, owner: owner.id });
      const f = saved.filter;
      if (f.topic !== null) topics.push(f.topic);
      if (f.output === 'kafka-avro' && f.topic !== null) avro = f.topic;
      say(`filter #${f.id} "${f.name}" (${STREAM_OUTPUT_LABELS[f.output]})${f.topic === null ? '' : ` → topic ${f.topic}`}: SELECT ${f.select} WHERE ${f.where}`);
    }
    const plain = topics[0];
    say('');
    say(`kafka: ${bootstrap}; raw alerts in ${flags.topic}; filter streams ${topics.join(', ')}`);
    if (plain !== undefined) {
      say(`consume a JSON filter stream with seed 001's Python code (pip install confluent_kafka):`);
      say(pythonConsumerSnippet(bootstrap, plain));
    }
    if (avro !== undefined) say(`print the Avro stream (fink-client reads it too): ./nightjar print ${avro} --from earliest`);
    say(`watch the broker: curl -s ${http?.url ?? `http://127.0.0.1:${DEFAULT_HTTP_PORT}`}/metrics | grep ^nightjar_; list filters: ./nightjar filter list --store ${path.relative(process.cwd(), storePath) || storePath}`);
    if (http !== null) say(`web app: ${http.url}/ — log in as ${DEMO_OWNER} with password ${password} (API: ${http.url}/api/openapi.json)`);
    say('');

    // More alerts than any demo sends: the visits limit (or Ctrl-C) ends the stream.
    const count = 10_000_000;
    const result = await runSimulation({
      topic: flags.topic,
      synthetic: { count, seed, objects, cutouts: flags.cutouts },
      grouping: { kind: 'exposure' },
      observations: maxVisits > 0 ? maxVisits : -1,
      intervalSeconds: interval,
      fast: false,
      partitions: 3,
      encoding: 'confluent',
      registryUrl: registry.url,
      kafka: settings,
      signal: stop.signal,
      out: (line) => say(`simulator: ${line}`),
      warn: (line) => process.stderr.write(`simulator: ${line}\n`),
    });

    // The broker takes the last visit a moment after it is sent.
    const deadline = Date.now() + 60_000;
    while (!stop.signal.aborted && broker.health().messages < result.sent && Date.now() < deadline) await sleep(100, stop.signal);
    const taken = broker.health().messages;
    if (!stop.signal.aborted && taken < result.sent) process.stderr.write(`demo: the broker took ${taken} of the ${result.sent} alerts sent within a minute\n`);

    if (plain !== undefined && !stop.signal.aborted) {
      const record = await firstRecord(settings, plain, 10_000);
      say(record === undefined ? `${plain}: no record yet` : `first record of ${plain}: ${record.toString('utf8')}`);
    }
    const m = broker.metrics;
    for (const f of await broker.service.list()) {
      const id = { filter: f.id };
      say(`filter #${f.id} "${f.name}": ${m.filterMatches.value(id)} matched, ${m.filterRecords.value(id)} records (${kB(m.filterBytes.value(id))})${f.topic === null ? '' : ` in ${f.topic}`}`);
    }
    const dead = DEAD_LETTER_KINDS.reduce((sum, reason) => sum + m.deadLetters.value({ reason }), 0);
    say(`demo: ${plural(result.observations, 'visit')}, ${result.sent} alerts sent; broker: ${taken} alerts in, ${m.alertsProcessed.value()} processed, ${dead} dead letters`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (broker !== undefined) await broker.stop().catch((err: unknown) => process.stderr.write(`demo: the broker stopped with an error: ${describeError(err)}\n`));
    await registry?.close();
  }
  say('demo stopped; the local Kafka keeps running (./nightjar kafka stop stops it); filter streams keep their records for 7 days');
}
