// Who may read what, as Kafka ACLs: the rules of private streams, as pure functions.
//
//  - Each account is the Kafka user `nightjar-<user id>` (SCRAM, see access.ts) and may use the
//    consumer groups whose id starts with `nightjar-<user id>-` (a prefixed ACL; the "-" keeps
//    user 7 out of user 70's groups).
//  - A private filter's topic: READ and DESCRIBE for its owner only.
//  - A public filter's topic: READ and DESCRIBE for every account (the principal `User:*`; the
//    secure listeners authenticate every connection, so `*` means every signed-in user).
//  - Every other topic (raw alerts, dead letters, anything else): no ACL, hence nobody but
//    super users (the broker's own account), as the cluster runs with
//    allow.everyone.if.no.acl.found=false.
//
// Nightjar manages only the ACLs of these principals (`User:*` and `User:nightjar-<digits>`)
// with ALLOW on topics and groups; ACLs an operator adds for other principals are left alone.
import type { Acl } from '@platformatic/kafka';
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';

/** Kafka usernames of accounts: this prefix and the user id. */
export const KAFKA_USER_PREFIX = 'nightjar-';
/** The principal of every authenticated user. */
export const EVERY_ACCOUNT = 'User:*';

export type AclResource = 'topic' | 'group';
export type AclPattern = 'literal' | 'prefixed';
export type AclOperation = 'READ' | 'DESCRIBE';

/** One ALLOW rule, from any host. */
export interface AclBinding {
  readonly resource: AclResource;
  readonly name: string;
  readonly pattern: AclPattern;
  readonly principal: string;
  readonly operation: AclOperation;
}

/** What the rules need to know of a filter. */
export interface FilterAccess {
  readonly ownerId: number;
  readonly public: boolean;
  /** Its Kafka topic; null when it does not stream. */
  readonly topic: string | null;
}

/** The Kafka username of an account. */
export function kafkaUsername(userId: number): string {
  if (!Number.isSafeInteger(userId) || userId < 0) throw new Error(`a Kafka username needs a non-negative integer user id, not ${String(userId)}`);
  return `${KAFKA_USER_PREFIX}${userId}`;
}

/** The principal Kafka authorises an account's requests as. */
export function accountPrincipal(userId: number): string {
  return `User:${kafkaUsername(userId)}`;
}

/** Consumer group ids an account may use start with this. */
export function consumerGroupPrefix(userId: number): string {
  return `${kafkaUsername(userId)}-`;
}

/** Principals whose ACLs Nightjar owns (and so may delete). */
export function isManagedPrincipal(principal: string): boolean {
  return principal === EVERY_ACCOUNT || new RegExp(`^User:${KAFKA_USER_PREFIX}\\d+$`).test(principal);
}

/** The ACLs of a filter's topic: none without a topic, its owner's when private, everyone's when public. */
export function filterTopicAcls(filter: FilterAccess): AclBinding[] {
  if (filter.topic === null) return [];
  const principal = filter.public ? EVERY_ACCOUNT : accountPrincipal(filter.ownerId);
  return (['READ', 'DESCRIBE'] as const).map((operation) => ({ resource: 'topic', name: filter.topic as string, pattern: 'literal', principal, operation }));
}

/** The ACLs an account has whatever its filters: its consumer groups. */
export function accountAcls(userId: number): AclBinding[] {
  return [{ resource: 'group', name: consumerGroupPrefix(userId), pattern: 'prefixed', principal: accountPrincipal(userId), operation: 'READ' }];
}

/** The ACLs these topics should have, given every filter (a topic no filter has gets none). */
export function desiredTopicAcls(topics: Iterable<string>, filters: readonly FilterAccess[]): AclBinding[] {
  const wanted = new Set(topics);
  return filters.filter((f) => f.topic !== null && wanted.has(f.topic)).flatMap(filterTopicAcls);
}

/** Identity of a binding, for comparing sets. */
export function aclKey(b: AclBinding): string {
  return [b.resource, b.pattern, b.name, b.principal, b.operation].join('\u0000');
}

/**
 * What to create and what to delete so that the managed ACLs among `existing` become `desired`.
 * ACLs of unmanaged principals are never deleted.
 */
export function diffAcls(existing: readonly AclBinding[], desired: readonly AclBinding[]): { create: AclBinding[]; remove: AclBinding[] } {
  const have = new Map(existing.map((b) => [aclKey(b), b]));
  const want = new Map(desired.map((b) => [aclKey(b), b]));
  const create = [...want].filter(([key]) => !have.has(key)).map(([, b]) => b);
  const remove = [...have].filter(([key, b]) => !want.has(key) && isManagedPrincipal(b.principal)).map(([, b]) => b);
  return { create, remove };
}

const RESOURCE_TYPES = { topic: ResourceTypes.TOPIC, group: ResourceTypes.GROUP } as const;
const PATTERN_TYPES = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED } as const;

/** The binding as the Kafka client sends it (ALLOW, any host). */
export function toKafkaAcl(b: AclBinding): Acl {
  return {
    resourceType: RESOURCE_TYPES[b.resource],
    resourceName: b.name,
    resourcePatternType: PATTERN_TYPES[b.pattern],
    principal: b.principal,
    host: '*',
    operation: AclOperations[b.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/**
 * A described Kafka ACL as a binding, or undefined for one outside what Nightjar writes (DENY,
 * a host other than *, other resource types or operations): those are never touched.
 */
export function fromKafkaAcl(acl: Acl): AclBinding | undefined {
  const resource = (Object.keys(RESOURCE_TYPES) as AclResource[]).find((r) => RESOURCE_TYPES[r] === acl.resourceType);
  const pattern = (Object.keys(PATTERN_TYPES) as AclPattern[]).find((p) => PATTERN_TYPES[p] === acl.resourcePatternType);
  const operation = (['READ', 'DESCRIBE'] as const).find((o) => AclOperations[o] === acl.operation);
  if (resource === undefined || pattern === undefined || operation === undefined) return undefined;
  if (acl.permissionType !== AclPermissionTypes.ALLOW || acl.host !== '*') return undefined;
  return { resource, name: acl.resourceName, pattern, principal: acl.principal, operation };
}
