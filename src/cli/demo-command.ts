// `nightjar demo`: the main job of the quickstart. Today: a local Kafka, a simulated Rubin
// stream (Confluent wire format, one burst per visit) and a consumer that decodes every alert
// back into Nightjar's Alert model. The broker and the web app join here as they land.
import type { Command } from 'commander';
import { toAlert } from '../formats/adapters/index.ts';
import { builtinSchemas } from '../formats/builtin-schemas.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../formats/lsst-schema.ts';
import { decodeMessage, encodeMessage } from '../formats/message.ts';
import { createAdmin, createConsumer, createProducer, defaultSettings } from '../kafka/connection.ts';
import { startLocalKafka } from '../kafka/local-broker.ts';
import { localKafkaConfig } from '../kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../kafka/produce.ts';
import { createTopic, deleteTopic } from '../kafka/topics.ts';
import { generateAlerts } from '../simulate/synthetic.ts';
import { UserError } from '../util/errors.ts';

interface DemoFlags {
  visits: string;
  interval: string;
  seed: string;
  objects: string;
  topic: string;
}

const say = (line: string): void => void process.stdout.write(line + '\n');

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start a local Kafka and stream simulated Rubin alerts through it, decoding them back')
    .option('--visits <n>', 'stop after this many visits (0 = run until Ctrl-C)', '0')
    .option('--interval <seconds>', 'seconds between visits (Rubin: 39)', '5')
    .option('--seed <n>', 'seed of the synthetic sky', '42')
    .option('--objects <n>', 'object slots on the synthetic sky', '20000')
    .option('--topic <name>', 'raw alert topic (recreated at start)', 'nightjar-demo-raw')
    .action(async (flags: DemoFlags) => runDemo(flags));
}

function positiveInt(text: string, name: string, allowZero = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new UserError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, not "${text}"`);
  return n;
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const maxVisits = positiveInt(flags.visits, 'visits', true);
  const intervalMs = Number(flags.interval) * 1000;
  if (!(intervalMs >= 0)) throw new UserError(`--interval must be a number of seconds, not "${flags.interval}"`);
  const seed = positiveInt(flags.seed, 'seed', true);
  const objects = positiveInt(flags.objects, 'objects');

  if (!process.env.NIGHTJAR_KAFKA_BOOTSTRAP) {
    const started = await startLocalKafka(localKafkaConfig(), { onProgress: (line) => say(`kafka: ${line}`) });
    say(started.alreadyRunning ? `kafka: already running on ${started.status.bootstrap}` : `kafka: started on ${started.status.bootstrap} in ${(started.timings.totalMs / 1000).toFixed(1)} s`);
  }
  const settings = defaultSettings();
  const admin = createAdmin(settings);
  try {
    await deleteTopic(admin, flags.topic);
    await createTopic(admin, flags.topic, 3);
  } finally {
    await admin.close();
  }
  say(`topic ${flags.topic}: 3 partitions, Confluent wire format, schema id ${LSST_SCHEMA_ID} (lsst.v10_0)`);

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const consumer = createConsumer(settings, { groupId: `nightjar-demo-${Date.now()}`, fromBeginning: true, role: 'demo' });
  const sentPerVisit = new Map<number, number>();
  let producing = true;
  try {
    const stream = await consumer.consume([flags.topic]);
    stop.signal.addEventListener('abort', () => stream.destroy());
    const consuming = consumeAndReport(stream, sentPerVisit, () => producing, stop.signal);
    await produceVisits(flags.topic, settings, { seed, objects, maxVisits, intervalMs }, sentPerVisit, stop.signal);
    producing = false;
    // The consumer returns by itself once the last pending visit arrives; if every visit has
    // already arrived (possible while the producer was closing), there is nothing to wait for.
    if (maxVisits > 0 && !stop.signal.aborted && sentPerVisit.size > 0) await consuming;
    stop.abort();
    await consuming;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await consumer.close();
  }
  say('demo stopped; the local Kafka keeps running (./nightjar kafka stop stops it)');
}

async function produceVisits(
  topic: string,
  settings: ReturnType<typeof defaultSettings>,
  options: { seed: number; objects: number; maxVisits: number; intervalMs: number },
  sentPerVisit: Map<number, number>,
  signal: AbortSignal,
): Promise<void> {
  const schema = lsstAlertParsedSchema();
  const producer = createProducer(settings, { role: 'demo-simulator' });
  const t0 = Date.now();
  let visits = 0;
  const done = (): boolean => options.maxVisits > 0 && visits >= options.maxVisits;
  let burst: OutgoingMessage[] = [];
  let burstVisit: number | undefined;
  const sendBurst = async (): Promise<void> => {
    if (burstVisit === undefined) return;
    visits++;
    sentPerVisit.set(burstVisit, burst.length);
    await sendAll(producer, burst);
    say(`visit ${burstVisit}: ${plural(burst.length, 'alert')} sent (t0 + ${((Date.now() - t0) / 1000).toFixed(2)} s)`);
    burst = [];
    if (!done()) await sleep(options.intervalMs, signal);
  };
  try {
    for (const record of generateAlerts({ seed: options.seed, objects: options.objects, nights: 3650 })) {
      if (signal.aborted || done()) break;
      const source = record.diaSource as { visit: bigint; diaObjectId: bigint | null; diaSourceId: bigint };
      const visit = Number(source.visit);
      if (burstVisit !== undefined && visit !== burstVisit) await sendBurst();
      burstVisit = visit;
      const { value } = encodeMessage(record, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID });
      burst.push({ topic, key: Buffer.from(String(source.diaObjectId ?? source.diaSourceId)), value });
    }
    if (!signal.aborted && !done() && burst.length > 0) await sendBurst();
  } finally {
    await producer.close();
  }
}

async function consumeAndReport(
  stream: AsyncIterable<{ value: Buffer; key: Buffer; partition: number; offset: bigint; topic: string }>,
  sentPerVisit: Map<number, number>,
  stillProducing: () => boolean,
  signal: AbortSignal,
): Promise<void> {
  const schemas = builtinSchemas();
  const received = new Map<number, { count: number; brightest: { mag: number; objectId: string } | null }>();
  let total = 0;
  try {
    for await (const message of stream) {
      const [decoded] = await decodeMessage(message.value, message.key, { schemas, source: `${message.topic}/${message.partition}/${message.offset}` });
      const alert = toAlert(decoded!.record, decoded!.schema.name);
      const visit = Number((decoded!.record.diaSource as { visit: bigint }).visit);
      const entry = received.get(visit) ?? { count: 0, brightest: null };
      entry.count++;
      if (alert.mag !== null && (entry.brightest === null || alert.mag < entry.brightest.mag)) entry.brightest = { mag: alert.mag, objectId: String(alert.objectId) };
      received.set(visit, entry);
      total++;
      if (entry.count === sentPerVisit.get(visit)) {
        const b = entry.brightest;
        say(`visit ${visit}: ${plural(entry.count, 'alert')} received and decoded${b ? `; brightest: diaObjectId ${b.objectId} at mag ${b.mag.toFixed(2)}` : ''} (${total} in total)`);
        received.delete(visit);
        sentPerVisit.delete(visit);
        if (!stillProducing() && sentPerVisit.size === 0) return;
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
