// The store's filter matches (contract A) and email digest state: idempotent recording, seq
// order over the whole table, afterSeq/limit/order, exact 64-bit ids in rows, and survival
// across closing and reopening a store file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/index.ts';
import { match, MATCHED_OBJECT } from './helpers/store-fixtures.ts';

let store: Store;
let filterA: number;
let filterB: number;

before(async () => {
  store = await openStore({ path: ':memory:', threads: 1 });
  const owner = await store.createUser({ email: 'matches@example.org', name: 'M' });
  filterA = (await store.saveFilter({ ownerId: owner.id, name: 'a', select: 'objectId', where: '' })).id;
  filterB = (await store.saveFilter({ ownerId: owner.id, name: 'b', select: 'objectId', where: '' })).id;
});

after(() => store.close());

describe('filter matches', () => {
  test('adding is idempotent on (filterId, objectId, sourceId) and counts only new rows', async () => {
    const first = [match(filterA, 1), match(filterA, 2), match(filterB, 1)];
    assert.equal(await store.addFilterMatches(first), 3);
    assert.equal(await store.addFilterMatches(first), 0, 'a replayed batch adds nothing');
    // Repeats inside one call count once; a new source of a known object is new.
    const again = [match(filterA, 3), match(filterA, 3), { ...match(filterA, 1), sourceId: 5n }];
    assert.equal(await store.addFilterMatches(again), 2);
    assert.equal(await store.addFilterMatches([]), 0);
    assert.equal((await store.filterMatches(filterA, { limit: 1000 })).length, 4);
    assert.equal((await store.filterMatches(filterB)).length, 1);
  });

  test('rows come back exactly, newest first by default, with increasing seq in the order added', async () => {
    const newest = await store.filterMatches(filterA);
    const seqs = newest.map((m) => m.seq);
    assert.ok(seqs.every((s) => typeof s === 'bigint'));
    assert.deepEqual(seqs, [...seqs].sort((x, y) => (x < y ? 1 : -1)));
    const oldest = await store.filterMatches(filterA, { newestFirst: false });
    assert.deepEqual(oldest.map((m) => m.objectId), [String(MATCHED_OBJECT + 1n), String(MATCHED_OBJECT + 2n), String(MATCHED_OBJECT + 3n), String(MATCHED_OBJECT + 1n)]);
    const m1 = oldest[0];
    assert.ok(m1 !== undefined);
    assert.equal(m1.filterId, filterA);
    assert.equal(m1.sourceId, MATCHED_OBJECT * 10n + 1n);
    assert.equal(m1.mjd, 61001.5);
    assert.equal(m1.matchedAt, '2026-03-01T02:03:04.567Z');
    assert.equal(m1.survey, 'lsst');
    assert.deepEqual(m1.row, { diaObjectId: MATCHED_OBJECT + 1n, gmag: 19.6, name: 'obj 1', flag: false, nothing: null });
    // filterB's match was added between filterA's: seq is over the whole table.
    const b = (await store.filterMatches(filterB))[0];
    assert.ok(b !== undefined);
    assert.ok(b.seq > (oldest[1]?.seq ?? 0n) && b.seq < (oldest[2]?.seq ?? 0n));
  });

  test('afterSeq and limit page through the matches', async () => {
    const all = await store.filterMatches(filterA, { newestFirst: false });
    const second = all[1]?.seq;
    assert.ok(second !== undefined);
    const after2 = await store.filterMatches(filterA, { afterSeq: second, newestFirst: false });
    assert.deepEqual(after2.map((m) => m.seq), all.slice(2).map((m) => m.seq));
    const newestTwo = await store.filterMatches(filterA, { limit: 2 });
    assert.deepEqual(newestTwo.map((m) => m.seq), all.slice(2).map((m) => m.seq).reverse());
    assert.deepEqual(await store.filterMatches(filterA, { afterSeq: all[3]?.seq ?? 0n }), []);
    assert.equal(await store.lastFilterMatchSeq(filterA), all[3]?.seq);
    assert.equal(await store.lastFilterMatchSeq(filterA, { before: '2026-03-01T02:03:04.567Z' }), 0n);
    assert.equal(await store.lastFilterMatchSeq(9999), 0n);
    await assert.rejects(store.filterMatches(filterA, { limit: 0 }), /limit must be a positive integer/);
  });

  test('bad matches are refused with the match named', async () => {
    await assert.rejects(store.addFilterMatches([{ ...match(filterA, 9), sourceId: 9 as unknown as bigint }]), /filter match 0 .*sourceId must be a BigInt/);
    await assert.rejects(store.addFilterMatches([{ ...match(filterA, 9), matchedAt: 'yesterday' }]), /matchedAt must be an ISO time/);
  });

  test('deleting a filter deletes its matches and email state', async () => {
    const owner = await store.createUser({ email: 'gone@example.org', name: 'G' });
    const gone = (await store.saveFilter({ ownerId: owner.id, name: 'gone', select: 'objectId', where: '' })).id;
    await store.addFilterMatches([match(gone, 1)]);
    await store.saveEmailDigestState({ filterId: gone, sentThroughSeq: 1n, emailSince: null, lastSentAt: null, failures: 0, lastError: null, lastErrorAt: null, retryAt: null, filterErrorSentAt: null });
    assert.equal(await store.deleteFilter(gone), true);
    assert.deepEqual(await store.filterMatches(gone), []);
    assert.equal(await store.emailDigestState(gone), null);
  });
});

describe('email digest state', () => {
  test('round trip, replace, list', async () => {
    assert.equal(await store.emailDigestState(filterA), null);
    const state = {
      filterId: filterA,
      sentThroughSeq: 12n,
      emailSince: '2026-03-01T00:00:00.000Z',
      lastSentAt: '2026-03-01T02:03:04.567Z',
      failures: 2,
      lastError: 'connection refused',
      lastErrorAt: '2026-03-01T03:00:00.000Z',
      retryAt: '2026-03-01T03:01:00.000Z',
      filterErrorSentAt: null,
    };
    await store.saveEmailDigestState(state);
    assert.deepEqual(await store.emailDigestState(filterA), state);
    const next = { ...state, sentThroughSeq: 20n, failures: 0, retryAt: null };
    await store.saveEmailDigestState(next);
    assert.deepEqual(await store.emailDigestStates(), [next]);
  });
});

test('matches, seq and digest state survive closing and reopening a store file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-matches-'));
  try {
    const file = path.join(dir, 'store.duckdb');
    let s = await openStore({ path: file, threads: 1 });
    const owner = await s.createUser({ email: 'file@example.org', name: 'F' });
    const id = (await s.saveFilter({ ownerId: owner.id, name: 'f', select: 'objectId', where: '' })).id;
    assert.equal(await s.addFilterMatches([match(id, 1), match(id, 2)]), 2);
    await s.saveEmailDigestState({ filterId: id, sentThroughSeq: 1n, emailSince: null, lastSentAt: null, failures: 0, lastError: null, lastErrorAt: null, retryAt: null, filterErrorSentAt: null });
    await s.close();
    s = await openStore({ path: file, threads: 1 });
    assert.equal(await s.addFilterMatches([match(id, 2), match(id, 3)]), 1);
    const seqs = (await s.filterMatches(id, { newestFirst: false })).map((m) => m.seq);
    assert.deepEqual(seqs, [1n, 2n, 3n]);
    assert.equal((await s.emailDigestState(id))?.sentThroughSeq, 1n);
    await s.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('pruning filter matches', () => {
  test('old matches go, recent ones stay, and an email filter keeps what it has not emailed yet', async () => {
    const owner = await store.createUser({ email: 'prune@example.org', name: 'P' });
    const plain = (await store.saveFilter({ ownerId: owner.id, name: 'plain', select: 'objectId', where: '', output: 'kafka' })).id;
    const emailed = (await store.saveFilter({ ownerId: owner.id, name: 'emailed', select: 'objectId', where: '', output: 'email' })).id;
    const fresh = (await store.saveFilter({ ownerId: owner.id, name: 'fresh email', select: 'objectId', where: '', output: 'email' })).id;
    const old = '2026-01-01T00:00:00.000Z';
    const recent = '2026-06-01T00:00:00.000Z';
    for (const f of [plain, emailed, fresh]) await store.addFilterMatches([match(f, 100, old), match(f, 101, old), match(f, 102, recent)]);
    // The emailed filter's digest went out up to its first old match.
    const [firstOld] = await store.filterMatches(emailed, { newestFirst: false, limit: 1 });
    assert.ok(firstOld !== undefined);
    await store.saveEmailDigestState({ filterId: emailed, sentThroughSeq: firstOld.seq, emailSince: old, lastSentAt: old, failures: 0, lastError: null, lastErrorAt: null, retryAt: null, filterErrorSentAt: null });

    const deleted = await store.pruneFilterMatches('2026-03-01T00:00:00.000Z');
    const left = async (f: number): Promise<string[]> => (await store.filterMatches(f, { newestFirst: false })).map((m) => m.objectId);
    assert.deepEqual(await left(plain), [String(MATCHED_OBJECT + 102n)], 'a Kafka filter keeps only the recent match');
    assert.deepEqual(await left(emailed), [String(MATCHED_OBJECT + 101n), String(MATCHED_OBJECT + 102n)], 'the email filter keeps the old match it has not emailed');
    assert.deepEqual(await left(fresh), [String(MATCHED_OBJECT + 100n), String(MATCHED_OBJECT + 101n), String(MATCHED_OBJECT + 102n)], 'an email filter before its first digest keeps everything');
    assert.ok(deleted >= 3, `at least the 3 old matches above went (${deleted})`);
    assert.equal(await store.pruneFilterMatches('2026-03-01T00:00:00.000Z'), 0, 'pruning again deletes nothing');
  });
});
