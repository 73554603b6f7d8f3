// `nightjar monitor TOPIC [--group G]`: live status of a stream from the Admin API alone (no
// message is consumed): messages and bytes per second, totals, per-partition offsets and log
// sizes, and a group's committed offsets and lag. See src/stream/stats.ts for the definitions.
import type { Command } from 'commander';
import type { Admin } from '@platformatic/kafka';
import type { KafkaSettings } from '../kafka/connection.ts';
import { stringify } from '../util/json.ts';
import { UserError } from '../util/errors.ts';
import { checkTopics, createToolAdmin, UnknownTopicError } from '../stream/preflight.ts';
import { rates, type TopicSnapshot } from '../stream/stats.ts';
import { statusLines, statusObject } from '../stream/status-text.ts';
import { topicProbe } from '../stream/topic-status.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { sleep } from '../util/sleep.ts';

interface MonitorFlags extends KafkaFlags {
  group?: string;
  interval: string;
  once?: boolean;
  json?: boolean;
}

export function registerMonitorCommand(program: Command): void {
  addKafkaOptions(
    program
      .command('monitor')
      .description('live status of a stream: messages and bytes per second, totals, per-partition offsets and log sizes, and a consumer group\'s committed offsets and lag')
      .argument('<topic>', 'topic to watch')
      .option('--group <id>', 'also show this consumer group\'s committed offsets and lag')
      .option('--interval <seconds>', 'seconds between updates (rates are measured over this interval)', '2')
      .option('--once', 'measure over one interval, print the status once and exit')
      .option('--json', 'one JSON object per update instead of text')
      .addHelpText('after', `
Messages/s is the growth of the partitions' end offsets. Bytes/s is the growth of the
partitions' log sizes on the broker (DescribeLogDirs: bytes as stored, after producer
compression); it is "-" for an interval in which retention deleted a log segment, and log
sizes are "-" when the broker does not let this client describe log dirs. Lag is what the
group has yet to read: end offset minus its committed offset (or the start offset, if
retention passed it). On a terminal the status is redrawn in place; otherwise (or with
--once or --json) each update is printed after the previous one.`),
  ).action(async (topic: string, flags: MonitorFlags) => {
    const intervalMs = Number(flags.interval) * 1000;
    if (!(intervalMs >= 100) || !Number.isFinite(intervalMs)) throw new UserError(`--interval must be a number of seconds, at least 0.1, not "${flags.interval}"`);
    const settings = kafkaSettingsFrom(flags);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const admin = createToolAdmin(settings, 'monitor');
    try {
      await checkTopics(admin, settings, [topic]);
      await monitor(admin, settings, topic, { groupId: flags.group, intervalMs, once: flags.once === true, json: flags.json === true, signal: stop.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await admin.close().catch(() => undefined);
    }
  });
}

interface MonitorOptions {
  groupId: string | undefined;
  intervalMs: number;
  once: boolean;
  json: boolean;
  signal: AbortSignal;
}

async function monitor(admin: Admin, settings: KafkaSettings, topic: string, options: MonitorOptions): Promise<void> {
  const probe = topicProbe(admin, settings, topic, options.groupId);
  const bootstrap = settings.bootstrap.join(',');
  const redraw = !options.once && !options.json && process.stdout.isTTY === true;
  let shownLines = 0;
  const show = (snapshot: TopicSnapshot, previous: TopicSnapshot | undefined): void => {
    const r = previous === undefined ? null : rates(previous, snapshot);
    if (options.json) {
      process.stdout.write(stringify(statusObject(snapshot, r)) + '\n');
      return;
    }
    let lines = statusLines(snapshot, r, bootstrap);
    // A wrapped line would throw off the count of lines to move back over.
    const columns = process.stdout.columns;
    if (redraw && columns !== undefined && columns > 1) lines = lines.map((line) => line.slice(0, columns - 1));
    // On a terminal: back to the first line of the previous status, clear to the end, rewrite.
    const prefix = redraw && shownLines > 0 ? `\x1b[${shownLines}F\x1b[J` : !redraw && shownLines > 0 ? '\n' : '';
    process.stdout.write(prefix + lines.join('\n') + '\n');
    shownLines = lines.length;
  };

  let previous = await probe.snapshot();
  if (options.once) {
    if (!(await sleep(options.intervalMs, options.signal))) return;
    show(await probe.snapshot(), previous);
    return;
  }
  show(previous, undefined);
  while (await sleep(options.intervalMs, options.signal)) {
    let snapshot: TopicSnapshot;
    try {
      snapshot = await probe.snapshot();
    } catch (err) {
      // A deleted topic ends the watch; a cluster that stops answering may come back.
      if (err instanceof UnknownTopicError || !(err instanceof Error)) throw err;
      process.stderr.write(`nightjar monitor: ${err.message} (trying again in ${options.intervalMs / 1000} s)\n`);
      shownLines = 0;
      continue;
    }
    show(snapshot, previous);
    previous = snapshot;
  }
}

