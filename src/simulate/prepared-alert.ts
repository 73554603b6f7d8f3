// One alert ready to send: its Kafka message already encoded (so the send loop does nothing but
// send), plus what ordering, grouping and the printed lines need. Preparing drops the decoded
// record, so a loaded night costs about its encoded size in memory.
import { toAlert } from '../formats/adapters/index.ts';
import type { ParsedSchema } from '../formats/avro-schema.ts';
import { encodeMessage } from '../formats/message.ts';
import type { OutgoingMessage } from '../kafka/produce.ts';
import { registerSchema } from '../registry/registry-client.ts';
import { displayValue, type DisplayPath } from './display-field.ts';
import { partitionForKey } from './partitioning.ts';

export type StreamEncoding = 'confluent' | 'container' | 'schemaless' | 'schema-in-key';
export const STREAM_ENCODINGS: readonly StreamEncoding[] = ['confluent', 'container', 'schemaless', 'schema-in-key'];

export interface PreparedAlert {
  /** Observation time of the triggering detection (Alert.mjd). */
  readonly mjd: number;
  readonly sourceId: bigint;
  /** The object id as text: the Kafka key (or the partitioning key for schema-in-key). */
  readonly objectId: string;
  /** Visit (or exposure time) the alert came from, for exposure grouping. */
  readonly exposure: string;
  /** The display field's value, as printed. */
  readonly display: string;
  readonly message: OutgoingMessage & { partition: number };
}

export interface PreparerOptions {
  readonly topic: string;
  readonly encoding: StreamEncoding;
  readonly partitions: number;
  /** Field to print; undefined prints the observation MJD. */
  readonly display?: DisplayPath | undefined;
  /** Registry for 'confluent' (the writer schemas are registered there, subject `<topic>-value`). */
  readonly registryUrl?: string | undefined;
}

export interface AlertPreparer {
  /** Encodes one decoded record; throws AdapterError when it is not an alert, SchemaSourceError when registration fails. */
  prepare(record: Record<string, unknown>, schema: ParsedSchema): Promise<PreparedAlert>;
  /** Every writer schema met so far, with its registry id (confluent) or undefined. */
  readonly schemas: ReadonlyMap<string, { schema: ParsedSchema; id: number | undefined }>;
}

/** Confluent's default TopicNameStrategy: the value schema of topic T is subject `T-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** The exposure of a record: Rubin's diaSource.visit where there is one, else the observation time. */
export function exposureOf(record: Record<string, unknown>, mjd: number): string {
  const source = record.diaSource;
  if (source !== null && typeof source === 'object') {
    const visit = (source as Record<string, unknown>).visit;
    if (typeof visit === 'bigint' || typeof visit === 'number') return `visit ${visit}`;
  }
  return `mjd ${mjd}`;
}

export function createAlertPreparer(options: PreparerOptions): AlertPreparer {
  if (options.encoding === 'confluent' && options.registryUrl === undefined) throw new Error('the confluent encoding needs a schema registry URL');
  const schemas = new Map<string, { schema: ParsedSchema; id: number | undefined }>();
  const ids = new Map<string, Promise<number>>();

  const schemaIdOf = (schema: ParsedSchema): Promise<number> => {
    let id = ids.get(schema.text);
    if (id === undefined) {
      id = registerSchema(options.registryUrl as string, valueSubject(options.topic), schema.text);
      ids.set(schema.text, id);
      id.catch(() => ids.delete(schema.text));
    }
    return id;
  };

  return {
    schemas,
    async prepare(record, schema) {
      const alert = toAlert(record, schema.name);
      let schemaId: number | undefined;
      if (options.encoding === 'confluent') schemaId = await schemaIdOf(schema);
      if (!schemas.has(schema.text)) schemas.set(schema.text, { schema, id: schemaId });
      const objectId = String(alert.objectId);
      const objectKey = Buffer.from(objectId, 'utf8');
      const { key, value } = encodeMessage(record, { encoding: options.encoding, schema, schemaId });
      return {
        mjd: alert.mjd,
        sourceId: alert.sourceId,
        objectId,
        exposure: exposureOf(record, alert.mjd),
        display: options.display === undefined ? String(alert.mjd) : displayValue(record, options.display),
        message: { topic: options.topic, key: key ?? objectKey, value, partition: partitionForKey(objectKey, options.partitions) },
      };
    },
  };
}
