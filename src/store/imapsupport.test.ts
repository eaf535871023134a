// Store operations the IMAP server relies on beyond the basics: messageMeta (rows without
// the MIME index, also for UID sets of many ranges), METADATA entries (RFC 5464) with their
// limits and life cycle, and REPLACE (RFC 8508) as one transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, message, failsWith } from './testfixture.ts';
import type { ChangeEvent } from './types.ts';
import { metadataLimits } from './account.ts';

test('messageMeta: the same rows as messages() without the MIME index, for ranges and scattered UIDs', async () => {
  const f = await fixture();
  try {
    for (let i = 1; i <= 120; i++) await f.account.append('INBOX', { data: message(`m${i}`), ...(i % 3 === 0 ? { flags: ['\\Seen'] } : {}) });
    const all = await f.account.messageMeta('INBOX');
    const full = await f.account.messages('INBOX');
    assert.equal(all.length, 120);
    assert.deepEqual(all, full.map(({ mimeIndex: _, ...rest }) => rest));
    assert.ok(!('mimeIndex' in all[0]!));
    const odd = Array.from({ length: 60 }, (_, i) => 2 * i + 1); // 60 single-UID ranges: one statement over json_each
    const got = await f.account.messageMeta('INBOX', { uids: odd });
    assert.deepEqual(got.map((r) => r.uid), odd);
    assert.deepEqual((await f.account.messages('INBOX', { uids: odd })).map((r) => r.uid), odd);
    const mixed = await f.account.messageMeta('INBOX', { uids: [[118, 0xffffffff], 7, [3, 1], 5, 6, [200, 300]] }); // RFC 9051 §9: any order, overlaps, n:* and UIDs beyond the last
    assert.deepEqual(mixed.map((r) => r.uid), [1, 2, 3, 5, 6, 7, 118, 119, 120]);
    assert.deepEqual((await f.account.messageMeta('INBOX', { uids: odd, changedSince: all[99]!.modseq })).map((r) => r.uid), [101, 103, 105, 107, 109, 111, 113, 115, 117, 119]);
    assert.deepEqual(await f.account.messageMeta('INBOX', { uids: [] }), []);
    const changed = await f.account.messageMeta('INBOX', { changedSince: all[99]!.modseq });
    assert.deepEqual(changed.map((r) => r.uid), Array.from({ length: 20 }, (_, i) => 101 + i));
    const flagged = await f.account.storeFlags('INBOX', odd, { mode: 'add', flags: ['\\Flagged'] }); // writes read their rows the same way
    assert.deepEqual(flagged.updated.map((u) => u.uid), odd);
    await f.account.storeFlags('INBOX', odd, { mode: 'add', flags: ['\\Deleted'] });
    assert.deepEqual(await f.account.expunge('INBOX', [[1, 9], 99, 11, 13]), [1, 3, 5, 7, 9, 11, 13, 99]);
    assert.deepEqual(await f.account.vanishedSince('INBOX', 0, [13, 2, [5, 9], 99]), [5, 7, 9, 13, 99]);
  } finally {
    await f.done();
  }
});

test('METADATA: set, get, delete, case-insensitive names, limits, rename and delete of the mailbox', async () => {
  const f = await fixture();
  try {
    const events: ChangeEvent[] = [];
    f.account.changes.subscribe((e) => events.push(e));
    await f.account.setMetadata(null, [{ name: '/private/Vendor/x', value: Buffer.from('server') }]);
    await f.account.setMetadata('INBOX', [{ name: '/shared/comment', value: Buffer.from('inbox comment') }, { name: '/private/comment', value: Buffer.from([0, 1, 2]) }]);
    assert.deepEqual(await f.account.getMetadata(null), [{ name: '/private/vendor/x', value: Buffer.from('server') }]);
    assert.deepEqual((await f.account.getMetadata('INBOX', ['/SHARED/Comment'])).map((e) => e.value.toString()), ['inbox comment']);
    assert.deepEqual((await f.account.getMetadata('INBOX')).map((e) => e.name), ['/private/comment', '/shared/comment']);
    assert.deepEqual(events.filter((e) => e.type === 'metadata').map((e) => [e.mailbox, e.names]), [[null, ['/private/vendor/x']], ['INBOX', ['/shared/comment', '/private/comment']]]);
    await f.account.setMetadata('INBOX', [{ name: '/private/comment', value: null }]);
    assert.deepEqual((await f.account.getMetadata('INBOX')).map((e) => e.name), ['/shared/comment']);
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/other/x', value: Buffer.from('x') }]), failsWith('BADNAME'));
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/private/a*', value: Buffer.from('x') }]), failsWith('BADNAME'));
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/private/big', value: Buffer.alloc(metadataLimits.maxSize + 1) }]), failsWith('MAXSIZE'));
    const many = Array.from({ length: metadataLimits.maxEntries }, (_, i) => ({ name: `/private/e${i}`, value: Buffer.from('v') }));
    await assert.rejects(f.account.setMetadata('INBOX', many), failsWith('TOOMANY'));
    assert.equal((await f.account.getMetadata('INBOX')).length, 1, 'the failed write left nothing');
    await assert.rejects(f.account.setMetadata('Nope', [{ name: '/private/x', value: Buffer.from('x') }]), failsWith('NONEXISTENT'));
    await f.account.createMailbox('Work');
    await f.account.setMetadata('Work', [{ name: '/private/color', value: Buffer.from('red') }]);
    await f.account.renameMailbox('Work', 'Job');
    assert.deepEqual((await f.account.getMetadata('Job')).map((e) => e.value.toString()), ['red']);
    await f.account.deleteMailbox('Job');
    await f.account.createMailbox('Job');
    assert.deepEqual(await f.account.getMetadata('Job'), []);
  } finally {
    await f.done();
  }
});

test('replace: append and expunge in one transaction; over quota nothing changes; a vanished UID still appends', async () => {
  const f = await fixture({ quota: 2000 });
  try {
    const a = await f.account.append('INBOX', { data: message('draft 1') });
    const events: ChangeEvent[] = [];
    f.account.changes.subscribe((e) => events.push(e));
    const r = await f.account.replace('INBOX', a.uid, 'Drafts', { data: message('draft 2'), flags: ['\\Draft'] });
    assert.equal(r.expunged, true);
    assert.deepEqual((await f.account.messageMeta('INBOX')).length, 0);
    assert.deepEqual((await f.account.messageMeta('Drafts')).map((m) => m.flags), [['\\Draft']]);
    assert.deepEqual(events.filter((e) => e.type === 'added' || e.type === 'expunged').map((e) => e.type), ['added', 'expunged']);
    const d = (await f.account.messageMeta('Drafts'))[0]!;
    await assert.rejects(f.account.replace('Drafts', d.uid, 'Drafts', { data: Buffer.alloc(3000, 'x') }), failsWith('OVERQUOTA'));
    assert.deepEqual((await f.account.messageMeta('Drafts')).map((m) => m.uid), [d.uid], 'nothing expunged on failure');
    const again = await f.account.replace('Drafts', 999, 'Drafts', { data: message('draft 3') });
    assert.equal(again.expunged, false);
    assert.equal((await f.account.messageMeta('Drafts')).length, 2);
  } finally {
    await f.done();
  }
});
