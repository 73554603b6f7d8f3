// `nightjar export PATH... --format csv|parquet|jsonl --out FILE`: saved alerts to one table.
import type { Command } from 'commander';
import { DecodeError } from '../formats/errors.ts';
import { flattenRecord, toTable, type Row } from '../client/export-rows.ts';
import { writeTable, type ExportFormat } from '../client/export-write.ts';
import { listSavedAlertFiles, readSavedAlerts } from '../client/saved-alerts.ts';
import { UserError } from '../util/errors.ts';
import { stderrProgressBar } from '../util/progress-bar.ts';
import { addSchemaOptions, decodeOptionsFrom, type SchemaFlags } from './schema-options.ts';

interface ExportFlags extends SchemaFlags {
  format: string;
  out: string;
  progress: boolean;
}

const FORMATS: readonly ExportFormat[] = ['csv', 'jsonl', 'parquet'];

export function registerExportCommand(program: Command): void {
  addSchemaOptions(
    program
      .command('export')
      .description('write saved alerts as one table (CSV, JSON Lines or Parquet), one row per alert')
      .argument('<paths...>', 'alert files (.avro, .avro.gz, .json) or folders of them')
      .requiredOption('--out <file>', 'output file')
      .option('--format <csv|jsonl|parquet>', 'output format', 'csv')
      .option('--no-progress', 'no progress line on the terminal')
      .addHelpText('after', `
Columns are the record's fields; fields of nested records are joined with '.'
(diaSource.psfFlux, candidate.magpsf). Arrays (prvDiaSources, prv_candidates, ...) are not
expanded: each becomes one column <name>.count holding its length. Cutouts and other bytes
are left out. Columns are the union over all alerts (missing cells empty/null). 64-bit ids
are exact: digits in CSV and JSONL, BIGINT in Parquet. While the files are read, a progress
line (files, rate, elapsed time) is drawn on stderr when it is a terminal, never in a pipe.`),
  ).action(async (paths: string[], flags: ExportFlags) => runExport(paths, flags));
}

async function runExport(paths: string[], flags: ExportFlags): Promise<void> {
  const format = FORMATS.find((f) => f === flags.format);
  if (format === undefined) throw new UserError(`--format must be one of ${FORMATS.join(', ')}, not "${flags.format}"`);
  const decode = decodeOptionsFrom(flags);
  const files = await listSavedAlertFiles(paths);
  if (files.length === 0) throw new UserError(`no alert files under ${paths.join(', ')}`);
  const rows: Row[] = [];
  const progress = stderrProgressBar(files.length, 'files', flags.progress);
  try {
    for (const file of files) {
      for (const saved of await readSavedAlerts(file, decode)) rows.push(flattenRecord(saved.record));
      progress?.advance(1);
    }
  } catch (err) {
    if (err instanceof DecodeError) throw new UserError(err.message);
    throw err;
  } finally {
    progress?.done();
  }
  const table = toTable(rows);
  await writeTable(table, format, flags.out);
  process.stderr.write(`wrote ${rows.length} alerts x ${table.columns.length} columns from ${files.length} files to ${flags.out}\n`);
}
