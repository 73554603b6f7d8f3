// What a filter does with its matches, as in Lasair's "Streaming" setting, plus the Avro stream
// that fink-client reads.
import { UserError } from '../util/errors.ts';

export const STREAM_OUTPUTS = ['none', 'email', 'kafka', 'kafka-lite', 'kafka-full', 'kafka-avro'] as const;
export type StreamOutput = (typeof STREAM_OUTPUTS)[number];
/** The outputs that write to the filter's Kafka topic. */
export type KafkaOutput = 'kafka' | 'kafka-lite' | 'kafka-full' | 'kafka-avro';
/** The Kafka outputs written as JSON (Lasair's three formats). */
export type JsonOutput = 'kafka' | 'kafka-lite' | 'kafka-full';

/** Labels as the web form shows them (Lasair's wording for its five). */
export const STREAM_OUTPUT_LABELS: Readonly<Record<StreamOutput, string>> = {
  none: 'silent',
  email: 'email - daily digest',
  kafka: 'kafka stream',
  'kafka-lite': 'kafka stream with lite lightcurve',
  'kafka-full': 'kafka stream with full alert',
  'kafka-avro': 'kafka stream in Avro (for fink-client)',
};

export function isKafkaOutput(output: StreamOutput): output is KafkaOutput {
  return output.startsWith('kafka');
}

export function isJsonOutput(output: StreamOutput): output is JsonOutput {
  return output === 'kafka' || output === 'kafka-lite' || output === 'kafka-full';
}

/** Reads an output name as typed in a config file or on a command line. */
export function parseStreamOutput(text: string): StreamOutput {
  const value = text.trim().toLowerCase();
  const found = STREAM_OUTPUTS.find((o) => o === value);
  if (found === undefined) throw new UserError(`unknown stream output "${text}"; expected one of ${STREAM_OUTPUTS.join(', ')}`);
  return found;
}
