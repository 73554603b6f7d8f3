// The benchmark nights and how they reach a raw topic. Two kinds of data, as issue 8 asks:
// - 'real': the real Rubin alerts of ../shared/data replicated to a night with fresh ids,
//   positions and times, cutouts kept (real-night.ts): real layouts and sizes, ~134 kB;
// - 'synthetic': the synthetic generator's Rubin alerts (src/simulate/synthetic.ts) with
//   cutouts, ~27 kB: volume, with realistic lightcurves.
// Either is put into a raw topic the way the simulator does (Confluent wire format, writer
// schemas registered in a schema registry, visits of perVisit alerts), as fast as possible,
// keeping a sample of the encoded messages for the decoding limit.
import type { ParsedSchema } from '../../src/formats/avro-schema.ts';
import { lsstAlertParsedSchema } from '../../src/formats/lsst-schema.ts';
import { createProducer, type KafkaSettings } from '../../src/kafka/connection.ts';
import { createAlertPreparer, type AlertPreparer, type PreparedAlert } from '../../src/simulate/prepared-alert.ts';
import { replay } from '../../src/simulate/replay.ts';
import { generateAlerts } from '../../src/simulate/synthetic.ts';
import { mjdOf, realNight, type NightPlan, type Template } from './real-night.ts';

export type BenchData = 'real' | 'synthetic';
export const BENCH_DATA: readonly BenchData[] = ['real', 'synthetic'];

/** How the report names each kind of data. */
export const DATA_LABEL: Readonly<Record<BenchData, string>> = {
  real: 'real-size Rubin',
  synthetic: 'synthetic Rubin with cutouts',
};

export interface NightRecord {
  readonly record: Record<string, unknown>;
  readonly schema: ParsedSchema;
}

/** The night's alert records in sending order, made as they are asked for (a night does not fit in memory). */
export function nightRecords(data: BenchData, templates: readonly Template[], plan: NightPlan): Iterable<NightRecord> {
  if (data === 'real') return realNight(templates, plan);
  const schema = lsstAlertParsedSchema();
  const count = plan.perVisit * plan.visits;
  // Nights starting today, so that mjdnow() filters see recent detections.
  const alerts = generateAlerts({ seed: plan.seed ?? 1, objects: plan.objects ?? Math.max(1000, Math.ceil(count / 2)), count, cutouts: true, startMjd: Math.floor(plan.startMjd ?? mjdOf(Date.now())) });
  return (function* () {
    for (const record of alerts) yield { record, schema };
  })();
}

export interface FillOptions {
  readonly kafka: KafkaSettings;
  readonly topic: string;
  readonly partitions: number;
  readonly registryUrl: string;
  readonly data: BenchData;
  /** Real data only: the real alerts the night is made of. */
  readonly templates: readonly Template[];
  readonly plan: NightPlan;
  /** Encoded messages to keep for the decoding limit, spread evenly over the night (its first alerts carry the least history). */
  readonly keep?: number;
}

export interface FillResult {
  readonly sent: number;
  readonly bytes: number;
  /** Preparing (replicate or generate + encode) and sending, overlapped as the simulator does. */
  readonly seconds: number;
  readonly kept: { key: Buffer | null; value: Buffer }[];
}

/** Prepares one alert of the night: encoded, framed, with its partition. */
export function nightPreparer(topic: string, partitions: number, registryUrl: string): AlertPreparer {
  return createAlertPreparer({ topic, encoding: 'confluent', partitions, registryUrl });
}

/** The night's alerts prepared in memory, leaving out those `skip` names by index. */
export async function prepareNight(preparer: AlertPreparer, records: Iterable<NightRecord>, skip?: (index: number) => boolean): Promise<PreparedAlert[]> {
  const out: PreparedAlert[] = [];
  let index = 0;
  for (const r of records) if (skip?.(index++) !== true) out.push(await preparer.prepare(r.record, r.schema));
  return out;
}

export async function fillTopic(options: FillOptions): Promise<FillResult> {
  const preparer = nightPreparer(options.topic, options.partitions, options.registryUrl);
  const kept: { key: Buffer | null; value: Buffer }[] = [];
  const total = options.plan.perVisit * options.plan.visits;
  const keepEvery = options.keep === undefined || options.keep <= 0 ? 0 : Math.max(1, Math.floor(total / options.keep));
  async function* alerts(): AsyncGenerator<PreparedAlert> {
    let index = 0;
    for (const r of nightRecords(options.data, options.templates, options.plan)) {
      const prepared = await preparer.prepare(r.record, r.schema);
      if (keepEvery > 0 && index++ % keepEvery === 0 && kept.length < (options.keep ?? 0)) kept.push({ key: prepared.message.key ?? null, value: prepared.message.value });
      yield prepared;
    }
  }
  const producer = createProducer(options.kafka, { role: 'bench-fill', timeout: 60_000 });
  try {
    const result = await replay(
      { description: `${DATA_LABEL[options.data]} alerts`, available: total, alerts, exposures: () => [] },
      { producer, grouping: { kind: 'fixed', perObservation: options.plan.perVisit }, observations: -1, intervalSeconds: 0, fast: true, out: () => {} },
    );
    if (result.sent !== total) throw new Error(`filling ${options.topic}: ${result.sent} of ${total} alerts sent`);
    return { sent: result.sent, bytes: result.bytes, seconds: result.seconds, kept };
  } finally {
    await producer.close();
  }
}
