// SEARCH through the protocol: keys on flags, sizes, dates, headers (RFC 2047 decoded) and
// bodies (transfer and charset decoded), sequence sets and "$", rev1 SEARCH and ESEARCH
// answers, SAVE, MODSEQ, CHARSET, and MULTISEARCH over several mailboxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imapFixture, type ImapFixture } from '../testfixture.ts';

async function setup(f: ImapFixture): Promise<void> {
  await f.deliver('INBOX', 'From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Berlin\r\nDate: Tue, 2 Jan 2024 23:30:00 -0500\r\n\r\nplain body about tulips\r\n', { internalDate: new Date('2024-01-03T04:30:00Z') });
  await f.deliver('INBOX', 'From: carol@example.net\r\nSubject: report\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' + Buffer.from('Der Bericht über Äpfel\r\n').toString('base64') + '\r\n', { flags: ['\\Seen'], internalDate: new Date('2024-02-10T10:00:00Z') });
  await f.deliver('INBOX', 'From: dave@example.com\r\nSubject: latin\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsch=F6ne Gr=FC=DFe\r\n' + 'x'.repeat(2000) + '\r\n', { keywords: ['$Work'], flags: ['\\Flagged'], internalDate: new Date('2024-03-01T00:00:00Z') });
}

test('SEARCH keys: flags, keywords, size, dates, headers with encoded words, decoded bodies; rev1 SEARCH response', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    const q = async (crit: string) => (await c.run(`SEARCH ${crit}`)).untagged[0];
    assert.equal(await q('ALL'), '* SEARCH 1 2 3');
    assert.equal(await q('SEEN'), '* SEARCH 2');
    assert.equal(await q('UNSEEN FLAGGED'), '* SEARCH 3');
    assert.equal(await q('KEYWORD $work'), '* SEARCH 3');
    assert.equal(await q('UNKEYWORD $Work'), '* SEARCH 1 2');
    assert.equal(await q('LARGER 1000'), '* SEARCH 3');
    assert.equal(await q('SMALLER 1000 NOT SEEN'), '* SEARCH 1');
    assert.equal(await q('SINCE 1-Feb-2024'), '* SEARCH 2 3');
    assert.equal(await q('BEFORE 1-Feb-2024'), '* SEARCH 1');
    assert.equal(await q('ON 3-Jan-2024'), '* SEARCH 1');
    assert.equal(await q('SENTON 2-Jan-2024'), '* SEARCH 1'); // the Date header's own day, not UTC's
    assert.equal(await q('FROM alice'), '* SEARCH 1');
    assert.equal(await q('SUBJECT "grüße"'), '* SEARCH 1');
    assert.equal(await q('BODY "über äpfel"'), '* SEARCH 2'); // base64 UTF-8, decoded
    assert.equal(await q('BODY "schöne grüße"'), '* SEARCH 3'); // quoted-printable ISO-8859-1, decoded
    assert.equal(await q('BODY RGVy'), '* SEARCH'); // never the raw base64
    assert.equal(await q('TEXT berlin'), '* SEARCH 1');
    assert.equal(await q('HEADER To example.org'), '* SEARCH 1');
    assert.equal(await q('HEADER Content-Transfer-Encoding ""'), '* SEARCH 2 3');
    assert.equal(await q('OR FROM carol FROM dave'), '* SEARCH 2 3');
    assert.equal(await q('(OR SEEN FLAGGED) NOT FROM dave'), '* SEARCH 2');
    assert.equal(await q('2:*'), '* SEARCH 2 3');
    assert.equal(await q('UID 1,3'), '* SEARCH 1 3');
    assert.equal(await q('5'), '* SEARCH');
    assert.equal(await q('RECENT'), '* SEARCH 1 2 3');
    assert.equal(await q('OLDER 1'), '* SEARCH 1 2 3');
    assert.equal(await q('YOUNGER 60'), '* SEARCH');
    let r = await c.run('UID SEARCH SUBJECT report');
    assert.deepEqual(r.untagged, ['* SEARCH 2']);
    r = await c.run('SEARCH CHARSET ISO-2022-JP ALL');
    assert.equal(r.tagged, 'NO [BADCHARSET (UTF-8 US-ASCII)] charset ISO-2022-JP not supported');
    r = await c.run('SEARCH FROB');
    assert.equal(r.tagged, 'BAD unknown search key FROB');
    r = await c.run('SEARCH OR SEEN');
    assert.match(r.tagged, /^BAD syntax error/);
    r = await c.run('SEARCH CHARSET UTF-8 SUBJECT {7}\r\nGrüße');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
  } finally {
    await f.done();
  }
});

test('ESEARCH: RETURN (MIN MAX COUNT ALL SAVE), "$" afterwards, MODSEQ, and IMAP4rev2 always answering ESEARCH', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('SEARCH RETURN (MIN MAX COUNT) NOT SEEN');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX 3 COUNT 2$/);
    r = await c.run('UID SEARCH RETURN () ALL');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) UID ALL 1:3$/);
    r = await c.run('SEARCH RETURN (COUNT) SUBJECT nothing-matches');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) COUNT 0$/);
    r = await c.run('SEARCH RETURN (SAVE) OR SEEN FLAGGED');
    assert.deepEqual(r.untagged, []);
    r = await c.run('FETCH $ (UID)');
    assert.deepEqual(r.untagged, ['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)']);
    r = await c.run('SEARCH $ FROM dave');
    assert.deepEqual(r.untagged, ['* SEARCH 3']);
    r = await c.run('SEARCH RETURN (SAVE MIN) ALL');
    assert.match(r.untagged[0]!, /MIN 1$/);
    r = await c.run('UID SEARCH UID $');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
    await c.run('STORE 2 +FLAGS (\\Answered)');
    r = await c.run('SEARCH MODSEQ 1');
    assert.match(r.untagged[0]!, /^\* OK \[HIGHESTMODSEQ \d+\] CONDSTORE enabled$/); // RFC 7162 §3.1: the first CONDSTORE-enabling command
    assert.match(r.untagged[1]!, /^\* SEARCH 1 2 3 \(MODSEQ \d+\)$/);
    r = await c.run('SEARCH RETURN (ALL) MODSEQ "/flags/\\\\Answered" all 1 ANSWERED');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) ALL 2 MODSEQ \d+$/);
    const d = await f.connect({ login: 'mjl' });
    await d.run('ENABLE IMAP4rev2');
    await d.run('SELECT INBOX');
    r = await d.run('SEARCH SEEN');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) ALL 2$/);
  } finally {
    await f.done();
  }
});

test('MULTISEARCH: ESEARCH IN (mailboxes ...) over two mailboxes, results by UID per mailbox', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    await f.deliver('Archive', 'From: alice@example.com\r\nSubject: old news\r\n\r\nfrom the archive\r\n');
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('ESEARCH IN (mailboxes (INBOX Archive)) RETURN (ALL COUNT) FROM alice');
    assert.equal(r.untagged.length, 2, r.all.join('\n'));
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+" MAILBOX "Archive" UIDVALIDITY \d+\) UID ALL 1 COUNT 1$/);
    assert.match(r.untagged[1]!, /^\* ESEARCH \(TAG "t\d+" MAILBOX "INBOX" UIDVALIDITY \d+\) UID ALL 1 COUNT 1$/);
    r = await c.run('ESEARCH IN (personal) SUBJECT report');
    assert.equal(r.untagged.length, 1);
    assert.match(r.untagged[0]!, /MAILBOX "INBOX" .*UID ALL 2$/);
    r = await c.run('ESEARCH IN (personal) 1:3');
    assert.equal(r.tagged, 'BAD sequence numbers are not allowed here');
    r = await c.run('ESEARCH FROM alice');
    assert.equal(r.tagged, 'BAD ESEARCH without IN needs a selected mailbox');
  } finally {
    await f.done();
  }
});
