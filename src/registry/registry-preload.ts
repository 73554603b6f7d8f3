// What a fresh Nightjar registry holds: its built-in Rubin schema lsst.v10_0 (id 1000, which
// the synthetic generator writes) and, on request, every schema of local .avsc directories
// (ids as schemaDirectory derives them: Rubin's major*100+minor).
import path from 'node:path';
import { lsstAlertParsedSchema } from '../formats/lsst-schema.ts';
import { schemaDirectory } from '../formats/schema-source.ts';
import { repoRoot } from '../kafka/local-config.ts';
import type { PreloadSchema } from './registry-store.ts';

/** The store file: NIGHTJAR_REGISTRY_STORE, else .data/registry/schemas.json in the checkout. */
export function defaultRegistryStoreFile(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.NIGHTJAR_REGISTRY_STORE?.trim();
  return configured ? path.resolve(configured) : path.join(repoRoot, '.data', 'registry', 'schemas.json');
}

export interface RegistryPreload {
  readonly schemas: PreloadSchema[];
  /** Files of the directories that could not be used (the rest still load). */
  readonly problems: string[];
}

/**
 * The built-in schema first (so a fresh store gives it id 1000), then each directory's schemas
 * that have an id there, each under a subject named after its full name (RecordNameStrategy).
 * Throws SchemaSourceError when a directory cannot be read.
 */
export function registryPreload(schemaDirs: readonly string[] = []): RegistryPreload {
  const builtin = lsstAlertParsedSchema();
  const schemas: PreloadSchema[] = [{ subject: builtin.name, text: builtin.text }];
  const problems: string[] = [];
  for (const dir of schemaDirs) {
    const directory = schemaDirectory(dir);
    problems.push(...directory.problems);
    for (const schema of directory.schemas) if (schema.id !== undefined) schemas.push({ subject: schema.name, text: schema.text });
  }
  return { schemas, problems };
}
