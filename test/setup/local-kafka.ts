// Test processes share the local Kafka through leases: whoever needs the broker writes a lease
// file (named after its pid) and starts the broker if it is not running. When done it removes
// its lease and stops the broker only if a test run started it (a broker started by a person
// with `nightjar kafka start` is left alone) and no live test process still holds a lease. So
// concurrent test runs never stop the broker under each other's feet.
import { rm } from 'node:fs/promises';
import { startLocalKafka, stopLocalKafka } from '../../src/kafka/local-broker.ts';
import { liveLeases, takeLease } from './leases.ts';
import { localBootstrap, localKafkaConfig, localKafkaPaths, type LocalKafkaConfig } from '../../src/kafka/local-config.ts';

export interface Lease {
  bootstrap: string;
  /** This acquisition started the broker. */
  started: boolean;
  /** NIGHTJAR_KAFKA_BOOTSTRAP points at another cluster: the local broker is not used. */
  external: boolean;
  /** The lease file ("<pid>-<random>"), absent when external. */
  file?: string;
  config: LocalKafkaConfig;
}

/** Makes sure the local broker runs while the lease is held (unless NIGHTJAR_KAFKA_BOOTSTRAP is set). */
export async function acquireLocalKafka(config: LocalKafkaConfig = localKafkaConfig()): Promise<Lease> {
  const external = process.env.NIGHTJAR_KAFKA_BOOTSTRAP?.trim();
  if (external) return { bootstrap: external, started: false, external: true, config };
  const file = await takeLease(localKafkaPaths(config).leasesDir);
  try {
    const result = await startLocalKafka(config, { owner: 'test' });
    return { bootstrap: localBootstrap(config), started: !result.alreadyRunning, external: false, file, config };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

/** Drops the lease; stops the broker if a test run started it and no live lease remains. */
export async function releaseLocalKafka(lease: Lease): Promise<boolean> {
  if (lease.external || lease.file === undefined) return false;
  await rm(lease.file, { force: true });
  const { leasesDir } = localKafkaPaths(lease.config);
  const result = await stopLocalKafka(lease.config, {
    onlyIf: async (state) => state.owner === 'test' && (await liveLeases(leasesDir)) === 0,
  });
  return result.stopped;
}
