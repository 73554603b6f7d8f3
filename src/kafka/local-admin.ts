// The secure local broker's admin account (see secureLocalKafkaConfig): created with a random
// password when its storage is formatted, kept in its data folder readable by the owner only,
// and read by whoever administers that broker (the start-up probe, tests, the CLI).
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../util/errors.ts';
import type { KafkaSettings } from './connection.ts';
import { localBootstrap, localKafkaPaths, type LocalAdminCredentials, type LocalKafkaConfig } from './local-config.ts';

/** Writes the admin account file (mode 0600, also when it existed with a wider mode). */
export async function writeLocalAdminCredentials(config: LocalKafkaConfig, admin: LocalAdminCredentials): Promise<void> {
  const file = localKafkaPaths(config).adminCredentials;
  await writeFile(file, JSON.stringify({ username: admin.username, password: admin.password }, null, 2) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
}

/** The admin account of a secure local broker, or undefined when its file does not exist (not formatted yet). */
export async function readLocalAdminCredentials(config: LocalKafkaConfig): Promise<LocalAdminCredentials | undefined> {
  const file = localKafkaPaths(config).adminCredentials;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read the local Kafka admin credentials ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  const d = doc as Partial<LocalAdminCredentials> | undefined;
  if (typeof d?.username !== 'string' || typeof d.password !== 'string') {
    throw new UserError(`the local Kafka admin credentials ${file} are damaged; "nightjar kafka reset --secure" makes a new cluster with new ones`);
  }
  return { username: d.username, password: d.password };
}

/**
 * Connection settings for the local broker: for a secure one, as its admin (SCRAM-SHA-512),
 * which throws a UserError when it has never been started (no admin account yet).
 */
export async function localKafkaSettings(config: LocalKafkaConfig, clientId?: string): Promise<KafkaSettings> {
  const settings: KafkaSettings = { bootstrap: [localBootstrap(config)], ...(clientId === undefined ? {} : { clientId }) };
  if (config.secure !== true) return settings;
  const admin = await readLocalAdminCredentials(config);
  if (admin === undefined) throw new UserError(`the secure local Kafka in ${config.dataDir} has no admin account yet: start it once with "nightjar kafka start --secure"`);
  return { ...settings, sasl: { mechanism: 'SCRAM-SHA-512', username: admin.username, password: admin.password } };
}
