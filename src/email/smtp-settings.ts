// SMTP settings: from `--smtp-url` (with `--smtp-from`) or the `smtp:` section of the YAML file
// given with `--config` (the same file as the Kafka settings), flags winning. One place checks
// them, so a bad port or an unknown security mode is a one-line error at start-up, not a
// failed send a day later.
import os from 'node:os';
import { readConfigSection } from '../util/config-file.ts';
import { UserError } from '../util/errors.ts';

/**
 * How the connection is protected. tls: TLS from the first byte (port 465, "smtps");
 * starttls: plain connection upgraded with STARTTLS, refused if the server does not offer it;
 * opportunistic: STARTTLS when offered, else plain; none: never TLS (a relay on loopback).
 */
export const SMTP_SECURITY = ['tls', 'starttls', 'opportunistic', 'none'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

export interface SmtpSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
  user?: string;
  password?: string;
  /** The From address of every email, e.g. "Nightjar <alerts@example.org>". */
  from: string;
}

export interface SmtpFlags {
  smtpUrl?: string;
  smtpFrom?: string;
  config?: string;
}

const DEFAULT_PORT: Record<SmtpSecurity, number> = { tls: 465, starttls: 587, opportunistic: 587, none: 25 };

export function defaultFrom(): string {
  return `Nightjar <nightjar@${os.hostname()}>`;
}

function checkSecurity(value: unknown, where: string): SmtpSecurity {
  if (typeof value === 'string' && (SMTP_SECURITY as readonly string[]).includes(value)) return value as SmtpSecurity;
  throw new UserError(`${where}: security must be one of ${SMTP_SECURITY.join(', ')}, not ${JSON.stringify(value)}`);
}

function checkPort(value: unknown, where: string): number {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`${where}: port must be a number from 1 to 65535, not ${JSON.stringify(value)}`);
  return port;
}

function checkFrom(value: unknown, where: string): string {
  if (typeof value !== 'string' || !/@/.test(value) || /[\r\n]/.test(value)) throw new UserError(`${where}: from must be an email address, not ${JSON.stringify(value)}`);
  return value;
}

/**
 * Reads smtp://user:password@host:port or smtps://..., with optional query parameters
 * `security` (see SmtpSecurity) and `from`. smtp:// means starttls unless security says
 * otherwise; user and password are percent-decoded.
 */
export function parseSmtpUrl(text: string, from?: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`--smtp-url ${JSON.stringify(redactUrl(text))} is not a URL (smtp://user:password@host:port?security=starttls&from=address)`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new UserError(`--smtp-url must start with smtp:// or smtps://, not ${url.protocol}//`);
  if (url.hostname === '') throw new UserError('--smtp-url has no host');
  for (const key of url.searchParams.keys()) if (key !== 'security' && key !== 'from') throw new UserError(`--smtp-url: unknown parameter "${key}" (security, from)`);
  const securityParam = url.searchParams.get('security');
  const security = securityParam !== null ? checkSecurity(securityParam, '--smtp-url') : url.protocol === 'smtps:' ? 'tls' : 'starttls';
  if (url.protocol === 'smtps:' && security !== 'tls') throw new UserError('--smtp-url: smtps:// is TLS from the start; use smtp:// for other security modes');
  const settings: SmtpSettings = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? DEFAULT_PORT[security] : checkPort(url.port, '--smtp-url'),
    security,
    from: checkFrom(from ?? url.searchParams.get('from') ?? defaultFrom(), '--smtp-url'),
  };
  if (url.username !== '') settings.user = decodeURIComponent(url.username);
  if (url.password !== '') settings.password = decodeURIComponent(url.password);
  return settings;
}

/** The settings of a config file's `smtp:` mapping (host, port, security, user, password, from). */
export function smtpSettingsFromSection(section: unknown, where: string): SmtpSettings {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) throw new UserError(`${where}: "smtp" must be a mapping`);
  const s = section as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!['host', 'port', 'security', 'user', 'password', 'from'].includes(key)) throw new UserError(`${where}: smtp: unknown setting "${key}" (host, port, security, user, password, from)`);
  if (typeof s.host !== 'string' || s.host === '') throw new UserError(`${where}: smtp needs a host`);
  const security = s.security === undefined ? 'starttls' : checkSecurity(s.security, `${where}: smtp`);
  const settings: SmtpSettings = {
    host: s.host,
    port: s.port === undefined ? DEFAULT_PORT[security] : checkPort(s.port, `${where}: smtp`),
    security,
    from: checkFrom(s.from ?? defaultFrom(), `${where}: smtp`),
  };
  if (s.user !== undefined && s.user !== null) settings.user = String(s.user);
  if (s.password !== undefined && s.password !== null) settings.password = String(s.password);
  return settings;
}

/** The SMTP settings the flags select (--smtp-url over the config file's smtp section), or null when email is not configured. */
export function smtpSettingsFrom(flags: SmtpFlags): SmtpSettings | null {
  if (flags.smtpUrl !== undefined) return parseSmtpUrl(flags.smtpUrl, flags.smtpFrom === undefined ? undefined : checkFrom(flags.smtpFrom, '--smtp-from'));
  if (flags.config === undefined) {
    if (flags.smtpFrom !== undefined) throw new UserError('--smtp-from needs --smtp-url (or an smtp: section in --config)');
    return null;
  }
  const section = readConfigSection(flags.config, 'smtp');
  if (section === undefined || section === null) {
    if (flags.smtpFrom !== undefined) throw new UserError(`--smtp-from needs --smtp-url or an smtp: section in ${flags.config}`);
    return null;
  }
  const settings = smtpSettingsFromSection(section, `config file ${flags.config}`);
  if (flags.smtpFrom !== undefined) settings.from = checkFrom(flags.smtpFrom, '--smtp-from');
  return settings;
}

/** The settings for logs and messages: never the password. */
export function describeSmtp(s: SmtpSettings): string {
  return `${s.security === 'tls' ? 'smtps' : 'smtp'}://${s.user === undefined ? '' : `${s.user}@`}${s.host}:${s.port} (${s.security}), from ${s.from}`;
}

function redactUrl(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
