// The `--config FILE.yaml` file: one YAML document whose top-level sections (kafka:, smtp:, ...)
// each belong to one part of Nightjar. Read problems are one-line UserErrors naming the file.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors.ts';

/** The named top-level section of the YAML file, or undefined when the file has none. */
export function readConfigSection(file: string, section: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UserError(`config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return undefined;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`config file ${file} must be a mapping of sections (kafka:, smtp:)`);
  return (doc as Record<string, unknown>)[section];
}
