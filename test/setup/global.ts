// Global setup for `node --test --test-global-setup=test/setup/global.ts`: the whole test run
// holds one lease on the local Kafka, so it starts at most once and stays up between test files
// (each file may take its own lease too; see local-kafka.ts).
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './local-kafka.ts';

let lease: Lease | undefined;

export async function globalSetup(): Promise<void> {
  const began = Date.now();
  lease = await acquireLocalKafka();
  if (lease.started) {
    process.stderr.write(`[test setup] started the local Kafka on ${lease.bootstrap} in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  }
}

export async function globalTeardown(): Promise<void> {
  if (lease && (await releaseLocalKafka(lease))) process.stderr.write('[test setup] stopped the local Kafka\n');
  lease = undefined;
}
