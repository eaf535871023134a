import { test } from 'node:test';
import { parseMessage } from '../mime/index.ts';
import assert from 'node:assert/strict';
import { readFile, access } from 'node:fs/promises';
import { fixture, message, readAll, failsWith } from './testfixture.ts';
import { verifyAccount } from './verify.ts';

test('deliver links the spool file in, leaves the spool for the caller and keeps the bytes exact', async () => {
  const f = await fixture();
  try {
    const bytes = Buffer.concat([message('bin'), Buffer.from([0, 0xff, 0x80, 13, 10])]);
    const spool = await f.spool(bytes);
    const internalDate = new Date('2024-02-03T04:05:06Z');
    const added = await f.account.deliver('INBOX', { spoolPath: spool, flags: ['\\Flagged'], keywords: ['$Forwarded'], internalDate });
    assert.equal(added.uid, 1);
    assert.equal(added.uidValidity, (await f.account.mailboxStatus('INBOX')).uidValidity);
    assert.deepEqual(await readFile(spool), bytes, 'spool not consumed');
    assert.deepEqual(await readAll(await f.account.openMessage(added.messageId)), bytes);
    assert.deepEqual(await readAll(await f.account.openMessage(added.messageId, { start: 2, end: 5 })), bytes.subarray(2, 6));
    const [row] = await f.account.messages('INBOX');
    assert.deepEqual([row?.uid, row?.modseq, row?.flags, row?.keywords, row?.size, row?.internalDate.getTime()], [1, added.modseq, ['\\Flagged'], ['$Forwarded'], bytes.length, internalDate.getTime()]);
    assert.deepEqual(row?.mimeIndex, parseMessage(bytes), 'the MIME index is stored with the row');
    await assert.rejects(f.account.deliver('Nope', { spoolPath: spool }), failsWith('NONEXISTENT'));
    await assert.rejects(f.account.deliver('INBOX', { spoolPath: `${f.dataDir}/missing` }), failsWith('NONEXISTENT'));
    await assert.rejects(f.account.openMessage('../../auth.db'), failsWith('NONEXISTENT'));
  } finally {
    await f.done();
  }
});

test('append from a buffer updates counts: total, unseen, deleted, size', async () => {
  const f = await fixture();
  try {
    const m1 = message('a');
    const m2 = message('b', 'longer body');
    await f.account.append('INBOX', { data: m1, flags: ['\\Seen'] });
    let s = await f.account.mailboxStatus('INBOX');
    assert.deepEqual([s.total, s.unseen, s.deleted, s.size, s.uidNext], [1, 0, 0, m1.length, 2]);
    await f.account.append('INBOX', { data: m2, flags: ['\\Deleted'] });
    s = await f.account.mailboxStatus('INBOX');
    assert.deepEqual([s.total, s.unseen, s.deleted, s.size, s.uidNext], [2, 1, 1, m1.length + m2.length, 3]);
    assert.deepEqual(await f.account.quota(), { limit: null, used: m1.length + m2.length });
    await assert.rejects(f.account.append('INBOX', { data: m1, flags: ['\\Recent'] }), failsWith('BADFLAG'));
    await assert.rejects(f.account.append('INBOX', { data: m1, keywords: ['bad word'] }), failsWith('BADFLAG'));
  } finally {
    await f.done();
  }
});

test('copy returns the COPYUID mapping and shares the message content', async () => {
  const f = await fixture();
  try {
    for (const s of ['a', 'b', 'c']) await f.account.append('INBOX', { data: message(s), flags: s === 'b' ? ['\\Seen'] : [] });
    await f.account.append('Archive', { data: message('existing') });
    const map = await f.account.copy('INBOX', [1, [3, 10]], 'Archive');
    assert.equal(map.uidValidity, (await f.account.mailboxStatus('Archive')).uidValidity);
    assert.deepEqual(map.pairs, [[1, 2], [3, 3]]);
    const src = await f.account.messages('INBOX', { uids: [1, 3] });
    const dst = await f.account.messages('Archive', { uids: [[2, 3]] });
    assert.deepEqual(dst.map((m) => m.messageId), src.map((m) => m.messageId));
    assert.ok(dst.every((m, i) => m.modseq > src[i]!.modseq));
    assert.equal((await f.account.mailboxStatus('Archive')).total, 3);
    assert.equal((await f.account.quota()).used, (await f.account.mailboxStatus('INBOX')).size + (await f.account.mailboxStatus('Archive')).size, 'copies count toward the quota');
    assert.deepEqual((await f.account.copy('INBOX', [99], 'Archive')).pairs, []);
  } finally {
    await f.done();
  }
});

test('move adds to the destination and expunges from the source in one change', async () => {
  const f = await fixture();
  try {
    for (const s of ['a', 'b']) await f.account.append('INBOX', { data: message(s) });
    const before = await f.account.mailboxStatus('INBOX');
    const used = (await f.account.quota()).used;
    const map = await f.account.move('INBOX', [1], 'Trash');
    assert.deepEqual(map.pairs, [[1, 1]]);
    assert.deepEqual((await f.account.messages('INBOX')).map((m) => m.uid), [2]);
    assert.equal((await f.account.mailboxStatus('Trash')).total, 1);
    assert.deepEqual(await f.account.vanishedSince('INBOX', before.highestModseq), [1]);
    assert.equal((await f.account.quota()).used, used);
    // RFC 6851 §3.3 allows a move within one mailbox (imaptest does it): the message gets a new UID.
    const again = await f.account.move('INBOX', [2], 'INBOX');
    assert.deepEqual(again.pairs, [[2, 3]]);
    assert.deepEqual((await f.account.messages('INBOX')).map((m) => m.uid), [3]);
  } finally {
    await f.done();
  }
});

test('storeFlags adds, removes and replaces flags and keywords, each change with a new MODSEQ', async () => {
  const f = await fixture();
  try {
    for (const s of ['a', 'b', 'c']) await f.account.append('INBOX', { data: message(s) });
    let r = await f.account.storeFlags('INBOX', [[1, 2]], { mode: 'add', flags: ['\\Seen'], keywords: ['$Label1'] });
    assert.deepEqual(r.updated.map((u) => [u.uid, u.flags, u.keywords]), [[1, ['\\Seen'], ['$Label1']], [2, ['\\Seen'], ['$Label1']]]);
    assert.ok(r.updated[1]!.modseq > r.updated[0]!.modseq);
    assert.equal((await f.account.mailboxStatus('INBOX')).unseen, 1);
    r = await f.account.storeFlags('INBOX', [1], { mode: 'add', keywords: ['$LABEL1', 'Work'] });
    assert.deepEqual(r.updated[0]?.keywords, ['$Label1', 'Work'], 'keywords compare case-insensitively, first spelling kept');
    r = await f.account.storeFlags('INBOX', [1], { mode: 'remove', flags: ['\\seen'], keywords: ['work'] });
    assert.deepEqual([r.updated[0]?.flags, r.updated[0]?.keywords], [[], ['$Label1']]);
    r = await f.account.storeFlags('INBOX', [[1, 3]], { mode: 'replace', flags: ['\\Deleted', '\\Answered'] });
    assert.deepEqual(r.updated.map((u) => u.flags), [['\\Answered', '\\Deleted'], ['\\Answered', '\\Deleted'], ['\\Answered', '\\Deleted']]);
    const s = await f.account.mailboxStatus('INBOX');
    assert.deepEqual([s.unseen, s.deleted], [3, 3]);
    assert.equal(s.highestModseq, Math.max(...r.updated.map((u) => u.modseq)));
  } finally {
    await f.done();
  }
});

test('storeFlags that changes nothing keeps the MODSEQ', async () => {
  const f = await fixture();
  try {
    const a = await f.account.append('INBOX', { data: message('a'), flags: ['\\Seen'] });
    const r = await f.account.storeFlags('INBOX', [1], { mode: 'add', flags: ['\\Seen'] });
    assert.deepEqual(r, { updated: [], failedUnchangedSince: [] });
    assert.equal((await f.account.messages('INBOX'))[0]?.modseq, a.modseq);
  } finally {
    await f.done();
  }
});

test('storeFlags with UNCHANGEDSINCE fails for messages changed since', async () => {
  const f = await fixture();
  try {
    const a = await f.account.append('INBOX', { data: message('a') });
    const b = await f.account.append('INBOX', { data: message('b') });
    await f.account.storeFlags('INBOX', [2], { mode: 'add', flags: ['\\Flagged'] }); // b changes after a client read a.modseq..b.modseq
    const r = await f.account.storeFlags('INBOX', [1, 2], { mode: 'add', flags: ['\\Seen'], unchangedSince: b.modseq });
    assert.deepEqual(r.updated.map((u) => u.uid), [1]);
    assert.deepEqual(r.failedUnchangedSince, [2]);
    const rows = await f.account.messages('INBOX');
    assert.deepEqual(rows.map((m) => m.flags), [['\\Seen'], ['\\Flagged']]);
    assert.ok(rows[0]!.modseq > a.modseq);
  } finally {
    await f.done();
  }
});

test('expunge removes \\Deleted messages (optionally only in a UID set), leaves tombstones and removes unshared files', async () => {
  const f = await fixture();
  try {
    const added = [];
    for (const s of ['a', 'b', 'c', 'd']) added.push(await f.account.append('INBOX', { data: message(s), flags: ['\\Deleted'] }));
    await f.account.storeFlags('INBOX', [4], { mode: 'remove', flags: ['\\Deleted'] });
    await f.account.copy('INBOX', [2], 'Archive');
    const m0 = (await f.account.mailboxStatus('INBOX')).highestModseq;
    assert.deepEqual(await f.account.expunge('INBOX', [[1, 2]]), [1, 2]);
    const m1 = (await f.account.mailboxStatus('INBOX')).highestModseq;
    assert.ok(m1 > m0, 'expunge raises HIGHESTMODSEQ');
    assert.deepEqual(await f.account.expunge('INBOX'), [3]);
    assert.deepEqual((await f.account.messages('INBOX')).map((m) => m.uid), [4]);
    assert.deepEqual(await f.account.vanishedSince('INBOX', 0), [1, 2, 3]);
    assert.deepEqual(await f.account.vanishedSince('INBOX', m1), [3]);
    assert.deepEqual(await f.account.vanishedSince('INBOX', 0, [[2, 3]]), [2, 3]);
    const s = await f.account.mailboxStatus('INBOX');
    assert.deepEqual([s.total, s.deleted, s.uidNext], [1, 0, 5]);
    await new Promise((r) => setTimeout(r, 50)); // files are removed after the commit
    const path = (id: string) => `${f.dataDir}/accounts/mjl/msg/${id.slice(0, 2)}/${id}`;
    await assert.rejects(access(path(added[0]!.messageId)), 'an unshared file is removed');
    await access(path(added[1]!.messageId)); // still referenced by the copy in Archive
    await assert.rejects(f.account.openMessage(added[0]!.messageId), failsWith('NONEXISTENT'));
  } finally {
    await f.done();
  }
});

test('messages selects by UID set and CHANGEDSINCE', async () => {
  const f = await fixture();
  try {
    for (const s of ['a', 'b', 'c', 'd', 'e']) await f.account.append('INBOX', { data: message(s) });
    const r = await f.account.storeFlags('INBOX', [2, 4], { mode: 'add', flags: ['\\Seen'] });
    assert.deepEqual((await f.account.messages('INBOX', { uids: [5, [1, 2], 2, [4, 3]] })).map((m) => m.uid), [1, 2, 3, 4, 5], 'ranges in any order and direction, overlapping');
    assert.deepEqual((await f.account.messages('INBOX', { uids: [[4, 0xffffffff]] })).map((m) => m.uid), [4, 5]);
    assert.deepEqual((await f.account.messages('INBOX', { changedSince: r.updated[0]!.modseq - 1 })).map((m) => m.uid), [2, 4]);
    assert.deepEqual((await f.account.messages('INBOX', { uids: [[3, 5]], changedSince: r.updated[0]!.modseq - 1 })).map((m) => m.uid), [4]);
  } finally {
    await f.done();
  }
});

test('deliveries, appends and copies over the quota fail with OVERQUOTA and change nothing', async () => {
  const m = message('q');
  const f = await fixture({ quota: m.length * 2 });
  try {
    await f.account.append('INBOX', { data: m });
    await f.account.deliver('INBOX', { spoolPath: await f.spool(m) });
    await assert.rejects(f.account.deliver('INBOX', { spoolPath: await f.spool(m) }), failsWith('OVERQUOTA'));
    await assert.rejects(f.account.append('INBOX', { data: m }), failsWith('OVERQUOTA'));
    await assert.rejects(f.account.copy('INBOX', [1], 'Archive'), failsWith('OVERQUOTA'));
    assert.deepEqual(await f.account.quota(), { limit: m.length * 2, used: m.length * 2 });
    assert.equal((await f.account.mailboxStatus('INBOX')).uidNext, 3, 'failed additions use no UID');
    assert.deepEqual((await verifyAccount(f.dataDir, 'mjl')).orphans, [], 'rejected messages leave no file behind');
    await f.account.move('INBOX', [1], 'Archive'); // a move does not add usage
    await f.account.setQuota(null);
    await f.account.append('INBOX', { data: m });
    assert.deepEqual(await f.account.quota(), { limit: null, used: m.length * 3 });
  } finally {
    await f.done();
  }
});
