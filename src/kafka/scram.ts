// SCRAM credentials of Kafka users, set through the Kafka protocol (AlterUserScramCredentials,
// KIP-554) with a connection signed in as a super user. @platformatic/kafka has the protocol
// messages but no Admin method for them, so this file sends them on one of its Connections.
// Kafka never receives the password: the client salts and hashes it (RFC 5802's Hi, i.e.
// PBKDF2) and sends the salted password, from which the broker derives its stored keys.
import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Connection, alterUserScramCredentialsV0, describeUserScramCredentialsV0 } from '@platformatic/kafka';
import { UserError } from '../util/errors.ts';
import { baseClientOptions, type KafkaSettings } from './connection.ts';
import { describeError, hasKafkaErrorCode } from './errors.ts';
import { SCRAM_MECHANISMS, type ScramMechanism } from './local-config.ts';

const pbkdf2Async = promisify(pbkdf2);

/** Kafka's numbers for the mechanisms (ScramMechanism in the protocol). */
const MECHANISM_IDS: Record<ScramMechanism, 1 | 2> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
const HASHES: Record<ScramMechanism, { digest: string; bytes: number }> = {
  'SCRAM-SHA-256': { digest: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { digest: 'sha512', bytes: 64 },
};
/** Kafka accepts 4096 to 16384 iterations; more costs every sign-in, not only an attacker. */
export const SCRAM_ITERATIONS = 8192;
/** RESOURCE_NOT_FOUND: deleting a credential that does not exist. */
const RESOURCE_NOT_FOUND = 91;

export interface ScramUpsert {
  username: string;
  password: string;
  /** Default both: SCRAM-SHA-512 (fink-client's) and SCRAM-SHA-256. */
  mechanisms?: readonly ScramMechanism[];
}

/** Creates or replaces a user's SCRAM credentials (one per mechanism, same password). `admin` must be a super user. */
export async function upsertScramCredentials(admin: KafkaSettings, user: ScramUpsert): Promise<void> {
  const mechanisms = user.mechanisms ?? SCRAM_MECHANISMS;
  const upsertions = await Promise.all(
    mechanisms.map(async (mechanism) => {
      const salt = randomBytes(32);
      const { digest, bytes } = HASHES[mechanism];
      const saltedPassword = await pbkdf2Async(user.password, salt, SCRAM_ITERATIONS, bytes, digest);
      return { name: user.username, mechanism: MECHANISM_IDS[mechanism], iterations: SCRAM_ITERATIONS, salt, saltedPassword };
    }),
  );
  // Kafka refuses two changes to one user in one request (DUPLICATE_RESOURCE): one request per mechanism.
  await withConnection(admin, `setting the SCRAM credentials of Kafka user ${user.username}`, async (c) => {
    for (const upsertion of upsertions) await alterUserScramCredentialsV0.api.async(c, [], [upsertion]);
  });
}

/** Deletes a user's SCRAM credentials (every mechanism); false when there were none. */
export async function deleteScramCredentials(admin: KafkaSettings, username: string): Promise<boolean> {
  const existing = await scramMechanisms(admin, username);
  if (existing.length === 0) return false;
  const deletions = existing.map((mechanism) => ({ name: username, mechanism: MECHANISM_IDS[mechanism] }));
  try {
    await withConnection(admin, `deleting the SCRAM credentials of Kafka user ${username}`, async (c) => {
      for (const deletion of deletions) await alterUserScramCredentialsV0.api.async(c, [deletion], []);
    });
  } catch (err) {
    if (hasKafkaErrorCode(err, RESOURCE_NOT_FOUND)) return false;
    throw err;
  }
  return true;
}

/** The mechanisms a user has SCRAM credentials for (empty for an unknown user). */
export async function scramMechanisms(admin: KafkaSettings, username: string): Promise<ScramMechanism[]> {
  let response;
  try {
    response = await withConnection(admin, `describing the SCRAM credentials of Kafka user ${username}`, (c) => describeUserScramCredentialsV0.api.async(c, [{ name: username }]));
  } catch (err) {
    // An unknown user is reported as an error of its result (RESOURCE_NOT_FOUND).
    if (hasKafkaErrorCode(err, RESOURCE_NOT_FOUND)) return [];
    throw err;
  }
  const infos = response.results.find((r) => r.user === username)?.credentialInfos ?? [];
  return SCRAM_MECHANISMS.filter((m) => infos.some((i) => i.mechanism === MECHANISM_IDS[m]));
}

/** Every user that has SCRAM credentials in the cluster, sorted. */
export async function listScramUsers(admin: KafkaSettings): Promise<string[]> {
  const response = await withConnection(admin, 'listing the SCRAM users', (c) => describeUserScramCredentialsV0.api.async(c, null));
  return response.results.map((r) => r.user).sort();
}

/** Runs one request on a fresh connection to the first bootstrap broker that accepts one. */
async function withConnection<T>(settings: KafkaSettings, what: string, request: (connection: Connection) => Promise<T>): Promise<T> {
  const options = baseClientOptions(settings, 'access');
  let lastError: unknown;
  for (const address of settings.bootstrap) {
    const { host, port } = splitAddress(address);
    const connection = new Connection(options.clientId, {
      connectTimeout: 5000,
      requestTimeout: 10_000,
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    try {
      await connection.connect(host, port);
    } catch (err) {
      lastError = err;
      await connection.close().catch(() => undefined);
      continue;
    }
    try {
      return await request(connection);
    } catch (err) {
      throw new KafkaRequestError(`${what} failed: ${describeError(err)}`, err);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
  throw new UserError(`${what}: cannot connect to Kafka at ${settings.bootstrap.join(',')}: ${describeError(lastError)}`);
}

/** A refused or failed request, with the client's error (and its Kafka error codes) as cause. */
class KafkaRequestError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'KafkaRequestError';
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
