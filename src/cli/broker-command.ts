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
import { DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_GROUP_ID, DEFAULT_INSTANCE, startBroker, type RunningBroker } from '../pipeline/broker.ts';
import { DEFAULT_HTTP_PORT } from '../pipeline/http-server.ts';
import { DEFAULT_BATCH_BYTES } from '../pipeline/ingest.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../kafka/topics.ts';
import { DEFAULT_CUTOUT_POLICY, type BatchReport } from '../pipeline/pipeline.ts';
import { isPostgresUrl } from '../store/open-store.ts';
import { CUTOUT_POLICIES, type CutoutPolicy } from '../store/store.ts';
import { smtpSettingsFrom } from '../email/smtp-settings.ts';
import { UserError } from '../util/errors.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { addSchemaOptions, decodeOptionsFrom, type SchemaFlags } from './schema-options.ts';
import { integerFlag } from './flag-values.ts';

export const DEFAULT_STORE_PATH = path.join(repoRoot, '.data', 'nightjar.duckdb');

export interface BrokerFlags extends KafkaFlags, SchemaFlags {
  /** Required by `broker`; `web` runs without a broker when absent. */
  topics?: string;
  /** Serve the web app on the HTTP port too. */
  web?: boolean;
  group: string;
  instance: string;
  transactionalId?: string;
  from: string;
  store: string;
  httpPort: string;
  topicPrefix: string;
  deadLetterTopic: string;
  batchSize: string;
  batchMs: string;
  batchBytes: string;
  rowLimit: string;
  cutouts: string;
  filterTimeout: string;
  sessionTimeout?: string;
  transactionTimeout?: string;
  timeout?: string;
  quiet?: boolean;
  maxMessageBytes: string;
  smtpUrl?: string;
  smtpFrom?: string;
  publicUrl?: string;
}

const HELP = `
Each batch (up to --batch-size messages, or what arrived within --batch-ms of its first
message) is decoded, stored (objects, lightcurves) and loaded into an in-memory table that
every active filter runs on (at most --row-limit rows per filter per batch). Matches go to
each filter's topic (<prefix>_<user id><filter name>) as Lasair's JSON records (plain, lite
lightcurve, full alert) or as Avro with the schema in the key (fink-client). Messages that
cannot be processed go to the dead-letter topic unchanged, with headers nightjar-error (the
reason), nightjar-error-kind and nightjar-source (topic/partition/offset). Exactly once: a
batch's filter records, dead letters and input offsets are committed in one Kafka transaction
(transactional id <group>/<instance>), so consumers reading committed data (Nightjar's, and
confluent_kafka's by default) see every record once, whatever crashes; a failed batch is
aborted and processed again. If the schema registry or Kafka does not answer, the batch waits
and is retried; nothing is dead-lettered for it.

Filters: \`nightjar filter add|list|show|update|remove\` talks to this broker's API; changes
apply from the next batch, and within 2 s when no alert arrives. HTTP on 127.0.0.1:--http-port:
GET /metrics (Prometheus), GET /health, /api/filters. One line per batch on stdout (--quiet:
none); logs on stderr. Ctrl-C or SIGTERM finishes the batch under way, commits it and stops with
exit status 0 (twice: at once, status 130; the open transaction is then aborted when the broker
starts again, or by Kafka after --transaction-timeout).

Several workers: broker processes with one --group, different --instance names and one
PostgreSQL --store share the raw topics' partitions (spread at each join and leave), the store
and the filters (saved through any of them, or \`nightjar filter --store <url>\`, which works on
the store directly). Exactly once still holds: a batch fetched before a rebalance is committed
only if its partitions are still this process's (its transaction's offsets carry the group
generation, which Kafka checks), else aborted and left to the new owner. SIGTERM hands the
partitions over at once; a killed process's go after --session-timeout (or at once to a process
restarted with its --instance), and its open transaction holds them up to --transaction-timeout.
Give --smtp-url to one worker only (each would send the digests). With --web over PostgreSQL no
admin token file is written and /api/filters stays closed; use \`nightjar filter --store <url>\`.`;

export function registerBrokerCommand(program: Command): void {
  const command = program
    .command('broker')
    .description('run the alert broker: raw alert topics in, filters on every batch, filter streams out')
    .requiredOption('--topics <t1,t2,...>', 'raw alert topics to consume (comma-separated)')
    .option('--web', 'serve the web app (pages, accounts, /api/v1) on the HTTP port too, as `nightjar web --topics` does');
  addBrokerOptions(command).addHelpText('after', HELP).action(async (flags: BrokerFlags) => runBrokerCommand(flags));
}

/** Every setting of a broker process, shared by `broker` and `web --topics`. */
export function addBrokerOptions(command: Command): Command {
  command
    .option('--group <id>', 'consumer group (broker processes with one group share the partitions)', DEFAULT_GROUP_ID)
    .option('--instance <name>', 'this process\'s name in the group, the same on every restart (processes sharing a group need different names)', DEFAULT_INSTANCE)
    .option('--transactional-id <id>', 'Kafka transactional id (default <group>/<instance>): a restart with the same id fences its predecessor')
    .option('--from <earliest|latest>', 'where a group without committed offsets starts', 'earliest')
    .option('--store <file|url>', 'the store: a DuckDB file (created if missing; one broker process at a time) or a PostgreSQL database postgres://user:password@host:port/db that several broker processes share (`nightjar postgres start` runs one here)', DEFAULT_STORE_PATH)
    .option('--http-port <port>', 'port of /metrics, /health, /api/filters (and the web app) on 127.0.0.1 (0: any free port)', String(DEFAULT_HTTP_PORT))
    .option('--topic-prefix <prefix>', 'first part of filter topic names', DEFAULT_TOPIC_PREFIX)
    .option('--dead-letter-topic <topic>', 'where messages that cannot be processed go (created if missing)', DEFAULT_DEAD_LETTER_TOPIC)
    .option('--batch-size <n>', 'most messages per batch (a Rubin visit is ~10,000 alerts)', '10000')
    .option('--batch-bytes <n>', 'most bytes of messages per batch, and read ahead while one is processed (bounds memory: 10,000 Rubin alerts with cutouts are 1.3 GB)', String(DEFAULT_BATCH_BYTES))
    .option('--batch-ms <ms>', 'longest wait after the first message of a batch', '1000')
    .option('--row-limit <n>', 'rows delivered per filter per batch (Lasair: 1000)', '1000')
    .option('--cutouts <all|matched|none>', 'cutout images the store keeps for object pages: of every alert, of alerts a filter passed, or none (each object keeps its newest alert\'s)', DEFAULT_CUTOUT_POLICY)
    .option('--filter-timeout <seconds>', 'time allowed per filter per batch (Lasair: 20)', '20')
    .option('--timeout <seconds>', 'stop after this many seconds without a message (default: run until Ctrl-C)')
    .option('--session-timeout <seconds>', 'how long the group waits for a process that stopped answering (killed) before its partitions go to the others (default 60)')
    .option('--transaction-timeout <seconds>', 'Kafka aborts a batch\'s transaction left open this long (a process killed mid-batch holds its partitions that long); must exceed the longest batch (default 60)')
    .option('--max-message-bytes <n>', 'larger messages (key + value + headers) are dead-lettered as oversized without being decoded', String(DEFAULT_MAX_MESSAGE_BYTES))
    .option('--quiet', 'no line per batch on stdout')
    .option('--smtp-url <url>', 'email digests through this SMTP server: smtp[s]://user:password@host:port?security=tls|starttls|opportunistic|none (or an smtp: section in --config; see docs/email.md)')
    .option('--smtp-from <address>', 'From address of the emails (default Nightjar <nightjar@this host>)')
    .option('--public-url <url>', 'the address users reach the web app at, for links in emails (e.g. https://broker.example.org; https makes cookies Secure)');
  return addKafkaOptions(addSchemaOptions(command));
}

export function publicUrlFlag(text: string | undefined): string | null {
  if (text === undefined) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`--public-url must be an http(s) address, not "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`--public-url must be an http(s) address, not "${text}"`);
  return text.replace(/\/+$/, '');
}

function cutoutPolicyFlag(text: string): CutoutPolicy {
  const policy = CUTOUT_POLICIES.find((p) => p === text);
  if (policy === undefined) throw new UserError(`--cutouts must be one of ${CUTOUT_POLICIES.join(', ')}, not "${text}"`);
  return policy;
}

/** NIGHTJAR_TEST_HOLD_TRANSACTION_MS: crash tests aim their kills at open transactions with it. */
function holdTransactionFromEnv(): { holdTransactionMs?: number } {
  const text = process.env.NIGHTJAR_TEST_HOLD_TRANSACTION_MS;
  return text === undefined || text === '' ? {} : { holdTransactionMs: integerFlag(text, 'NIGHTJAR_TEST_HOLD_TRANSACTION_MS', 0) };
}

/** --store: a PostgreSQL URL as given, a file made absolute. */
export function storeLocation(text: string): string {
  return isPostgresUrl(text) ? text.trim() : path.resolve(text);
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

export function httpPortFlag(text: string): number {
  const port = integerFlag(text, '--http-port', 0);
  if (port > 65535) throw new UserError(`--http-port must be at most 65535, not ${port}`);
  return port;
}

export async function runBrokerCommand(flags: BrokerFlags): Promise<void> {
  const topics = (flags.topics ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (topics.length === 0) throw new UserError('--topics needs at least one topic');
  if (flags.from !== 'earliest' && flags.from !== 'latest') throw new UserError(`--from must be earliest or latest, not "${flags.from}"`);
  const httpPort = httpPortFlag(flags.httpPort);
  const kafka = kafkaSettingsFrom(flags);
  const decode = { ...decodeOptionsFrom(flags), maxMessageBytes: integerFlag(flags.maxMessageBytes, '--max-message-bytes', 1) };
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const smtp = smtpSettingsFrom(flags);
  const publicUrl = publicUrlFlag(flags.publicUrl);

  // Installed before start-up, so a SIGTERM while starting also ends in a clean stop.
  let broker: RunningBroker | undefined;
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\nstopping (${signal}): finishing the batch under way (Ctrl-C again to quit at once)\n`);
    void broker?.stop().catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      broker = await startBroker({
        kafka,
        topics,
        groupId: flags.group,
        instance: flags.instance,
        ...(flags.transactionalId === undefined ? {} : { transactionalId: flags.transactionalId }),
        from: flags.from,
        store: storeLocation(flags.store),
        httpPort,
        ...(flags.web === true ? { web: publicUrl === null ? {} : { publicUrl } } : {}),
        topicPrefix: flags.topicPrefix,
        deadLetterTopic: flags.deadLetterTopic,
        batchSize: integerFlag(flags.batchSize, '--batch-size', 1),
        batchMs: integerFlag(flags.batchMs, '--batch-ms', 1),
        batchBytes: integerFlag(flags.batchBytes, '--batch-bytes', 1),
        rowLimit: integerFlag(flags.rowLimit, '--row-limit', 1),
        cutouts: cutoutPolicyFlag(flags.cutouts),
        filterTimeLimitMs: seconds(flags.filterTimeout, '--filter-timeout'),
        ...(flags.timeout === undefined ? {} : { idleMs: seconds(flags.timeout, '--timeout') }),
        ...(flags.sessionTimeout === undefined ? {} : { sessionTimeoutMs: seconds(flags.sessionTimeout, '--session-timeout') }),
        ...(flags.transactionTimeout === undefined ? {} : { transactionTimeoutMs: seconds(flags.transactionTimeout, '--transaction-timeout') }),
        decode,
        ...(flags.quiet ? {} : { onBatch: (r: BatchReport) => say(batchLine(r)) }),
        ...(smtp === null ? {} : { email: { smtp, publicUrl } }),
        ...holdTransactionFromEnv(),
      });
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`the broker could not start: ${describeError(err)}`);
    }
    const running = broker;
    if (interrupts > 0) void running.stop().catch(() => undefined);

    const filters = running.pipeline.filters.filters;
    say(`broker: consuming ${topics.join(', ')} as group ${running.groupId}; store ${running.store.location}; dead letters to ${running.deadLetterTopic}`);
    if (running.http !== null) say(`broker: ${running.http.url}/metrics (Prometheus), ${running.http.url}/health, ${running.http.url}/api/filters`);
    if (running.http !== null && running.adminToken !== null) {
      const filters = isPostgresUrl(flags.store) ? '`nightjar filter --store <the store URL>` works on the store directly' : `\`nightjar filter --store ${running.store.location}\` reads the admin token beside the store`;
      say(`web: ${running.http.url}/ (API ${running.http.url}/api/v1, docs ${running.http.url}/api/openapi.json); ${filters}`);
    }
    if (running.email !== null) say(`broker: email digests via ${running.email.mailer.description}${publicUrl === null ? ' (no --public-url: emails carry no links)' : `, links to ${publicUrl}`}`);
    say(`broker: ${filters.length} active filters${filters.length === 0 ? ' (add one: ./nightjar filter add --help)' : ''}`);
    for (const f of filters) say(`  #${f.stored.id} ${JSON.stringify(f.stored.name)} (${f.stored.output})${f.kafka === null ? '' : ` → ${f.kafka.topic}`}`);

    try {
      const result = await running.done.finally(() => running.stop());
      const why = result.stoppedBy === 'idle' ? `no message for ${flags.timeout} s` : result.stoppedBy === 'aborted' ? 'interrupted' : 'the stream closed';
      say(`broker stopped (${why}): ${result.batches} batches, ${result.messages} messages`);
      // Everything is committed and closed; a Kafka client still retrying in the background
      // (Kafka unreachable) must not keep the process from exiting.
      setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
    } catch (err) {
      throw new UserError(`the broker stopped: ${describeError(err)}`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
