// `nightjar decode FILE...`: print alert files as JSON, whatever their encoding.
import type { Command } from 'commander';
import { AdapterError, isNonAlertSchema, toAlert } from '../formats/adapters/index.ts';
import { DecodeError, SchemaSourceError } from '../formats/errors.ts';
import { readAlertFile } from '../formats/files.ts';
import { stringify } from '../util/json.ts';
import { addSchemaOptions, forcedSchemaFrom, schemaSourceFrom, type SchemaFlags } from './schema-options.ts';

interface DecodeFlags extends SchemaFlags {
  alert?: boolean;
  compact?: boolean;
}

export function registerDecodeCommand(program: Command): void {
  addSchemaOptions(
    program
      .command('decode')
      .description('print alerts from Avro files as JSON (any encoding; cutouts shown as {"$bytes": size})')
      .argument('<files...>', '.avro or .avro.gz files (container, Confluent wire format, schemaless)')
      .option('--alert', "print Nightjar's normalised alert (ids, position, time, band, flux, lightcurve) instead of the raw record")
      .option('--compact', 'one JSON object per line'),
  ).action(async (files: string[], flags: DecodeFlags) => {
    const options = { schemas: schemaSourceFrom(flags), schema: forcedSchemaFrom(flags) };
    let failures = 0;
    for (const file of files) {
      try {
        for (const decoded of await readAlertFile(file, options)) {
          const header = { file, encoding: decoded.encoding, gzipped: decoded.gzipped, schema: decoded.schema.name, schemaId: decoded.schemaId };
          const body = flags.alert && !isNonAlertSchema(decoded.schema.name)
            ? { alert: withoutRecord(toAlert(decoded.record, decoded.schema.name)) }
            : { record: decoded.record };
          process.stdout.write(stringify({ ...header, ...body }, flags.compact ? undefined : 2) + '\n');
        }
      } catch (err) {
        if (!(err instanceof DecodeError || err instanceof SchemaSourceError || err instanceof AdapterError || isFileError(err))) throw err;
        failures++;
        process.stderr.write(`nightjar decode: ${err.message}\n`);
      }
    }
    if (failures > 0) process.exitCode = 1;
  });
}

function withoutRecord<T extends { record: unknown }>(alert: T): Omit<T, 'record'> {
  const { record: _record, ...rest } = alert;
  return rest;
}

function isFileError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).syscall !== undefined;
}
