// Web sessions in auth.db (auth schema version 3): stored by id hash, touched, ended one
// by one, all but one of an account's (on every surface), and pruned by age.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { schemaVersions } from './schema.ts';
import { fixture } from './testfixture.ts';

const session = (idHash: string, account: string, surface = 'account', t = 1000) => ({ idHash, surface, account, csrfToken: `csrf-${idHash}`, created: t, lastUsed: t });

test('auth.db is at schema version 3 with the web_sessions table', async () => {
  const f = await fixture();
  try {
    assert.equal(schemaVersions.auth, 3);
    const db = new DatabaseSync(`${f.dataDir}/auth.db`, { readOnly: true });
    try {
      assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 3);
      assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'web_sessions'").get());
    } finally {
      db.close();
    }
  } finally {
    await f.done();
  }
});

test('web sessions: add, get, touch, remove, remove others across surfaces, prune', async () => {
  const f = await fixture();
  const auth = f.store.auth;
  try {
    await auth.addWebSession(session('a', 'mjl'));
    await auth.addWebSession(session('b', 'mjl', 'webmail'));
    await auth.addWebSession(session('c', 'mjl'));
    await auth.addWebSession(session('d', 'other', 'account', 5000));
    assert.deepEqual(await auth.getWebSession('a'), session('a', 'mjl'));
    await auth.touchWebSession('a', 2000);
    assert.equal((await auth.getWebSession('a'))?.lastUsed, 2000);
    assert.equal(await auth.removeOtherWebSessions('mjl', 'a'), 2);
    assert.equal(await auth.getWebSession('b'), undefined);
    assert.ok(await auth.getWebSession('a'));
    assert.ok(await auth.getWebSession('d'));
    await auth.removeWebSession('a');
    assert.equal(await auth.getWebSession('a'), undefined);
    await auth.addWebSession(session('e', 'mjl', 'account', 100));
    assert.equal(await auth.pruneWebSessions(1000, 0), 1);
    assert.ok(await auth.getWebSession('d'));
    assert.equal(await auth.pruneWebSessions(0, 6000), 1);
    assert.equal(await auth.getWebSession('d'), undefined);
  } finally {
    await f.done();
  }
});
