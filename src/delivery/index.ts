// Filter-stream delivery: topic names, record formats (Lasair's JSON, Fink-style Avro), and the
// Kafka side (topics with retention, producing under a size limit, reset, rename, backfill).
export { DEFAULT_TOPIC_PREFIX, MAX_SANITISED_NAME, MAX_TOPIC_LENGTH, filterTopicName, sanitiseFilterName } from './topic-name.ts';
export type { JsonOutput, KafkaOutput, StreamOutput } from './output-modes.ts';
export { STREAM_OUTPUTS, STREAM_OUTPUT_LABELS, isJsonOutput, isKafkaOutput, parseStreamOutput } from './output-modes.ts';
export type { FilterRow, FullAlert, LiteForcedSource, LiteLightcurve, LiteSource } from './records.ts';
export { encodeJsonRecord, formatUtc, fullAlert, jsonRecord, liteLightcurve, plainRecord } from './records.ts';
export type { AvroColumnField, AvroStreamPlan, OutputColumn } from './avro-records.ts';
export { AVRO_NAMESPACE, avroName, avroRecord, avroStreamPlan, avroTypeOfDuckDb, encodeAvroRecord } from './avro-records.ts';
export { filterOutputColumns } from './output-columns.ts';
export type { AlertLookup, EncodeRowsOptions, EncodedRecord, EncodedRows, SizeLimited, StreamEncoder } from './stream-encoder.ts';
export { DEFAULT_MAX_RECORD_BYTES, applySizeLimit, avroStreamEncoder, createStreamEncoder, encodeRows, jsonStreamEncoder, recordBytes } from './stream-encoder.ts';
export type { BackfillInput, BackfillResult, FilterTopicInfo, FilterTopicOptions, ProduceCounts, ProduceOptions } from './filter-output.ts';
export {
  BACKFILL_RECORDS, DEFAULT_RETENTION_MS, backfill, ensureFilterTopic, moveFilterTopic, produceFilterRecords, resetFilterTopic, topicConfig, topicRetentionMs,
} from './filter-output.ts';
