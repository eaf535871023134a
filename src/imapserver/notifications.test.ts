// Concurrent sessions and notifications (RFC 9051 §7.5.1, RFC 2177 IDLE, RFC 5465 NOTIFY,
// RFC 7162 CONDSTORE/QRESYNC): changes from another session reach this one only where the
// RFC allows, and promptly in IDLE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imapFixture } from './testfixture.ts';

const msg = (n: number) => `From: a@example.com\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n`;

test('EXPUNGE in session A: B in IDLE sees it at once; B does not see it during STORE, but after NOOP', async () => {
  const f = await imapFixture();
  try {
    for (let i = 1; i <= 3; i++) await f.deliver('INBOX', msg(i));
    const a = await f.connect({ login: 'mjl' });
    const b = await f.connect({ login: 'mjl' });
    await a.run('SELECT INBOX');
    await b.run('SELECT INBOX');
    // B idles; A expunges message 2.
    b.write('i1 IDLE\r\n');
    assert.equal(await b.line(), '+ idling');
    await a.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
    const e = await a.run('EXPUNGE');
    const t0 = Date.now(); // the expunge is committed: B must hear of it within 100 ms (issue 4)
    assert.deepEqual(e.untagged, ['* 2 EXPUNGE']);
    assert.equal(await b.line(), '* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))'.replace(' \\Recent', '')); // A's flag change first
    assert.equal(await b.line(), '* 2 EXPUNGE');
    assert.ok(Date.now() - t0 < 100, `IDLE notification took ${Date.now() - t0} ms`);
    b.write('DONE\r\n');
    assert.equal(await b.line(), 'i1 OK IDLE terminated');
    // Now A expunges message 1 while B runs STORE with sequence numbers: no EXPUNGE in STORE's answer (RFC 9051 §7.5.1).
    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.run('EXPUNGE');
    let r = await b.run('STORE 2 +FLAGS (\\Flagged)');
    assert.ok(!r.untagged.some((l) => / EXPUNGE$/.test(l)), r.all.join('\n'));
    assert.ok(r.untagged.includes('* 2 FETCH (FLAGS (\\Flagged))'), r.all.join('\n'));
    r = await b.run('NOOP');
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), r.all.join('\n'));
    // The same during FETCH: the expunged message keeps its sequence number until a command may tell it; its data is left out.
    await f.deliver('INBOX', msg(4));
    await b.run('NOOP');
    await a.run('NOOP');
    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.run('EXPUNGE');
    r = await b.run('FETCH 1:2 (UID)');
    assert.ok(!r.untagged.some((l) => / EXPUNGE$/.test(l)), r.all.join('\n'));
    assert.equal(r.untagged[0], '* 2 FETCH (UID 4)', 'the expunged message 1 has no data (its flag change by A may follow as an unsolicited FETCH)');
    r = await b.run('NOOP');
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), r.all.join('\n'));
    await f.deliver('INBOX', msg(5));
    await b.run('NOOP');
    await a.run('NOOP');
    // UID commands may carry the EXPUNGE (RFC 9051 §7.5.1): A expunges the first one, B's UID STORE tells it.
    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.run('EXPUNGE');
    r = await b.run('UID STORE 5 +FLAGS (\\Seen)');
    assert.ok(r.untagged.includes('* 1 EXPUNGE'), r.all.join('\n'));
  } finally {
    await f.done();
  }
});

test('new messages: EXISTS (and RECENT for rev1) in IDLE within 100 ms; \\Recent belongs to one session', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', msg(1));
    const a = await f.connect({ login: 'mjl' });
    const b = await f.connect({ login: 'mjl' });
    let r = await a.run('SELECT INBOX');
    assert.ok(r.untagged.includes('* 1 RECENT'));
    r = await b.run('SELECT INBOX');
    assert.ok(r.untagged.includes('* 0 RECENT'), 'the first session took \\Recent');
    a.write('i IDLE\r\n');
    await a.line();
    await f.deliver('INBOX', msg(2));
    const t0 = Date.now(); // committed (deliver resolves once the commit is durable)
    assert.equal(await a.line(), '* 2 EXISTS');
    assert.equal(await a.line(), '* 2 RECENT');
    assert.ok(Date.now() - t0 < 100, `took ${Date.now() - t0} ms`);
    a.write('DONE\r\n');
    await a.until('i');
    r = await b.run('NOOP');
    assert.deepEqual(r.untagged, ['* 2 EXISTS', '* 0 RECENT']);
    // IMAP4rev2 sessions see no \Recent (RFC 9051 §2.3.2).
    const c = await f.connect({ login: 'mjl' });
    await c.run('ENABLE IMAP4rev2');
    r = await c.run('SELECT INBOX');
    assert.ok(!r.untagged.some((l) => /RECENT|UNSEEN/.test(l)), r.all.join('\n'));
    assert.ok(r.untagged.includes('* LIST () "/" "INBOX"'));
  } finally {
    await f.done();
  }
});

test('flag changes by others come as FETCH with MODSEQ under CONDSTORE; own STORE is not echoed twice', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', msg(1));
    const a = await f.connect({ login: 'mjl' });
    const b = await f.connect({ login: 'mjl' });
    await a.run('ENABLE CONDSTORE');
    let r = await a.run('SELECT INBOX');
    const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(r.all.join(' '))![1]);
    await b.run('SELECT INBOX');
    r = await b.run('STORE 1 +FLAGS (\\Answered)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Answered))']);
    r = await a.run('NOOP');
    assert.equal(r.untagged.length, 1);
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(UID 1 FLAGS \(\\Answered \\Recent\) MODSEQ \((\d+)\)\)$/);
    assert.ok(Number(/MODSEQ \((\d+)\)/.exec(r.untagged[0]!)![1]) > hms);
    r = await a.run('STORE 1 +FLAGS ($Important)');
    assert.equal(r.untagged.filter((l) => l.includes('FETCH')).length, 1, r.all.join('\n'));
    assert.ok(r.untagged.some((l) => l.startsWith('* FLAGS (') && l.includes('$Important')), 'new keyword announced in FLAGS');
    // UNCHANGEDSINCE with an old MODSEQ fails with MODIFIED (RFC 7162 §3.1.3).
    r = await a.run(`STORE 1 (UNCHANGEDSINCE ${hms}) +FLAGS (\\Seen)`);
    assert.equal(r.tagged, 'OK [MODIFIED 1] some messages were modified since');
    r = await a.run('UID STORE 1 (UNCHANGEDSINCE 999999) +FLAGS.SILENT (\\Seen)');
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$/);
  } finally {
    await f.done();
  }
});

test('QRESYNC: SELECT with known UIDs gets VANISHED (EARLIER) and changed flags; expunges come as VANISHED', async () => {
  const f = await imapFixture();
  try {
    for (let i = 1; i <= 5; i++) await f.deliver('INBOX', msg(i));
    const a = await f.connect({ login: 'mjl' });
    await a.run('ENABLE QRESYNC');
    let r = await a.run('SELECT INBOX');
    const uidValidity = /UIDVALIDITY (\d+)/.exec(r.all.join(' '))![1];
    const hms = /HIGHESTMODSEQ (\d+)/.exec(r.all.join(' '))![1];
    await a.run('UNSELECT');
    const acct = await f.account();
    await acct.storeFlags('INBOX', [2, 4], { mode: 'add', flags: ['\\Deleted'] });
    await acct.expunge('INBOX');
    await acct.storeFlags('INBOX', [5], { mode: 'add', flags: ['\\Flagged'] });
    r = await a.run(`SELECT INBOX (QRESYNC (${uidValidity} ${hms} 1:5))`);
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 2,4'), r.all.join('\n'));
    assert.ok(r.untagged.some((l) => /^\* 3 FETCH \(UID 5 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/.test(l)), r.all.join('\n'));
    assert.ok(r.untagged.includes('* 3 EXISTS'));
    // Sequence-match data (RFC 7162 §3.2.5.2): pairs that still hold, and ranges far beyond the mailbox (answered without walking them).
    r = await a.run(`SELECT INBOX (QRESYNC (${uidValidity} ${hms} 1:5 (1:3 1,3,5)))`);
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 2,4'), r.all.join('\n'));
    r = await a.run(`SELECT INBOX (QRESYNC (${uidValidity} ${hms} 1:4000000000 (1:4000000000 1:4000000000)))`);
    assert.ok(r.untagged.includes('* VANISHED (EARLIER) 2,4'), r.all.join('\n'));
    assert.match(r.tagged, /^OK \[READ-WRITE\]/);
    // A wrong UIDVALIDITY: a plain SELECT, no VANISHED.
    r = await a.run(`SELECT INBOX (QRESYNC (1 ${hms}))`);
    assert.ok(!r.untagged.some((l) => l.includes('VANISHED')));
    assert.ok(r.untagged.includes('* OK [CLOSED] previous mailbox closed'));
    // Expunges are told as VANISHED once QRESYNC is on (RFC 7162 §3.2.10).
    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    r = await a.run('EXPUNGE');
    assert.deepEqual(r.untagged, ['* VANISHED 1']);
    // QRESYNC parameter without ENABLE is BAD.
    const b = await f.connect({ login: 'mjl' });
    r = await b.run(`SELECT INBOX (QRESYNC (${uidValidity} 1))`);
    assert.equal(r.tagged, 'BAD QRESYNC parameter without ENABLE QRESYNC');
  } finally {
    await f.done();
  }
});

test('NOTIFY: STATUS for new mail in other mailboxes, LIST for created ones, sent without a command', async () => {
  const f = await imapFixture();
  try {
    const a = await f.connect({ login: 'mjl' });
    await a.run('SELECT INBOX');
    let r = await a.run('NOTIFY SET STATUS (selected (MessageNew MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge MailboxName))');
    assert.ok(r.untagged.some((l) => l.startsWith('* STATUS "Archive" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY')), r.all.join('\n'));
    await f.deliver('Archive', msg(1));
    assert.match(await a.line(), /^\* STATUS "Archive" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 1\)$/);
    await (await f.account()).createMailbox('Projects');
    assert.equal(await a.line(), '* LIST () "/" "Projects"');
    await f.deliver('INBOX', msg(2));
    assert.equal(await a.line(), '* 1 EXISTS');
    assert.equal(await a.line(), '* 1 RECENT');
    r = await a.run('NOTIFY NONE');
    assert.equal(r.tagged, 'OK NOTIFY completed');
    r = await a.run('NOTIFY SET (personal (MessageNew))');
    assert.equal(r.tagged, 'OK NOTIFY completed');
    r = await a.run('NOTIFY SET (personal (Frob))');
    assert.equal(r.tagged, 'NO [BADEVENT] unsupported event FROB');
  } finally {
    await f.done();
  }
});
