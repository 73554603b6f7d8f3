// A message as the pipeline reads it: the fields of @platformatic/kafka's consumed Message that
// the stages use, so tests and benchmarks can hand the stages plain objects.
export interface InputMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null | undefined;
  readonly value: Buffer | null | undefined;
  readonly headers: ReadonlyMap<Buffer, Buffer>;
  /** Kafka's message timestamp, ms since the epoch. */
  readonly timestamp: bigint;
}
