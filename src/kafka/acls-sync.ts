// Applying the rules of acls.ts to a cluster: read the ACLs Kafka has, create the missing ones,
// delete the managed ones no rule wants. Idempotent: running it twice changes nothing, and it
// repairs whatever an interrupted earlier run left behind.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, AclFilter } from '@platformatic/kafka';
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { describeError, hasKafkaErrorCode } from './errors.ts';
import { type AclBinding, type FilterAccess, accountAcls, aclKey, desiredTopicAcls, diffAcls, filterTopicAcls, fromKafkaAcl, toKafkaAcl } from './acls.ts';

/** SECURITY_DISABLED: the cluster runs without an authorizer. */
const SECURITY_DISABLED = 54;

export interface AclChanges {
  created: AclBinding[];
  removed: AclBinding[];
}

/** True when the cluster enforces ACLs (it has an authorizer); false when ACL requests are refused as disabled. */
export async function authorizerEnabled(admin: Admin): Promise<boolean> {
  try {
    await admin.describeAcls({ filter: anyAclOf(ResourceTypes.TOPIC, 'nightjar-authorizer-probe') });
    return true;
  } catch (err) {
    if (hasKafkaErrorCode(err, SECURITY_DISABLED)) return false;
    throw new Error(`asking Kafka for its ACLs failed: ${describeError(err)}`, { cause: err });
  }
}

/** Brings the ACLs of these topics in line with the filters (all of them: a topic is matched to whichever filter has it). */
export async function syncTopicAcls(admin: Admin, topics: readonly string[], filters: readonly FilterAccess[]): Promise<AclChanges> {
  const unique = [...new Set(topics)];
  const existing: AclBinding[] = [];
  for (const topic of unique) existing.push(...(await describeBindings(admin, anyAclOf(ResourceTypes.TOPIC, topic))));
  return apply(admin, diffAcls(existing, desiredTopicAcls(unique, filters)));
}

/**
 * Brings every managed topic and group ACL of the cluster in line with the filters and the
 * accounts: creates what is missing, deletes managed ACLs on topics no filter has (raw alerts,
 * dead letters, removed filters) and the group ACLs of accounts that are gone.
 */
export async function syncAllAcls(admin: Admin, filters: readonly FilterAccess[], accountIds: readonly number[]): Promise<AclChanges> {
  const existing = [...(await describeBindings(admin, anyAclOf(ResourceTypes.TOPIC, null))), ...(await describeBindings(admin, anyAclOf(ResourceTypes.GROUP, null)))];
  const desired = [...filters.flatMap(filterTopicAcls), ...accountIds.flatMap(accountAcls)];
  return apply(admin, diffAcls(existing, desired));
}

/** Creates the bindings that are missing (an account's group ACLs, say); never deletes. */
export async function ensureAcls(admin: Admin, bindings: readonly AclBinding[]): Promise<AclChanges> {
  const existing: AclBinding[] = [];
  const seen = new Set<string>();
  for (const b of bindings) {
    const key = `${b.resource}\u0000${b.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    existing.push(...(await describeBindings(admin, anyAclOf(b.resource === 'topic' ? ResourceTypes.TOPIC : ResourceTypes.GROUP, b.name))));
  }
  return apply(admin, { create: diffAcls(existing, bindings).create, remove: [] });
}

/** Deletes exactly these bindings (e.g. the group ACLs of a removed account). */
export async function removeAcls(admin: Admin, bindings: readonly AclBinding[]): Promise<AclChanges> {
  return apply(admin, { create: [], remove: [...bindings] });
}

/** The ACLs matching the filter, as bindings (those Nightjar never writes are left out). */
async function describeBindings(admin: Admin, filter: AclFilter): Promise<AclBinding[]> {
  let resources;
  try {
    resources = await admin.describeAcls({ filter });
  } catch (err) {
    throw new Error(`reading the ACLs of ${filter.resourceName ?? 'every resource'} failed: ${describeError(err)}`, { cause: err });
  }
  const out: AclBinding[] = [];
  for (const resource of resources) {
    for (const permission of resource.acls) {
      const binding = fromKafkaAcl({ ...resource, ...permission });
      if (binding !== undefined) out.push(binding);
    }
  }
  return out;
}

async function apply(admin: Admin, changes: { create: AclBinding[]; remove: AclBinding[] }): Promise<AclChanges> {
  if (changes.create.length > 0) {
    try {
      await admin.createAcls({ creations: changes.create.map(toKafkaAcl) });
    } catch (err) {
      throw new Error(`creating ${changes.create.length} ACL(s) (${summary(changes.create)}) failed: ${describeError(err)}`, { cause: err });
    }
  }
  if (changes.remove.length > 0) {
    try {
      // Exact filters: each deletes one binding and nothing else.
      await admin.deleteAcls({ filters: changes.remove.map(toKafkaAcl) });
    } catch (err) {
      throw new Error(`deleting ${changes.remove.length} ACL(s) (${summary(changes.remove)}) failed: ${describeError(err)}`, { cause: err });
    }
  }
  await waitUntilInForce(admin, changes);
  return { created: changes.create, removed: changes.remove };
}

/**
 * Waits until the broker answering us shows the changes. The controller answers CreateAcls and
 * DeleteAcls once the change is committed; the broker's authorizer applies it a moment later,
 * when it replays the metadata. Waiting means that when a filter is made private, the next
 * fetch of another account is refused, not merely soon.
 */
async function waitUntilInForce(admin: Admin, changes: { create: AclBinding[]; remove: AclBinding[] }, timeoutMs = 15_000): Promise<void> {
  const touched = new Map<string, AclBinding>();
  for (const b of [...changes.create, ...changes.remove]) touched.set(`${b.resource}\u0000${b.name}`, b);
  if (touched.size === 0) return;
  const created = new Set(changes.create.map(aclKey));
  const removed = new Set(changes.remove.map(aclKey));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const present = new Set<string>();
    for (const b of touched.values()) {
      for (const found of await describeBindings(admin, anyAclOf(b.resource === 'topic' ? ResourceTypes.TOPIC : ResourceTypes.GROUP, b.name))) present.add(aclKey(found));
    }
    if ([...created].every((k) => present.has(k)) && ![...removed].some((k) => present.has(k))) return;
    if (Date.now() > deadline) throw new Error(`the ACL changes (${summary([...changes.create, ...changes.remove])}) were accepted but not in force after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** Every ACL whose resource is exactly this name (literal or prefixed), or every ACL of the type (null). */
function anyAclOf(resourceType: (typeof ResourceTypes)['TOPIC' | 'GROUP'], name: string | null): AclFilter {
  return {
    resourceType,
    resourceName: name,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal: null,
    host: null,
    operation: AclOperations.ANY,
    permissionType: AclPermissionTypes.ANY,
  };
}

function summary(bindings: readonly AclBinding[]): string {
  const shown = bindings.slice(0, 3).map((b) => `${b.operation} ${b.resource} ${b.name}${b.pattern === 'prefixed' ? '*' : ''} for ${b.principal}`);
  return shown.join(', ') + (bindings.length > shown.length ? `, and ${bindings.length - shown.length} more` : '');
}
