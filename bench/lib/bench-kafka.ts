// Kafka and registry set-up shared by the broker benchmarks: unique names per run, topics
// created with LogAppendTime (the broker's clock stamps every record, so times taken at both
// ends of the pipeline come from one clock), an in-process schema registry, and cleanup of
// everything a run created.
import { randomBytes } from 'node:crypto';
import type { Admin } from '@platformatic/kafka';
import { createTopic, deleteTopic } from '../../src/kafka/topics.ts';
import { registryPreload } from '../../src/registry/registry-preload.ts';
import { startRegistryServer, type RunningRegistry } from '../../src/registry/registry-server.ts';
import { openRegistryStore } from '../../src/registry/registry-store.ts';

/** A short unique suffix for topic and group names. */
export function runId(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

export const LOG_APPEND_TIME = { 'message.timestamp.type': 'LogAppendTime' } as const;

/** A schema registry on a free port of 127.0.0.1, memory only. */
export function startBenchRegistry(): Promise<RunningRegistry> {
  return startRegistryServer({ store: openRegistryStore({ preload: registryPreload().schemas }), port: 0 });
}

/** Topics a run created, deleted at the end whatever happened. */
export class Topics {
  private readonly admin: Admin;
  private readonly names = new Set<string>();

  constructor(admin: Admin) {
    this.admin = admin;
  }

  /** Remembers a topic someone else creates (the broker's dead letters, filter topics). */
  track(name: string): void {
    this.names.add(name);
  }

  async create(name: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
    this.names.add(name);
    const info = await createTopic(this.admin, name, partitions, config);
    if (!info.created) throw new Error(`topic ${name} already existed`);
  }

  /** Deletes one topic now (a large raw topic, before the next is filled). */
  async delete(name: string): Promise<void> {
    this.names.delete(name);
    await deleteTopic(this.admin, name).catch((err: unknown) => console.warn(`could not delete topic ${name}: ${(err as Error).message}`));
  }

  async deleteAll(): Promise<void> {
    for (const name of this.names) await deleteTopic(this.admin, name).catch((err: unknown) => console.warn(`could not delete topic ${name}: ${(err as Error).message}`));
    this.names.clear();
  }
}
