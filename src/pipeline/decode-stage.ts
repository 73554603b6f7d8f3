// The first stage of a batch: every message decoded (any encoding Nightjar reads), each record
// adapted to the Alert model and given its `objects` row. A message that fails any step is not
// processed: it becomes a dead letter with the reason, and the batch goes on. A schema source
// that cannot answer (the registry is down) is not the message's fault: the stage throws
// SchemaUnavailableError and the pipeline retries the batch later, dead-lettering nothing.
//
// A message is the unit of dead-lettering: a container holding several alerts goes whole to the
// dead-letter topic when one of them cannot be processed (its other alerts are not processed
// either), so each message is either processed or dead-lettered, never half of each.
import { objectFeatures, type ObjectRow } from '../features/index.ts';
import { AdapterError, isNonAlertSchema, toAlert } from '../formats/adapters/index.ts';
import type { Alert } from '../formats/alert.ts';
import type { ParsedSchema } from '../formats/avro-schema.ts';
import { DecodeError, SchemaSourceError } from '../formats/errors.ts';
import { decodeMessage, type DecodedRecord } from '../formats/message.ts';
import type { SchemaSource } from '../formats/schema-source.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../kafka/topics.ts';
import type { AlertOrigin } from '../store/store.ts';
import { messageBytes, sourceOf, type DeadLetter, type DeadLetterKind } from './dead-letters.ts';
import type { InputMessage } from './input-message.ts';

/** How much larger than the message limit its decompressed data (gzip, container blocks) may be. */
export const DECOMPRESSION_ALLOWANCE = 8;

export interface DecodeSettings {
  /** Resolves Confluent schema ids (registry, schema directories, built-in schemas). */
  readonly schemas?: SchemaSource | undefined;
  /** Writer schema for schemaless messages, if the stream has one. */
  readonly schema?: ParsedSchema | undefined;
  /**
   * Larger messages (key + value + headers, in bytes) are dead-lettered as `oversized` without
   * being decoded; their dead letter leaves the payload out. Gzip data and container blocks
   * may decompress to DECOMPRESSION_ALLOWANCE times this, no more (decompression stops there).
   * Default DEFAULT_MAX_MESSAGE_BYTES.
   */
  readonly maxMessageBytes?: number | undefined;
}

/** One alert of the batch, ready for the store and the filters. */
export interface AcceptedAlert {
  alert: Alert;
  /** Its `objects` row (features from the alert and the history it carries). */
  row: ObjectRow;
  origin: AlertOrigin;
  /** Index of its message in the batch. */
  index: number;
}

export interface DecodedBatch {
  /** In message order (several per message for a container of several alerts). */
  accepted: AcceptedAlert[];
  /** In message order. */
  deadLetters: DeadLetter[];
}

/** The schema source did not answer: retry the batch later rather than dead-letter it. */
export class SchemaUnavailableError extends Error {
  readonly source: string;
  constructor(source: string, cause: SchemaSourceError) {
    super(`decoding ${source}: ${cause.message}`, { cause });
    this.name = 'SchemaUnavailableError';
    this.source = source;
  }
}

/** Why a decoder error happened, as a dead-letter kind. */
export function decodeErrorKind(err: DecodeError): DeadLetterKind {
  if (err.tooLarge) return 'oversized';
  if (err.cause instanceof SchemaSourceError) return 'schema-unknown';
  // Schemaless bytes with no schema to read them: without a schema they cannot be told from corrupt ones.
  if (err.schemaName === undefined && err.encoding === 'schemaless') return 'schema-unknown';
  return 'undecodable';
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

type Judged = { alerts: { alert: Alert; row: ObjectRow }[] } | { kind: DeadLetterKind; reason: string };

/** Adapts the decoded records of one message; the first record that fails decides its dead letter. */
function judgeRecords(decoded: readonly DecodedRecord[]): Judged {
  if (decoded.length === 0) return { kind: 'undecodable', reason: 'the message holds no records' };
  const alerts: { alert: Alert; row: ObjectRow }[] = [];
  for (const [i, d] of decoded.entries()) {
    const which = decoded.length > 1 ? ` (record ${i} of ${decoded.length})` : '';
    const schema = d.schema.name;
    if (isNonAlertSchema(schema)) return { kind: 'not-an-alert', reason: `not an alert${which}: schema ${schema}` };
    let alert: Alert;
    try {
      alert = toAlert(d.record, schema);
    } catch (err) {
      if (err instanceof AdapterError) {
        const kind: DeadLetterKind = err.problem === 'unsupported' ? 'not-an-alert' : err.problem === 'missing' ? 'missing-fields' : 'invalid-alert';
        return { kind, reason: `${err.message}${which}` };
      }
      return { kind: 'invalid-alert', reason: `schema ${schema}: the record could not be read as an alert${which}: ${describe(err)}` };
    }
    let row: ObjectRow;
    try {
      row = objectFeatures(alert);
    } catch (err) {
      return { kind: 'invalid-alert', reason: `schema ${schema}: features of object ${String(alert.objectId)} could not be computed${which}: ${describe(err)}` };
    }
    alerts.push({ alert, row });
  }
  return { alerts };
}

/**
 * Decodes and adapts a batch of messages. Throws SchemaUnavailableError when the schema source
 * cannot answer (nothing of the batch should then be processed or dead-lettered).
 */
export async function decodeBatch(messages: readonly InputMessage[], settings: DecodeSettings): Promise<DecodedBatch> {
  const out: DecodedBatch = { accepted: [], deadLetters: [] };
  const maxMessageBytes = settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) throw new Error(`maxMessageBytes must be a positive integer, not ${maxMessageBytes}`);
  const maxDecompressedBytes = maxMessageBytes * DECOMPRESSION_ALLOWANCE;
  for (let index = 0; index < messages.length; index++) {
    const m = messages[index] as InputMessage;
    const size = messageBytes(m);
    if (size > maxMessageBytes) {
      out.deadLetters.push({ index, kind: 'oversized', reason: `message of ${size} bytes is over the ${maxMessageBytes}-byte limit; not decoded`, omitPayload: true });
      continue;
    }
    if (m.value === null || m.value === undefined || m.value.length === 0) {
      out.deadLetters.push({ index, kind: 'empty', reason: 'message has no value' });
      continue;
    }
    const source = sourceOf(m);
    let decoded: DecodedRecord[];
    try {
      decoded = await decodeMessage(m.value, m.key, { schemas: settings.schemas, schema: settings.schema, source, maxDecompressedBytes });
    } catch (err) {
      if (err instanceof DecodeError) {
        out.deadLetters.push({ index, kind: decodeErrorKind(err), reason: err.message });
        continue;
      }
      if (err instanceof SchemaSourceError) throw new SchemaUnavailableError(source, err);
      out.deadLetters.push({ index, kind: 'undecodable', reason: `cannot decode ${source}: ${describe(err)}` });
      continue;
    }
    const judged = judgeRecords(decoded);
    if ('kind' in judged) {
      out.deadLetters.push({ index, kind: judged.kind, reason: judged.reason });
      continue;
    }
    const origin: AlertOrigin = { topic: m.topic, partition: m.partition, offset: m.offset };
    for (const { alert, row } of judged.alerts) out.accepted.push({ alert, row, origin, index });
  }
  return out;
}
