// Puts a realistic night of real-size Rubin alerts into a raw topic the way the simulator does
// (Confluent wire format, writer schemas registered in a schema registry, visits of perVisit
// alerts), as fast as possible, keeping the first few encoded messages for the decoding limit.
import type { ParsedSchema } from '../../src/formats/avro-schema.ts';
import { createProducer, type KafkaSettings } from '../../src/kafka/connection.ts';
import { createAlertPreparer, type AlertPreparer, type PreparedAlert } from '../../src/simulate/prepared-alert.ts';
import { replay } from '../../src/simulate/replay.ts';
import { realNight, type NightPlan, type Template } from './real-night.ts';

export interface FillOptions {
  readonly kafka: KafkaSettings;
  readonly topic: string;
  readonly partitions: number;
  readonly registryUrl: string;
  readonly templates: readonly Template[];
  readonly plan: NightPlan;
  /** Encoded messages to keep (the first ones), for the decoding limit. */
  readonly keep?: number;
}

export interface FillResult {
  readonly sent: number;
  readonly bytes: number;
  /** Preparing (replicate + encode) and sending, overlapped as the simulator does. */
  readonly seconds: number;
  readonly kept: { key: Buffer | null; value: Buffer }[];
}

/** Prepares one alert of the night: replicated, encoded, framed, with its partition. */
export function nightPreparer(topic: string, partitions: number, registryUrl: string): AlertPreparer {
  return createAlertPreparer({ topic, encoding: 'confluent', partitions, registryUrl });
}

/** The night's alerts prepared in memory (about 130 kB each), leaving out those `skip` names by index. */
export async function prepareNight(preparer: AlertPreparer, templates: readonly Template[], plan: NightPlan & { skip?: (index: number) => boolean }): Promise<PreparedAlert[]> {
  const out: PreparedAlert[] = [];
  for (const a of realNight(templates, plan)) if (plan.skip?.(a.index) !== true) out.push(await preparer.prepare(a.record, a.schema as ParsedSchema));
  return out;
}

export async function fillTopic(options: FillOptions): Promise<FillResult> {
  const preparer = nightPreparer(options.topic, options.partitions, options.registryUrl);
  const kept: { key: Buffer | null; value: Buffer }[] = [];
  const keep = options.keep ?? 0;
  const total = options.plan.perVisit * options.plan.visits;
  async function* alerts(): AsyncGenerator<PreparedAlert> {
    for (const a of realNight(options.templates, options.plan)) {
      const prepared = await preparer.prepare(a.record, a.schema);
      if (kept.length < keep) kept.push({ key: prepared.message.key ?? null, value: prepared.message.value });
      yield prepared;
    }
  }
  const producer = createProducer(options.kafka, { role: 'bench-fill', timeout: 60_000 });
  try {
    const result = await replay(
      { description: 'real Rubin alerts, replicated', available: total, alerts: alerts, exposures: () => [] },
      { producer, grouping: { kind: 'fixed', perObservation: options.plan.perVisit }, observations: -1, intervalSeconds: 0, fast: true, out: () => {} },
    );
    if (result.sent !== total) throw new Error(`filling ${options.topic}: ${result.sent} of ${total} alerts sent`);
    return { sent: result.sent, bytes: result.bytes, seconds: result.seconds, kept };
  } finally {
    await producer.close();
  }
}
