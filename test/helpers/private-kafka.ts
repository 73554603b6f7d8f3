// A second, private Kafka for tests that must stop or restart the broker under a running
// pipeline (the shared local Kafka is used by other test files at the same time). Same jars
// and settings as the local one (src/kafka/local-broker.ts), on its own ports and data folder.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startLocalKafka, stopLocalKafka } from '../../src/kafka/local-broker.ts';
import { localBootstrap, localKafkaConfig, type LocalKafkaConfig } from '../../src/kafka/local-config.ts';

export interface PrivateKafka {
  readonly bootstrap: string;
  readonly config: LocalKafkaConfig;
  /** Stops the broker gracefully (its data stays) and starts it again; resolves when it answers. */
  restart(): Promise<void>;
  /** Stops it (SIGKILL at once when hard), data kept. */
  stop(hard?: boolean): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data folder. */
  destroy(): Promise<void>;
}

/** Two free consecutive ports (broker, controller) on 127.0.0.1. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no two free consecutive ports found for a private Kafka');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-private-kafka-'));
  const port = await freePortPair();
  const config: LocalKafkaConfig = { ...localKafkaConfig({}), port, controllerPort: port + 1, dataDir, maxHeap: '512m' };
  const start = async (): Promise<void> => {
    await startLocalKafka(config, { owner: 'test', timeoutMs: 120_000 });
  };
  const stop = async (hard = false): Promise<void> => {
    await stopLocalKafka(config, { graceMs: hard ? 0 : 30_000 });
  };
  await start();
  return {
    bootstrap: localBootstrap(config),
    config,
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop(true).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
