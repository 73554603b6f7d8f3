// The store's users, filters and counters: round trips, the rules they keep (unique emails and
// topics, owners that exist), the version that tells the broker filters changed, and counters
// that add up per night.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore, utcNight } from '../src/store/index.ts';
import type { FilterInput, Store, StoredUser } from '../src/store/index.ts';
import { UserError } from '../src/util/errors.ts';

let store: Store;
let ada: StoredUser;
let bob: StoredUser;

before(async () => {
  store = await openStore({ path: ':memory:', threads: 1 });
  ada = await store.createUser({ email: 'Ada@Example.org', name: 'Ada Lovelace', passwordHash: 'scrypt$abc' });
  bob = await store.createUser({ email: 'bob@example.org', name: 'Bob' });
});

after(() => store.close());

const isUserError = (pattern: RegExp) => (error: Error) => error instanceof UserError && pattern.test(error.message);

describe('users', () => {
  test('users get small integer ids in order and come back as stored', async () => {
    assert.equal(ada.id, 1);
    assert.equal(bob.id, 2);
    assert.deepEqual(await store.getUser(1), ada);
    assert.equal(ada.passwordHash, 'scrypt$abc');
    assert.equal(bob.passwordHash, null);
    assert.ok(Math.abs(Date.parse(ada.createdAt) - Date.now()) < 60_000);
    assert.equal(await store.getUser(99), null);
  });

  test('emails are found and kept unique without regard to case', async () => {
    assert.deepEqual(await store.findUserByEmail('ada@example.ORG'), ada);
    assert.equal(await store.findUserByEmail('nobody@example.org'), null);
    await assert.rejects(store.createUser({ email: 'ADA@example.org', name: 'Impostor' }), isUserError(/already exists/));
    await assert.rejects(store.createUser({ email: 'not an address', name: 'X' }), isUserError(/not an email address/));
  });
});

describe('filters', () => {
  const source: FilterInput = { ownerId: 1, name: 'bright transients', select: 'diaObjectId, ra, decl', where: 'alertMag < 19' };

  test('a new filter is stored with defaults and read back the same', async () => {
    const before = await store.filtersVersion();
    const saved = await store.saveFilter(source);
    assert.deepEqual(
      { ...saved, createdAt: '', updatedAt: '' },
      { id: saved.id, ownerId: 1, name: 'bright transients', description: '', select: 'diaObjectId, ra, decl', where: 'alertMag < 19', tables: [], public: false, output: 'none', active: true, topic: null, createdAt: '', updatedAt: '' },
    );
    assert.equal(saved.createdAt, saved.updatedAt);
    assert.deepEqual(await store.getFilter(saved.id), saved);
    assert.equal(await store.filtersVersion(), before + 1);
    assert.equal(await store.getFilter(12345), null);
  });

  test('saving with an id replaces that filter, keeping its creation time', async () => {
    const saved = await store.saveFilter({ ...source, name: 'to change' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const version = await store.filtersVersion();
    const changed = await store.saveFilter({ ...saved, where: 'alertMag < 18', tables: ['sherlock'], public: true, output: 'kafka-lite', topic: 'lasair_1to-change', description: 'brighter' });
    assert.equal(changed.id, saved.id);
    assert.equal(changed.createdAt, saved.createdAt);
    assert.ok(changed.updatedAt > saved.updatedAt, `${changed.updatedAt} after ${saved.updatedAt}`);
    assert.deepEqual([changed.where, changed.tables, changed.public, changed.output, changed.topic, changed.description], ['alertMag < 18', ['sherlock'], true, 'kafka-lite', 'lasair_1to-change', 'brighter']);
    assert.deepEqual(await store.getFilter(saved.id), changed);
    assert.equal(await store.filtersVersion(), version + 1);
  });

  test('what cannot be saved is refused, and does not change the version', async () => {
    const taken = await store.saveFilter({ ...source, name: 'streams', output: 'kafka', topic: 'lasair_1streams' });
    const version = await store.filtersVersion();
    await assert.rejects(store.saveFilter({ ...source, name: 'other', topic: 'lasair_1streams' }), isUserError(/topic lasair_1streams is already used by filter \d+ \("streams"\)/));
    await store.saveFilter({ ...taken, description: 'same topic, same filter' });
    await assert.rejects(store.saveFilter({ ...source, ownerId: 77 }), isUserError(/there is no user 77/));
    await assert.rejects(store.saveFilter({ ...source, id: 4242 }), isUserError(/there is no filter 4242/));
    await assert.rejects(store.saveFilter({ ...source, output: 'fax' as never }), isUserError(/output must be one of none, email, kafka, kafka-lite, kafka-full, kafka-avro/));
    await assert.rejects(store.saveFilter({ ...source, name: '  ' }), isUserError(/needs a name/));
    assert.equal(await store.filtersVersion(), version + 1, 'only the successful save counted');
  });

  test('filters are listed by owner, activity and visibility, in id order; deleting one removes it and its counters', async () => {
    const a = await store.saveFilter({ ...source, ownerId: bob.id, name: 'bob active public', public: true });
    const b = await store.saveFilter({ ...source, ownerId: bob.id, name: 'bob inactive', active: false });
    assert.deepEqual((await store.listFilters({ ownerId: bob.id })).map((f) => f.id), [a.id, b.id]);
    assert.deepEqual((await store.listFilters({ ownerId: bob.id, activeOnly: true })).map((f) => f.id), [a.id]);
    assert.ok((await store.listFilters({ publicOnly: true })).every((f) => f.public));
    assert.ok((await store.listFilters({ activeOnly: true })).every((f) => f.active));
    const all = await store.listFilters();
    assert.deepEqual(all.map((f) => f.id), [...all.map((f) => f.id)].sort((x, y) => x - y));

    await store.addFilterCounters([{ filterId: b.id, night: '2025-11-21', matched: 1 }]);
    const version = await store.filtersVersion();
    assert.equal(await store.deleteFilter(b.id), true);
    assert.equal(await store.deleteFilter(b.id), false);
    assert.equal(await store.getFilter(b.id), null);
    assert.deepEqual(await store.filterCounters(b.id), []);
    assert.equal(await store.filtersVersion(), version + 1);
    const c = await store.saveFilter({ ...source, name: 'after delete' });
    assert.ok(c.id > b.id, 'ids are not reused');
  });
});

describe('counters', () => {
  test('filter counters add up per night, several deltas per call', async () => {
    const f = await store.saveFilter({ ownerId: 1, name: 'counted', select: 'objectId', where: '' });
    await store.addFilterCounters([
      { filterId: f.id, night: '2025-11-21', matched: 5, records: 5, bytes: 1200 },
      { filterId: f.id, night: '2025-11-21', matched: 2, records: 1, bytes: 300, dropped: 1 },
      { filterId: f.id, night: '2025-11-22', matched: 1 },
    ]);
    await store.addFilterCounters([{ filterId: f.id, night: '2025-11-21', matched: 10, records: 10, bytes: 2 ** 40 }]);
    await store.addFilterCounters([]);
    assert.deepEqual(await store.filterCounters(f.id), [
      { filterId: f.id, night: '2025-11-21', matched: 17, records: 16, bytes: 2 ** 40 + 1500, dropped: 1 },
      { filterId: f.id, night: '2025-11-22', matched: 1, records: 0, bytes: 0, dropped: 0 },
    ]);
    assert.deepEqual((await store.filterCounters(f.id, { fromNight: '2025-11-22' })).map((c) => c.night), ['2025-11-22']);
    assert.deepEqual((await store.filterCounters(f.id, { toNight: '2025-11-21' })).map((c) => c.night), ['2025-11-21']);
    assert.deepEqual(await store.filterCounters(f.id, { fromNight: '2025-12-01', toNight: '2025-12-31' }), []);
  });

  test('pipeline counters add up per night', async () => {
    await store.addPipelineCounters([{ night: '2025-11-21', alertsIn: 10_000, processed: 9_998, deadLetters: 2, batches: 1 }]);
    await store.addPipelineCounters([
      { night: '2025-11-21', alertsIn: 10_000, processed: 10_000, batches: 1 },
      { night: '2025-11-20', alertsIn: 5 },
    ]);
    assert.deepEqual(await store.pipelineCounters(), [
      { night: '2025-11-20', alertsIn: 5, processed: 0, deadLetters: 0, batches: 0 },
      { night: '2025-11-21', alertsIn: 20_000, processed: 19_998, deadLetters: 2, batches: 2 },
    ]);
    assert.deepEqual((await store.pipelineCounters({ fromNight: '2025-11-21', toNight: '2025-11-21' })).map((c) => c.alertsIn), [20_000]);
  });

  test('nights must be real UTC dates and amounts non-negative integers', async () => {
    await assert.rejects(store.addPipelineCounters([{ night: '2025-02-30', alertsIn: 1 }]), /night must be a UTC date written YYYY-MM-DD, got "2025-02-30"/);
    await assert.rejects(store.addFilterCounters([{ filterId: 1, night: '21/11/2025' }]), /filter counters\[0\]: night must be/);
    await assert.rejects(store.addFilterCounters([{ filterId: 1, night: '2025-11-21', bytes: -1 }]), /filter counters\[0\]\.bytes must be a non-negative integer/);
    await assert.rejects(store.addPipelineCounters([{ night: '2025-11-21', processed: 1.5 }]), /processed must be a non-negative integer/);
    await assert.rejects(store.pipelineCounters({ fromNight: 'yesterday' }), /night must be/);
    assert.equal(utcNight(new Date('2025-11-21T23:59:59Z')), '2025-11-21');
    assert.equal(utcNight(new Date('2025-11-22T00:00:00Z')), '2025-11-22');
  });
});
