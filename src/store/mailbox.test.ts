import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, message, failsWith } from './testfixture.ts';

const names = async (f: { account: { listMailboxes(): Promise<{ name: string }[]> } }) => (await f.account.listMailboxes()).map((m) => m.name);

test('a new account has INBOX and the special-use mailboxes, subscribed', async () => {
  const f = await fixture();
  try {
    const list = await f.account.listMailboxes();
    assert.deepEqual(list.map((m) => [m.name, m.specialUse, m.subscribed]), [
      ['Archive', '\\Archive', true], ['Drafts', '\\Drafts', true], ['INBOX', null, true], ['Junk', '\\Junk', true], ['Sent', '\\Sent', true], ['Trash', '\\Trash', true],
    ]);
    assert.equal(new Set(list.map((m) => m.uidValidity)).size, list.length, 'UIDVALIDITY differs per mailbox');
    const s = await f.account.mailboxStatus('inbox');
    assert.deepEqual({ ...s, uidValidity: 0, highestModseq: 0 }, { uidValidity: 0, uidNext: 1, highestModseq: 0, total: 0, unseen: 0, deleted: 0, size: 0 });
  } finally {
    await f.done();
  }
});

test('createMailbox creates missing superior names and refuses existing names', async () => {
  const f = await fixture();
  try {
    const info = await f.account.createMailbox('Lists/ietf/imap', { specialUse: '\\Flagged' });
    assert.equal(info.specialUse, '\\Flagged');
    assert.ok((await names(f)).includes('Lists') && (await names(f)).includes('Lists/ietf'));
    await assert.rejects(f.account.createMailbox('Lists/ietf'), failsWith('ALREADYEXISTS'));
    await assert.rejects(f.account.createMailbox('Inbox'), failsWith('ALREADYEXISTS'));
    await assert.rejects(f.account.createMailbox('a//b'), failsWith('BADNAME'));
    await assert.rejects(f.account.createMailbox('a\x01'), failsWith('BADNAME'));
  } finally {
    await f.done();
  }
});

test('renameMailbox moves inferior mailboxes, their messages and subscriptions', async () => {
  const f = await fixture();
  try {
    await f.account.createMailbox('Work/Projects');
    await f.account.subscribe('Work/Projects');
    await f.account.append('Work/Projects', { data: message('p') });
    const before = await f.account.mailboxStatus('Work/Projects');
    await f.account.renameMailbox('Work', 'Job');
    const after = await names(f);
    assert.ok(after.includes('Job') && after.includes('Job/Projects') && !after.includes('Work') && !after.includes('Work/Projects'));
    assert.deepEqual(await f.account.mailboxStatus('Job/Projects'), before, 'same UIDVALIDITY, UIDs and counts');
    assert.ok((await f.account.listSubscriptions()).includes('Job/Projects'));
    await assert.rejects(f.account.renameMailbox('Work', 'X'), failsWith('NONEXISTENT'));
    await assert.rejects(f.account.renameMailbox('Job', 'Sent'), failsWith('ALREADYEXISTS'));
    await assert.rejects(f.account.renameMailbox('Job', 'Job/Sub'), failsWith('CANNOT'));
    await assert.rejects(f.account.renameMailbox('Sent', 'INBOX'), failsWith('CANNOT'));
  } finally {
    await f.done();
  }
});

test('renaming INBOX moves its messages to the new mailbox and leaves INBOX empty', async () => {
  const f = await fixture();
  try {
    await f.account.createMailbox('INBOX/child');
    const a = await f.account.append('INBOX', { data: message('one'), flags: ['\\Seen'] });
    await f.account.append('INBOX', { data: message('two') });
    const inboxBefore = await f.account.mailboxStatus('INBOX');
    await f.account.renameMailbox('INBOX', 'Old');
    const inbox = await f.account.mailboxStatus('INBOX');
    const old = await f.account.mailboxStatus('Old');
    assert.equal(inbox.total, 0);
    assert.equal(inbox.uidValidity, inboxBefore.uidValidity);
    assert.ok(inbox.highestModseq > inboxBefore.highestModseq);
    assert.deepEqual([old.total, old.unseen, old.size], [2, 1, inboxBefore.size]);
    assert.notEqual(old.uidValidity, inbox.uidValidity);
    assert.deepEqual(await f.account.vanishedSince('INBOX', inboxBefore.highestModseq), [1, 2], 'INBOX clients see them vanish (QRESYNC)');
    assert.equal((await f.account.messages('Old'))[0]?.messageId, a.messageId);
    assert.ok((await names(f)).includes('INBOX/child'), "INBOX's inferiors are not moved");
    const next = await f.account.append('INBOX', { data: message('three') });
    assert.equal(next.uid, 3, 'INBOX does not reuse UIDs');
  } finally {
    await f.done();
  }
});

test('deleteMailbox removes it and its messages; a re-created one gets a new UIDVALIDITY', async () => {
  const f = await fixture();
  try {
    await f.account.createMailbox('Tmp');
    await f.account.append('Tmp', { data: message('x') });
    const before = await f.account.mailboxStatus('Tmp');
    await f.account.deleteMailbox('Tmp');
    assert.ok(!(await names(f)).includes('Tmp'));
    assert.equal((await f.account.quota()).used, 0);
    await assert.rejects(f.account.mailboxStatus('Tmp'), failsWith('NONEXISTENT'));
    await f.account.createMailbox('Tmp');
    const again = await f.account.mailboxStatus('Tmp');
    assert.ok(again.uidValidity > before.uidValidity);
    assert.equal(again.uidNext, 1);
    await assert.rejects(f.account.deleteMailbox('inbox'), failsWith('CANNOT'));
    await assert.rejects(f.account.deleteMailbox('Nope'), failsWith('NONEXISTENT'));
  } finally {
    await f.done();
  }
});

test('subscriptions may name absent mailboxes and survive mailbox deletion', async () => {
  const f = await fixture();
  try {
    await f.account.subscribe('Elsewhere');
    await f.account.unsubscribe('Junk');
    await f.account.deleteMailbox('Archive');
    assert.deepEqual(await f.account.listSubscriptions(), ['Archive', 'Drafts', 'Elsewhere', 'INBOX', 'Sent', 'Trash']);
    await assert.rejects(f.account.unsubscribe('Junk'), failsWith('NONEXISTENT'));
  } finally {
    await f.done();
  }
});
