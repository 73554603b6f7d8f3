// `nightjar simulate` as a function: prepares the topic, loads (or generates) the alerts,
// encodes them and replays them through Kafka at cadence. The CLI adds flags, signals and the
// in-process schema registry; tests and the benchmark call this directly.
import { toAlert } from '../formats/adapters/index.ts';
import type { ParsedSchema } from '../formats/avro-schema.ts';
import type { ReadAlertFileOptions } from '../formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../formats/lsst-schema.ts';
import { createAdmin, createProducer, type KafkaSettings } from '../kafka/connection.ts';
import { createTopic, DEFAULT_MAX_MESSAGE_BYTES, rawTopicConfig, topicPartitions } from '../kafka/topics.ts';
import { registerSchema } from '../registry/registry-client.ts';
import { UserError } from '../util/errors.ts';
import { listAlertInputs } from './alert-sources.ts';
import type { BatchSenderOptions } from './batch-sender.ts';
import type { Grouping } from './cadence.ts';
import type { DisplayPath } from './display-field.ts';
import { loadAlertInputs, type SkippedInput } from './load-alerts.ts';
import { orderTies } from './ordering.ts';
import { createAlertPreparer, exposureOf, valueSubject, type AlertPreparer, type PreparedAlert, type StreamEncoding } from './prepared-alert.ts';
import type { ProgressBar } from '../util/progress-bar.ts';
import { replay, type ReplayResult, type ReplaySource } from './replay.ts';
import { generateAlerts, type SyntheticOptions } from './synthetic.ts';

export interface SyntheticSpec {
  readonly count: number;
  readonly seed: number;
  /** FITS cutouts in the alerts (default true: real-size alerts). */
  readonly cutouts?: boolean;
  /** Object slots on the synthetic sky (default 20,000). */
  readonly objects?: number;
}

export interface SimulationSpec {
  readonly topic: string;
  /** Alert files, folders and archives; or `synthetic`. */
  readonly data?: readonly string[];
  readonly synthetic?: SyntheticSpec;
  /** Schema sources for decoding the data (Confluent ids, schemaless bodies). */
  readonly decode?: ReadAlertFileOptions;
  readonly grouping: Grouping;
  readonly observations: number;
  readonly intervalSeconds: number;
  readonly fast: boolean;
  readonly display?: DisplayPath | undefined;
  /** Partitions of the topic when it is created (an existing topic keeps its own). */
  readonly partitions: number;
  readonly encoding: StreamEncoding;
  /** Where writer schemas are registered: required for `confluent`; for `schemaless` it publishes the one schema. */
  readonly registryUrl?: string | undefined;
  readonly kafka: KafkaSettings;
  readonly sender?: BatchSenderOptions;
  readonly signal?: AbortSignal | undefined;
  /** Output lines (stdout). */
  readonly out: (line: string) => void;
  /** Skipped inputs and notes (stderr). */
  readonly warn: (line: string) => void;
  readonly progress?: ((total: number, unit: string) => ProgressBar) | undefined;
}

export interface SimulationResult extends ReplayResult {
  readonly topic: string;
  readonly partitions: number;
  readonly skipped: readonly SkippedInput[];
  /** Writer schemas used, with their registry ids (confluent, or schemaless with a registry). */
  readonly schemas: readonly { name: string; id: number | undefined }[];
}

const DEFAULT_SYNTHETIC_OBJECTS = 20_000;

/** Replays in-memory prepared alerts (already sorted). */
function arraySource(description: string, alerts: readonly PreparedAlert[]): ReplaySource {
  return {
    description,
    available: alerts.length,
    alerts: () => alerts,
    exposures: () => alerts.map((a) => a.exposure),
  };
}

/** Generates, encodes and streams synthetic alerts: memory stays at one observation plus what is in flight. */
function syntheticSource(spec: SyntheticSpec, preparer: AlertPreparer): ReplaySource {
  const options: SyntheticOptions = { seed: spec.seed, objects: spec.objects ?? DEFAULT_SYNTHETIC_OBJECTS, count: spec.count, cutouts: spec.cutouts ?? true };
  const schema = lsstAlertParsedSchema();
  async function* prepared(): AsyncGenerator<PreparedAlert> {
    for (const record of generateAlerts(options)) yield await preparer.prepare(record, schema);
  }
  return {
    description: `synthetic, seed ${spec.seed}`,
    available: spec.count,
    alerts: () => orderTies(prepared(), 'the synthetic generator'),
    // The generator's random streams are independent: without cutouts it yields the same alerts, faster.
    *exposures() {
      for (const record of generateAlerts({ ...options, cutouts: false })) yield exposureOf(record, toAlert(record, schema.name).mjd);
    },
  };
}

/** The partition count the topic has, or will have once created (nothing is created yet). */
async function plannedPartitions(spec: SimulationSpec): Promise<number> {
  const admin = createAdmin(spec.kafka, { role: 'simulator-admin' });
  try {
    const existing = await topicPartitions(admin, spec.topic);
    if (existing !== undefined && existing !== spec.partitions) spec.warn(`topic ${spec.topic} exists with ${existing} partitions; --partitions ${spec.partitions} is ignored`);
    return existing ?? spec.partitions;
  } finally {
    await admin.close();
  }
}

/** Creates the topic if needed, once there is something to send. */
async function prepareTopic(spec: SimulationSpec, partitions: number): Promise<number> {
  const admin = createAdmin(spec.kafka, { role: 'simulator-admin' });
  try {
    // Kafka itself refuses a message over the broker's default limit, so it never reaches the broker.
    return (await createTopic(admin, spec.topic, partitions, rawTopicConfig(DEFAULT_MAX_MESSAGE_BYTES))).partitions;
  } finally {
    await admin.close();
  }
}

/** Schemaless messages carry no schema: say which one consumers need and where to get it. */
async function announceSchemalessSchema(spec: SimulationSpec, schemas: readonly ParsedSchema[]): Promise<number | undefined> {
  if (schemas.length > 1) {
    throw new UserError(`schemaless encoding needs a single writer schema, but the data has ${schemas.length} (${schemas.map((s) => s.name).join(', ')}): use --encoding confluent or schema-in-key, or replay one kind of alert`);
  }
  const schema = schemas[0];
  if (schema === undefined) return undefined;
  if (spec.registryUrl !== undefined) {
    const id = await registerSchema(spec.registryUrl, valueSubject(spec.topic), schema.text);
    spec.warn(`schemaless Avro: consumers need writer schema ${schema.name}, registry id ${id}: ${spec.registryUrl}/schemas/ids/${id}`);
    return id;
  }
  const builtin = schema.text === lsstAlertParsedSchema().text ? ` (Nightjar's built-in schema, id ${LSST_SCHEMA_ID} in any Nightjar registry)` : '';
  spec.warn(`schemaless Avro: consumers need writer schema ${schema.name}${builtin}; give --registry URL to publish it`);
  return undefined;
}

export async function runSimulation(spec: SimulationSpec): Promise<SimulationResult> {
  if ((spec.data === undefined) === (spec.synthetic === undefined)) throw new UserError('give either data paths or a synthetic alert count');
  if (spec.encoding === 'confluent' && spec.registryUrl === undefined) throw new UserError('--encoding confluent needs a schema registry (--registry URL)');
  const partitions = await plannedPartitions(spec);
  const preparer = createAlertPreparer({ topic: spec.topic, encoding: spec.encoding, partitions, display: spec.display, registryUrl: spec.registryUrl });

  let source: ReplaySource;
  let skipped: SkippedInput[] = [];
  if (spec.data !== undefined) {
    const inputs = await listAlertInputs(spec.data);
    if (inputs.length === 0) throw new UserError(`no alert files (.avro, .avro.gz) or archives (.tar.gz) under ${spec.data.join(', ')}`);
    const bar = spec.progress?.(inputs.length, 'files');
    try {
      const loaded = await loadAlertInputs(inputs, {
        decode: spec.decode ?? {},
        preparer,
        signal: spec.signal,
        onSkip: (s) => {
          bar?.clear();
          spec.warn(`skipped ${s.name}: ${s.reason}`);
        },
        onProgress: () => bar?.advance(1),
      });
      skipped = loaded.skipped;
      source = arraySource(spec.data.join(', '), loaded.alerts);
    } finally {
      bar?.done();
    }
    if (source.available === 0 && !spec.signal?.aborted) throw new UserError(`no alert could be read from ${spec.data.join(', ')} (${skipped.length} inputs skipped)`);
  } else {
    source = syntheticSource(spec.synthetic as SyntheticSpec, preparer);
  }

  let schemalessId: number | undefined;
  if (spec.encoding === 'schemaless') {
    const used = spec.data !== undefined ? [...preparer.schemas.values()].map((s) => s.schema) : [lsstAlertParsedSchema()];
    schemalessId = await announceSchemalessSchema(spec, used);
  }

  const created = await prepareTopic(spec, partitions);
  if (created !== partitions) throw new Error(`topic ${spec.topic} was created meanwhile with ${created} partitions instead of ${partitions}; run again`);
  const producer = createProducer(spec.kafka, { role: 'simulator', timeout: 60_000 });
  let result: ReplayResult;
  try {
    result = await replay(source, {
      producer,
      grouping: spec.grouping,
      observations: spec.observations,
      intervalSeconds: spec.intervalSeconds,
      fast: spec.fast,
      sender: spec.sender,
      signal: spec.signal,
      out: spec.out,
      progress: spec.progress === undefined ? undefined : (total) => (spec.progress as NonNullable<SimulationSpec['progress']>)(total, 'alerts'),
    });
  } finally {
    await producer.close();
  }
  const schemas = [...preparer.schemas.values()].map(({ schema, id }) => ({ name: schema.name, id: id ?? schemalessId }));
  return { ...result, topic: spec.topic, partitions, skipped, schemas };
}
