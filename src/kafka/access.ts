// Private streams: each Nightjar account gets its own Kafka user (SCRAM), and the filter topics'
// ACLs follow the filters (acls.ts has the rules). This is the one object the rest of Nightjar
// talks to: the web app asks it for an account's credentials to show, the filter service calls
// filterChanged after every save or removal, and the broker calls syncAll when it starts.
//
// Credentials: username `nightjar-<user id>`, a random password (32 characters), SCRAM-SHA-512
// and SCRAM-SHA-256 credentials in Kafka, the password kept in the store so the account page can
// show it again (schema-kafka-users.ts explains why it is stored as it is). Kafka is written
// before the store: a failure in between leaves a credential nobody knows, replaced on the next
// attempt, never a stored password that does not work.
//
// Only on a cluster with an authorizer (the secure local broker, or a production cluster with
// SASL and ACLs): on an open cluster there is nothing to grant, and createKafkaAccess says so by
// returning null.
import { randomBytes } from 'node:crypto';
import type { Admin } from '@platformatic/kafka';
import type { Store, StoredFilter, StoredKafkaUser } from '../store/store.ts';
import { UserError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { type AclChanges, authorizerEnabled, ensureAcls, removeAcls, syncAllAcls, syncTopicAcls } from './acls-sync.ts';
import { accountAcls, consumerGroupPrefix, kafkaUsername } from './acls.ts';
import type { KafkaSettings } from './connection.ts';
import { SCRAM_MECHANISMS, type ScramMechanism } from './local-config.ts';
import { deleteScramCredentials, listScramUsers, upsertScramCredentials } from './scram.ts';

export interface KafkaAccessOptions {
  store: Store;
  /** Settings of a super user (the broker's own account): SCRAM credentials are changed with them. */
  adminSettings: KafkaSettings;
  /** An admin client made from adminSettings (ACLs go through it). */
  admin: Admin;
  /** The addresses account holders connect to (default: adminSettings.bootstrap). */
  clientBootstrap?: readonly string[];
  log?: Logger;
}

/** What an account holder needs to read their streams: what the account page shows. */
export interface KafkaCredentials {
  userId: number;
  username: string;
  password: string;
  /** The mechanism to configure in a client (sasl.mechanism); fink-client's default. */
  mechanism: 'SCRAM-SHA-512';
  /** Every mechanism the credentials work with. */
  mechanisms: readonly ScramMechanism[];
  /** Kafka's security.protocol for clients. */
  securityProtocol: 'SASL_PLAINTEXT' | 'SASL_SSL';
  /** Comma-separated host:port list (bootstrap.servers). */
  bootstrap: string;
  /** Consumer group ids must start with this (e.g. `nightjar-7-laptop`). */
  groupPrefix: string;
  createdAt: string;
  /** When the password was last set. */
  updatedAt: string;
}

export interface AccessSyncReport {
  /** Accounts whose stored credentials were missing in Kafka and were put back (a new cluster). */
  restoredUsers: string[];
  acls: AclChanges;
}

const PASSWORD_BYTES = 24; // 32 base64url characters

/** The access manager, or null when the cluster does not enforce ACLs (no authorizer: every stream is open). */
export async function createKafkaAccess(options: KafkaAccessOptions): Promise<KafkaAccess | null> {
  return (await authorizerEnabled(options.admin)) ? new KafkaAccess(options) : null;
}

export class KafkaAccess {
  readonly #store: Store;
  readonly #adminSettings: KafkaSettings;
  readonly #admin: Admin;
  readonly #clientBootstrap: string;
  readonly #log: Logger | undefined;
  /** One change at a time: two first calls for one account must not make two passwords. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: KafkaAccessOptions) {
    this.#store = options.store;
    this.#adminSettings = options.adminSettings;
    this.#admin = options.admin;
    this.#clientBootstrap = (options.clientBootstrap ?? options.adminSettings.bootstrap).join(',');
    this.#log = options.log;
  }

  /** The account's Kafka credentials, made (in Kafka and the store) on the first call. */
  credentials(userId: number): Promise<KafkaCredentials> {
    return this.#serial(async () => {
      const stored = await this.#store.getKafkaUser(userId);
      return this.#view(stored ?? (await this.#setPassword(userId, 'created')));
    });
  }

  /** The account's credentials if it has any yet; never creates them. */
  async existingCredentials(userId: number): Promise<KafkaCredentials | null> {
    const stored = await this.#store.getKafkaUser(userId);
    return stored === null ? null : this.#view(stored);
  }

  /** Gives the account a new password (the old one stops working at once); creates the credentials if missing. */
  rotatePassword(userId: number): Promise<KafkaCredentials> {
    return this.#serial(async () => this.#view(await this.#setPassword(userId, 'rotated')));
  }

  /** Deletes the account's Kafka user, its group ACLs and its stored credentials; false if it had none. */
  removeAccount(userId: number): Promise<boolean> {
    return this.#serial(async () => {
      const username = kafkaUsername(userId);
      const inKafka = await deleteScramCredentials(this.#adminSettings, username);
      await removeAcls(this.#admin, accountAcls(userId));
      const inStore = await this.#store.deleteKafkaUser(userId);
      if (inKafka || inStore) this.#log?.info('Kafka user removed', { userId, username });
      return inKafka || inStore;
    });
  }

  /**
   * The filter service's hook: call after a filter was saved, changed or removed, with the filter
   * before (null for a new one) and after (null when removed). The ACLs of its old and new topic
   * are made to match the stored filters.
   */
  filterChanged(before: StoredFilter | null, after: StoredFilter | null): Promise<AclChanges> {
    return this.#serial(async () => {
      const topics = [before?.topic, after?.topic].filter((t): t is string => typeof t === 'string');
      if (topics.length === 0) return { created: [], removed: [] };
      const changes = await syncTopicAcls(this.#admin, topics, await this.#store.listFilters());
      this.#logChanges('filter topic ACLs updated', changes, { filterId: after?.id ?? before?.id, topics });
      return changes;
    });
  }

  /**
   * Makes the cluster match the store: puts back stored credentials Kafka does not have (after
   * a cluster was replaced), and brings every managed ACL in line with the filters and accounts.
   * The broker runs it on start.
   */
  syncAll(): Promise<AccessSyncReport> {
    return this.#serial(async () => {
      const users = await this.#store.listKafkaUsers();
      const inKafka = new Set(await listScramUsers(this.#adminSettings));
      const restoredUsers: string[] = [];
      for (const user of users) {
        if (inKafka.has(user.username)) continue;
        await upsertScramCredentials(this.#adminSettings, { username: user.username, password: user.password });
        restoredUsers.push(user.username);
      }
      const acls = await syncAllAcls(this.#admin, await this.#store.listFilters(), users.map((u) => u.userId));
      this.#logChanges('Kafka access synchronised', acls, { accounts: users.length, restoredUsers: restoredUsers.length });
      return { restoredUsers, acls };
    });
  }

  async #setPassword(userId: number, what: 'created' | 'rotated'): Promise<StoredKafkaUser> {
    if ((await this.#store.getUser(userId)) === null) throw new UserError(`there is no user ${userId} to give Kafka credentials to`);
    const username = kafkaUsername(userId);
    const password = randomBytes(PASSWORD_BYTES).toString('base64url');
    await upsertScramCredentials(this.#adminSettings, { username, password });
    await ensureAcls(this.#admin, accountAcls(userId));
    const stored = await this.#store.saveKafkaUser({ userId, username, password });
    this.#log?.info(`Kafka credentials ${what}`, { userId, username });
    return stored;
  }

  #view(user: StoredKafkaUser): KafkaCredentials {
    return {
      userId: user.userId,
      username: user.username,
      password: user.password,
      mechanism: 'SCRAM-SHA-512',
      mechanisms: SCRAM_MECHANISMS,
      securityProtocol: this.#adminSettings.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT',
      bootstrap: this.#clientBootstrap,
      groupPrefix: consumerGroupPrefix(user.userId),
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    };
  }

  #logChanges(message: string, changes: AclChanges, fields: Record<string, unknown>): void {
    if (changes.created.length === 0 && changes.removed.length === 0) return;
    this.#log?.info(message, { ...fields, aclsCreated: changes.created.length, aclsRemoved: changes.removed.length });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn, fn);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
