// Schema versions: databases made by older builds are upgraded in place when opened; a
// database of a newer build is refused rather than misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { openStore } from './store.ts';
import { schemaVersions } from './schema.ts';
import { fixture, message, failsWith } from './testfixture.ts';

/** Runs SQL on a closed account's database, returning the rows of the last statement when asked. */
function sql(dataDir: string, q: string): unknown[] {
  const db = new DatabaseSync(`${dataDir}/accounts/mjl/index.db`);
  try {
    return db.prepare(q).all();
  } finally {
    db.close();
  }
}
const userVersion = (dataDir: string) => (sql(dataDir, 'PRAGMA user_version')[0] as { user_version: number }).user_version;
const tables = (dataDir: string) => (sql(dataDir, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") as { name: string }[]).map((r) => r.name);

test('a new account database has the current schema version, and reopening it changes nothing', async () => {
  const f = await fixture();
  try {
    await f.account.setMetadata('INBOX', [{ name: '/private/comment', value: Buffer.from('kept') }]);
    await f.account.close();
    assert.equal(userVersion(f.dataDir), schemaVersions.account);
    assert.equal(schemaVersions.account, 2);
    const before = tables(f.dataDir);
    const again = await f.store.openAccount('mjl');
    await again.close();
    const third = await f.store.openAccount('mjl');
    assert.deepEqual((await third.getMetadata('INBOX')).map((e) => e.value.toString()), ['kept']);
    await third.close();
    assert.deepEqual(tables(f.dataDir), before);
    assert.equal(userVersion(f.dataDir), schemaVersions.account);
  } finally {
    await f.done();
  }
});

test('an account database of version 1 (before METADATA) is upgraded in place when opened, keeping its messages', async () => {
  const f = await fixture();
  try {
    await f.account.append('INBOX', { data: message('old') });
    await f.account.close();
    await f.store.close();
    sql(f.dataDir, 'DROP TABLE metadata');
    sql(f.dataDir, 'PRAGMA user_version = 1'); // as written by the build before RFC 5464 METADATA
    assert.ok(!tables(f.dataDir).includes('metadata'));
    const store = await openStore(f.dataDir);
    try {
      const a = await store.openAccount('mjl');
      assert.equal(userVersion(f.dataDir), schemaVersions.account);
      assert.deepEqual((await a.messageMeta('INBOX')).map((m) => m.uid), [1]);
      assert.deepEqual(await a.getMetadata('INBOX'), []);
      await a.setMetadata('INBOX', [{ name: '/shared/comment', value: Buffer.from('new') }]);
      assert.deepEqual((await a.getMetadata('INBOX')).map((e) => e.value.toString()), ['new']);
      await a.close(); // verified (test/setup.ts)
    } finally {
      await store.close();
    }
  } finally {
    await f.done();
  }
});

test('an account database of a newer schema version is refused with CANNOT and left alone', async () => {
  const f = await fixture();
  try {
    await f.account.close();
    sql(f.dataDir, `PRAGMA user_version = ${schemaVersions.account + 1}`);
    await assert.rejects(f.store.openAccount('mjl'), failsWith('CANNOT'));
    assert.equal(userVersion(f.dataDir), schemaVersions.account + 1);
    sql(f.dataDir, `PRAGMA user_version = ${schemaVersions.account}`);
    const a = await f.store.openAccount('mjl'); // a failed open leaves no half-open account behind
    await a.close();
  } finally {
    await f.done();
  }
});
