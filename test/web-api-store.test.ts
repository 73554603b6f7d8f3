// The store's accounts tables (migration 3): the settings (the web app's secret survives a
// reopen), sessions that expire, API tokens found by hash until revoked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../src/store/index.ts';
import { sha256Hex } from '../src/web/auth/secrets.ts';

test('settings keep their first value and survive a reopen; sessions expire; tokens work until revoked', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-accounts-'));
  const file = path.join(dir, 'store.duckdb');
  try {
    let store = await openStore({ path: file });
    assert.ok((await store.schemaVersion()) >= 3);
    assert.equal(await store.getSetting('web.cookieSecret'), null);
    assert.equal(await store.settingOrInit('web.cookieSecret', 'first'), 'first');
    assert.equal(await store.settingOrInit('web.cookieSecret', 'second'), 'first', 'the first writer wins');
    const user = await store.createUser({ email: 'ann@example.org', name: 'Ann' });

    const idHash = sha256Hex('session-id');
    const session = await store.createSession({ idHash, userId: user.id, expiresAt: '2030-01-02T00:00:00.000Z' });
    assert.equal(session.userId, user.id);
    assert.equal((await store.findSession(idHash, '2030-01-01T23:59:59.000Z'))?.userId, user.id);
    assert.equal(await store.findSession(idHash, '2030-01-02T00:00:00.000Z'), null, 'expired at expiresAt');
    assert.equal(await store.findSession('not a hash', '2030-01-01T00:00:00.000Z'), null);
    await store.createSession({ idHash: sha256Hex('other'), userId: user.id, expiresAt: '2031-01-01T00:00:00.000Z' });
    assert.equal(await store.deleteExpiredSessions('2030-06-01T00:00:00.000Z'), 1);
    assert.equal(await store.deleteSession(sha256Hex('other')), true);
    assert.equal(await store.deleteSession(sha256Hex('other')), false);

    const tokenHash = sha256Hex('nj_secret');
    const token = await store.createApiToken({ userId: user.id, name: 'laptop', tokenHash, prefix: 'nj_secret' });
    assert.deepEqual({ ...token, createdAt: undefined }, { id: token.id, userId: user.id, name: 'laptop', prefix: 'nj_secret', createdAt: undefined, lastUsedAt: null, revokedAt: null });
    await store.touchApiToken(token.id, '2030-01-01T00:00:00.000Z');
    assert.equal((await store.findApiToken(tokenHash))?.lastUsedAt, '2030-01-01T00:00:00.000Z');
    await assert.rejects(store.createApiToken({ userId: user.id, name: 'copy', tokenHash, prefix: 'nj_secret' }), /unique|duplicate|constraint/i);
    assert.equal(await store.revokeApiToken(user.id + 1, token.id, '2030-01-01T00:00:00.000Z'), false, 'only its owner revokes it');
    assert.equal(await store.revokeApiToken(user.id, token.id, '2030-01-01T00:00:00.000Z'), true);
    assert.equal(await store.revokeApiToken(user.id, token.id, '2030-01-01T00:00:00.000Z'), false);
    assert.equal(await store.findApiToken(tokenHash), null, 'a revoked token is not found');
    assert.equal((await store.listApiTokens(user.id))[0]?.revokedAt, '2030-01-01T00:00:00.000Z');
    await store.close();

    store = await openStore({ path: file, readOnly: true });
    assert.equal(await store.settingOrInit('web.cookieSecret', 'third'), 'first', 'kept in the file');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
