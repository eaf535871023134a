import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { unlink, writeFile, mkdir, readdir, truncate } from 'node:fs/promises';
import { fixture, message } from './testfixture.ts';
import { verifyAccount, verifyData } from './verify.ts';
import { isStoreError } from './errors.ts';

/** A closed account with some history, and a way to tamper with its database. */
async function closedAccount() {
  const f = await fixture();
  for (const s of ['a', 'b', 'c']) await f.account.append('INBOX', { data: message(s), flags: s === 'a' ? ['\\Deleted'] : [] });
  await f.account.copy('INBOX', [2], 'Archive');
  await f.account.expunge('INBOX');
  const ids = (await f.account.messages('INBOX')).map((m) => m.messageId);
  await f.account.close(); // verified here (test/setup.ts)
  const dir = `${f.dataDir}/accounts/mjl`;
  const sql = (q: string) => {
    const db = new DatabaseSync(`${dir}/index.db`);
    try {
      db.exec(q);
    } finally {
      db.close();
    }
  };
  return { f, dir, ids, sql, file: (id: string) => `${dir}/msg/${id.slice(0, 2)}/${id}` };
}

test('the checker passes a consistent data directory and counts its messages', async () => {
  const { f } = await closedAccount();
  try {
    const r = await verifyData(f.dataDir);
    assert.deepEqual(r, { accounts: 1, messages: 3, problems: [], orphans: [] });
  } finally {
    await f.done();
  }
});

test('the checker reports a missing message file', async () => {
  const { f, ids, file } = await closedAccount();
  try {
    await unlink(file(ids[0]!));
    const r = await verifyAccount(f.dataDir, 'mjl');
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!, new RegExp(`message file ${ids[0]} is missing`));
  } finally {
    await f.done();
  }
});

test('the checker reports a message file of the wrong size', async () => {
  const { f, ids, file } = await closedAccount();
  try {
    await truncate(file(ids[1]!), 3);
    assert.match((await verifyAccount(f.dataDir, 'mjl')).problems.join('\n'), /3 octets, record says/);
  } finally {
    await f.done();
  }
});

test('the checker reports tampered counts, UIDNEXT, MODSEQs and quota usage', async () => {
  const { f, sql } = await closedAccount();
  try {
    sql("UPDATE mailboxes SET unseen = unseen + 1 WHERE name = 'INBOX'");
    sql("UPDATE mailboxes SET uidnext = 1 WHERE name = 'Archive'");
    sql('UPDATE messages SET modseq = (SELECT max(modseq) FROM messages) WHERE uid = 3');
    sql('UPDATE account SET used = used + 5');
    const problems = (await verifyAccount(f.dataDir, 'mjl')).problems.join('\n');
    assert.match(problems, /mailbox INBOX: counts total\/unseen\/deleted\/size are 2\/3\/0\/\d+, rows say 2\/2\/0\/\d+/);
    assert.match(problems, /mailbox Archive: UIDNEXT 1 is not above UID 1/);
    assert.match(problems, /MODSEQ \d+ is shared by 2 messages/);
    assert.match(problems, /quota usage \d+ differs/);
  } finally {
    await f.done();
  }
});

test('the checker reports a row and a tombstone for the same UID', async () => {
  const { f, sql } = await closedAccount();
  try {
    sql("INSERT INTO tombstones (mailbox_id, uid, modseq) SELECT mailbox_id, uid, modseq FROM messages WHERE uid = 2 AND mailbox_id = (SELECT id FROM mailboxes WHERE name = 'INBOX')");
    assert.match((await verifyAccount(f.dataDir, 'mjl')).problems.join('\n'), /UID 2 is both present and expunged/);
  } finally {
    await f.done();
  }
});

test('a message file without a row is a harmless orphan, removed when the account is opened after a crash', async () => {
  const { f, dir } = await closedAccount();
  try {
    await mkdir(`${dir}/msg/ee`, { recursive: true });
    await writeFile(`${dir}/msg/ee/ee00000000000000`, 'half delivered');
    const r = await verifyAccount(f.dataDir, 'mjl');
    assert.deepEqual(r.problems, []);
    assert.equal(r.orphans.length, 1);
    await writeFile(`${dir}/open`, 'crashed'); // as if the process died with the account open
    const a = await f.store.openAccount('mjl');
    assert.deepEqual(await readdir(`${dir}/msg/ee`), []);
    await a.close();
    assert.deepEqual((await verifyAccount(f.dataDir, 'mjl')).orphans, []);
  } finally {
    await f.done();
  }
});

test('closing the last user of an account verifies it and fails on corruption', async () => {
  const { f, sql } = await closedAccount();
  try {
    const a = await f.store.openAccount('mjl');
    sql("UPDATE mailboxes SET total = 9 WHERE name = 'Archive'"); // behind the open account's back
    await assert.rejects(a.close(), (e) => isStoreError(e, 'CORRUPT') && /mailbox Archive: counts/.test(e.message));
    sql("UPDATE mailboxes SET total = 1 WHERE name = 'Archive'");
  } finally {
    await f.done();
  }
});

test('the checker reports METADATA entries left behind by a deleted mailbox, and checks databases from before the table', async () => {
  const { f, sql } = await closedAccount();
  try {
    sql("INSERT INTO metadata (mailbox_id, name, value) VALUES (0, '/shared/comment', x'61'), (999, '/private/comment', x'62'), (999, '/shared/comment', x'63')");
    assert.deepEqual((await verifyAccount(f.dataDir, 'mjl')).problems, ['account mjl: 2 METADATA entries of mailbox id 999, which does not exist'], 'server entries (mailbox 0) are fine');
    sql('DROP TABLE metadata; PRAGMA user_version = 1');
    assert.deepEqual((await verifyAccount(f.dataDir, 'mjl')).problems, []);
  } finally {
    await f.done();
  }
});
