// `nightjar filter-stream IN OUT --where "..."`: keep the alerts of a stream that satisfy a
// condition in Nightjar's filter language and produce them, byte for byte, to another topic.
import type { Command } from 'commander';
import { runFilterStream } from '../stream/filter-stream.ts';
import { UserError } from '../util/errors.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { addSchemaOptions, forcedSchemaFrom, schemaSourceFrom, type SchemaFlags } from './schema-options.ts';
import { integerFlag } from './flag-values.ts';

interface FilterStreamFlags extends KafkaFlags, SchemaFlags {
  where: string;
  group?: string;
  from: string;
  batchSize: string;
  batchMs: string;
  maxPerBatch?: string;
  deadLetter?: string;
  limit?: string;
  timeout?: string;
  progress: string;
}

const TEMPLATE = 'alertSnr > 5 AND flux2mag(alertFlux) < 20';

const HELP = `
The condition is a WHERE clause in Nightjar's filter language (docs/filters.md) over the
columns of the objects table (docs/columns.md), computed from each alert on its own. The LSST
alert prototype's template filter, signal-to-noise over 5 and brighter than magnitude 20:

  nightjar filter-stream rubin-alerts bright-alerts --where "${TEMPLATE}"

Matching messages are produced unchanged (value, key and headers) to OUT, in input order per
partition. OUT is created with IN's partition count if it does not exist; when the counts are
equal each message keeps its partition number, otherwise messages go by key. Delivery is at-least-once: IN's offsets are committed only after
OUT has acknowledged the batch's messages, so after a crash a batch may be filtered and
produced again (duplicates in OUT), never lost. The default group is named after IN, OUT and
the condition, so running the same command again resumes where it stopped.

Messages that are not alerts or cannot be decoded are counted and reported on stderr with
topic/partition/offset and the reason; they do not stop the stream. With --dead-letter they
are also produced to that topic with a "nightjar-error" header giving the reason.
A summary line (consumed, matched, produced, errors, rate) goes to stderr every --progress
seconds. Ctrl-C stops after the current batch is produced and committed.`;

export function registerFilterStreamCommand(program: Command): void {
  const command = program
    .command('filter-stream')
    .description('keep the alerts of a stream that satisfy a filter condition and produce them to another topic')
    .argument('<in>', 'input topic')
    .argument('<out>', 'output topic (created with the input partition count if missing)')
    .requiredOption('--where <condition>', `filter condition over the objects columns, e.g. "${TEMPLATE}"`)
    .option('--group <id>', 'consumer group (default: derived from IN, OUT and the condition, so a re-run resumes)')
    .option('--from <earliest|latest>', 'where a group without committed offsets starts', 'earliest')
    .option('--batch-size <n>', 'most messages filtered together', '1000')
    .option('--batch-ms <ms>', 'longest wait after the first message of a batch before it is filtered', '500')
    .option('--max-per-batch <n>', 'produce at most this many matches per batch, the first in input order (the LSST prototype kept 20 per visit)')
    .option('--dead-letter <topic>', 'produce messages that are not alerts to this topic, with a nightjar-error header')
    .option('--limit <n>', 'stop after consuming this many messages')
    .option('--timeout <seconds>', 'stop after this many seconds without a message')
    .option('--progress <seconds>', 'seconds between summary lines on stderr (0: only at the end)', '10');
  addSchemaOptions(command);
  addKafkaOptions(command);
  command.addHelpText('after', HELP).action(async (input: string, output: string, flags: FilterStreamFlags) => runCommand(input, output, flags));
}

async function runCommand(input: string, output: string, flags: FilterStreamFlags): Promise<void> {
  if (flags.from !== 'earliest' && flags.from !== 'latest') throw new UserError(`--from must be earliest or latest, not "${flags.from}"`);
  const from: 'earliest' | 'latest' = flags.from;
  const options = {
    input,
    output,
    where: flags.where,
    groupId: flags.group,
    from,
    batchSize: integerFlag(flags.batchSize, '--batch-size', 1),
    batchMs: number(flags.batchMs, '--batch-ms'),
    maxPerBatch: flags.maxPerBatch === undefined ? undefined : integerFlag(flags.maxPerBatch, '--max-per-batch', 1),
    deadLetter: flags.deadLetter,
    limit: flags.limit === undefined ? undefined : integerFlag(flags.limit, '--limit', 1),
    idleTimeoutMs: flags.timeout === undefined ? undefined : number(flags.timeout, '--timeout') * 1000,
    progressMs: number(flags.progress, '--progress', true) * 1000,
    decode: { schemas: schemaSourceFrom(flags), schema: forcedSchemaFrom(flags) },
  };
  const settings = kafkaSettingsFrom(flags);

  // First Ctrl-C: finish and commit the batch under way, then stop. Second: leave at once.
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('filter-stream: stopping after the current batch (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runFilterStream({ ...options, settings, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function number(text: string, flag: string, allowZero = false): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new UserError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, not "${text}"`);
  return n;
}

