// Connection settings for any Kafka cluster (the local one by default) and the
// @platformatic/kafka clients built from them. Keys and values stay raw Buffers here: message
// formats (Avro, JSON) are the business of src/formats, not of the client layer.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Admin, Consumer, FetchIsolationLevels, Producer, ProduceAcks } from '@platformatic/kafka';
import type { BaseOptions, MessagesStream, ProduceResult, SASLOptions, SendOptions } from '@platformatic/kafka';
import { UserError } from '../util/errors.ts';
import { kafkaPortFromEnv } from './local-config.ts';
import { hasKafkaErrorCode } from './errors.ts';
import { ReadCommittedConsumer } from './read-committed.ts';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

export interface KafkaSasl {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** PEM contents (not file names) of the CA bundle and of the client certificate and key. */
export interface KafkaTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface KafkaSettings {
  /** "host:port" addresses of one or more brokers. */
  bootstrap: string[];
  /** Sent to the brokers with every request (shows up in their logs and quotas). */
  clientId?: string;
  sasl?: KafkaSasl;
  /** true: TLS with the system's CAs; an object: TLS with these PEMs. */
  tls?: boolean | KafkaTls;
}

/** Raw-bytes clients: what the rest of Nightjar passes around. */
export type BytesProducer = Producer<Buffer, Buffer, Buffer, Buffer>;
export type BytesConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;
export type BytesStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
/** What sends records: a producer, or one of its transactions. */
export interface BytesSender {
  send(options: SendOptions<Buffer, Buffer, Buffer, Buffer>): Promise<ProduceResult>;
}

const DEFAULT_CLIENT_ID = 'nightjar';

/** Splits and checks a comma-separated list of "host:port" addresses. */
export function parseBootstrap(text: string, source = 'bootstrap address'): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new UserError(`${source} is empty; expected host:port[,host:port...]`);
  for (const part of parts) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new UserError(`${source} "${part}" is not host:port (e.g. 127.0.0.1:19092)`);
    }
  }
  return parts;
}

/**
 * Settings from the environment: NIGHTJAR_KAFKA_BOOTSTRAP (comma-separated host:port; default
 * the local broker, 127.0.0.1:19092 or the port in NIGHTJAR_KAFKA_PORT), NIGHTJAR_KAFKA_CLIENT_ID,
 * NIGHTJAR_KAFKA_SASL_MECHANISM/_USERNAME/_PASSWORD, and NIGHTJAR_KAFKA_TLS=1 with optional PEM
 * files NIGHTJAR_KAFKA_TLS_CA/_CERT/_KEY.
 */
export function defaultSettings(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const bootstrapText = nonEmpty(env.NIGHTJAR_KAFKA_BOOTSTRAP);
  const settings: KafkaSettings = {
    bootstrap: bootstrapText
      ? parseBootstrap(bootstrapText, 'NIGHTJAR_KAFKA_BOOTSTRAP')
      : [`127.0.0.1:${kafkaPortFromEnv(env)}`],
  };
  const clientId = nonEmpty(env.NIGHTJAR_KAFKA_CLIENT_ID);
  if (clientId) settings.clientId = clientId;

  const mechanism = nonEmpty(env.NIGHTJAR_KAFKA_SASL_MECHANISM);
  const username = nonEmpty(env.NIGHTJAR_KAFKA_SASL_USERNAME);
  const password = env.NIGHTJAR_KAFKA_SASL_PASSWORD;
  if (mechanism || username || password) {
    const upper = (mechanism ?? 'SCRAM-SHA-512').toUpperCase();
    if (!isSaslMechanism(upper)) {
      throw new UserError(`NIGHTJAR_KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}, got "${mechanism}"`);
    }
    if (!username || password === undefined) {
      throw new UserError('SASL needs both NIGHTJAR_KAFKA_SASL_USERNAME and NIGHTJAR_KAFKA_SASL_PASSWORD');
    }
    settings.sasl = { mechanism: upper, username, password };
  }

  const tlsFlag = nonEmpty(env.NIGHTJAR_KAFKA_TLS)?.toLowerCase();
  const pemFiles = { ca: nonEmpty(env.NIGHTJAR_KAFKA_TLS_CA), cert: nonEmpty(env.NIGHTJAR_KAFKA_TLS_CERT), key: nonEmpty(env.NIGHTJAR_KAFKA_TLS_KEY) };
  const anyPem = pemFiles.ca !== undefined || pemFiles.cert !== undefined || pemFiles.key !== undefined;
  if (tlsFlag !== undefined && !['1', 'true', 'yes', '0', 'false', 'no'].includes(tlsFlag)) {
    throw new UserError(`NIGHTJAR_KAFKA_TLS must be 1/true/yes or 0/false/no, got "${env.NIGHTJAR_KAFKA_TLS}"`);
  }
  if (['1', 'true', 'yes'].includes(tlsFlag ?? '') || anyPem) {
    if (!anyPem) {
      settings.tls = true;
    } else {
      const tls: KafkaTls = {};
      for (const [field, file] of Object.entries(pemFiles) as [keyof KafkaTls, string | undefined][]) {
        if (file !== undefined) tls[field] = readPem(file, `NIGHTJAR_KAFKA_TLS_${field.toUpperCase()}`);
      }
      settings.tls = tls;
    }
  }
  return settings;
}

/** The options every client shares: brokers, client id, SASL, TLS. */
export function baseClientOptions(settings: KafkaSettings, clientIdSuffix?: string): BaseOptions {
  if (settings.bootstrap.length === 0) throw new UserError('no Kafka bootstrap address given');
  const clientId = (settings.clientId ?? DEFAULT_CLIENT_ID) + (clientIdSuffix ? `-${clientIdSuffix}` : '');
  const options: BaseOptions = { clientId, bootstrapBrokers: [...settings.bootstrap] };
  if (settings.sasl) {
    const sasl: SASLOptions = { mechanism: settings.sasl.mechanism, username: settings.sasl.username, password: settings.sasl.password };
    options.sasl = sasl;
  }
  if (settings.tls) {
    const tls: TlsOptions = {};
    if (typeof settings.tls === 'object') {
      if (settings.tls.ca !== undefined) tls.ca = settings.tls.ca;
      if (settings.tls.cert !== undefined) tls.cert = settings.tls.cert;
      if (settings.tls.key !== undefined) tls.key = settings.tls.key;
    }
    options.tls = tls;
  }
  return options;
}

export interface ProducerSetup {
  /** Acknowledgement level: 'all' (default: the write survives a broker loss), 'leader' or 'none'. */
  acks?: 'all' | 'leader' | 'none';
  /**
   * Idempotent producer (default: on when acks is 'all'). Needed for exactly-once writes: when
   * one partition of a request fails, @platformatic/kafka resends the whole request, and only
   * the idempotent producer's sequence numbers stop the other partitions from storing it twice.
   */
  idempotent?: boolean;
  /** Makes a transactional producer (implies idempotent). */
  transactionalId?: string;
  /** Per-request timeout in ms (library default 5000). */
  timeout?: number;
  /** Extra client id suffix, e.g. the component name. */
  role?: string;
}

const ACKS = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE } as const;

/** Kafka's CONCURRENT_TRANSACTIONS: the previous transaction's markers are still being written. */
const CONCURRENT_TRANSACTIONS = 51;

/**
 * Pause before a transactional producer retries a request. Right after a commit, the next
 * transaction's first request is refused with CONCURRENT_TRANSACTIONS for a few milliseconds:
 * with the library's flat 1 s pause, every batch would wait about that long (measured 115-530 ms
 * per transaction on the local Kafka); Kafka's own client retries it after 20 ms.
 */
function transactionalRetryDelay(_client: unknown, _operation: string, _attempt: number, _retries: number, error: unknown): number {
  return hasKafkaErrorCode(error, CONCURRENT_TRANSACTIONS) ? 20 : 1000;
}

/** A producer of raw Buffers (keys, values, header keys and values). */
export function createProducer(settings: KafkaSettings, setup: ProducerSetup = {}): BytesProducer {
  const acks = setup.acks ?? 'all';
  const idempotent = setup.idempotent ?? (setup.transactionalId !== undefined || acks === 'all');
  return new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...baseClientOptions(settings, setup.role ?? 'producer'),
    acks: ACKS[acks],
    idempotent,
    // A new transactional producer registers with "no producer id yet" (-1, as Kafka's own clients
    // do). The library's default (0, 0) claims an id and epoch it never had: when the predecessor
    // died mid-transaction, Kafka answers that with PRODUCER_FENCED instead of aborting it.
    ...(setup.transactionalId !== undefined ? { transactionalId: setup.transactionalId, producerId: -1n, producerEpoch: -1, retryDelay: transactionalRetryDelay } : {}),
    ...(setup.timeout !== undefined ? { timeout: setup.timeout } : {}),
  });
}

export interface ConsumerSetup {
  groupId: string;
  /**
   * Where the group starts on a partition it has never committed an offset for: the oldest
   * retained message (true) or only new messages (false, default). Committed offsets always win,
   * so a group resumes where it left off, as with Kafka's auto.offset.reset.
   */
  fromBeginning?: boolean;
  /** Commit offsets automatically: true, an interval in ms, or false (default: commit yourself). */
  autocommit?: boolean | number;
  /** How long a fetch waits on the broker for new data, in ms (default 1000). */
  maxWaitTime?: number;
  /** Messages buffered in the stream before it pauses fetching (library default 1024). */
  highWaterMark?: number;
  /** Most bytes one fetch returns (library default 50 MiB; Kafka still returns a larger first record batch whole). */
  maxBytes?: number;
  /** Most bytes one fetch returns per partition (library default: maxBytes). */
  maxBytesPerPartition?: number;
  /** Group session timeout in ms (library default 60000). */
  sessionTimeout?: number;
  /**
   * Static group membership (Kafka's group.instance.id): a restarted process with the same id
   * takes its predecessor's place at once instead of waiting for its session to time out.
   */
  groupInstanceId?: string;
  /** Attempts per request before an error is raised (library default 3), and the pause between them in ms. */
  retries?: number;
  retryDelay?: number;
  /**
   * 'read_committed' (default): only records of committed transactions (and non-transactional
   * ones); 'read_uncommitted': also those of open and aborted transactions.
   */
  isolation?: Isolation;
  role?: string;
}

export type Isolation = 'read_committed' | 'read_uncommitted';
const ISOLATION_LEVELS = { read_committed: FetchIsolationLevels.READ_COMMITTED, read_uncommitted: FetchIsolationLevels.READ_UNCOMMITTED } as const;

/** A group consumer of raw Buffers; `consume` opens a stream that honours `fromBeginning`. */
export interface KafkaConsumer {
  readonly client: BytesConsumer;
  readonly groupId: string;
  /** Joins the group for these topics and returns the message stream (an async iterable). */
  consume(topics: string[]): Promise<BytesStream>;
  /** Closes the streams, leaves the group and closes the connections. */
  close(): Promise<void>;
}

export function createConsumer(settings: KafkaSettings, setup: ConsumerSetup): KafkaConsumer {
  if (setup.groupId.trim() === '') throw new UserError('a Kafka consumer needs a non-empty group id');
  // ReadCommittedConsumer: the library alone lets some aborted records through (read-committed.ts).
  const client: BytesConsumer = new ReadCommittedConsumer<Buffer, Buffer, Buffer, Buffer>({
    ...baseClientOptions(settings, setup.role ?? 'consumer'),
    groupId: setup.groupId,
    isolationLevel: ISOLATION_LEVELS[setup.isolation ?? 'read_committed'],
    ...(setup.groupInstanceId !== undefined ? { groupInstanceId: setup.groupInstanceId } : {}),
    ...(setup.retries !== undefined ? { retries: setup.retries } : {}),
    ...(setup.retryDelay !== undefined ? { retryDelay: setup.retryDelay } : {}),
    autocommit: setup.autocommit ?? false,
    maxWaitTime: setup.maxWaitTime ?? 1000,
    ...(setup.highWaterMark !== undefined ? { highWaterMark: setup.highWaterMark } : {}),
    ...(setup.maxBytes !== undefined ? { maxBytes: setup.maxBytes } : {}),
    ...(setup.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: setup.maxBytesPerPartition } : {}),
    ...(setup.sessionTimeout !== undefined ? { sessionTimeout: setup.sessionTimeout } : {}),
  });
  return {
    client,
    groupId: setup.groupId,
    consume: (topics) =>
      client.consume({
        topics,
        mode: 'committed',
        fallbackMode: setup.fromBeginning ? 'earliest' : 'latest',
      }),
    // force: close open streams first (otherwise leaving the group is refused while consuming).
    close: () => client.close(true),
  };
}

export interface AdminSetup {
  /** Retries per request (default 15, 200 ms apart; 0 for a quick "is it up?" probe). */
  retries?: number;
  /** Delay between retries in ms (default 200). */
  retryDelay?: number;
  /** TCP connect timeout in ms (library default 5000). */
  connectTimeout?: number;
  /** Request timeout in ms (library default 5000). */
  timeout?: number;
  role?: string;
}

export function createAdmin(settings: KafkaSettings, setup: AdminSetup = {}): Admin {
  return new Admin({
    ...baseClientOptions(settings, setup.role ?? 'admin'),
    // Same 3 s of patience as the library's default (3 retries, 1 s apart), in finer steps: the
    // usual transient error (a new topic's partitions not led yet) clears within a few 100 ms.
    retries: setup.retries ?? 15,
    retryDelay: setup.retryDelay ?? 200,
    ...(setup.connectTimeout !== undefined ? { connectTimeout: setup.connectTimeout } : {}),
    ...(setup.timeout !== undefined ? { timeout: setup.timeout } : {}),
  });
}

function isSaslMechanism(s: string): s is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(s);
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function readPem(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UserError(`${variable}: cannot read ${file}: ${(err as Error).message}`);
  }
}
