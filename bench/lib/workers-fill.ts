// Fills a raw topic for bench/workers.ts with synthetic Rubin alerts from the simulator's
// generator (seeded lightcurves, FITS cutouts, a year of history), encoded as `nightjar simulate
// --synthetic` sends them: Confluent wire format with the schema registered in a registry, keyed
// and partitioned by object (one object's alerts in one partition, hence with one worker).
//
// All of it is written in one Kafka transaction that stays open until `release`: the workers
// read committed data only, so they can all start, join the group and settle on their partitions
// while the topic looks empty to them, and then the whole topic appears at one instant. Without
// this, the worker that starts first would work alone for the seconds the others take to start.
// A committed transaction leaves a commit marker after its records in each partition, so a
// partition is fully processed when the group's committed offset reaches its record count
// (`perPartition`), one short of the end offset.
import { lsstAlertParsedSchema } from '../../src/formats/lsst-schema.ts';
import type { KafkaSettings } from '../../src/kafka/connection.ts';
import { sendAll, type OutgoingMessage } from '../../src/kafka/produce.ts';
import { TransactionalProducer } from '../../src/kafka/transactions.ts';
import { createAlertPreparer } from '../../src/simulate/prepared-alert.ts';
import { generateAlerts } from '../../src/simulate/synthetic.ts';
import { createLogger } from '../../src/util/log.ts';

export interface SyntheticFill {
  readonly kafka: KafkaSettings;
  readonly topic: string;
  readonly partitions: number;
  readonly registryUrl: string;
  readonly alerts: number;
  /** Object slots on the sky (the generator's `objects`). */
  readonly objects: number;
  readonly seed: number;
}

export interface HeldFill {
  readonly sent: number;
  readonly bytes: number;
  /** Generating, encoding and sending (not the time held open). */
  readonly seconds: number;
  /** Records per partition (index = partition). */
  readonly perPartition: readonly number[];
  /** Commits the transaction: the alerts become visible to read-committed consumers. Resolves with the epoch ms of the commit. */
  release(): Promise<number>;
  /** Aborts the transaction if it is still open, and closes the producer. */
  close(): Promise<void>;
}

/** Messages per sendAll call (each split into sends of about 1 MB). */
const CHUNK = 200;
/** How long the transaction may stay open: the fill plus the workers' start, on a loaded machine. */
const TRANSACTION_TIMEOUT_MS = 10 * 60_000;

/** Writes the alerts in an open transaction; resolves once all are acknowledged (still invisible). */
export async function fillHeld(options: SyntheticFill): Promise<HeldFill> {
  const log = createLogger({ component: 'bench-fill' });
  const producer = new TransactionalProducer(options.kafka, { transactionalId: `nightjar-bench-fill/${options.topic}`, timeoutMs: TRANSACTION_TIMEOUT_MS, role: 'bench-fill', log });
  const preparer = createAlertPreparer({ topic: options.topic, encoding: 'confluent', partitions: options.partitions, registryUrl: options.registryUrl });
  const schema = lsstAlertParsedSchema();
  const perPartition = Array.from({ length: options.partitions }, () => 0);
  let sent = 0;
  let bytes = 0;
  let release: (commit: boolean) => void = () => {};
  const released = new Promise<boolean>((resolve) => (release = resolve));
  let written: () => void = () => {};
  const allWritten = new Promise<void>((resolve) => (written = resolve));
  const started = performance.now();
  let seconds = 0;

  const transaction = producer.run({
    topics: [options.topic],
    send: async (tx) => {
      let chunk: OutgoingMessage[] = [];
      const flush = async (): Promise<void> => {
        await sendAll(tx, chunk);
        chunk = [];
      };
      for (const record of generateAlerts({ seed: options.seed, objects: options.objects, count: options.alerts, cutouts: true })) {
        const { message } = await preparer.prepare(record, schema);
        chunk.push(message);
        perPartition[message.partition] = (perPartition[message.partition] ?? 0) + 1;
        sent++;
        bytes += message.value.length + (message.key?.length ?? 0);
        if (chunk.length >= CHUNK) await flush();
      }
      if (chunk.length > 0) await flush();
      if (sent !== options.alerts) throw new Error(`the generator gave ${sent} of ${options.alerts} alerts`);
      seconds = (performance.now() - started) / 1000;
      written();
      if (!(await released)) throw new Error('the benchmark fill was abandoned');
    },
  });
  transaction.catch(() => undefined);
  try {
    await Promise.race([allWritten, transaction.then(() => Promise.reject(new Error('the fill transaction ended before it was released')))]);
  } catch (err) {
    release(false);
    await producer.close().catch(() => undefined);
    throw new Error(`filling ${options.topic}: ${(err as Error).message}`, { cause: err });
  }

  return {
    sent,
    bytes,
    seconds,
    perPartition,
    async release() {
      release(true);
      await transaction;
      return Date.now();
    },
    async close() {
      release(false);
      await transaction.catch(() => undefined);
      await producer.close().catch(() => undefined);
    },
  };
}
