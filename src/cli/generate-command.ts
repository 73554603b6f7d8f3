// `nightjar generate`: writes a seeded synthetic Rubin (lsst.v10_0) alert stream to an Avro
// object container file, in observation-time order, and prints a one-line summary.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { isCodecName, type CodecName } from '../formats/codecs.ts';
import { writeContainer, type WriteContainerOptions } from '../formats/container.ts';
import { lsstAlertParsedSchema } from '../formats/lsst-schema.ts';
import { recordCodec } from '../formats/record-codec.ts';
import { createRng } from '../simulate/prng.ts';
import { generateAlerts, type SyntheticOptions } from '../simulate/synthetic.ts';
import { UserError } from '../util/errors.ts';
import { integerFlag } from './flag-values.ts';

/** Encoded alerts are flushed to the file in container blocks of about this many bytes. */
const FLUSH_BYTES = 2 * 1024 * 1024;
/** Records per container block (Rubin sample files hold one; small blocks keep readers' memory low). */
const BLOCK_RECORDS = 100;

export interface GenerateSummary {
  readonly alerts: number;
  readonly objects: number;
  readonly firstMjd: number | null;
  readonly lastMjd: number | null;
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * Generates alerts and writes them as one container file. Written to a temporary name and
 * renamed at the end, so a failed run leaves no partial file. The sync marker comes from the
 * seed: the same options give a byte-identical file.
 */
export async function writeSyntheticContainer(outFile: string, options: SyntheticOptions, codec: CodecName = 'null'): Promise<GenerateSummary> {
  const started = performance.now();
  const schema = lsstAlertParsedSchema();
  const encoder = recordCodec(schema);
  const syncRng = createRng(options.seed, 0x5e11c);
  const sync = Buffer.alloc(16);
  for (let i = 0; i < 16; i += 4) sync.writeUInt32LE(Math.floor(syncRng.uniform() * 0x1_0000_0000) >>> 0, i);
  const layout: WriteContainerOptions = { schema, codec, sync };
  const headerLength = writeContainer([], layout).length;

  const tmp = `${outFile}.${process.pid}.tmp`;
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'w');
  } catch (err) {
    throw new UserError(`cannot write ${outFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let bytes = 0;
  let alerts = 0;
  let firstMjd: number | null = null;
  let lastMjd: number | null = null;
  const objects = new Set<bigint>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Each flush is a complete container (same header, same sync); after the first, only its
  // blocks are appended, which makes one valid file.
  const flush = async (): Promise<void> => {
    const whole = writeContainer(pending, { ...layout, blockCounts: blockCounts(pending.length) });
    const part = bytes === 0 ? whole : whole.subarray(headerLength);
    await handle.write(part);
    bytes += part.length;
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (const alert of generateAlerts(options)) {
      const body = encoder.encode(alert);
      pending.push(body);
      pendingBytes += body.length;
      alerts++;
      const source = alert.diaSource as { midpointMjdTai: number };
      firstMjd ??= source.midpointMjdTai;
      lastMjd = source.midpointMjdTai;
      objects.add((alert.diaObject as { diaObjectId: bigint }).diaObjectId);
      // Flush on block boundaries, so the file's layout does not depend on the flush size.
      if (pendingBytes >= FLUSH_BYTES && pending.length % BLOCK_RECORDS === 0) await flush();
    }
    if (pending.length > 0 || bytes === 0) await flush();
    await handle.close();
    await rename(tmp, outFile);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (err instanceof Error && err.message.startsWith('synthetic alerts:')) throw new UserError(err.message);
    throw err;
  }
  return { alerts, objects: objects.size, firstMjd, lastMjd, bytes, seconds: (performance.now() - started) / 1000 };
}

function blockCounts(records: number): number[] {
  const counts: number[] = [];
  for (let left = records; left > 0; left -= BLOCK_RECORDS) counts.push(Math.min(BLOCK_RECORDS, left));
  return counts;
}

/** "20000 alerts, 1603 objects, MJD 61001.18-61028.32 (27.1 days), 578.3 MB → out.avro in 4.1 s" */
export function summaryLine(s: GenerateSummary, outFile: string): string {
  const span = s.firstMjd === null || s.lastMjd === null
    ? 'no observations'
    : `MJD ${s.firstMjd.toFixed(2)}-${s.lastMjd.toFixed(2)} (${(s.lastMjd - s.firstMjd).toFixed(1)} days)`;
  const rate = s.seconds > 0 ? `, ${Math.round(s.alerts / s.seconds)} alerts/s` : '';
  return `${s.alerts} alerts, ${s.objects} objects, ${span}, ${s.bytes} bytes (${(s.bytes / 1e6).toFixed(1)} MB) written to ${outFile} in ${s.seconds.toFixed(1)} s${rate}`;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('write a seeded synthetic Rubin (lsst.v10_0) alert stream to an Avro container file: supernovae, periodic variables, AGN and artefacts, with history and cutouts')
    .requiredOption('--out <file>', 'output file (.avro)')
    .option('--count <n>', 'number of alerts', '1000')
    .option('--seed <n>', 'random seed: the same seed and options give the same file, byte for byte', '1')
    .option('--objects <m>', 'object slots on the sky (default: count/10, at least 100, i.e. about a month of survey)')
    .option('--nights <k>', 'stop after this many nights even if fewer alerts were made')
    .option('--start-mjd <mjd>', 'date of the first night (MJD)', '61000')
    .option('--history-days <days>', 'history carried in each alert (Rubin: 365); the generator holds it in memory, ~2.5 KB per detection', '365')
    .option('--no-cutouts', 'leave out the FITS cutouts (alerts of ~3 KB instead of ~30 KB)')
    .option('--codec <name>', 'container block codec: null, deflate or snappy', 'null')
    .action(async (opts: { out: string; count: string; seed: string; objects?: string; nights?: string; startMjd: string; historyDays: string; cutouts: boolean; codec: string }) => {
      const count = integerFlag(opts.count, '--count', 0);
      const seed = integerFlag(opts.seed, '--seed');
      const objects = opts.objects === undefined ? Math.max(100, Math.ceil(count / 10)) : integerFlag(opts.objects, '--objects', 1);
      const nights = opts.nights === undefined ? undefined : integerFlag(opts.nights, '--nights', 1);
      const startMjd = Number(opts.startMjd);
      if (!Number.isFinite(startMjd) || startMjd < 40587 || startMjd > 70000) throw new UserError(`--start-mjd must be an MJD between 40587 and 70000, got "${opts.startMjd}"`);
      const historyDays = Number(opts.historyDays);
      if (!Number.isFinite(historyDays) || historyDays < 0) throw new UserError(`--history-days must be a number >= 0, got "${opts.historyDays}"`);
      if (!isCodecName(opts.codec)) throw new UserError(`--codec must be null, deflate or snappy, got "${opts.codec}"`);
      const out = path.resolve(opts.out);
      const summary = await writeSyntheticContainer(out, { seed, objects, count, nights, startMjd, historyDays, cutouts: opts.cutouts }, opts.codec);
      process.stdout.write(summaryLine(summary, opts.out) + '\n');
    });
}

