// Consumer credentials, one YAML file per profile under ~/.nightjar/credentials (or
// $NIGHTJAR_HOME/credentials), with fink-client's keys so the two read the same settings:
// username, password (null unless SASL is used), group_id, mytopics, servers, maxtimeout.
// The file holds a password, so it is written readable by its owner only (0600).
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { UserError } from '../util/errors.ts';

export interface Credentials {
  username: string;
  password: string | null;
  group_id: string;
  mytopics: string[];
  /** Comma-separated host:port list. */
  servers: string;
  /** Seconds a poll waits for an alert. */
  maxtimeout: number;
}

export const DEFAULT_PROFILE = 'default';
export const DEFAULT_MAX_TIMEOUT = 10;

/** The folder holding the credential files. */
export function credentialsDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.NIGHTJAR_HOME?.trim();
  return path.join(home ? home : path.join(homedir(), '.nightjar'), 'credentials');
}

/** The file of a profile; the name must be a plain file name (no path). */
export function credentialsFile(profile: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(profile) || profile.startsWith('.')) {
    throw new UserError(`profile name "${profile}" may only use letters, digits, "_", "-" and "." (and not start with ".")`);
  }
  return path.join(credentialsDir(env), `${profile}.yaml`);
}

/** Checks and normalises what the register command was given. */
export function makeCredentials(input: { username: string; password?: string | undefined; groupId: string; topics: string; servers: string; maxTimeout?: string | number | undefined }): Credentials {
  const nonEmpty = (value: string, what: string): string => {
    if (value.trim() === '') throw new UserError(`${what} must not be empty`);
    return value.trim();
  };
  const mytopics = input.topics.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (mytopics.length === 0) throw new UserError('--topics must name at least one topic');
  const maxtimeout = input.maxTimeout === undefined ? DEFAULT_MAX_TIMEOUT : Number(input.maxTimeout);
  if (!(maxtimeout > 0) || !Number.isFinite(maxtimeout)) throw new UserError(`--max-timeout must be a positive number of seconds, not "${input.maxTimeout}"`);
  return {
    username: nonEmpty(input.username, '--username'),
    password: input.password ?? null,
    group_id: nonEmpty(input.groupId, '--group-id'),
    mytopics,
    servers: nonEmpty(input.servers, '--servers'),
    maxtimeout,
  };
}

/** Writes the profile's file (mode 0600, also when it existed with a wider mode); returns its path. */
export async function writeCredentials(profile: string, credentials: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = credentialsFile(profile, env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, stringifyYaml(credentials), { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

/** The profile's credentials, or undefined when it has no file. A malformed file is a UserError. */
export async function readCredentials(profile: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const file = credentialsFile(profile, env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read credentials ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UserError(`credentials ${file} are not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`credentials ${file} must be a YAML mapping`);
  const d = doc as Record<string, unknown>;
  const text_ = (key: string): string => {
    const v = d[key];
    if (typeof v !== 'string' || v.trim() === '') throw new UserError(`credentials ${file}: "${key}" must be a non-empty string`);
    return v;
  };
  const topics = d.mytopics;
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string')) throw new UserError(`credentials ${file}: "mytopics" must be a list of topic names`);
  const password = d.password;
  if (password !== null && password !== undefined && typeof password !== 'string') throw new UserError(`credentials ${file}: "password" must be a string or null`);
  const maxtimeout = d.maxtimeout === undefined || d.maxtimeout === null ? DEFAULT_MAX_TIMEOUT : Number(d.maxtimeout);
  if (!(maxtimeout > 0)) throw new UserError(`credentials ${file}: "maxtimeout" must be a positive number of seconds`);
  return {
    username: text_('username'),
    password: password ?? null,
    group_id: text_('group_id'),
    mytopics: topics as string[],
    servers: Array.isArray(d.servers) ? (d.servers as unknown[]).map(String).join(',') : text_('servers'),
    maxtimeout,
  };
}

/** The credentials as shown to a person: the password replaced by whether one is set. */
export function showCredentials(credentials: Credentials): string {
  const shown = { ...credentials, password: credentials.password === null ? null : '(set, hidden)' };
  return stringifyYaml(shown);
}
