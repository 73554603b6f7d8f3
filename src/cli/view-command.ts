// `nightjar view FILE|DIR`: print saved alerts' main fields and write their lightcurve plots and cutout images.
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { AdapterError } from '../formats/adapters/index.ts';
import { DecodeError } from '../formats/errors.ts';
import { listSavedAlertFiles, readSavedAlerts } from '../client/saved-alerts.ts';
import { viewAlert, type PlotFormat } from '../client/view.ts';
import { UserError } from '../util/errors.ts';
import { addSchemaOptions, decodeOptionsFrom, type SchemaFlags } from './schema-options.ts';

interface ViewFlags extends SchemaFlags {
  out: string;
  format: string;
  mag?: boolean;
}

export function registerViewCommand(program: Command): void {
  addSchemaOptions(
    program
      .command('view')
      .description('print saved alerts\' main fields; write each lightcurve as a plot and each cutout as a PNG')
      .argument('<paths...>', 'alert files (.avro, .avro.gz, .json) or folders of them')
      .option('--out <dir>', 'folder for the plot and cutout files', '.')
      .option('--format <png|svg>', 'plot file format', 'png')
      .option('--mag', 'plot magnitudes (y axis inverted) instead of flux in nJy')
      .addHelpText('after', `
Writes <sourceId>_lightcurve.<png|svg> (detections filled, forced points hollow, one colour
per band u g r i z y, 1-sigma error bars) and <sourceId>_<science|template|difference>.png
(the FITS primary image, 0.5-99.5 percentile grey stretch, north/row 1 at the bottom).
PNG text uses a built-in upper-case bitmap font. A cutout that is not a simple 2D image is
reported and skipped.`),
  ).action(async (paths: string[], flags: ViewFlags) => runView(paths, flags));
}

async function runView(paths: string[], flags: ViewFlags): Promise<void> {
  if (flags.format !== 'png' && flags.format !== 'svg') throw new UserError(`--format must be png or svg, not "${flags.format}"`);
  const format: PlotFormat = flags.format;
  const decode = decodeOptionsFrom(flags);
  await mkdir(flags.out, { recursive: true });
  const files = await listSavedAlertFiles(paths);
  if (files.length === 0) throw new UserError(`no alert files under ${paths.join(', ')}`);
  for (const file of files) {
    let saved;
    try {
      saved = await readSavedAlerts(file, decode);
    } catch (err) {
      if (err instanceof DecodeError) throw new UserError(err.message);
      throw err;
    }
    for (const alert of saved) {
      let result;
      try {
        result = await viewAlert(alert, { outDir: flags.out, format, mag: flags.mag === true });
      } catch (err) {
        if (err instanceof AdapterError) {
          process.stderr.write(`${file} #${alert.index + 1}: not viewable: ${err.message}\n`);
          continue;
        }
        throw err;
      }
      process.stdout.write(`${file} #${alert.index + 1}\n${result.table}\n`);
      if ('file' in result.plot) process.stdout.write(`lightcurve     ${result.plot.file} (${result.plot.points} points)\n`);
      else process.stdout.write(`lightcurve     not written: ${result.plot.skipped}\n`);
      for (const c of result.cutouts) {
        if ('file' in c) process.stdout.write(`cutout ${c.kind.padEnd(10)}  ${c.file} (${c.width}x${c.height})\n`);
        else process.stdout.write(`cutout ${c.kind.padEnd(10)}  skipped: ${c.skipped}\n`);
      }
      process.stdout.write('\n');
    }
  }
}
