// The schema-related options shared by every command that reads alerts.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseSchema, type ParsedSchema } from '../formats/avro-schema.ts';
import { builtinSchemas } from '../formats/builtin-schemas.ts';
import { SchemaSourceError } from '../formats/errors.ts';
import { combinedSource, registryClient, schemaDirectory, type SchemaSource } from '../formats/schema-source.ts';
import { UserError } from '../util/errors.ts';

export interface SchemaFlags {
  registry?: string;
  schemaDir?: string[];
  schema?: string;
}

export function addSchemaOptions(command: Command): Command {
  return command
    .option('--registry <url>', 'schema registry for Confluent wire-format messages (Confluent REST API)', process.env.NIGHTJAR_SCHEMA_REGISTRY)
    .option('--schema-dir <dir>', 'directory of .avsc files for Confluent wire-format ids (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--schema <file.avsc>', 'writer schema for schemaless Avro (forces this schema)');
}

/** Registry first, then schema directories, then Nightjar's built-in schemas. */
export function schemaSourceFrom(flags: SchemaFlags): SchemaSource {
  const sources: SchemaSource[] = [];
  if (flags.registry) sources.push(registryClient(flags.registry));
  for (const dir of flags.schemaDir ?? []) {
    const directory = schemaDirectory(dir);
    if (directory.schemas.length === 0) throw new UserError(`no Avro schemas found under ${dir}${directory.problems.length > 0 ? `: ${directory.problems[0]}` : ''}`);
    sources.push(directory);
  }
  sources.push(builtinSchemas());
  return combinedSource(sources);
}

export function forcedSchemaFrom(flags: SchemaFlags): ParsedSchema | undefined {
  if (flags.schema === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(flags.schema, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read schema ${flags.schema}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseSchema(text);
  } catch (err) {
    throw new UserError(`${flags.schema} is not a usable Avro schema: ${(err as Error).message}`);
  }
}

/** Both: what decodeMessage needs; a bad registry URL or schema directory is a one-line error. */
export function decodeOptionsFrom(flags: SchemaFlags): { schemas: SchemaSource; schema: ParsedSchema | undefined } {
  try {
    return { schemas: schemaSourceFrom(flags), schema: forcedSchemaFrom(flags) };
  } catch (err) {
    if (err instanceof SchemaSourceError) throw new UserError(err.message);
    throw err;
  }
}
