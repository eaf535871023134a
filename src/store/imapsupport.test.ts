// Store operations the IMAP server relies on beyond the basics: messageMeta (rows without
// the MIME index, also for UID sets of many ranges), METADATA entries (RFC 5464) with their
// limits and life cycle, and REPLACE (RFC 8508) as one transaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, message, failsWith } from './testfixture.ts';
import type { ChangeEvent } from './types.ts';
import { metadataLimits } from './account.ts';
import { verifyAccount } from './verify.ts';

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
    await f.account.setMetadata(null, [{ name: '/private/Vendor/example/x', value: Buffer.from('server') }]);
    await f.account.setMetadata('INBOX', [{ name: '/shared/comment', value: Buffer.from('inbox comment') }, { name: '/private/comment', value: Buffer.from([0, 1, 2]) }]);
    assert.deepEqual(await f.account.getMetadata(null), [{ name: '/private/vendor/example/x', value: Buffer.from('server') }]);
    assert.deepEqual((await f.account.getMetadata('INBOX', ['/SHARED/Comment'])).map((e) => e.value.toString()), ['inbox comment']);
    assert.deepEqual((await f.account.getMetadata('INBOX')).map((e) => e.name), ['/private/comment', '/shared/comment']);
    assert.deepEqual(events.filter((e) => e.type === 'metadata').map((e) => [e.mailbox, e.names]), [[null, ['/private/vendor/example/x']], ['INBOX', ['/shared/comment', '/private/comment']]]);
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

test('METADATA entry names: RFC 5464 §3.2 rules give BADNAME, valid names of any case are one entry', async () => {
  const f = await fixture();
  try {
    const v = Buffer.from('x');
    for (const name of [
      '/other/x', // scope must be /private or /shared
      'private/x', // starts with "/"
      '/private', // at least 2 components
      '/shared/a//b', // no consecutive "/"
      '/shared/a/', // no trailing "/"
      '/shared/a*', '/shared/a%b', // no wildcards
      '/shared/caf\u00e9', // ASCII only
      '/shared/a\x01b', '/shared/a\x7fb', // no controls
      '/private/vendor/example', // vendor entries have at least 4 components
      `/shared/${'a'.repeat(metadataLimits.maxNameLength)}`,
    ]) await assert.rejects(f.account.setMetadata(null, [{ name, value: v }]), failsWith('BADNAME'), name);
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/shared/ok', value: v }, { name: '/shared/no*', value: v }]), failsWith('BADNAME'));
    assert.deepEqual(await f.account.getMetadata('INBOX'), [], 'one bad name sets nothing (RFC 5464 §4.3)');
    await f.account.setMetadata(null, [{ name: '/private/vendor/example/theme', value: Buffer.from('dark') }, { name: '/SHARED/Comment', value: Buffer.from('a') }]);
    await f.account.setMetadata(null, [{ name: '/shared/comment', value: Buffer.from('b') }]);
    assert.deepEqual((await f.account.getMetadata(null)).map((e) => [e.name, e.value.toString()]), [['/private/vendor/example/theme', 'dark'], ['/shared/comment', 'b']]);
    assert.deepEqual((await f.account.getMetadata(null, ['/Private/Vendor/Example/THEME', '/shared/absent'])).map((e) => e.name), ['/private/vendor/example/theme']);
    assert.deepEqual(await f.account.getMetadata('INBOX', ['/shared/comment']), [], 'server and mailbox entries are apart');
  } finally {
    await f.done();
  }
});

test('METADATA values: binary and empty values round-trip; NIL (null) removes; an absent mailbox is NONEXISTENT', async () => {
  const f = await fixture();
  try {
    const binary = Buffer.from([0, 0xff, 13, 10, 0x80]);
    const max = Buffer.alloc(metadataLimits.maxSize, 'v');
    await f.account.setMetadata('Sent', [{ name: '/private/bin', value: binary }, { name: '/private/empty', value: Buffer.alloc(0) }, { name: '/shared/max', value: max }]);
    assert.deepEqual(await f.account.getMetadata('Sent'), [{ name: '/private/bin', value: binary }, { name: '/private/empty', value: Buffer.alloc(0) }, { name: '/shared/max', value: max }]);
    await f.account.setMetadata('Sent', [{ name: '/private/empty', value: null }, { name: '/private/never-set', value: null }]);
    assert.deepEqual((await f.account.getMetadata('Sent')).map((e) => e.name), ['/private/bin', '/shared/max']);
    await assert.rejects(f.account.getMetadata('Nope'), failsWith('NONEXISTENT'));
    await assert.rejects(f.account.setMetadata('Nope', [{ name: '/private/x', value: binary }]), failsWith('NONEXISTENT'));
  } finally {
    await f.done();
  }
});

test('METADATA limits: a value over maxSize is MAXSIZE, entry maxEntries + 1 is TOOMANY, and neither changes anything', async () => {
  const f = await fixture();
  try {
    await f.account.setMetadata('INBOX', [{ name: '/shared/keep', value: Buffer.from('1') }]);
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/shared/keep', value: Buffer.from('2') }, { name: '/shared/big', value: Buffer.alloc(metadataLimits.maxSize + 1) }]), failsWith('MAXSIZE'));
    const fill = Array.from({ length: metadataLimits.maxEntries - 1 }, (_, i) => ({ name: `/private/e${i}`, value: Buffer.from('v') }));
    await f.account.setMetadata('INBOX', fill); // 1000 with /shared/keep: at the limit, allowed
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/shared/keep', value: Buffer.from('2') }, { name: '/shared/one-more', value: Buffer.from('v') }]), failsWith('TOOMANY'));
    const entries = await f.account.getMetadata('INBOX');
    assert.equal(entries.length, metadataLimits.maxEntries);
    assert.equal(entries.find((e) => e.name === '/shared/keep')?.value.toString(), '1', 'the rejected call changed no entry');
    await f.account.setMetadata('INBOX', [{ name: '/shared/keep', value: Buffer.from('3') }]); // replacing at the limit is fine
    await f.account.setMetadata('INBOX', [{ name: '/private/e0', value: null }, { name: '/shared/one-more', value: Buffer.from('v') }]); // so is removing one to add one
    await f.account.setMetadata(null, [{ name: '/shared/server', value: Buffer.from('v') }]); // the server's entries are counted apart
    await f.account.setMetadata('Sent', [{ name: '/shared/other', value: Buffer.from('v') }]); // and each mailbox's
  } finally {
    await f.done();
  }
});

test('METADATA follows its mailbox: RENAME moves entries with inferiors, renaming INBOX copies them, DELETE removes them', async () => {
  const f = await fixture();
  try {
    const v = (s: string) => Buffer.from(s);
    await f.account.createMailbox('Work/Clients');
    await f.account.setMetadata('Work', [{ name: '/private/color', value: v('red') }]);
    await f.account.setMetadata('Work/Clients', [{ name: '/private/color', value: v('blue') }]);
    await f.account.renameMailbox('Work', 'Job');
    assert.deepEqual((await f.account.getMetadata('Job')).map((e) => e.value.toString()), ['red']);
    assert.deepEqual((await f.account.getMetadata('Job/Clients')).map((e) => e.value.toString()), ['blue']);
    await f.account.createMailbox('Work');
    assert.deepEqual(await f.account.getMetadata('Work'), [], 'a new mailbox of the old name starts empty');
    await f.account.setMetadata('INBOX', [{ name: '/shared/comment', value: v('inbox') }]);
    await f.account.renameMailbox('INBOX', 'Old');
    assert.deepEqual((await f.account.getMetadata('Old')).map((e) => e.value.toString()), ['inbox'], 'RFC 5464 §4.1: copied to the renamed mailbox');
    assert.deepEqual((await f.account.getMetadata('INBOX')).map((e) => e.value.toString()), ['inbox'], 'and preserved on INBOX');
    await f.account.deleteMailbox('Job/Clients');
    await f.account.createMailbox('Job/Clients');
    assert.deepEqual(await f.account.getMetadata('Job/Clients'), []);
    // the consistency checker (run at close) finds no entries of a deleted mailbox
  } finally {
    await f.done();
  }
});

test('METADATA change events name the entries that changed, once committed; unchanged values publish nothing', async () => {
  const f = await fixture();
  try {
    const before = await f.account.mailboxStatus('INBOX');
    const events: ChangeEvent[] = [];
    f.account.changes.subscribe((e) => events.push(e));
    const metadata = () => events.filter((e) => e.type === 'metadata');
    await f.account.setMetadata(null, [{ name: '/shared/Comment', value: Buffer.from('a') }]);
    assert.deepEqual(metadata(), [{ type: 'metadata', mailbox: null, names: ['/shared/comment'] }], 'published by the time the call resolves');
    await f.account.setMetadata('inbox', [{ name: '/shared/comment', value: Buffer.from('a') }, { name: '/private/comment', value: Buffer.from('b') }]);
    await f.account.setMetadata('INBOX', [{ name: '/shared/comment', value: Buffer.from('a') }, { name: '/private/absent', value: null }]); // same value, absent entry: no change
    await f.account.setMetadata('INBOX', [{ name: '/shared/comment', value: Buffer.from('c') }, { name: '/private/comment', value: null }]);
    await assert.rejects(f.account.setMetadata('INBOX', [{ name: '/shared/comment', value: Buffer.alloc(metadataLimits.maxSize + 1) }]), failsWith('MAXSIZE'));
    assert.deepEqual(metadata().slice(1), [
      { type: 'metadata', mailbox: 'INBOX', names: ['/shared/comment', '/private/comment'] },
      { type: 'metadata', mailbox: 'INBOX', names: ['/shared/comment', '/private/comment'] },
    ]);
    assert.ok(events.every((e) => e.type === 'metadata'), 'no counts or MODSEQ change: metadata is not message state');
    assert.deepEqual(await f.account.mailboxStatus('INBOX'), before);
  } finally {
    await f.done();
  }
});

test('replace at a full quota succeeds for the net change; an absent source mailbox is NONEXISTENT and leaves no file', async () => {
  const old = message('draft 1', 'x'.repeat(100));
  const f = await fixture({ quota: old.length });
  try {
    const a = await f.account.append('Drafts', { data: old, flags: ['\\Draft'] });
    await assert.rejects(f.account.append('Drafts', { data: message('d2') }), failsWith('OVERQUOTA'));
    const events: ChangeEvent[] = [];
    f.account.changes.subscribe((e) => events.push(e));
    const r = await f.account.replace('Drafts', a.uid, 'Drafts', { data: message('draft 2'), flags: ['\\Draft'] }); // smaller than the one it replaces
    assert.deepEqual([r.uid, r.expunged, r.uidValidity], [a.uid + 1, true, (await f.account.mailboxStatus('Drafts')).uidValidity]);
    assert.deepEqual(events.filter((e) => e.type !== 'counts').map((e) => [e.type, e.mailbox, e.type === 'added' ? e.uid : e.type === 'expunged' ? e.uids : null]), [['added', 'Drafts', a.uid + 1], ['expunged', 'Drafts', [a.uid]]]);
    const counts = events.filter((e) => e.type === 'counts');
    assert.equal(counts.length, 1, 'one counts event for the one transaction');
    assert.ok(counts[0]!.type === 'counts' && counts[0]!.status.total === 1);
    assert.deepEqual(await f.account.vanishedSince('Drafts', 0), [a.uid]);
    assert.deepEqual(await f.account.quota(), { limit: old.length, used: message('draft 2').length });
    events.length = 0;
    await assert.rejects(f.account.replace('Nope', 1, 'Drafts', { data: message('d3') }), failsWith('NONEXISTENT'));
    await assert.rejects(f.account.replace('Drafts', r.uid, 'Nope', { data: message('d3') }), failsWith('NONEXISTENT'));
    await assert.rejects(f.account.replace('Drafts', r.uid, 'Drafts', { data: old, keywords: ['bad word'] }), failsWith('BADFLAG'));
    assert.deepEqual(events, [], 'failed replaces publish nothing');
    assert.deepEqual((await f.account.messageMeta('Drafts')).map((m) => m.uid), [r.uid]);
    assert.deepEqual((await verifyAccount(f.dataDir, 'mjl')).orphans, [], 'no message file left behind');
  } finally {
    await f.done();
  }
});

test('replace into another mailbox: the new message is appended there and the old one expunged from the source', async () => {
  const f = await fixture();
  try {
    const a = await f.account.append('INBOX', { data: message('was in INBOX'), flags: ['\\Seen'] });
    const r = await f.account.replace('INBOX', a.uid, 'Archive', { data: message('edited'), keywords: ['$Edited'], internalDate: new Date('2025-01-02T03:04:05Z') });
    assert.equal(r.expunged, true);
    assert.equal((await f.account.mailboxStatus('INBOX')).total, 0);
    const [m] = await f.account.messages('Archive');
    assert.deepEqual([m?.uid, m?.keywords, m?.flags, m?.internalDate.toISOString(), m?.messageId], [r.uid, ['$Edited'], [], '2025-01-02T03:04:05.000Z', r.messageId]);
  } finally {
    await f.done();
  }
});
