// `nightjar simulate`: replay alert files (or synthetic alerts) into a Kafka topic at survey
// cadence, like fink-alert-simulator and the LSST prototype's sendAlertStream.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { describeError } from '../kafka/errors.ts';
import { defaultRegistryStoreFile, registryPreload } from '../registry/registry-preload.ts';
import { startRegistryServer, type RunningRegistry } from '../registry/registry-server.ts';
import { openRegistryStore } from '../registry/registry-store.ts';
import { RUBIN_CADENCE, type Grouping } from '../simulate/cadence.ts';
import { parseDisplayPath } from '../simulate/display-field.ts';
import { STREAM_ENCODINGS, type StreamEncoding } from '../simulate/prepared-alert.ts';
import { createProgressBar } from '../util/progress-bar.ts';
import { runSimulation } from '../simulate/simulation.ts';
import { UserError } from '../util/errors.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { addSchemaOptions, decodeOptionsFrom, type SchemaFlags } from './schema-options.ts';
import { integerFlag } from './flag-values.ts';

interface SimulateFlags extends KafkaFlags, SchemaFlags {
  topic: string;
  data?: string[];
  synthetic?: string;
  seed: string;
  cutouts: boolean;
  alertsPerObservation?: string;
  rubin?: boolean;
  observations: string;
  interval?: string;
  fast?: boolean;
  display?: string;
  partitions: string;
  encoding: string;
}

/** Exit status when the replay finished but some inputs could not be read (they were reported). */
export const EXIT_SKIPPED = 2;
/** Exit status after Ctrl-C (128 + SIGINT), once what was sent is flushed. */
export const EXIT_INTERRUPTED = 130;

const DEFAULT_INTERVAL_SECONDS = RUBIN_CADENCE.intervalSeconds;

export function registerSimulateCommand(program: Command): void {
  const command = program
    .command('simulate')
    .description('replay alerts into a Kafka topic at survey cadence, in observation-time order, keyed by object id')
    .requiredOption('--topic <name>', 'topic to write (created if missing)')
    .option('--data <paths...>', 'alert files (.avro, .avro.gz, any encoding), folders of them (nights), and .tar.gz night archives')
    .option('--synthetic <n>', 'instead of files: n synthetic Rubin alerts (lsst.v10_0)')
    .option('--seed <n>', 'seed of the synthetic alerts', '42')
    .option('--no-cutouts', 'synthetic alerts without cutout images')
    .option('--alerts-per-observation <k>', 'alerts per observation (default: one observation per visit of the data)')
    .option('--rubin', `Rubin's cadence: ${RUBIN_CADENCE.perObservation} alerts per observation every ${RUBIN_CADENCE.intervalSeconds} s`)
    .option('--observations <n>', 'number of observations to send (-1 = all)', '-1')
    .option('--interval <seconds>', `seconds between observation starts (default ${DEFAULT_INTERVAL_SECONDS})`)
    .option('--fast', 'as fast as possible: no waiting between observations')
    .option('--display <path>', 'field printed for the first and last alert of each observation, e.g. diaSource.midpointMjdTai (default: the observation MJD)')
    .option('--partitions <n>', 'partitions of the topic when it is created', '3')
    .option('--encoding <name>', `message encoding: ${STREAM_ENCODINGS.join(', ')} (confluent: schema ids from a registry, Rubin's convention; container: ZTF's; schema-in-key: Fink's)`, 'confluent');
  addKafkaOptions(addSchemaOptions(command))
    .addHelpText('after', `
Confluent encoding registers each writer schema with the registry given by --registry (subject
<topic>-value); without --registry, Nightjar's registry runs in-process on 127.0.0.1 while the
replay runs, keeping its ids in .data/registry/ (\`nightjar registry\` serves them afterwards).
--registry and --schema-dir also resolve the schema ids of Confluent-framed input files.

Exit status: 0 all sent; ${EXIT_SKIPPED} all readable alerts sent, but some inputs were skipped (reported on
stderr with the reason); ${EXIT_INTERRUPTED} stopped by Ctrl-C after flushing what was sent; 1 error.`)
    .action(async (flags: SimulateFlags) => runSimulateCommand(flags));
}

function gridFrom(flags: SimulateFlags): { grouping: Grouping; intervalSeconds: number } {
  const perObservation = flags.alertsPerObservation !== undefined ? integerFlag(flags.alertsPerObservation, '--alerts-per-observation', 1) : flags.rubin ? RUBIN_CADENCE.perObservation : undefined;
  let intervalSeconds: number = flags.rubin ? RUBIN_CADENCE.intervalSeconds : DEFAULT_INTERVAL_SECONDS;
  if (flags.interval !== undefined) {
    intervalSeconds = Number(flags.interval);
    if (!(intervalSeconds >= 0) || !Number.isFinite(intervalSeconds)) throw new UserError(`--interval must be a number of seconds, not "${flags.interval}"`);
  }
  return { grouping: perObservation === undefined ? { kind: 'exposure' } : { kind: 'fixed', perObservation }, intervalSeconds };
}

/** Nightjar's registry in this process, for a confluent replay without --registry. */
async function startInProcessRegistry(schemaDirs: readonly string[]): Promise<RunningRegistry> {
  const file = defaultRegistryStoreFile();
  try {
    const store = openRegistryStore({ file, preload: registryPreload(schemaDirs).schemas });
    const registry = await startRegistryServer({ store });
    process.stderr.write(`schema registry: ${registry.url} (in-process, while the replay runs; ids kept in ${file}, served afterwards by \`nightjar registry\`)\n`);
    return registry;
  } catch (err) {
    throw new UserError(`cannot start the schema registry: ${(err as Error).message}`);
  }
}

async function runSimulateCommand(flags: SimulateFlags): Promise<void> {
  if ((flags.data === undefined) === (flags.synthetic === undefined)) throw new UserError('give --data PATH... or --synthetic N (one of them)');
  if (flags.rubin && flags.alertsPerObservation !== undefined) throw new UserError('--rubin sets 10,000 alerts per observation; give --rubin or --alerts-per-observation, not both');
  if (!(STREAM_ENCODINGS as readonly string[]).includes(flags.encoding)) throw new UserError(`--encoding must be one of ${STREAM_ENCODINGS.join(', ')}, not "${flags.encoding}"`);
  for (const given of flags.data ?? []) if (!existsSync(given)) throw new UserError(`--data ${given}: no such file or folder`);
  const encoding = flags.encoding as StreamEncoding;
  const { grouping, intervalSeconds } = gridFrom(flags);
  const observations = integerFlag(flags.observations, '--observations', -1);
  const partitions = integerFlag(flags.partitions, '--partitions', 1);
  const display = flags.display === undefined ? undefined : parseDisplayPath(flags.display);
  const synthetic = flags.synthetic === undefined ? undefined : { count: integerFlag(flags.synthetic, '--synthetic', 1), seed: integerFlag(flags.seed, '--seed', 0), cutouts: flags.cutouts };
  const kafka = kafkaSettingsFrom(flags);
  const decode = decodeOptionsFrom(flags);

  const stop = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
    process.stderr.write('\nstopping: waiting for the alerts already sent to be acknowledged (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let registry: RunningRegistry | undefined;
  try {
    if (encoding === 'confluent' && flags.registry === undefined) registry = await startInProcessRegistry(flags.schemaDir ?? []);
    const stderrTty = process.stderr.isTTY === true;
    const result = await runSimulation({
      topic: flags.topic,
      ...(flags.data !== undefined ? { data: flags.data } : {}),
      ...(synthetic !== undefined ? { synthetic } : {}),
      decode,
      grouping,
      observations,
      intervalSeconds,
      fast: flags.fast === true,
      display,
      partitions,
      encoding,
      registryUrl: flags.registry ?? registry?.url,
      kafka,
      signal: stop.signal,
      out: (line) => void process.stdout.write(line + '\n'),
      warn: (line) => void process.stderr.write(`nightjar simulate: ${line}\n`),
      progress: stderrTty ? (total, unit) => createProgressBar(total, { write: (t) => process.stderr.write(t), columns: process.stderr.columns }, unit) : undefined,
    });
    const rate = result.seconds > 0 ? ` (${Math.round(result.sent / result.seconds)} alerts/s, ${(result.bytes / 1e6 / result.seconds).toFixed(1)} MB/s)` : '';
    process.stderr.write(`nightjar simulate: ${result.sent} alerts sent to ${result.topic} (${result.partitions} partitions) in ${result.seconds.toFixed(2)} s${rate}${result.skipped.length > 0 ? `; ${result.skipped.length} inputs skipped` : ''}\n`);
    if (result.interrupted) process.exitCode = EXIT_INTERRUPTED;
    else if (result.skipped.length > 0) process.exitCode = EXIT_SKIPPED;
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (process.env.NIGHTJAR_LOG_LEVEL === 'debug') process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    throw new UserError(`simulate failed: ${describeError(err)}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await registry?.close();
  }
}
