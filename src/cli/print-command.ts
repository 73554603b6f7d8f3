// `nightjar print TOPIC`: print every Nth alert of a stream as JSON, cutouts left out (the LSST
// prototype's printStream), optionally writing the cutouts as FITS files.
import { once } from 'node:events';
import type { Command } from 'commander';
import { toAlert } from '../formats/adapters/index.ts';
import { SchemaSourceError } from '../formats/errors.ts';
import type { DecodedRecord } from '../formats/message.ts';
import { ephemeralGroupId, openAlertStream, type AlertStream, type ConsumedRecords } from '../stream/consume.ts';
import { findCutouts, withoutCutouts } from '../stream/cutouts.ts';
import { clusterError, requireTopics } from '../stream/preflight.ts';
import { writeStamps } from '../stream/stamps.ts';
import { UserError } from '../util/errors.ts';
import { stringify } from '../util/json.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';
import { addSchemaOptions, forcedSchemaFrom, schemaSourceFrom, type SchemaFlags } from './schema-options.ts';
import { integerFlag } from './flag-values.ts';

interface PrintFlags extends KafkaFlags, SchemaFlags {
  every: string;
  limit?: string;
  from: string;
  group?: string;
  stampDir?: string;
  compact?: boolean;
  timeout?: string;
}

export function registerPrintCommand(program: Command): void {
  addKafkaOptions(
    addSchemaOptions(
      program
        .command('print')
        .description('print every Nth alert of a stream as JSON without cutouts (each cutout shown as {"$bytes": size}); --stamp-dir writes the cutouts as FITS files')
        .argument('<topic>', 'topic to read')
        .option('--every <n>', 'print every Nth message (the 1st, the N+1th, ...)', '1')
        .option('--limit <m>', 'stop after printing M alerts')
        .option('--from <where>', 'where to start when the group has no committed offset: earliest or latest (only new alerts)', 'latest')
        .option('--group <id>', 'consumer group; its offsets are committed, so a second run resumes (default: a new group each run, nothing committed)')
        .option('--stamp-dir <dir>', 'write each printed alert\'s cutouts as <dir>/<sourceId>_<science|template|difference>.fits (ZTF stamps gunzipped)')
        .option('--compact', 'one JSON object per line')
        .option('--timeout <seconds>', 'exit after this many seconds without a message')
        .addHelpText('after', `
Each printed alert is one JSON object: topic, partition, offset, timestamp (the Kafka message
time), key, encoding, schema, schemaId (wire format), stamps (with --stamp-dir: the files
written) and record, the decoded alert with every cutout replaced by {"$bytes": size}.
64-bit ids are printed as exact integers. --every counts messages (one alert each, except a
container file holding several, whose alerts are all printed). Every message is decoded:
one that cannot be is reported on stderr as one line naming topic/partition/offset and the
reason, and printing goes on. A summary line goes to stderr at the end (also on Ctrl-C).`),
    ),
  ).action(async (topic: string, flags: PrintFlags) => runPrint(topic, flags));
}

/** A printable key: text when it is short readable UTF-8, otherwise its size. */
function keyForJson(key: Buffer | null): string | { $bytes: number } | null {
  if (key === null) return null;
  const text = key.toString('utf8');
  const readable = key.length <= 200 && !text.includes('\uFFFD') && key.every((b) => b >= 0x20 && b !== 0x7f);
  return readable ? text : { $bytes: key.length };
}

/** Stamp file names start with the alert's source id (diaSourceId, candid), else its place in the stream. */
function stampName(m: ConsumedRecords, d: DecodedRecord, index: number): string {
  try {
    return toAlert(d.record, d.schema.name).sourceId.toString();
  } catch {
    return `${m.topic}_${m.partition}_${m.offset}${m.records.length > 1 ? `_${index}` : ''}`;
  }
}

function isKafkaClientError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('PLT_KFK');
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

const warn = (line: string): void => void process.stderr.write(`nightjar print: ${line.replace(/\s*\n\s*/g, ' ')}\n`);

async function runPrint(topic: string, flags: PrintFlags): Promise<void> {
  const every = integerFlag(flags.every, '--every', 1);
  const limit = flags.limit === undefined ? undefined : integerFlag(flags.limit, '--limit', 1);
  if (flags.from !== 'earliest' && flags.from !== 'latest') throw new UserError(`--from must be earliest or latest, not "${flags.from}"`);
  let idleTimeoutMs: number | undefined;
  if (flags.timeout !== undefined) {
    idleTimeoutMs = Number(flags.timeout) * 1000;
    if (!(idleTimeoutMs > 0) || !Number.isFinite(idleTimeoutMs)) throw new UserError(`--timeout must be a positive number of seconds, not "${flags.timeout}"`);
  }
  const settings = kafkaSettingsFrom(flags);
  const decode = { schemas: schemaSourceFrom(flags), schema: forcedSchemaFrom(flags) };
  await requireTopics(settings, [topic], 'print');

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const commit = flags.group !== undefined;
  let stream: AlertStream;
  try {
    stream = await openAlertStream(settings, {
      topics: [topic],
      groupId: flags.group ?? ephemeralGroupId('print'),
      from: flags.from,
      decode,
      signal: stop.signal,
      role: 'print',
      ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    });
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw clusterError(settings, err);
  }

  let messages = 0;
  let printed = 0;
  let undecodable = 0;
  // The latest commit per partition: awaited before leaving so a second run resumes after it.
  const commits = new Map<number, Promise<void>>();
  try {
    for await (const m of stream) {
      messages++;
      if (!m.ok) {
        undecodable++;
        warn(m.error.message);
      } else if ((messages - 1) % every === 0) {
        for (const [index, d] of m.records.entries()) {
          const entry: Record<string, unknown> = {
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            timestamp: m.timestamp >= 0n ? new Date(Number(m.timestamp)).toISOString() : null,
            ...(d.encoding === 'schema-in-key' ? {} : { key: keyForJson(m.key) }),
            ...(m.records.length > 1 ? { index } : {}),
            encoding: d.encoding,
            schema: d.schema.name,
            ...(d.schemaId === undefined ? {} : { schemaId: d.schemaId }),
          };
          if (flags.stampDir !== undefined) {
            const stamps = await writeStamps(flags.stampDir, stampName(m, d, index), findCutouts(d.record));
            for (const problem of stamps.problems) warn(`${m.source}: ${problem}; not written`);
            entry.stamps = stamps.written;
          }
          entry.record = withoutCutouts(d.record);
          await write(stringify(entry, flags.compact ? undefined : 2) + '\n');
          printed++;
          if (limit !== undefined && printed >= limit) break;
        }
      }
      if (commit) {
        const pending = m.commit();
        pending.catch(() => undefined); // reported when awaited below
        commits.set(m.partition, pending);
      }
      if (limit !== undefined && printed >= limit) break;
    }
    if (commit) {
      try {
        await Promise.all(commits.values());
      } catch (err) {
        warn(`committing the offsets of group ${flags.group} failed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    if (err instanceof SchemaSourceError) throw new UserError(`reading ${topic}: ${err.message}`);
    // The client's own errors (the connection lost for good, the group fenced): one line too.
    if (isKafkaClientError(err)) throw clusterError(settings, err);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stream.close().catch(() => undefined);
  }
  if (stream.endReason === 'idle') warn(`no messages in the last ${flags.timeout} second${Number(flags.timeout) === 1 ? '' : 's'}`);
  const skipped = undecodable === 0 ? '' : `, ${undecodable} undecodable`;
  warn(`printed ${printed} alert${printed === 1 ? '' : 's'} from ${messages} message${messages === 1 ? '' : 's'} of ${topic}${skipped}`);
}
