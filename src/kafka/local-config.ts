// Configuration of the local development Kafka: where its files live, which ports it uses, and
// the text of its server.properties and log4j2 configuration. Pure functions, no I/O.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../util/errors.ts';

/** Broker port when NIGHTJAR_KAFKA_PORT is not set; the KRaft controller uses the next port. */
export const DEFAULT_KAFKA_PORT = 19092;

/**
 * Port of the secure local broker (SASL/SCRAM and ACLs) when NIGHTJAR_KAFKA_SECURE_PORT is not
 * set: a separate instance with its own data, so it never disturbs the plain one on 19092.
 */
export const DEFAULT_SECURE_KAFKA_PORT = 19192;

/** The secure broker's own account: a super user, the only principal that reaches raw and dead-letter topics. */
export const LOCAL_ADMIN_USER = 'admin';

/** SCRAM mechanisms the secure broker accepts; clients (fink-client) default to the first. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** Largest single message the local broker accepts (Rubin alerts with cutouts, whole ZTF files). */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * Largest record batch the broker accepts. The client puts every message of one send() to one
 * partition into a single batch, so this is larger than one message: a 10 MB message plus
 * framing fits, and so does a send() of several alerts.
 */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

export interface LocalKafkaConfig {
  /** Broker (PLAINTEXT) port on 127.0.0.1. */
  readonly port: number;
  /** KRaft controller port on 127.0.0.1 (port + 1). */
  readonly controllerPort: number;
  /** The Maven pom listing the broker's jars. */
  readonly pomFile: string;
  /** Where Maven copies the jars (git-ignored cache). */
  readonly libsDir: string;
  /** Everything the broker writes: configuration, partition data, logs, pid file. */
  readonly dataDir: string;
  /** JVM maximum heap, e.g. "1g". */
  readonly maxHeap: string;
  /**
   * SASL/SCRAM on the broker listener with ACLs enforced (StandardAuthorizer, nothing allowed
   * without an ACL, LOCAL_ADMIN_USER a super user). Absent or false: PLAINTEXT, no authorizer.
   */
  readonly secure?: boolean;
}

/** The secure broker's admin account, created at format time and kept in its data folder. */
export interface LocalAdminCredentials {
  readonly username: string;
  readonly password: string;
}

/** The repository root (this file is src/kafka/local-config.ts). */
export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Parses NIGHTJAR_KAFKA_PORT (or the default) into the broker port. */
export function kafkaPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return portFromVariable(env, 'NIGHTJAR_KAFKA_PORT', DEFAULT_KAFKA_PORT);
}

function portFromVariable(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const text = env[variable];
  if (text === undefined || text.trim() === '') return fallback;
  const port = Number(text);
  // The controller takes port + 1, so the broker port must leave room for it.
  if (!Number.isInteger(port) || port < 1024 || port > 65534) {
    throw new UserError(`${variable} must be an integer from 1024 to 65534, got "${text}"`);
  }
  return port;
}

/** The local broker's settings for this checkout, from the environment. */
export function localKafkaConfig(env: NodeJS.ProcessEnv = process.env, root: string = repoRoot): LocalKafkaConfig {
  const port = kafkaPortFromEnv(env);
  return {
    port,
    controllerPort: port + 1,
    pomFile: path.join(root, 'kafka', 'pom.xml'),
    libsDir: path.join(root, '.cache', 'kafka', 'libs'),
    dataDir: path.join(root, '.data', 'kafka'),
    maxHeap: '1g',
  };
}

/**
 * The secure local broker (`nightjar kafka start --secure`): SASL/SCRAM and ACLs, port from
 * NIGHTJAR_KAFKA_SECURE_PORT (default 19192, controller the next port), data in .data/kafka-secure.
 */
export function secureLocalKafkaConfig(env: NodeJS.ProcessEnv = process.env, root: string = repoRoot): LocalKafkaConfig {
  const port = portFromVariable(env, 'NIGHTJAR_KAFKA_SECURE_PORT', DEFAULT_SECURE_KAFKA_PORT);
  return { ...localKafkaConfig({}, root), port, controllerPort: port + 1, dataDir: path.join(root, '.data', 'kafka-secure'), secure: true };
}

/** Files and folders inside the data directory. */
export interface LocalKafkaPaths {
  readonly serverProperties: string;
  readonly log4jConfig: string;
  /** Kafka's log.dirs: partition data and the KRaft metadata log. */
  readonly storageDir: string;
  /** Written by the storage formatter; its presence means the storage is formatted. */
  readonly metaProperties: string;
  readonly logsDir: string;
  /** The broker's own log (log4j). */
  readonly serverLog: string;
  /** The JVM's stdout and stderr (errors from before logging starts, crashes). */
  readonly jvmLog: string;
  /** JSON: pid, ports, version, owner, start time of the running broker. */
  readonly pidFile: string;
  /** Held while a start, stop or reset is in progress. */
  readonly lockFile: string;
  /** The secure broker's admin account (JSON, mode 0600), written when its storage is formatted. */
  readonly adminCredentials: string;
  /** One file per test process using the broker (see test/setup). */
  readonly leasesDir: string;
}

export function localKafkaPaths(config: LocalKafkaConfig): LocalKafkaPaths {
  const d = config.dataDir;
  const logsDir = path.join(d, 'logs');
  const storageDir = path.join(d, 'storage');
  return {
    serverProperties: path.join(d, 'server.properties'),
    log4jConfig: path.join(d, 'log4j2.properties'),
    storageDir,
    metaProperties: path.join(storageDir, 'meta.properties'),
    logsDir,
    serverLog: path.join(logsDir, 'server.log'),
    jvmLog: path.join(logsDir, 'jvm.log'),
    pidFile: path.join(d, 'broker.pid.json'),
    lockFile: path.join(d, 'broker.lock'),
    adminCredentials: path.join(d, 'admin-credentials.json'),
    leasesDir: path.join(d, 'leases'),
  };
}

/** The bootstrap address of the local broker. */
export function localBootstrap(config: Pick<LocalKafkaConfig, 'port'>): string {
  return `127.0.0.1:${config.port}`;
}

/**
 * Kafka's server.properties for a single combined broker+controller node on loopback. A secure
 * config needs the admin account, whose password the file then holds (write it mode 0600).
 */
export function renderServerProperties(config: LocalKafkaConfig, storageDir: string, admin?: LocalAdminCredentials): string {
  let security: Record<string, string | number | boolean>;
  if (config.secure === true) {
    if (admin === undefined) throw new Error('the secure local Kafka needs its admin credentials to write server.properties');
    security = secureListenerProperties(config, admin);
  } else {
    security = {
      listeners: `PLAINTEXT://127.0.0.1:${config.port},CONTROLLER://127.0.0.1:${config.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${config.port}`,
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    };
  }
  const props: Record<string, string | number | boolean> = {
    // One KRaft node that is both broker and controller, with a static quorum: the voter's
    // address comes from this file on every start, so the port can change between runs.
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${config.controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    ...security,
    'log.dirs': storageDir,
    // Convenient for development; Nightjar itself creates its topics explicitly (topics.ts).
    'auto.create.topics.enable': true,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // A single node: internal topics cannot have more than one replica. Fewer partitions than
    // the defaults (50) make the first consumer group and the first transaction start faster.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Tests and the demo start consumers and expect messages at once.
    'group.initial.rebalance.delay.ms': 0,
    // Large alerts: a 10 MB message must fit in a batch, a fetch and a replica fetch.
    'message.max.bytes': MAX_BATCH_BYTES,
    'replica.fetch.max.bytes': MAX_BATCH_BYTES,
    'replica.fetch.response.max.bytes': 4 * MAX_BATCH_BYTES,
    'fetch.max.bytes': 4 * MAX_BATCH_BYTES,
    'socket.request.max.bytes': 8 * MAX_BATCH_BYTES,
    // Seven days, as the brokers astronomers know (Lasair, Fink) keep their streams.
    'log.retention.hours': 168,
    'log.segment.bytes': 256 * 1024 * 1024,
    'log.retention.check.interval.ms': 300_000,
    'num.recovery.threads.per.data.dir': 2,
  };
  const lines = Object.entries(props).map(([k, v]) => `${k}=${escapeProperty(String(v))}`);
  return `# Written by nightjar kafka start on every start; edit src/kafka/local-config.ts instead.\n${lines.join('\n')}\n`;
}

/**
 * Listeners of the secure broker. Clients authenticate with SCRAM (SHA-512 or SHA-256) against
 * credentials kept in the cluster metadata. The controller listener cannot use SCRAM (the
 * credentials live in the metadata the controller serves), so it takes SASL/PLAIN with the admin
 * account from this file: no unauthenticated port is left, not even the controller's, which
 * would otherwise accept admin requests (CreateAcls) from anyone on the host. Every request is
 * checked by the StandardAuthorizer; what no ACL allows is refused, except for the admin, a
 * super user (the broker's own inter-broker and controller connections use it).
 */
function secureListenerProperties(config: LocalKafkaConfig, admin: LocalAdminCredentials): Record<string, string> {
  checkAdminCredentials(admin);
  const scramLogin = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin.username}" password="${admin.password}";`;
  const plainLogin = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin.username}" password="${admin.password}" user_${admin.username}="${admin.password}";`;
  return {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${config.port},CONTROLLER://127.0.0.1:${config.controllerPort}`,
    'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${config.port}`,
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': scramLogin,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': scramLogin,
    'sasl.mechanism.controller.protocol': 'PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.controller.plain.sasl.jaas.config': plainLogin,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${admin.username}`,
    'allow.everyone.if.no.acl.found': 'false',
  };
}

/** Arguments of the storage formatter that create the admin's SCRAM credentials in the new cluster. */
export function scramFormatArguments(admin: LocalAdminCredentials): string[] {
  checkAdminCredentials(admin);
  return SCRAM_MECHANISMS.flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${admin.username},password=${admin.password}]`]);
}

/** A new admin account with a random password (hex: nothing to escape in JAAS or formatter syntax). */
export function newAdminCredentials(): LocalAdminCredentials {
  return { username: LOCAL_ADMIN_USER, password: randomBytes(24).toString('hex') };
}

/** Names and passwords go into JAAS and formatter text unescaped, so only plain characters are allowed. */
function checkAdminCredentials(admin: LocalAdminCredentials): void {
  if (!/^[A-Za-z0-9_-]+$/.test(admin.username) || !/^[A-Za-z0-9_-]{16,}$/.test(admin.password)) {
    throw new UserError('the local Kafka admin username must be letters, digits, "_" or "-", and its password at least 16 of them');
  }
}

/** log4j2 configuration: INFO from the server lifecycle, WARN from everything else, one rolling file. */
export function renderLog4jConfig(logsDir: string): string {
  const file = path.join(logsDir, 'server.log');
  const lines = [
    '# Written by nightjar kafka start on every start.',
    'status = warn',
    // Kafka logs its own shutdown from a JVM shutdown hook; log4j's hook must not close the file first.
    'shutdownHook = disable',
    'appender.file.type = RollingFile',
    'appender.file.name = file',
    `appender.file.fileName = ${escapeProperty(file)}`,
    `appender.file.filePattern = ${escapeProperty(file)}.%i`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'appender.file.policies.type = Policies',
    'appender.file.policies.size.type = SizeBasedTriggeringPolicy',
    'appender.file.policies.size.size = 10MB',
    'appender.file.strategy.type = DefaultRolloverStrategy',
    'appender.file.strategy.max = 3',
    'rootLogger.level = warn',
    'rootLogger.appenderRef.file.ref = file',
    // Keep the few lines that say which version started, with which settings, and when it is up.
    'logger.server.name = kafka.server.KafkaRaftServer',
    'logger.server.level = info',
    'logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser',
    'logger.appinfo.level = info',
    'logger.config.name = kafka.server.KafkaConfig',
    'logger.config.level = info',
    'logger.shutdown.name = kafka.server.BrokerServer',
    'logger.shutdown.level = info',
  ];
  return lines.join('\n') + '\n';
}

/** Escapes a value for a Java .properties file (backslashes, and leading spaces are the traps). */
function escapeProperty(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/^ /, '\\ ');
}

/**
 * A new KRaft cluster id: 16 random bytes in URL-safe base64 without padding (22 characters),
 * the form Kafka's own `random-uuid` prints. Kafka never issues ids starting with "-" (they
 * read as command-line options), so neither do we.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Reads `key=value` lines of a .properties file (enough for meta.properties). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** The Kafka version of a libs folder, from the name of its kafka_2.13-X.jar. */
export function kafkaVersionFromJars(jarNames: readonly string[]): string | undefined {
  for (const name of jarNames) {
    const m = /^kafka_2\.1\d-(\d[\w.-]*)\.jar$/.exec(name);
    if (m) return m[1];
  }
  return undefined;
}
