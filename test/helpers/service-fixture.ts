// The fixture of the filter service and web tests: a lease on the local Kafka, its admin and
// producer, an in-memory store holding seeded synthetic Rubin objects, and the filter service
// over them. close() deletes every topic under the test's prefix and closes it all.
import type { Admin } from '@platformatic/kafka';
import { featuresForBatch } from '../../src/features/index.ts';
import { toAlert } from '../../src/formats/adapters/index.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer } from '../../src/kafka/connection.ts';
import { deleteTopic, listTopics } from '../../src/kafka/topics.ts';
import { createFilterService, type FilterService } from '../../src/service/filter-service.ts';
import { generateAlerts } from '../../src/simulate/synthetic.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/store.ts';
import { acquireLocalKafka, releaseLocalKafka } from '../setup/local-kafka.ts';

export interface ServiceFixtureOptions {
  /** First part of every topic the test's filters get; deleted at close. */
  prefix: string;
  /** Synthetic alerts stored first (seeded), written in batches of `batchSize` (default all at once). */
  alerts: { seed: number; objects: number; count: number; batchSize?: number };
  /** Passed to the filter service (default on, as the CLI has it). */
  createMissingOwners?: boolean;
}

export interface ServiceFixture {
  readonly admin: Admin;
  readonly producer: BytesProducer;
  readonly store: Store;
  readonly service: FilterService;
  close(): Promise<void>;
}

export async function openServiceFixture(options: ServiceFixtureOptions): Promise<ServiceFixture> {
  const lease = await acquireLocalKafka();
  const settings = defaultSettings();
  const admin = createAdmin(settings);
  const producer = createProducer(settings);
  const store = await openStore({ path: ':memory:' });
  const { seed, objects, count, batchSize = count } = options.alerts;
  const alerts = [...generateAlerts({ seed, objects, count, cutouts: false })].map((r) => toAlert(r, 'lsst.v10_0.alert'));
  for (let i = 0; i < alerts.length; i += batchSize) {
    const batch = alerts.slice(i, i + batchSize);
    await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
  }
  const service = createFilterService({
    store,
    admin,
    producer,
    topicPrefix: options.prefix,
    ...(options.createMissingOwners === undefined ? {} : { createMissingOwners: options.createMissingOwners }),
  });
  return {
    admin,
    producer,
    store,
    service,
    async close() {
      await service.close();
      for (const topic of await listTopics(admin)) if (topic.startsWith(options.prefix)) await deleteTopic(admin, topic).catch(() => false);
      await store.close();
      await producer.close();
      await admin.close();
      await releaseLocalKafka(lease);
    },
  };
}
