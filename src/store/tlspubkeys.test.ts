// The TLS public keys table in auth.db: add, get, list, remove, duplicates, durability
// across reopening, and auth.db files made before the table existed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openStore } from './store.ts';
import { failsWith } from './testfixture.ts';
import type { TlsPublicKey } from './types.ts';

const key = (fingerprint: string, account: string, created: string): TlsPublicKey => ({
  fingerprint, name: `key ${fingerprint}`, account, loginAddress: `${account}@example.com`, noIMAPPreauth: fingerprint.endsWith('1'), certDER: Buffer.from(`cert ${fingerprint}`).toString('base64'), created,
});

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-tlskeys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('TLS public keys are added, read back, listed per account and removed, and survive reopening', async (t) => {
  const dataDir = await tempDir(t);
  let store = await openStore(dataDir);
  const a1 = key('fp-a1', 'alice', '2026-01-01T00:00:00.000Z');
  const a2 = key('fp-a2', 'alice', '2026-01-02T00:00:00.000Z');
  const b1 = key('fp-b1', 'bob', '2026-01-01T00:00:00.000Z');
  await Promise.all([store.auth.addTlsPublicKey(a2), store.auth.addTlsPublicKey(b1), store.auth.addTlsPublicKey(a1)]);
  assert.deepEqual(await store.auth.getTlsPublicKey('fp-a1'), a1);
  assert.equal(await store.auth.getTlsPublicKey('fp-none'), undefined);
  assert.deepEqual(await store.auth.listTlsPublicKeys('alice'), [a1, a2]);
  assert.deepEqual(await store.auth.listTlsPublicKeys(), [a1, a2, b1]);
  await store.close();

  store = await openStore(dataDir);
  t.after(() => store.close());
  assert.deepEqual(await store.auth.listTlsPublicKeys(), [a1, a2, b1]);
  await store.auth.removeTlsPublicKey('fp-a1');
  assert.deepEqual(await store.auth.listTlsPublicKeys('alice'), [a2]);
  assert.deepEqual(await store.auth.listTlsPublicKeys('carol'), []);
});

test('adding a fingerprint twice is ALREADYEXISTS and removing an absent one NONEXISTENT', async (t) => {
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  const k = key('fp-1', 'alice', '2026-01-01T00:00:00.000Z');
  await store.auth.addTlsPublicKey(k);
  await assert.rejects(store.auth.addTlsPublicKey({ ...k, account: 'bob' }), failsWith('ALREADYEXISTS'));
  assert.equal((await store.auth.getTlsPublicKey('fp-1'))?.account, 'alice');
  await assert.rejects(store.auth.removeTlsPublicKey('fp-2'), failsWith('NONEXISTENT'));
});

test('an auth.db made before the TLS public keys table gets the table and keeps its credentials', async (t) => {
  const dataDir = await tempDir(t);
  const old = new DatabaseSync(join(dataDir, 'auth.db'));
  old.exec("PRAGMA journal_mode = WAL; CREATE TABLE credentials (account TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID; INSERT INTO credentials VALUES ('alice', '{\"v\":1}'); PRAGMA user_version = 1;");
  old.close();
  const store = await openStore(dataDir);
  t.after(() => store.close());
  assert.deepEqual(await store.auth.getCredentials('alice'), { v: 1 });
  const k = key('fp-1', 'alice', '2026-01-01T00:00:00.000Z');
  await store.auth.addTlsPublicKey(k);
  assert.deepEqual(await store.auth.listTlsPublicKeys(), [k]);
});
