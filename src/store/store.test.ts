import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { openStore } from './store.ts';
import { message, readAll, failsWith } from './testfixture.ts';

async function withStore(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(`${tmpdir()}/mailcove-store-`);
  try {
    await fn(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('accounts are created, listed and removed; names are checked', async () => {
  await withStore(async (dataDir) => {
    const store = await openStore(dataDir);
    try {
      await store.createAccount('b@example.org', { quota: 1000 });
      await store.createAccount('a');
      assert.deepEqual(await store.listAccounts(), ['a', 'b@example.org']);
      await assert.rejects(store.createAccount('a'), failsWith('ALREADYEXISTS'));
      await assert.rejects(store.createAccount('c', { quota: -1 }), failsWith('CANNOT'));
      for (const bad of ['../x', '.hidden', 'a/b', '']) await assert.rejects(store.createAccount(bad), failsWith('BADNAME'));
      const b = await store.openAccount('b@example.org');
      assert.deepEqual(await b.quota(), { limit: 1000, used: 0 });
      await assert.rejects(store.removeAccount('b@example.org'), failsWith('INUSE'));
      await b.close();
      await store.removeAccount('b@example.org');
      assert.deepEqual(await store.listAccounts(), ['a']);
      assert.deepEqual((await readdir(`${dataDir}/accounts`)).sort(), ['a'], 'nothing left of the removed or the refused account');
      await assert.rejects(store.openAccount('b@example.org'), failsWith('NONEXISTENT'));
      await assert.rejects(store.removeAccount('b@example.org'), failsWith('NONEXISTENT'));
    } finally {
      await store.close();
    }
  });
});

test('openAccount shares one account object until its last user closes it', async () => {
  await withStore(async (dataDir) => {
    const store = await openStore(dataDir);
    try {
      await store.createAccount('mjl');
      const [a1, a2] = await Promise.all([store.openAccount('mjl'), store.openAccount('mjl')]);
      assert.equal(a1, a2);
      await a1.close();
      await a2.append('INBOX', { data: message('still open') });
      await a2.close();
      await assert.rejects(a2.mailboxStatus('INBOX'), failsWith('CLOSED'));
      const a3 = await store.openAccount('mjl');
      assert.notEqual(a3, a1);
      assert.equal((await a3.mailboxStatus('INBOX')).total, 1);
      await a3.close();
    } finally {
      await store.close();
    }
  });
});

test('everything committed survives closing and reopening the store', async () => {
  await withStore(async (dataDir) => {
    let store = await openStore(dataDir);
    await store.createAccount('mjl');
    let a = await store.openAccount('mjl');
    const added = await a.append('INBOX', { data: message('persist'), keywords: ['$Important'] });
    await a.createMailbox('Keep');
    await store.auth.setCredentials('mjl', { scram: { iterations: 4096 } });
    const status = await a.mailboxStatus('INBOX');
    await a.close();
    await store.close();
    store = await openStore(dataDir);
    try {
      a = await store.openAccount('mjl');
      assert.deepEqual(await a.mailboxStatus('INBOX'), status);
      assert.ok((await a.listMailboxes()).some((m) => m.name === 'Keep'));
      assert.deepEqual(await readAll(await a.openMessage(added.messageId)), message('persist'));
      assert.deepEqual((await a.messages('INBOX'))[0]?.keywords, ['$Important']);
      const next = await a.append('INBOX', { data: message('next') });
      assert.ok(next.uid > added.uid && next.modseq > status.highestModseq, 'UIDs and MODSEQs keep increasing across restarts');
      await a.close();
      assert.deepEqual(await store.auth.getCredentials('mjl'), { scram: { iterations: 4096 } });
    } finally {
      await store.close();
    }
  });
});

test('auth credentials are set, replaced, read and removed', async () => {
  await withStore(async (dataDir) => {
    const store = await openStore(dataDir);
    try {
      assert.equal(await store.auth.getCredentials('mjl'), null);
      await store.auth.setCredentials('mjl', { v: 1 });
      await store.auth.setCredentials('mjl', { v: 2 });
      assert.deepEqual(await store.auth.getCredentials('mjl'), { v: 2 });
      await store.auth.removeCredentials('mjl');
      assert.equal(await store.auth.getCredentials('mjl'), null);
    } finally {
      await store.close();
    }
  });
});

test('openStore removes account directories left by an interrupted create or remove', async () => {
  await withStore(async (dataDir) => {
    await mkdir(`${dataDir}/accounts/.new-x-1234`, { recursive: true });
    await mkdir(`${dataDir}/accounts/.removed-y-5678`, { recursive: true });
    const store = await openStore(dataDir);
    try {
      assert.deepEqual(await readdir(`${dataDir}/accounts`), []);
    } finally {
      await store.close();
    }
  });
});

test('store.close closes accounts still open and refuses further use', async () => {
  await withStore(async (dataDir) => {
    const store = await openStore(dataDir);
    await store.createAccount('mjl');
    const a = await store.openAccount('mjl');
    const pending = a.append('INBOX', { data: message('in flight') });
    await store.close();
    assert.equal((await pending).uid, 1, 'queued writes finish before the close');
    await assert.rejects(a.append('INBOX', { data: message('late') }), failsWith('CLOSED'));
    await assert.rejects(store.openAccount('mjl'), failsWith('CLOSED'));
  });
});
