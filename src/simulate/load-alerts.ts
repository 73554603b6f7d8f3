// Loading a replay from disk: every input is decoded (any encoding, schemas from the given
// sources), turned into prepared messages and sorted by observation time. What cannot be read
// — a corrupt file, an undecodable record, a damaged archive — is reported by name with the
// reason and skipped; the rest goes on.
//
// Sorting needs every alert first, so a loaded replay is held in memory, at about its encoded
// size (the decoded records are dropped as soon as they are encoded): fine for the nights of
// test data and for a visit-sized set of real alerts (10,000 Rubin alerts ≈ 1.3 GB); a whole
// Rubin night (~10 million alerts, ~1 TB) would need an external sort, which this does not do.
import { AdapterError } from '../formats/adapters/index.ts';
import { DecodeError, SchemaSourceError } from '../formats/errors.ts';
import type { ReadAlertFileOptions } from '../formats/files.ts';
import { decodeMessage } from '../formats/message.ts';
import { readArchive, readInputFile, type AlertInput } from './alert-sources.ts';
import { sortByTime } from './ordering.ts';
import type { AlertPreparer, PreparedAlert } from './prepared-alert.ts';

export interface SkippedInput {
  /** File path, `archive:member`, or archive path. */
  readonly name: string;
  readonly reason: string;
}

export interface LoadedAlerts {
  /** In time order. */
  readonly alerts: PreparedAlert[];
  readonly skipped: SkippedInput[];
}

export interface LoadOptions {
  readonly decode: ReadAlertFileOptions;
  readonly preparer: AlertPreparer;
  /** Called as soon as something is skipped (so it shows while a long load goes on). */
  readonly onSkip?: (skipped: SkippedInput) => void;
  /** Called after each input with the number of alerts loaded so far. */
  readonly onProgress?: (inputsDone: number, alerts: number) => void;
  readonly signal?: AbortSignal | undefined;
}

/** The reason a file or record is skipped, without repeating its name; undefined for errors that must stop the run. */
function skipReason(err: unknown): string | undefined {
  if (err instanceof DecodeError) return `cannot decode ${err.encoding} data: ${err.reason} (at byte ${err.offset}${err.where === undefined ? '' : `, ${err.where}`})`;
  if (err instanceof AdapterError) return `not a usable alert: ${err.message}`;
  // The registry refused this writer schema (e.g. incompatible with the subject): its alerts cannot be sent.
  if (err instanceof SchemaSourceError && err.kind === 'invalid') return err.message;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code.startsWith('E')) return `cannot read: ${code}`;
  return undefined;
}

/** The reason an archive is skipped: its damage (tar or gzip) or a read error. */
function archiveReason(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'TarError') return `corrupt tar archive: ${err.message}`;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) return `corrupt gzip data: ${(err as Error).message}`;
  return skipReason(err);
}

/** Decodes and prepares the records of one alert file's bytes; per-record failures are collected. */
async function prepareFile(name: string, bytes: Buffer, options: LoadOptions, into: PreparedAlert[]): Promise<SkippedInput | undefined> {
  const records = await decodeMessage(bytes, null, { ...options.decode, source: name });
  let failed = 0;
  let firstReason: string | undefined;
  for (const [index, { record, schema }] of records.entries()) {
    try {
      into.push(await options.preparer.prepare(record, schema));
    } catch (err) {
      const reason = skipReason(err);
      if (reason === undefined) throw err;
      failed++;
      firstReason ??= records.length > 1 ? `record ${index}: ${reason}` : reason;
    }
  }
  if (failed === 0) return undefined;
  return { name, reason: failed > 1 ? `${failed} of ${records.length} records skipped; first: ${firstReason}` : (firstReason as string) };
}

/**
 * Loads every input, in order, and sorts the alerts by time (ties by source id). Errors that
 * are not about the data — an unreachable schema registry, a bug — stop the load and propagate.
 */
export async function loadAlertInputs(inputs: readonly AlertInput[], options: LoadOptions): Promise<LoadedAlerts> {
  const alerts: PreparedAlert[] = [];
  const skipped: SkippedInput[] = [];
  const skip = (s: SkippedInput): void => {
    skipped.push(s);
    options.onSkip?.(s);
  };
  for (const [index, input] of inputs.entries()) {
    if (options.signal?.aborted) break;
    if (input.kind === 'file') {
      try {
        const problem = await prepareFile(input.path, await readInputFile(input.path), options, alerts);
        if (problem !== undefined) skip(problem);
      } catch (err) {
        const reason = skipReason(err);
        if (reason === undefined) throw err;
        skip({ name: input.path, reason });
      }
    } else {
      // An archive counts only if it reads to its end: a damaged one is skipped whole, as
      // fink's replay scripts set aside a night archive that fails to unpack.
      const fromArchive: PreparedAlert[] = [];
      const memberProblems: SkippedInput[] = [];
      try {
        for await (const member of readArchive(input.path)) {
          try {
            const problem = await prepareFile(member.name, member.bytes, options, fromArchive);
            if (problem !== undefined) memberProblems.push(problem);
          } catch (err) {
            const reason = skipReason(err);
            if (reason === undefined) throw err;
            memberProblems.push({ name: member.name, reason });
          }
        }
        for (const p of memberProblems) skip(p);
        for (const a of fromArchive) alerts.push(a);
      } catch (err) {
        const reason = archiveReason(err);
        if (reason === undefined) throw err;
        const lost = fromArchive.length > 0 ? ` (the ${fromArchive.length} alerts read before the damage are not sent either)` : '';
        skip({ name: input.path, reason: `${reason}; archive skipped${lost}` });
      }
    }
    options.onProgress?.(index + 1, alerts.length);
  }
  return { alerts: sortByTime(alerts), skipped };
}
