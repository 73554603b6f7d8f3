// The pure parts of filter-stream: batch rows with the hidden row number, matches back to
// messages, the per-batch cap, output partitions, commits, the condition compiler and the
// batcher's size/time/idle/abort rules (on a real async generator, not Kafka).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { catalog } from '../src/features/index.ts';
import { FilterEngine } from '../src/filters/index.ts';
import { lastPerPartition } from '../src/kafka/partition-offsets.ts';
import { ROW_COLUMN, batchRows, capMatches, matchedMessages, outputPartition, withRowColumn } from '../src/stream/filter-stream-batch.ts';
import { Batcher, type BatchLimits } from '../src/stream/filter-stream-batcher.ts';
import { compileCondition, defaultGroupId } from '../src/stream/filter-stream-condition.ts';
import { summaryLine, emptyCounts } from '../src/stream/filter-stream-summary.ts';
import { UserError } from '../src/util/errors.ts';

const TEMPLATE = 'alertSnr > 5 AND flux2mag(alertFlux) < 20';

test('batch rows number every alert, and matches map back to messages in input order', () => {
  const a = { alertSnr: 6 };
  const b = { alertSnr: 7 };
  const c = { alertSnr: 8 };
  const { rows, messageOfRow } = batchRows([[a], null, [b, c], [a]]);
  assert.deepEqual(rows.map((r) => r[ROW_COLUMN]), [0, 1, 2, 3]);
  assert.deepEqual(messageOfRow, [0, 2, 2, 3]);
  assert.equal(rows[1]?.alertSnr, 7);
  assert.equal((a as Record<string, unknown>)[ROW_COLUMN], undefined, 'the feature rows themselves are not changed');
  // The engine's row order is not defined; two matching alerts of one message count once.
  assert.deepEqual(matchedMessages([{ [ROW_COLUMN]: 3 }, { [ROW_COLUMN]: 2 }, { [ROW_COLUMN]: 1 }], messageOfRow), [2, 3]);
  assert.throws(() => matchedMessages([{ [ROW_COLUMN]: 4 }], messageOfRow), /row 4/);
});

test('the cap keeps the first matches in input order and counts the rest', () => {
  assert.deepEqual(capMatches([1, 4, 9, 12], 2), { kept: [1, 4], capped: 2 });
  assert.deepEqual(capMatches([1, 4], 2), { kept: [1, 4], capped: 0 });
  assert.deepEqual(capMatches([1, 4, 9], undefined), { kept: [1, 4, 9], capped: 0 });
});

test('output partitions: same number when the counts agree, else by key, or by input partition without a key', () => {
  assert.equal(outputPartition(2, true, 3, 3), 2);
  assert.equal(outputPartition(2, false, 3, 3), 2);
  assert.equal(outputPartition(2, true, 3, 5), undefined);
  assert.equal(outputPartition(4, false, 5, 3), 1);
});

test('commits take the last offset of each partition', () => {
  const m = (partition: number, offset: bigint) => ({ topic: 't', partition, offset });
  const last = lastPerPartition([m(0, 5n), m(1, 7n), m(0, 6n), m(1, 3n), m(2, 0n)]);
  assert.deepEqual(last.map((x) => [x.partition, x.offset]).sort(), [[0, 6n], [1, 7n], [2, 0n]]);
});

test('the template compiles; the hidden row column is selected but cannot be named by the user', async () => {
  const condition = await compileCondition(TEMPLATE);
  assert.match(condition.filter.sql, new RegExp(`^SELECT "objects"."${ROW_COLUMN}" AS "${ROW_COLUMN}" FROM "objects" WHERE `));
  assert.equal(condition.whereSql, '(("objects"."alertSnr" > 5) AND (flux2mag("objects"."alertFlux") < 20))');
  await assert.rejects(compileCondition(`${ROW_COLUMN} > 3`), (err: Error) => err instanceof UserError && /unknown column "nightjar_stream_row"/.test(err.message));
  assert.throws(() => withRowColumn(withRowColumn(catalog())), /already has/);
});

test('condition errors are one line with the suggestion, and type errors are caught before any data', async () => {
  const check = async (where: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(compileCondition(where), (err: Error) => {
      assert.ok(err instanceof UserError, `${where}: ${err.message}`);
      assert.ok(!err.message.includes('\n'), err.message);
      assert.match(err.message, pattern);
      return true;
    });
  };
  await check('alertSnrr > 5 AND flux2mag(alertFlux) < 20', /^--where "alertSnrr > 5 AND flux2mag\(alertFlux\) < 20": unknown column "alertSnrr" in WHERE — did you mean "alertSnr"\?$/);
  await check('alertBand > 5', /Cannot compare values of type VARCHAR/);
  await check('alertSnr >', /syntax error/);
  await check('alertSnr > 5; DROP TABLE objects', /";" is not allowed/);
  await check('   ', /--where is empty/);
});

test('the compiled condition selects exactly the rows that satisfy it, each alert judged on its own row', async () => {
  const condition = await compileCondition(TEMPLATE);
  const engine = await FilterEngine.create(condition.catalog);
  try {
    const base = Object.fromEntries(catalog().tables[0]!.columns.map((c) => [c.name, null]));
    // Two alerts of the same object: judged on their own rows, not collapsed.
    const alerts = [
      { alertSnr: 6, alertFlux: 50_000 }, // mag 19.65: passes
      { alertSnr: 4, alertFlux: 50_000 }, // snr too low
      { alertSnr: 6, alertFlux: 30_000 }, // mag 20.2: too faint
      { alertSnr: 6, alertFlux: -50_000 }, // negative flux: no magnitude
      { alertSnr: 80, alertFlux: 3_000_000 }, // passes
    ].map((a) => ({ ...base, diaObjectId: 169298433314652171n, ...a }));
    const { rows, messageOfRow } = batchRows([[alerts[0]!], [alerts[1]!, alerts[2]!], [alerts[3]!], [alerts[4]!]]);
    await engine.loadBatch('objects', rows);
    const [result] = await engine.run([condition.filter], { rowLimit: 10 });
    assert.equal(result?.error, undefined);
    assert.deepEqual(matchedMessages(result!.rows, messageOfRow), [0, 3]);
  } finally {
    await engine.close();
  }
});

test('default group ids are stable per topics and condition', () => {
  const g = defaultGroupId('in', 'out', 'a > 1');
  assert.equal(g, defaultGroupId('in', 'out', 'a > 1'));
  assert.notEqual(g, defaultGroupId('in', 'out', 'a > 2'));
  assert.notEqual(g, defaultGroupId('in', 'out2', 'a > 1'));
  assert.match(g, /^nightjar-filter-stream\.in\.out\.[0-9a-f]{12}$/);
});

test('summary line', () => {
  const counts = { ...emptyCounts(), consumed: 2000, matched: 30, produced: 20, capped: 10, errors: 2 };
  assert.equal(summaryLine(counts, { messages: 1000, ms: 500 }), 'consumed 2000, matched 30, produced 20, capped 10, errors 2, 2000 msg/s');
});

/** Yields the given items, sleeping `gap` ms before each listed index. */
async function* trickle(count: number, gaps: ReadonlyMap<number, number>): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    const gap = gaps.get(i);
    if (gap !== undefined) await sleep(gap);
    yield i;
  }
}

test('the batcher closes batches when full, when their time is up, when idle, on abort and at the end; nothing is lost', async () => {
  const batcher = new Batcher(trickle(12, new Map([[5, 300], [8, 600]])));
  const before = performance.now();
  const first = await batcher.next({ maxCount: 3, maxWaitMs: 1000 });
  assert.ok(first.firstAt !== undefined && first.firstAt >= before && first.firstAt <= performance.now());
  assert.deepEqual({ items: first.items, end: first.end }, { items: [0, 1, 2], end: 'full' });
  const next = async (limits: BatchLimits): Promise<{ items: number[]; end: string }> => {
    const { items, end } = await batcher.next(limits);
    return { items, end };
  };
  // 3 and 4 come at once, 5 after 300 ms: the batch's 60 ms are up first.
  assert.deepEqual(await next({ maxCount: 10, maxWaitMs: 60 }), { items: [3, 4], end: 'time' });
  // The read of 5 that was waiting opens the next batch; 8 comes 600 ms later.
  assert.deepEqual(await next({ maxCount: 10, maxWaitMs: 100, idleMs: 1000 }), { items: [5, 6, 7], end: 'time' });
  assert.deepEqual(await next({ maxCount: 10, maxWaitMs: 100, idleMs: 50 }), { items: [], end: 'idle' });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  assert.deepEqual(await next({ maxCount: 10, maxWaitMs: 5000, signal: stop.signal }), { items: [], end: 'aborted' });
  assert.deepEqual(await next({ maxCount: 10, maxWaitMs: 5000 }), { items: [8, 9, 10, 11], end: 'done' });
  assert.deepEqual(await next({ maxCount: 10, maxWaitMs: 5000 }), { items: [], end: 'done' });
});

test('the batcher passes on a failing source', async () => {
  async function* failing(): AsyncGenerator<number> {
    yield 1;
    await sleep(10);
    throw new Error('broker went away');
  }
  const batcher = new Batcher(failing());
  await assert.rejects(batcher.next({ maxCount: 10, maxWaitMs: 1000 }), /broker went away/);
});
