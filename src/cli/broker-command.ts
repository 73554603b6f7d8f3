// `nightjar broker --topics T1[,T2]`: the alert broker. Consumes raw alert topics as a member of
// a consumer group, in batches; stores objects and lightcurves; runs every active filter on
// every batch; produces the matches to the filters' topics; dead-letters what it cannot read;
// commits the input offsets once all of that is acknowledged. Serves /metrics, /health and the
// filter API (/api/filters, used by `nightjar filter`) on 127.0.0.1.
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_TOPIC_PREFIX } from '../delivery/topic-name.ts';
import { repoRoot } from '../kafka/local-config.ts';
import { describeError } from '../kafka/errors.ts';
import { DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_GROUP_ID, startBroker, type RunningBroker } from '../pipeline/broker.ts';
import { DEFAULT_HTTP_PORT } from '../pipeline/http-server.ts';
import type { BatchReport } from '../pipeline/pipeline.ts';
import { UserError } from '../util/errors.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { addSchemaOptions, decodeOptionsFrom, type SchemaFlags } from './schema-options.ts';
import { integerFlag } from './flag-values.ts';

export const DEFAULT_STORE_PATH = path.join(repoRoot, '.data', 'nightjar.duckdb');

interface BrokerFlags extends KafkaFlags, SchemaFlags {
  topics: string;
  group: string;
  from: string;
  store: string;
  httpPort: string;
  topicPrefix: string;
  deadLetterTopic: string;
  batchSize: string;
  batchMs: string;
  rowLimit: string;
  filterTimeout: string;
  timeout?: string;
  quiet?: boolean;
}

const HELP = `
Each batch (up to --batch-size messages, or what arrived within --batch-ms of its first
message) is decoded, stored (objects, lightcurves) and loaded into an in-memory table that
every active filter runs on (at most --row-limit rows per filter per batch). Matches go to
each filter's topic (<prefix>_<user id><filter name>) as Lasair's JSON records (plain, lite
lightcurve, full alert) or as Avro with the schema in the key (fink-client). Messages that
cannot be processed go to the dead-letter topic unchanged, with headers nightjar-error (the
reason), nightjar-error-kind and nightjar-source (topic/partition/offset). Input offsets are
committed only when all of a batch's records are acknowledged: after a crash the batch is
processed again (at-least-once), nothing is lost. If the schema registry does not answer,
the batch waits and is retried; nothing is dead-lettered for it.

Filters: \`nightjar filter add|list|show|update|remove\` talks to this broker's API; changes
apply from the next batch. HTTP on 127.0.0.1:--http-port: GET /metrics (Prometheus),
GET /health, /api/filters. One line per batch on stdout (--quiet: none); logs on stderr.
Ctrl-C finishes the batch under way, commits it and stops (twice: at once).`;

export function registerBrokerCommand(program: Command): void {
  const command = program
    .command('broker')
    .description('run the alert broker: raw alert topics in, filters on every batch, filter streams out')
    .requiredOption('--topics <t1,t2,...>', 'raw alert topics to consume (comma-separated)')
    .option('--group <id>', 'consumer group (broker processes with one group share the partitions)', DEFAULT_GROUP_ID)
    .option('--from <earliest|latest>', 'where a group without committed offsets starts', 'earliest')
    .option('--store <file.duckdb>', 'the store (DuckDB file, created if missing; one broker process at a time)', DEFAULT_STORE_PATH)
    .option('--http-port <port>', 'port of /metrics, /health and /api/filters on 127.0.0.1 (0: any free port)', String(DEFAULT_HTTP_PORT))
    .option('--topic-prefix <prefix>', 'first part of filter topic names', DEFAULT_TOPIC_PREFIX)
    .option('--dead-letter-topic <topic>', 'where messages that cannot be processed go (created if missing)', DEFAULT_DEAD_LETTER_TOPIC)
    .option('--batch-size <n>', 'most messages per batch (a Rubin visit is ~10,000 alerts)', '10000')
    .option('--batch-ms <ms>', 'longest wait after the first message of a batch', '1000')
    .option('--row-limit <n>', 'rows delivered per filter per batch (Lasair: 1000)', '1000')
    .option('--filter-timeout <seconds>', 'time allowed per filter per batch (Lasair: 20)', '20')
    .option('--timeout <seconds>', 'stop after this many seconds without a message (default: run until Ctrl-C)')
    .option('--quiet', 'no line per batch on stdout');
  addKafkaOptions(addSchemaOptions(command)).addHelpText('after', HELP).action(async (flags: BrokerFlags) => runBrokerCommand(flags));
}

function seconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a positive number of seconds, not "${text}"`);
  return n * 1000;
}

/** One line per batch: counts, time, and each filter that matched. */
export function batchLine(r: BatchReport): string {
  const kinds = Object.entries(r.deadLettersByKind).map(([k, n]) => `${n} ${k}`).join(', ');
  const dead = r.deadLetters === 0 ? '0 dead letters' : `${r.deadLetters} dead letter${r.deadLetters === 1 ? '' : 's'} (${kinds})`;
  const matched = r.filters.filter((f) => f.matched > 0 || f.error !== undefined);
  const filters = matched.length === 0 ? 'no matches' : matched.map((f) => (f.error !== undefined ? `#${f.id} failed` : `#${f.id} ${f.matched}${f.topic === null ? '' : `→${f.records}`}`)).join(', ');
  return `batch ${r.number}: ${r.messages} messages, ${r.processed} alerts, ${r.objects} objects, ${dead}; ${r.filters.length} filters: ${filters}; ${(r.elapsedMs / 1000).toFixed(2)} s`;
}

async function runBrokerCommand(flags: BrokerFlags): Promise<void> {
  const topics = flags.topics.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (topics.length === 0) throw new UserError('--topics needs at least one topic');
  if (flags.from !== 'earliest' && flags.from !== 'latest') throw new UserError(`--from must be earliest or latest, not "${flags.from}"`);
  const httpPort = integerFlag(flags.httpPort, '--http-port', 0);
  if (httpPort > 65535) throw new UserError(`--http-port must be at most 65535, not ${httpPort}`);
  const kafka = kafkaSettingsFrom(flags);
  const decode = decodeOptionsFrom(flags);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);

  let broker: RunningBroker;
  try {
    broker = await startBroker({
      kafka,
      topics,
      groupId: flags.group,
      from: flags.from,
      store: path.resolve(flags.store),
      httpPort,
      topicPrefix: flags.topicPrefix,
      deadLetterTopic: flags.deadLetterTopic,
      batchSize: integerFlag(flags.batchSize, '--batch-size', 1),
      batchMs: integerFlag(flags.batchMs, '--batch-ms', 1),
      rowLimit: integerFlag(flags.rowLimit, '--row-limit', 1),
      filterTimeLimitMs: seconds(flags.filterTimeout, '--filter-timeout'),
      ...(flags.timeout === undefined ? {} : { idleMs: seconds(flags.timeout, '--timeout') }),
      decode,
      ...(flags.quiet ? {} : { onBatch: (r: BatchReport) => say(batchLine(r)) }),
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`the broker could not start: ${describeError(err)}`);
  }

  const filters = broker.pipeline.filters.filters;
  say(`broker: consuming ${topics.join(', ')} as group ${broker.groupId}; store ${broker.store.location}; dead letters to ${broker.deadLetterTopic}`);
  if (broker.http !== null) say(`broker: ${broker.http.url}/metrics (Prometheus), ${broker.http.url}/health, ${broker.http.url}/api/filters`);
  say(`broker: ${filters.length} active filters${filters.length === 0 ? ' (add one: ./nightjar filter add --help)' : ''}`);
  for (const f of filters) say(`  #${f.stored.id} ${JSON.stringify(f.stored.name)} (${f.stored.output})${f.kafka === null ? '' : ` → ${f.kafka.topic}`}`);

  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping: finishing the batch under way (Ctrl-C again to quit at once)\n');
    void broker.stop().catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await broker.done.finally(() => broker.stop());
    const why = result.stoppedBy === 'idle' ? `no message for ${flags.timeout} s` : result.stoppedBy === 'aborted' ? 'interrupted' : 'the stream closed';
    say(`broker stopped (${why}): ${result.batches} batches, ${result.messages} messages`);
  } catch (err) {
    throw new UserError(`the broker stopped: ${describeError(err)}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
