// Messages the broker cannot process go to the dead-letter topic as they came (value, key and
// headers untouched), with two headers added: why (`nightjar-error`, one line) and where they
// were read (`nightjar-source`, "topic/partition/offset"); `nightjar-error-kind` gives the reason
// as one word, for counting and for replaying one kind after a fix.
//
// The exception is a message over the size limit: copying it would make the dead-letter topic
// take what the broker refused (and a topic with a smaller max.message.bytes would refuse it,
// stalling the stream). Its dead letter has no key and an empty value, and says its size in
// `nightjar-original-bytes`; the original stays in the raw topic at `nightjar-source`.
import type { OutgoingMessage } from '../kafka/produce.ts';
import type { InputMessage } from './input-message.ts';

/** Header of a dead-lettered message: why it was not processed. */
export const ERROR_HEADER = 'nightjar-error';
/** Header of a dead-lettered message: the reason as one word (a DeadLetterKind). */
export const ERROR_KIND_HEADER = 'nightjar-error-kind';
/** Header of a dead-lettered message: where it was read, "topic/partition/offset". */
export const SOURCE_HEADER = 'nightjar-source';
/** Header of an oversized message's dead letter: its key + value + headers size in bytes (the payload is left out). */
export const ORIGINAL_BYTES_HEADER = 'nightjar-original-bytes';

/**
 * Why a message was not processed:
 * - `empty`: no value;
 * - `undecodable`: the bytes are not Avro in any encoding Nightjar reads (corrupt, truncated, JSON);
 * - `schema-unknown`: a Confluent schema id no schema source knows, or schemaless Avro without a schema;
 * - `not-an-alert`: decoded, but a record of another kind (e.g. a broker classification) or a layout no adapter knows;
 * - `missing-fields`: an alert record without a field the broker needs;
 * - `invalid-alert`: an alert record with an unusable value (or one the adapter or the features cannot read);
 * - `oversized`: larger than the size limit (not decoded), or its data decompresses to more than the limit allows.
 */
export const DEAD_LETTER_KINDS = ['empty', 'undecodable', 'schema-unknown', 'not-an-alert', 'missing-fields', 'invalid-alert', 'oversized'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

export interface DeadLetter {
  /** Index of the message in its batch. */
  index: number;
  kind: DeadLetterKind;
  /** One line naming what was wrong (and, from the decoder, where in the bytes). */
  reason: string;
  /** The message is over the size limit: its dead letter carries no key, value or original headers. */
  omitPayload?: boolean;
}

/** A message's size as the limit counts it: key, value and headers. */
export function messageBytes(m: Pick<InputMessage, 'key' | 'value' | 'headers'>): number {
  let size = (m.value?.length ?? 0) + (m.key?.length ?? 0);
  for (const [name, value] of m.headers) size += name.length + value.length;
  return size;
}

export function sourceOf(m: { topic: string; partition: number; offset: bigint }): string {
  return `${m.topic}/${m.partition}/${m.offset}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 2000 ? `${flat.slice(0, 1999)}…` : flat;
}

/** The message as it came, plus the reason and where it was read, for the dead-letter topic. */
export function deadLetterMessage(m: InputMessage, letter: DeadLetter, topic: string): OutgoingMessage {
  // Headers of an earlier dead-lettering (a replayed dead letter) give way to the new ones.
  const ours = new Set([ERROR_HEADER, ERROR_KIND_HEADER, SOURCE_HEADER, ORIGINAL_BYTES_HEADER]);
  const kept = letter.omitPayload === true ? [] : [...m.headers].filter(([name]) => !ours.has(name.toString()));
  const headers = new Map<Buffer, Buffer>(kept);
  headers.set(Buffer.from(ERROR_HEADER), Buffer.from(oneLine(letter.reason)));
  headers.set(Buffer.from(ERROR_KIND_HEADER), Buffer.from(letter.kind));
  headers.set(Buffer.from(SOURCE_HEADER), Buffer.from(sourceOf(m)));
  if (letter.omitPayload === true) {
    headers.set(Buffer.from(ORIGINAL_BYTES_HEADER), Buffer.from(String(messageBytes(m))));
    return { topic, value: Buffer.alloc(0), headers };
  }
  const key = m.key === null || m.key === undefined ? undefined : m.key;
  return { topic, value: m.value ?? Buffer.alloc(0), headers, ...(key === undefined ? {} : { key }) };
}
