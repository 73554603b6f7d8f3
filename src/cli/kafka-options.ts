// Kafka connection options shared by every command that talks to a cluster: flags, then a
// YAML config file, then the NIGHTJAR_KAFKA_* environment, then the local broker.
import type { Command } from 'commander';
import { readConfigSection } from '../util/config-file.ts';
import { defaultSettings, type KafkaSettings } from '../kafka/connection.ts';
import { UserError } from '../util/errors.ts';

export interface KafkaFlags {
  bootstrap?: string;
  saslMechanism?: string;
  saslUsername?: string;
  saslPassword?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  config?: string;
}

export function addKafkaOptions(command: Command): Command {
  return command
    .option('--bootstrap <host:port,...>', 'Kafka bootstrap servers (default: the local broker, 127.0.0.1:19092)')
    .option('--sasl-mechanism <name>', 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default SCRAM-SHA-512 when a user is given)')
    .option('--sasl-username <user>', 'SASL user name')
    .option('--sasl-password <password>', 'SASL password')
    .option('--tls', 'connect with TLS')
    .option('--tls-ca <file.pem>', 'CA bundle for TLS')
    .option('--tls-cert <file.pem>', 'client certificate for TLS')
    .option('--tls-key <file.pem>', 'client key for TLS')
    .option('--config <file.yaml>', 'YAML file with a "kafka:" section (bootstrap, sasl: {mechanism, username, password}, tls: true | {ca, cert, key})');
}

interface KafkaConfigFile {
  bootstrap?: string | string[];
  sasl?: { mechanism?: string; username?: string; password?: string };
  tls?: boolean | { ca?: string; cert?: string; key?: string };
}

function readConfigFile(file: string): KafkaConfigFile {
  const kafka = readConfigSection(file, 'kafka');
  if (kafka === undefined) return {};
  if (kafka === null || typeof kafka !== 'object' || Array.isArray(kafka)) throw new UserError(`config file ${file}: "kafka" must be a mapping`);
  return kafka as KafkaConfigFile;
}

const text = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/**
 * The settings these flags select. Flags and the config file are laid over the environment and
 * then read by defaultSettings, so every source gets the same validation.
 */
export function kafkaSettingsFrom(flags: KafkaFlags, env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const file = flags.config === undefined ? {} : readConfigFile(flags.config);
  const fileTls = typeof file.tls === 'object' && file.tls !== null ? file.tls : {};
  const layered: NodeJS.ProcessEnv = { ...env };
  const set = (name: string, ...values: unknown[]): void => {
    const value = values.map(text).find((v) => v !== undefined);
    if (value !== undefined) layered[name] = value;
  };
  set('NIGHTJAR_KAFKA_BOOTSTRAP', flags.bootstrap, Array.isArray(file.bootstrap) ? file.bootstrap.join(',') : file.bootstrap);
  set('NIGHTJAR_KAFKA_SASL_MECHANISM', flags.saslMechanism, file.sasl?.mechanism);
  set('NIGHTJAR_KAFKA_SASL_USERNAME', flags.saslUsername, file.sasl?.username);
  set('NIGHTJAR_KAFKA_SASL_PASSWORD', flags.saslPassword, file.sasl?.password);
  set('NIGHTJAR_KAFKA_TLS', flags.tls ? '1' : undefined, file.tls === true || typeof file.tls === 'object' ? '1' : undefined);
  set('NIGHTJAR_KAFKA_TLS_CA', flags.tlsCa, fileTls.ca);
  set('NIGHTJAR_KAFKA_TLS_CERT', flags.tlsCert, fileTls.cert);
  set('NIGHTJAR_KAFKA_TLS_KEY', flags.tlsKey, fileTls.key);
  return defaultSettings(layered);
}
