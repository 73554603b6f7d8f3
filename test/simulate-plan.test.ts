// The simulator's pure parts: observation grouping and counts, time order, the display field,
// Kafka's key partitioning and the cutting of sends into requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2 as libraryMurmur2 } from '@platformatic/kafka';
import { planRequests } from '../src/simulate/batch-sender.ts';
import { groupObservations, observationDueMs, plannedCount, RUBIN_CADENCE, type Grouping } from '../src/simulate/cadence.ts';
import { displayValue, parseDisplayPath } from '../src/simulate/display-field.ts';
import { compareByTime, orderTies, sortByTime } from '../src/simulate/ordering.ts';
import { murmur2, partitionForKey } from '../src/simulate/partitioning.ts';
import { UserError } from '../src/util/errors.ts';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const exposures = (keys: string): { exposure: string }[] => [...keys].map((exposure) => ({ exposure }));

test('observations: one per exposure, or K alerts each; a limit stops early', async () => {
  const alerts = exposures('aaabccccd');
  const byExposure = await collect(groupObservations(alerts, { kind: 'exposure' }));
  assert.deepEqual(byExposure.map((o) => o.map((a) => a.exposure).join('')), ['aaa', 'b', 'cccc', 'd']);
  const fixed = await collect(groupObservations(alerts, { kind: 'fixed', perObservation: 4 }));
  assert.deepEqual(fixed.map((o) => o.length), [4, 4, 1]);
  assert.deepEqual((await collect(groupObservations(alerts, { kind: 'exposure' }, 2))).map((o) => o.length), [3, 1]);
  assert.deepEqual(await collect(groupObservations(alerts, { kind: 'exposure' }, 0)), []);
  assert.deepEqual(await collect(groupObservations([], { kind: 'exposure' })), []);
});

test('planned counts agree with the grouping', async () => {
  const keys = [...'aaabccccd'];
  const groupings: Grouping[] = [{ kind: 'exposure' }, { kind: 'fixed', perObservation: 4 }, { kind: 'fixed', perObservation: 1 }];
  for (const grouping of groupings) {
    for (const limit of [-1, 0, 1, 2, 3, 4, 10]) {
      const sent = (await collect(groupObservations(exposures(keys.join('')), grouping, limit))).flat().length;
      assert.equal(plannedCount(keys.length, () => keys, grouping, limit), sent, `${JSON.stringify(grouping)} limit ${limit}`);
    }
  }
  assert.deepEqual(RUBIN_CADENCE, { perObservation: 10_000, intervalSeconds: 39 });
  assert.equal(observationDueMs(1000, 3, 39), 1000 + 117_000);
});

test('time order: MJD first, then source id (64-bit exact); ties buffered in streams', async () => {
  const big = 2n ** 62n;
  const alerts = [
    { mjd: 60000.5, sourceId: big + 2n },
    { mjd: 60000.5, sourceId: big + 1n },
    { mjd: 59999.1, sourceId: 5n },
    { mjd: 60000.5, sourceId: 3n },
  ];
  assert.deepEqual(sortByTime([...alerts]).map((a) => a.sourceId), [5n, 3n, big + 1n, big + 2n]);
  assert.equal(compareByTime(alerts[0]!, alerts[0]!), 0);
  const streamed = await collect(orderTies([alerts[2]!, alerts[0]!, alerts[1]!, alerts[3]!], 'test'));
  assert.deepEqual(streamed.map((a) => a.sourceId), [5n, 3n, big + 1n, big + 2n]);
  await assert.rejects(collect(orderTies([alerts[0]!, alerts[2]!], 'the generator')), /the generator: alerts are not in time order/);
});

test('display field: dotted or comma paths, exact ids, null where absent', () => {
  const record = { diaSource: { midpointMjdTai: 60924.33041372549, diaSourceId: 169298432598474793n, band: 'r' }, prv: [{ x: 1 }], cutout: Buffer.from('x') };
  assert.equal(displayValue(record, parseDisplayPath('diaSource.midpointMjdTai')), '60924.33041372549');
  assert.equal(displayValue(record, parseDisplayPath('diaSource,diaSourceId')), '169298432598474793');
  assert.equal(displayValue(record, parseDisplayPath('diaSource.band')), 'r');
  assert.equal(displayValue(record, parseDisplayPath('prv.0.x')), '1');
  assert.equal(displayValue(record, parseDisplayPath('diaSource.nope')), 'null');
  assert.equal(displayValue(record, parseDisplayPath('cutout.length')), 'null');
  assert.throws(() => parseDisplayPath('diaSource..x'), UserError);
  assert.throws(() => parseDisplayPath(''), UserError);
});

test('partitions follow Kafka\'s murmur2 rule (Java client test vector and the client library agree)', () => {
  assert.equal(murmur2(Buffer.from('21')), -973932308);
  for (let n = 0; n < 500; n++) {
    const key = Buffer.from(String(169298432598474793n + BigInt(n * 7919)));
    assert.equal(murmur2(key), libraryMurmur2(key) | 0);
    const partition = partitionForKey(key, 7);
    assert.ok(partition >= 0 && partition < 7);
    assert.equal(partition, (libraryMurmur2(key) & 0x7fffffff) % 7);
  }
  assert.equal(murmur2(Buffer.alloc(0)), libraryMurmur2(Buffer.alloc(0)) | 0);
});

test('sends are cut into requests within the per-partition and per-request limits, in order', () => {
  const messages = Array.from({ length: 50 }, (_, i) => ({ topic: 't', partition: i % 3, value: Buffer.alloc(100_000 + i) }));
  const requests = planRequests(messages, 350_000, 900_000);
  assert.deepEqual(requests.flatMap((r) => r.messages), messages, 'every message once, in order');
  for (const request of requests) {
    assert.ok(request.bytes <= 900_000 || request.messages.length === 1);
    const perPartition = new Map<number, number>();
    for (const m of request.messages) perPartition.set(m.partition as number, (perPartition.get(m.partition as number) ?? 0) + m.value.length + 32);
    for (const size of perPartition.values()) assert.ok(size <= 350_000, `partition batch ${size}`);
  }
  // A message larger than any limit travels alone.
  const huge = planRequests([{ topic: 't', partition: 0, value: Buffer.alloc(10) }, { topic: 't', partition: 0, value: Buffer.alloc(5_000_000) }], 1_000_000, 2_000_000);
  assert.deepEqual(huge.map((r) => r.messages.length), [1, 1]);
});
