// The README's first command, run as a user runs it: ./nightjar demo, stopped after 3 visits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { createAdmin, defaultSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const topic = `nightjar-test-demo-${randomBytes(3).toString('hex')}`;
let lease: Lease;
before(async () => { lease = await acquireLocalKafka(); });
after(async () => {
  const admin = createAdmin(defaultSettings());
  await deleteTopic(admin, topic).finally(() => admin.close());
  await releaseLocalKafka(lease);
});

test('nightjar demo streams simulated visits through Kafka and decodes every alert', { timeout: 120_000 }, async () => {
  const { stdout } = await promisify(execFile)(path.join(repoRoot, 'nightjar'), ['demo', '--visits', '3', '--interval', '0', '--topic', topic], { timeout: 110_000 });
  const sent = [...stdout.matchAll(/^visit (\d+): (\d+) alerts? sent/gm)].map((m) => [m[1], Number(m[2])] as const);
  const received = new Map([...stdout.matchAll(/^visit (\d+): (\d+) alerts? received and decoded; brightest: diaObjectId (\d+)/gm)].map((m) => [m[1], { count: Number(m[2]), objectId: m[3]! }]));
  assert.equal(sent.length, 3, stdout);
  for (const [visit, count] of sent) {
    assert.equal(received.get(visit!)?.count, count, `visit ${visit}: ${stdout}`);
    assert.ok(BigInt(received.get(visit!)!.objectId) > 2n ** 53n, 'diaObjectIds are printed exactly');
  }
  assert.match(stdout, /demo stopped/);
});
