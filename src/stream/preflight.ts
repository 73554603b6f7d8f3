// Checks a stream tool makes before it consumes or monitors: the cluster answers, and the
// topics exist. Both failures become one-line UserErrors naming what is wrong (the bootstrap
// address; the topic and some that do exist) instead of the client's nested retry errors, and
// the existence check matters because a broker with auto.create.topics.enable (the local one)
// would otherwise silently create a misspelt topic on the first fetch.
import type { Admin } from '@platformatic/kafka';
import { accessError } from '../kafka/access-errors.ts';
import { createAdmin, type KafkaSettings } from '../kafka/connection.ts';
import { describeError } from '../kafka/errors.ts';
import { UserError } from '../util/errors.ts';

/** How many existing topics an unknown-topic error lists (the most alike first). */
const LISTED_TOPICS = 8;

/** True when err (or an error inside it) is a failure to connect rather than a refusal by the broker. */
export function isConnectionFailure(err: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const o = e as { code?: unknown; errors?: unknown; cause?: unknown };
    if (o.code === 'PLT_KFK_NETWORK' || o.code === 'ECONNREFUSED' || o.code === 'ENOTFOUND' || o.code === 'ETIMEDOUT' || o.code === 'EHOSTUNREACH') return true;
    if (Array.isArray(o.errors) && o.errors.some(visit)) return true;
    return visit(o.cause);
  };
  return visit(err);
}

/** The one-line error for a cluster that did not answer a request. */
export function clusterError(settings: KafkaSettings, err: unknown): UserError {
  const refused = accessError(settings, err);
  if (refused !== undefined) return refused;
  const where = settings.bootstrap.join(',');
  return isConnectionFailure(err)
    ? new UserError(`cannot reach Kafka at ${where}: ${describeError(err)}`)
    : new UserError(`Kafka at ${where} refused the request: ${describeError(err)}`);
}

/**
 * The user topics of the cluster, sorted. An unreachable cluster (or one that refuses us, e.g.
 * bad credentials) is a UserError naming the bootstrap address.
 */
export async function listClusterTopics(admin: Admin, settings: KafkaSettings): Promise<string[]> {
  try {
    return [...(await admin.listTopics({ includeInternals: false }))].sort();
  } catch (err) {
    throw clusterError(settings, err);
  }
}

/** A topic that does not exist (a UserError: one line naming it and some that do). */
export class UnknownTopicError extends UserError {
  readonly topic: string;
  constructor(topic: string, message: string) {
    super(message);
    this.name = 'UnknownTopicError';
    this.topic = topic;
  }
}

/** The error for a topic that is not among `existing`, listing a few that are. */
export function unknownTopicError(topic: string, existing: readonly string[], where: string): UnknownTopicError {
  // The names most like the one asked for first (a typo, a missing suffix), then the others.
  const common = (name: string): number => {
    let n = 0;
    while (n < name.length && n < topic.length && name[n] === topic[n]) n++;
    return n;
  };
  const ranked = [...existing].sort((a, b) => common(b) - common(a) || (a < b ? -1 : a > b ? 1 : 0));
  const shown = ranked.slice(0, LISTED_TOPICS);
  const more = existing.length > shown.length ? `, ... (${existing.length} in all)` : '';
  const list = shown.length === 0 ? 'the cluster has no topics' : `existing topics: ${shown.join(', ')}${more}`;
  return new UnknownTopicError(topic, `topic "${topic}" does not exist on ${where}; ${list}`);
}

/** Throws a UserError unless every topic exists (and the cluster answers). */
export async function checkTopics(admin: Admin, settings: KafkaSettings, topics: readonly string[]): Promise<void> {
  const existing = await listClusterTopics(admin, settings);
  const missing = topics.find((t) => !existing.includes(t));
  if (missing === undefined) return;
  // With ACLs a topic one may not read is left out of the list: ask for it by name, and Kafka
  // says "not authorized" (as it says for a topic that does not exist, so nothing leaks).
  if (settings.sasl !== undefined) {
    try {
      await admin.metadata({ topics: [missing], retries: 0 });
    } catch (err) {
      const refused = accessError(settings, err, { topics: [missing] });
      if (refused !== undefined) throw refused;
    }
  }
  throw unknownTopicError(missing, existing, settings.bootstrap.join(','));
}

/**
 * An admin client that gives up quickly on an unreachable cluster (a person is waiting), used
 * for the checks above and for monitoring. Close it when done.
 */
export function createToolAdmin(settings: KafkaSettings, role: string): Admin {
  return createAdmin(settings, { role, retries: 3, retryDelay: 250, connectTimeout: 5000 });
}

/** Opens an admin, checks the topics exist, closes it. */
export async function requireTopics(settings: KafkaSettings, topics: readonly string[], role: string): Promise<void> {
  const admin = createToolAdmin(settings, role);
  try {
    await checkTopics(admin, settings, topics);
  } finally {
    await admin.close().catch(() => undefined);
  }
}
