// The broker's memory bounds on real async generators (no Kafka): the read-ahead between the
// consumer stream and the batcher stops reading at its byte bound and hands on a failure after
// the items read before it; a batch closes at whichever of count, bytes and time comes first,
// at its deadline even when it is read in several steps, on abort, and (with a quiet bound)
// once a burst's messages stop coming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { nextBatch, type BatchBounds } from '../src/pipeline/ingest.ts';
import type { ConsumedMessage } from '../src/pipeline/pipeline.ts';
import { readAhead } from '../src/pipeline/read-ahead.ts';
import { Batcher } from '../src/stream/filter-stream-batcher.ts';

function message(offset: number, bytes: number): ConsumedMessage {
  return { topic: 't', partition: 0, offset: BigInt(offset), key: null, value: Buffer.alloc(bytes), headers: new Map(), timestamp: 0n, commit: () => {} };
}

/** Messages of `bytes` each, `gapMs` apart (0: all at once), counting how many were taken from it. */
function source(count: number, bytes: number, gapMs = 0): { messages: AsyncIterable<ConsumedMessage>; pulled: () => number } {
  let pulled = 0;
  async function* generate(): AsyncGenerator<ConsumedMessage> {
    for (let i = 0; i < count; i++) {
      if (gapMs > 0) await sleep(gapMs);
      pulled++;
      yield message(i, bytes);
    }
  }
  return { messages: generate(), pulled: () => pulled };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

test('the read-ahead holds at most its bytes plus one item, and reads on as items are taken', async () => {
  const src = source(100, 1000);
  const ahead = readAhead(src.messages, { maxBytes: 5000, sizeOf: (m) => m.value?.length ?? 0 });
  assert.equal(src.pulled(), 0, 'nothing is read before the first next()');
  const iterator = ahead[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.value?.offset, 0n);
  await settle();
  // 5 held (5000 bytes) + the one taken; reading stopped there.
  assert.equal(ahead.bytes, 5000);
  assert.equal(ahead.length, 5);
  assert.equal(src.pulled(), 6);
  for (let i = 1; i <= 3; i++) assert.equal((await iterator.next()).value?.offset, BigInt(i));
  await settle();
  assert.equal(ahead.bytes, 5000, 'refilled to the bound');
  assert.equal(src.pulled(), 9);
  const rest: bigint[] = [];
  for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) rest.push(r.value.offset);
  assert.equal(rest.length, 96);
  assert.equal(rest.at(-1), 99n, 'in order, none lost');
  assert.equal(ahead.bytes, 0);
  assert.throws(() => ahead[Symbol.asyncIterator](), /only once/);
});

test("the read-ahead hands on the source's failure after the items read before it", async () => {
  async function* failing(): AsyncGenerator<ConsumedMessage> {
    yield message(0, 10);
    yield message(1, 10);
    throw new Error('fetch failed on t/0');
  }
  const iterator = readAhead(failing(), { maxBytes: 1000, sizeOf: (m) => m.value?.length ?? 0 })[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value?.offset, 0n);
  assert.equal((await iterator.next()).value?.offset, 1n);
  await assert.rejects(iterator.next(), /fetch failed on t\/0/);
  assert.throws(() => readAhead(failing(), { maxBytes: 0, sizeOf: () => 1 }), /positive integer/);
});

const bounds = (b: Partial<BatchBounds>): BatchBounds => ({ count: 1000, bytes: 1e9, ms: 5000, maxMessageBytes: 1000, ...b });

test('a batch closes at its byte bound (at most one message over), in order, the rest left for the next', async () => {
  const batcher = new Batcher(source(50, 1000).messages);
  // Steps of (bytes left / largest message): exact here, every message is the largest.
  const a = await nextBatch(batcher, bounds({ bytes: 12_000 }));
  assert.equal(a.end, 'full');
  assert.equal(a.items.length, 12);
  const b = await nextBatch(batcher, bounds({ bytes: 12_500 }));
  assert.equal(b.items.length, 13, 'one message over the bound, never more');
  assert.deepEqual(b.items.map((m) => m.offset), Array.from({ length: 13 }, (_, i) => BigInt(12 + i)));
  // Messages smaller than the expected largest: the steps get smaller, the bound holds.
  const small = new Batcher(source(50, 300).messages);
  const c = await nextBatch(small, bounds({ bytes: 3000, maxMessageBytes: 1000 }));
  assert.equal(c.items.length, 10);
  const d = await nextBatch(small, bounds({ count: 4 }));
  assert.equal(d.end, 'full');
  assert.equal(d.items.length, 4, 'the count bound as before');
  assert.equal(d.items[0]?.offset, 10n);
  const rest = await nextBatch(small, bounds({}));
  assert.equal(rest.end, 'done');
  assert.equal(rest.items.length, 36);
});

test('a batch read in several steps still closes at its deadline from its first message', async () => {
  // A message every 200 ms, a batch of 300 ms: messages at ~200 and ~400 ms, closed at ~500 ms.
  // The second step asks for many messages; the batcher alone would wait 300 ms from the
  // step's first message (until ~700 ms).
  const batcher = new Batcher(source(1000, 1000, 200).messages);
  const started = performance.now();
  const batch = await nextBatch(batcher, bounds({ ms: 300 }));
  const took = performance.now() - started;
  assert.equal(batch.end, 'time');
  assert.equal(batch.items.length, 2);
  assert.ok(took >= 480 && took < 650, `closed ${took.toFixed(0)} ms after it was asked for, not ~500`);
  // The read under way when the batch closed is not lost: the next batch starts with the next offset.
  const next = await nextBatch(batcher, bounds({ ms: 100 }));
  assert.equal(next.items[0]?.offset, 2n);
  batcher.abandon();
});

test('a batch closes on abort with what it holds, and comes back empty when idle', async () => {
  const batcher = new Batcher(source(1000, 1000, 20).messages);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 150).unref();
  const batch = await nextBatch(batcher, bounds({ ms: 10_000, bytes: 1e6, maxMessageBytes: 1e6, signal: stop.signal }));
  assert.equal(batch.end, 'aborted');
  assert.ok(batch.items.length >= 2, `${batch.items.length} messages before the abort`);
  batcher.abandon();
  const quiet = new Batcher(source(1, 1000, 500).messages);
  const idle = await nextBatch(quiet, bounds({ idleMs: 50 }));
  assert.equal(idle.end, 'idle');
  assert.equal(idle.items.length, 0);
  quiet.abandon();
});

test('with a quiet bound, a batch closes once messages stop coming: the tail of a burst does not wait out its time', async () => {
  // A burst of 10 messages 20 ms apart, then nothing for 5 s.
  async function* burst(): AsyncGenerator<ConsumedMessage> {
    for (let i = 0; i < 10; i++) {
      await sleep(20);
      yield message(i, 1000);
    }
    await sleep(5000);
    yield message(10, 1000);
  }
  const batcher = new Batcher(burst());
  const started = performance.now();
  const batch = await nextBatch(batcher, bounds({ ms: 3000, quietMs: 150 }));
  const took = performance.now() - started;
  assert.equal(batch.end, 'time');
  assert.equal(batch.items.length, 10, 'the whole burst');
  assert.ok(took >= 300 && took < 1000, `closed ${took.toFixed(0)} ms after it was asked for: ~200 ms of burst + 150 ms quiet, not 3 s`);
  batcher.abandon();
});
