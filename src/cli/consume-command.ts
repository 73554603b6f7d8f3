// `nightjar consume`: fink_consumer's job. Reads the alert topics of a profile (or of flags) as
// a consumer group, shows a table row per alert (--display), saves each alert to a file
// (--save), prints the group's offsets and lag (--statistics) or the cluster's topics
// (--available-topics). Offsets of what was received are committed, so the same group id
// resumes where it left off.
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { summarise } from '../client/alert-summary.ts';
import { AlertConsumer } from '../client/consumer.ts';
import { DEFAULT_MAX_TIMEOUT, DEFAULT_PROFILE, credentialsFile, readCredentials, type Credentials } from '../client/credentials.ts';
import { alertTableHeader, alertTableRow, statisticsText } from '../client/display.ts';
import { saveAlert, type SaveFormat } from '../client/save-alert.ts';
import { SchemaSourceError } from '../formats/errors.ts';
import type { KafkaSettings } from '../kafka/connection.ts';
import { clusterError, createToolAdmin, listClusterTopics, requireTopics } from '../stream/preflight.ts';
import { topicProbe } from '../stream/topic-status.ts';
import { UserError } from '../util/errors.ts';
import { stderrProgressBar } from '../util/progress-bar.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { addSchemaOptions, decodeOptionsFrom, type SchemaFlags } from './schema-options.ts';
import { integerFlag } from './flag-values.ts';

interface ConsumeFlags extends KafkaFlags, SchemaFlags {
  profile?: string;
  servers?: string;
  groupId?: string;
  topics?: string;
  display?: boolean;
  limit?: string;
  save?: boolean;
  outdir?: string;
  format: string;
  startAt: string;
  statistics?: boolean;
  availableTopics?: boolean;
  timeout?: string;
  progress: boolean;
}

export function registerConsumeCommand(program: Command): void {
  addKafkaOptions(
    addSchemaOptions(
      program
        .command('consume')
        .description('consume alert topics as a consumer group (credentials from `nightjar register` or flags): display a table, save alerts to files, show offsets and lag')
        .option('--profile <name>', `credentials profile written by nightjar register (default "${DEFAULT_PROFILE}" when it exists)`)
        .option('--servers <host:port,...>', 'Kafka bootstrap servers (same as --bootstrap; overrides the profile)')
        .option('--group-id <id>', 'consumer group id (overrides the profile)')
        .option('--topics <t1,t2>', 'comma-separated topics (overrides the profile)')
        .option('--display', 'print one table row per alert')
        .option('--limit <n>', 'stop after N alerts')
        .option('--save', 'save each alert to a file in --outdir')
        .option('--outdir <dir>', 'folder for --save (created if missing)')
        .option('--format <avro|json>', 'file format for --save: Avro container with the writer schema, or JSON', 'avro')
        .option('--start-at <earliest|latest>', 'where a group with no committed offset starts', 'earliest')
        .option('--statistics', 'print the group\'s committed offset and lag per topic partition, then exit')
        .option('--available-topics', 'list the cluster\'s topics, then exit')
        .option('--timeout <seconds>', 'seconds without an alert before saying so (default: the profile\'s maxtimeout, else 10)')
        .option('--no-progress', 'no progress line on the terminal during --save or --limit')
        .addHelpText('after', `
Alerts in any encoding are read without naming a schema: Lasair-style JSON, Avro containers
(ZTF, Fink), Confluent wire format (Rubin; --registry or --schema-dir for schema ids Nightjar
does not ship), Fink's schema-in-key; --schema forces a schema for schemaless Avro.
--save writes <objectId>_<sourceId>.avro (or .json); JSON alerts are always saved as .json.
After --timeout seconds without an alert it prints "No alerts the last S seconds" and keeps
waiting, until --limit alerts or Ctrl-C (which commits what was received and stops).
With --save or --limit, a progress line (alerts, of --limit when given, rate, elapsed time)
is drawn on stderr when it is a terminal; never when stderr is piped or redirected.`),
    ),
  ).action(async (flags: ConsumeFlags) => runConsume(flags));
}

interface ConsumeSetup {
  settings: KafkaSettings;
  groupId: string | undefined;
  topics: string[];
  timeoutS: number;
}

async function setupFrom(flags: ConsumeFlags): Promise<ConsumeSetup> {
  const profileName = flags.profile ?? DEFAULT_PROFILE;
  const profile: Credentials | undefined = await readCredentials(profileName);
  if (profile === undefined && flags.profile !== undefined) {
    throw new UserError(`no profile "${flags.profile}": ${credentialsFile(flags.profile)} does not exist (create it with nightjar register)`);
  }
  const sasl = profile?.password !== null && profile?.password !== undefined && flags.saslUsername === undefined
    ? { saslUsername: profile.username, saslPassword: profile.password, saslMechanism: flags.saslMechanism ?? 'SCRAM-SHA-512' }
    : {};
  const bootstrap = flags.servers ?? flags.bootstrap ?? profile?.servers;
  const settings = kafkaSettingsFrom({ ...flags, ...sasl, ...(bootstrap === undefined ? {} : { bootstrap }) });
  const topics = (flags.topics?.split(',') ?? profile?.mytopics ?? []).map((t) => t.trim()).filter((t) => t !== '');
  let timeoutS = profile?.maxtimeout ?? DEFAULT_MAX_TIMEOUT;
  if (flags.timeout !== undefined) {
    timeoutS = Number(flags.timeout);
    if (!(timeoutS > 0) || !Number.isFinite(timeoutS)) throw new UserError(`--timeout must be a positive number of seconds, not "${flags.timeout}"`);
  }
  return { settings, groupId: flags.groupId ?? profile?.group_id, topics, timeoutS };
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

const warn = (line: string): void => void process.stderr.write(`nightjar consume: ${line.replace(/\s*\n\s*/g, ' ')}\n`);

async function runConsume(flags: ConsumeFlags): Promise<void> {
  const setup = await setupFrom(flags);
  const { settings } = setup;
  if (flags.availableTopics) {
    const admin = createToolAdmin(settings, 'consume');
    try {
      for (const topic of await listClusterTopics(admin, settings)) await write(`${topic}\n`);
    } finally {
      await admin.close().catch(() => undefined);
    }
    return;
  }
  if (setup.topics.length === 0) throw new UserError('no topics to consume: give --topics or a --profile (see nightjar register)');
  if (setup.groupId === undefined || setup.groupId.trim() === '') throw new UserError('no consumer group: give --group-id or a --profile (see nightjar register)');
  const groupId = setup.groupId;
  if (flags.statistics) return printStatistics(settings, groupId, setup.topics);

  const limit = flags.limit === undefined ? undefined : integerFlag(flags.limit, '--limit', 1);
  if (flags.startAt !== 'earliest' && flags.startAt !== 'latest') throw new UserError(`--start-at must be earliest or latest, not "${flags.startAt}"`);
  if (flags.format !== 'avro' && flags.format !== 'json') throw new UserError(`--format must be avro or json, not "${flags.format}"`);
  const format: SaveFormat = flags.format;
  if (flags.save && flags.outdir === undefined) throw new UserError('--save needs --outdir DIR');
  if (flags.save) await mkdir(flags.outdir as string, { recursive: true });
  const decode = decodeOptionsFrom(flags);
  await requireTopics(settings, setup.topics, 'consume');

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let consumer: AlertConsumer;
  try {
    consumer = await AlertConsumer.create({
      topics: setup.topics,
      groupId,
      settings,
      startAt: flags.startAt,
      schemas: decode.schemas,
      ...(decode.schema === undefined ? {} : { schema: decode.schema }),
      onUndecodable: (error) => warn(`${error.message}; skipped`),
      signal: stop.signal,
    });
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw clusterError(settings, err);
  }

  let received = 0;
  let saved = 0;
  // Erased before each line printed, in case stdout is the same terminal.
  const progress = flags.save || limit !== undefined ? stderrProgressBar(limit, 'alerts', flags.progress) : undefined;
  try {
    if (flags.display) await write(alertTableHeader() + '\n');
    while (!stop.signal.aborted && (limit === undefined || received < limit)) {
      const alert = await consumer.poll(setup.timeoutS * 1000);
      if (alert === null) {
        progress?.clear();
        if (!stop.signal.aborted) await write(`No alerts the last ${setup.timeoutS} seconds\n`);
        continue;
      }
      received++;
      const summary = summarise(alert);
      if (flags.display) {
        progress?.clear();
        await write(alertTableRow(summary, alert.topic, new Date()) + '\n');
      }
      if (flags.save) {
        await saveAlert(flags.outdir as string, alert, summary, format);
        saved++;
      }
      progress?.advance(1);
    }
  } catch (err) {
    if (err instanceof SchemaSourceError) throw new UserError(`reading ${setup.topics.join(',')}: ${err.message}`);
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('PLT_KFK')) throw clusterError(settings, err);
    throw err;
  } finally {
    progress?.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await consumer.close();
    } catch (err) {
      warn(`closing group ${groupId} failed (offsets may not be committed): ${(err as Error).message}`);
    }
  }
  const skipped = consumer.undecodable === 0 ? '' : `, ${consumer.undecodable} undecodable skipped`;
  warn(`received ${received} alert${received === 1 ? '' : 's'}${flags.save ? `, saved ${saved} in ${flags.outdir}` : ''}${skipped} (group ${groupId})`);
}

async function printStatistics(settings: KafkaSettings, groupId: string, topics: readonly string[]): Promise<void> {
  const admin = createToolAdmin(settings, 'consume');
  try {
    const snapshots = [];
    for (const topic of topics) snapshots.push(await topicProbe(admin, settings, topic, groupId).snapshot());
    await write(statisticsText(groupId, snapshots));
  } finally {
    await admin.close().catch(() => undefined);
  }
}
