// `nightjar registry`: Nightjar's schema registry (Confluent REST subset) on 127.0.0.1, so
// Confluent wire-format streams (the simulator's, Rubin's convention) can be decoded by any
// client that fetches schemas by id.
import type { Command } from 'commander';
import { SchemaSourceError } from '../formats/errors.ts';
import { defaultRegistryStoreFile, registryPreload } from '../registry/registry-preload.ts';
import { DEFAULT_REGISTRY_PORT, startRegistryServer } from '../registry/registry-server.ts';
import { openRegistryStore } from '../registry/registry-store.ts';
import { UserError } from '../util/errors.ts';

interface RegistryFlags {
  port: string;
  schemaDir?: string[];
  store?: string;
}

export function registerRegistryCommand(program: Command): void {
  program
    .command('registry')
    .description('run the schema registry (Confluent REST subset: GET /schemas/ids/{id}, GET/POST /subjects/{subject}/versions) on 127.0.0.1 until Ctrl-C')
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', String(DEFAULT_REGISTRY_PORT))
    .option('--schema-dir <dir>', 'also preload every schema of this directory of .avsc files (repeatable; ids as Rubin numbers them, e.g. lsst.v9_0 → 900)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--store <file.json>', 'where ids are kept across restarts (default: $NIGHTJAR_REGISTRY_STORE or .data/registry/schemas.json)')
    .action(async (flags: RegistryFlags) => runRegistry(flags));
}

async function runRegistry(flags: RegistryFlags): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number, not "${flags.port}"`);
  const file = flags.store ?? defaultRegistryStoreFile();
  let preload;
  try {
    preload = registryPreload(flags.schemaDir ?? []);
  } catch (err) {
    if (err instanceof SchemaSourceError) throw new UserError(err.message);
    throw err;
  }
  for (const problem of preload.problems) process.stderr.write(`nightjar registry: ${problem}\n`);
  let store;
  try {
    store = openRegistryStore({ file, preload: preload.schemas });
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  let server;
  try {
    server = await startRegistryServer({ store, port });
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const schemas = store.list();
  process.stdout.write(`schema registry: ${server.url} (${schemas.length} schemas, ${store.subjects().length} subjects; store ${file})\n`);
  for (const schema of schemas) process.stdout.write(`  id ${schema.id}: ${schema.name}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  process.stdout.write('schema registry stopped\n');
}
