// Web sessions (auth schema version 3) and login attempts (4) in auth.db: sessions stored by
// id hash, touched, ended one by one, all but one of an account's (on every surface), and
// pruned by age; login attempts listed newest first per account or all, paged and pruned.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { schemaVersions } from './schema.ts';
import { fixture } from './testfixture.ts';

const session = (idHash: string, account: string, surface = 'account', t = 1000) => ({ idHash, surface, account, csrfToken: `csrf-${idHash}`, created: t, lastUsed: t });

test('auth.db is at schema version 4 with the web_sessions and login_attempts tables', async () => {
  const f = await fixture();
  try {
    assert.equal(schemaVersions.auth, 4);
    const db = new DatabaseSync(`${f.dataDir}/auth.db`, { readOnly: true });
    try {
      assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 4);
      assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'login_attempts'").get());
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

test('login attempts: newest first, per account or all, paged by id, pruned by age and count', async () => {
  const f = await fixture();
  const auth = f.store.auth;
  try {
    const attempt = (time: number, account: string, result: 'ok' | 'badauth') => ({ time, account, username: account ? `${account}@example.org` : 'nobody@example.org', ip: '192.0.2.1', protocol: 'imap', mechanism: 'PLAIN', result, tls: 'TLSv1.3' });
    await auth.addLoginAttempt(attempt(1000, 'mjl', 'badauth'));
    await auth.addLoginAttempt(attempt(2000, '', 'badauth'));
    await auth.addLoginAttempt(attempt(3000, 'mjl', 'ok'));
    await auth.addLoginAttempt(attempt(4000, 'other', 'ok'));
    const mine = await auth.listLoginAttempts({ account: 'mjl', limit: 10 });
    assert.deepEqual(mine.map((a) => [a.time, a.result]), [[3000, 'ok'], [1000, 'badauth']]);
    assert.equal(mine[0]!.username, 'mjl@example.org');
    const all = await auth.listLoginAttempts({ limit: 2 });
    assert.deepEqual(all.map((a) => a.time), [4000, 3000]);
    assert.deepEqual((await auth.listLoginAttempts({ limit: 10, before: all[1]!.id })).map((a) => a.time), [2000, 1000]);
    assert.equal(await auth.pruneLoginAttempts(1500, 10), 1); // the one at 1000
    assert.equal(await auth.pruneLoginAttempts(0, 2), 1); // keeps the newest 2
    assert.deepEqual((await auth.listLoginAttempts({ limit: 10 })).map((a) => a.time), [4000, 3000]);
  } finally {
    await f.done();
  }
});

test('removeLogins removes the account\'s credentials, TLS public keys and web sessions, and nothing of other accounts', async () => {
  const f = await fixture();
  const auth = f.store.auth;
  try {
    for (const account of ['mjl', 'other']) {
      await auth.setCredentials(account, { x: 1 });
      await auth.addWebSession(session(`s-${account}`, account));
      await auth.addTlsPublicKey({ fingerprint: `fp-${account}`, name: 'laptop', account, loginAddress: `${account}@example.com`, noIMAPPreauth: false, certDER: '', created: new Date(0).toISOString() });
    }
    await auth.removeLogins('mjl');
    assert.equal(await auth.getCredentials('mjl'), null);
    assert.equal(await auth.getWebSession('s-mjl'), undefined);
    assert.deepEqual(await auth.listTlsPublicKeys('mjl'), []);
    assert.deepEqual(await auth.getCredentials('other'), { x: 1 });
    assert.ok(await auth.getWebSession('s-other'));
    assert.equal((await auth.listTlsPublicKeys('other')).length, 1);
  } finally {
    await f.done();
  }
});
