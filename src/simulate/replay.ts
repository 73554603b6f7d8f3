// The replay loop: time-ordered, pre-encoded alerts cut into observations, each sent as one
// burst at its due time (or all back to back in as-fast-as-possible mode), with the lines
// fink-alert-simulator prints:
//   Total alert available (<source>): N
//   Total alert to be sent: N
//   t0: <epoch seconds>
//   Observation start: t0 + : X.XX seconds
//   <n> alerts sent (<first> to <last>)
//   Observation <k> done...
import type { BytesProducer } from '../kafka/connection.ts';
import { BatchSender, type BatchSenderOptions } from './batch-sender.ts';
import { groupObservations, observationDueMs, plannedCount, type Grouping } from './cadence.ts';
import type { PreparedAlert } from './prepared-alert.ts';
import type { ProgressBar } from '../util/progress-bar.ts';
import { sleep } from '../util/sleep.ts';

export interface ReplaySource {
  /** Shown in `Total alert available (<description>)`: the data folders, or the synthetic seed. */
  readonly description: string;
  readonly available: number;
  /** The alerts, in time order. */
  alerts(): AsyncIterable<PreparedAlert> | Iterable<PreparedAlert>;
  /** The exposures of the alerts in the same order (to count what a limited replay sends). */
  exposures(): Iterable<string>;
}

export interface ReplayOptions {
  readonly producer: BytesProducer;
  readonly grouping: Grouping;
  /** Number of observations to send; -1 = all. */
  readonly observations: number;
  readonly intervalSeconds: number;
  /** As fast as possible: no waiting between observations, sends pipelined across them. */
  readonly fast: boolean;
  readonly sender?: BatchSenderOptions;
  /** Ctrl-C: stops issuing, waits for what was sent to be acknowledged, reports. */
  readonly signal?: AbortSignal | undefined;
  /** Receives each output line (without newline). */
  readonly out: (line: string) => void;
  /** A progress display for `total` alerts (a terminal bar), if wanted. */
  readonly progress?: ((total: number) => ProgressBar) | undefined;
}

export interface ReplayResult {
  readonly available: number;
  readonly planned: number;
  /** Alerts acknowledged by Kafka. */
  readonly sent: number;
  readonly bytes: number;
  readonly observations: number;
  readonly interrupted: boolean;
  /** From t0 to the last acknowledgement. */
  readonly seconds: number;
}

/** Epoch seconds with sub-millisecond digits, like Python's time.time(). */
function epochSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

export async function replay(source: ReplaySource, options: ReplayOptions): Promise<ReplayResult> {
  const { grouping, signal } = options;
  const planned = plannedCount(source.available, () => source.exposures(), grouping, options.observations);
  const bar = options.progress?.(planned);
  const out = (line: string): void => {
    bar?.clear();
    options.out(line);
  };
  let bytes = 0;
  const sender = new BatchSender(options.producer, {
    ...options.sender,
    onAcked: (messages, size) => {
      bytes += size;
      bar?.advance(messages);
    },
  });

  out(`Total alert available (${source.description}): ${source.available}`);
  out(`Total alert to be sent: ${planned}`);
  const t0 = epochSeconds();
  const t0Ms = t0 * 1000;
  out(`t0: ${t0}`);

  let sent = 0;
  let observations = 0;
  let interrupted = false;
  let reporting: Promise<void> = Promise.resolve();
  try {
    for await (const observation of groupObservations(source.alerts(), grouping, options.observations)) {
      if (signal?.aborted || sender.error !== undefined) break;
      if (!options.fast) await sleep(observationDueMs(t0Ms, observations, options.intervalSeconds) - epochSeconds() * 1000, signal);
      if (signal?.aborted) break;
      const start = epochSeconds() - t0;
      const submission = await sender.submit(observation.map((a) => a.message), signal);
      observations++;
      const k = observations;
      const { issued } = submission;
      const size = observation.length;
      const first = observation[0]?.display;
      const last = observation[issued - 1]?.display;
      // Lines are printed once Kafka has acknowledged the observation, in order, also when
      // fast mode already sends the next ones.
      reporting = reporting
        .then(() => submission.acked)
        .then(() => {
          sent += issued;
          out(`Observation start: t0 + : ${start.toFixed(2)} seconds`);
          out(`${issued} alerts sent (${first} to ${last})`);
          out(issued === size ? `Observation ${k} done...` : `Observation ${k} interrupted after ${issued} of ${size} alerts`);
        });
      reporting.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
      if (!options.fast) await reporting;
      if (issued < size) break;
    }
    interrupted = signal?.aborted ?? false;
    await reporting;
    await sender.flush();
  } finally {
    // Even on failure: wait for what is in flight so the producer closes on a quiet connection.
    await sender.flush().catch(() => {});
    bar?.done();
  }
  const seconds = epochSeconds() - t0;
  if (interrupted) out(`Interrupted: ${sent} of ${planned} alerts sent`);
  return { available: source.available, planned, sent, bytes, observations, interrupted, seconds };
}
