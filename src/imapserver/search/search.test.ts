// SEARCH through the protocol: keys on flags, sizes, dates, headers (RFC 2047 decoded) and
// bodies (transfer and charset decoded), sequence sets and "$", rev1 SEARCH and ESEARCH
// answers, SAVE, MODSEQ, CHARSET, the view's sequence numbers, INPROGRESS, and
// MULTISEARCH over several mailboxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imapFixture, type ImapFixture } from '../testfixture.ts';
import { progressInterval } from './index.ts';

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
    const q = async (crit: string) => {
      const r = await c.run(`SEARCH ${crit}`);
      assert.match(r.tagged, /^OK /, `${crit}: ${r.tagged}`);
      assert.equal(r.untagged.length, 1, r.all.join('\n'));
      return r.untagged[0];
    };
    assert.equal(await q('ALL'), '* SEARCH 1 2 3');
    assert.equal(await q('SEEN'), '* SEARCH 2');
    assert.equal(await q('UNSEEN FLAGGED'), '* SEARCH 3');
    assert.equal(await q('KEYWORD $work'), '* SEARCH 3');
    assert.equal(await q('UNKEYWORD $Work'), '* SEARCH 1 2');
    assert.equal(await q('LARGER 1000'), '* SEARCH 3');
    assert.equal(await q('SMALLER 1000 NOT SEEN'), '* SEARCH 1');
    assert.equal(await q('SINCE 1-Feb-2024'), '* SEARCH 2 3');
    assert.equal(await q('BEFORE 1-Feb-2024'), '* SEARCH 1');
    assert.equal(await q('ON 3-Jan-2024'), '* SEARCH 1'); // internal date 04:30 UTC on 3 Jan: days are UTC days
    assert.equal(await q('SENTON 2-Jan-2024'), '* SEARCH 1'); // the Date header's own day, not UTC's
    assert.equal(await q('SAVEDSINCE 1-Jan-2000 SAVEDATESUPPORTED'), '* SEARCH 1 2 3');
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
    assert.equal(await q('UID 2 BODY "über"'), '* SEARCH 2');
    assert.equal(await q('5'), '* SEARCH'); // beyond the mailbox: names nothing
    assert.equal(await q('RECENT'), '* SEARCH 1 2 3');
    assert.equal(await q('NEW'), '* SEARCH 1 3');
    assert.equal(await q('OLDER 1'), '* SEARCH 1 2 3');
    assert.equal(await q('YOUNGER 60'), '* SEARCH');
    let r = await c.run('UID SEARCH SUBJECT report');
    assert.deepEqual(r.untagged, ['* SEARCH 2']);
    r = await c.run('SEARCH CHARSET UTF-8 SUBJECT {7}\r\nGrüße');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
    r = await c.run('SEARCH CHARSET us-ascii FROM ALICE');
    assert.deepEqual(r.untagged, ['* SEARCH 1']);
  } finally {
    await f.done();
  }
});

test('SEARCH errors: BADCHARSET is NO (rev1 and IMAP4rev2), syntax errors are BAD with the reason', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('SEARCH CHARSET ISO-2022-JP ALL');
    assert.equal(r.tagged, 'NO [BADCHARSET (UTF-8 US-ASCII)] charset ISO-2022-JP not supported');
    r = await c.run('SEARCH FROB');
    assert.equal(r.tagged, 'BAD unknown search key FROB');
    r = await c.run('SEARCH OR SEEN');
    assert.match(r.tagged, /^BAD syntax error: expected a space at end of command$/);
    r = await c.run('SEARCH SINCE yesterday');
    assert.match(r.tagged, /^BAD SINCE needs a date as 1-Feb-2024/);
    r = await c.run('SEARCH RETURN (FIRST) ALL');
    assert.equal(r.tagged, 'BAD unknown RETURN option FIRST');
    const lines = await c.command(Buffer.concat([Buffer.from('x1 SEARCH SUBJECT {2}\r\n'), Buffer.from([0xff, 0xfe])]));
    assert.equal(lines[lines.length - 1], 'x1 BAD search string is not valid UTF-8');
    const d = await f.connect({ login: 'mjl' });
    await d.run('ENABLE IMAP4rev2');
    await d.run('SELECT INBOX');
    r = await d.run('SEARCH CHARSET KOI8-R ALL');
    assert.equal(r.tagged, 'NO [BADCHARSET (UTF-8 US-ASCII)] charset KOI8-R not supported'); // RFC 9051 §6.4.4: NO, not BAD
    r = await d.run('SEARCH CHARSET UTF-8 FROM alice');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) ALL 1$/);
  } finally {
    await f.done();
  }
});

test('ESEARCH: RETURN (MIN MAX COUNT ALL SAVE), FETCH "$" afterwards, a failed SEARCH with SAVE empties "$", IMAP4rev2 always answers ESEARCH', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('SEARCH RETURN (MIN MAX COUNT) NOT SEEN');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX 3 COUNT 2$/);
    r = await c.run('UID SEARCH RETURN () ALL');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) UID ALL 1:3$/);
    r = await c.run('SEARCH RETURN (MIN MAX ALL COUNT) SUBJECT nothing-matches');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) COUNT 0$/); // no MIN, MAX, ALL without matches
    r = await c.run('SEARCH RETURN (SAVE) OR SEEN FLAGGED');
    assert.deepEqual(r.untagged, []); // RFC 5182 §2.4: SAVE alone returns nothing
    assert.match(r.tagged, /^OK/);
    r = await c.run('FETCH $ (UID)');
    assert.deepEqual(r.untagged, ['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)']);
    r = await c.run('SEARCH $ FROM dave');
    assert.deepEqual(r.untagged, ['* SEARCH 3']);
    r = await c.run('SEARCH RETURN (SAVE MIN) ALL');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) MIN 1$/);
    r = await c.run('UID SEARCH UID $');
    assert.deepEqual(r.untagged, ['* SEARCH 1']); // with MIN only, only the minimum is saved
    r = await c.run('SEARCH RETURN (COUNT SAVE) SEEN');
    assert.match(r.untagged[0]!, /COUNT 1$/);
    r = await c.run('SEARCH FROB'); // a failure without SAVE leaves "$" alone
    assert.match(r.tagged, /^BAD/);
    r = await c.run('SEARCH $');
    assert.deepEqual(r.untagged, ['* SEARCH 2']);
    r = await c.run('SEARCH RETURN (SAVE) FROB'); // RFC 5182 §2.1: a failed SEARCH with SAVE empties it
    assert.match(r.tagged, /^BAD/);
    r = await c.run('SEARCH $');
    assert.deepEqual(r.untagged, ['* SEARCH']);
    r = await c.run('SEARCH RETURN (SAVE) CHARSET KOI8-R ALL');
    assert.match(r.tagged, /^NO \[BADCHARSET/);

    const d = await f.connect({ login: 'mjl' });
    await d.run('ENABLE IMAP4rev2');
    await d.run('SELECT INBOX');
    r = await d.run('SEARCH SEEN');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) ALL 2$/);
    r = await d.run('UID SEARCH OR SEEN FLAGGED');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\) UID ALL 2:3$/);
    r = await d.run('SEARCH SUBJECT nothing-matches');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\)$/);
    r = await d.run('SEARCH RECENT');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+"\)$/); // no \Recent in IMAP4rev2
  } finally {
    await f.done();
  }
});

test('MODSEQ: enables CONDSTORE, answers the highest MODSEQ of the matches (of MIN/MAX alone when only those are asked), none without matches', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('STORE 2 +FLAGS.SILENT (\\Answered)');
    r = await c.run('FETCH 1:3 (MODSEQ)'); // enables CONDSTORE (RFC 7162 §3.1)
    const modseqs = r.untagged.filter((l) => / FETCH /.test(l)).map((l) => Number(/MODSEQ \((\d+)\)/.exec(l)![1]));
    assert.equal(modseqs.length, 3, r.all.join('\n'));
    const top = Math.max(...modseqs);
    r = await c.run('SEARCH MODSEQ 1');
    assert.deepEqual(r.untagged, [`* SEARCH 1 2 3 (MODSEQ ${top})`]);
    r = await c.run(`SEARCH MODSEQ ${modseqs[1]}`);
    assert.deepEqual(r.untagged, [`* SEARCH 2 (MODSEQ ${modseqs[1]})`]);
    r = await c.run(`SEARCH MODSEQ ${top + 1}`);
    assert.deepEqual(r.untagged, ['* SEARCH']);
    r = await c.run('SEARCH RETURN (ALL) MODSEQ "/flags/\\\\Answered" all 1 ANSWERED');
    assert.match(r.untagged[0]!, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+"\\) ALL 2 MODSEQ ${modseqs[1]}$`));
    r = await c.run('SEARCH RETURN (MIN) MODSEQ 1');
    assert.match(r.untagged[0]!, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+"\\) MIN 1 MODSEQ ${modseqs[0]}$`)); // RFC 4731 §3.2

    const d = await f.connect({ login: 'mjl' });
    await d.run('SELECT INBOX');
    r = await d.run('SEARCH MODSEQ 1 SEEN');
    assert.match(r.untagged[0]!, /^\* OK \[HIGHESTMODSEQ \d+\]/); // RFC 7162 §3.1: the first CONDSTORE-enabling command tells it
    assert.equal(r.untagged[1], `* SEARCH 2 (MODSEQ ${modseqs[1]})`);
  } finally {
    await f.done();
  }
});

test('sequence numbers are the view\'s: a message added since the last EXISTS is not returned, one expunged by another session keeps its neighbours\' numbers', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    await f.deliver('INBOX', 'Subject: late\r\n\r\nlate tulips\r\n');
    let r = await c.run('SEARCH BODY tulips');
    assert.equal(r.untagged[0], '* SEARCH 1'); // UID 4 is not in the view yet
    assert.ok(r.untagged.includes('* 4 EXISTS'), r.all.join('\n')); // and is told after the answer
    r = await c.run('SEARCH BODY tulips');
    assert.deepEqual(r.untagged, ['* SEARCH 1 4']);
    const a = await f.account();
    await a.storeFlags('INBOX', [2], { mode: 'add', flags: ['\\Deleted'] });
    await a.expunge('INBOX', [2]);
    r = await c.run('SEARCH ALL');
    assert.equal(r.untagged[0], '* SEARCH 1 3 4'); // 2 is gone from the store but not yet told: numbers stay
    assert.ok(!r.untagged.some((l) => /EXPUNGE/.test(l)), r.all.join('\n')); // RFC 9051 §7.5.1: no EXPUNGE during SEARCH
    r = await c.run('NOOP');
    assert.ok(r.untagged.includes('* 2 EXPUNGE'), r.all.join('\n'));
    r = await c.run('SEARCH ALL');
    assert.deepEqual(r.untagged, ['* SEARCH 1 2 3']);
  } finally {
    await f.done();
  }
});

test('a search that reads content for long tells INPROGRESS (RFC 9585)', async () => {
  const f = await imapFixture();
  const saved = progressInterval.ms;
  try {
    await setup(f);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    progressInterval.ms = -1;
    const r = await c.run('SEARCH BODY tulips');
    assert.deepEqual(r.untagged.slice(0, 3).map((l) => l.replace(/"t\d+"/, '"T"')), ['* OK [INPROGRESS ("T" 1 3)] still searching', '* OK [INPROGRESS ("T" 2 3)] still searching', '* OK [INPROGRESS ("T" 3 3)] still searching']);
    assert.equal(r.untagged[3], '* SEARCH 1');
  } finally {
    progressInterval.ms = saved;
    await f.done();
  }
});

test('MULTISEARCH: ESEARCH IN (mailboxes / personal / subtree / selected), UIDs per mailbox with MAILBOX and UIDVALIDITY, only mailboxes with matches', async () => {
  const f = await imapFixture();
  try {
    await setup(f);
    const a = await f.account();
    if (!(await a.listMailboxes()).some((m) => m.name === 'Archive')) await a.createMailbox('Archive');
    await a.createMailbox('Archive/2023/Q1');
    await a.createMailbox('Archive/Grüße');
    await f.deliver('Archive', 'From: alice@example.com\r\nSubject: old news\r\n\r\nfrom the archive\r\n');
    await f.deliver('Archive/2023/Q1', 'From: alice@example.com\r\nSubject: older news\r\n\r\ndeeper\r\n');
    await f.deliver('Archive/Grüße', 'From: Alice <alice@example.com>\r\nSubject: greetings\r\n\r\nhello\r\n');
    const uidValidity = new Map((await a.listMailboxes()).map((m) => [m.name, m.uidValidity]));
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('ESEARCH IN (mailboxes (INBOX Archive)) RETURN (ALL COUNT) FROM alice');
    assert.deepEqual(r.untagged.map((l) => l.replace(/"t\d+"/, '"T"')), [
      `* ESEARCH (TAG "T" MAILBOX "Archive" UIDVALIDITY ${uidValidity.get('Archive')}) UID ALL 1 COUNT 1`,
      `* ESEARCH (TAG "T" MAILBOX "INBOX" UIDVALIDITY ${uidValidity.get('INBOX')}) UID ALL 1 COUNT 1`,
    ]);
    r = await c.run('ESEARCH IN (personal) SUBJECT report');
    assert.equal(r.untagged.length, 1, r.all.join('\n')); // mailboxes without matches answer nothing
    assert.match(r.untagged[0]!, /MAILBOX "INBOX" .*UID ALL 2$/);
    r = await c.run('ESEARCH IN (subtree Archive) RETURN (COUNT) FROM alice');
    assert.deepEqual(r.untagged.map((l) => /MAILBOX ("[^"]*") .* COUNT (\d+)$/.exec(l)!.slice(1).join(' ')), ['"Archive" 1', '"Archive/2023/Q1" 1', '"Archive/Gr&APwA3w-e" 1']); // rev1: modified UTF-7 names
    r = await c.run('ESEARCH IN (subtree-one Archive mailboxes "Archive/2023/Q1") RETURN (MIN) ALL');
    assert.equal(r.untagged.length, 3, r.all.join('\n')); // each mailbox once
    r = await c.run('ESEARCH IN (mailboxes NoSuchBox) ALL');
    assert.deepEqual(r.untagged, []);
    assert.match(r.tagged, /^OK/);
    r = await c.run('ESEARCH IN (personal) 1:3');
    assert.equal(r.tagged, 'BAD sequence numbers are not allowed here, use UID'); // RFC 7377 §2
    r = await c.run('ESEARCH FROM alice');
    assert.equal(r.tagged, 'BAD "selected" needs a selected mailbox');
    r = await c.run('ESEARCH IN (personal) RETURN (SAVE) ALL');
    assert.equal(r.tagged, 'BAD SAVE needs the selected mailbox as the only source');
    r = await c.run('ESEARCH IN (personal (depth 1)) ALL');
    assert.equal(r.tagged, 'BAD scope options are not supported');

    await c.run('SELECT INBOX');
    r = await c.run('ESEARCH IN (selected) RETURN (SAVE) FROM carol');
    assert.deepEqual(r.untagged, []);
    r = await c.run('FETCH $ (UID)');
    assert.deepEqual(r.untagged, ['* 2 FETCH (UID 2)']);
    r = await c.run('ESEARCH UID $');
    assert.match(r.untagged[0]!, /^\* ESEARCH \(TAG "t\d+" MAILBOX "INBOX" UIDVALIDITY \d+\) UID ALL 2$/);
    r = await c.run('ESEARCH IN (personal) UID $');
    assert.equal(r.tagged, 'BAD "$" refers to the selected mailbox only');

    const d = await f.connect({ login: 'mjl' });
    await d.run('ENABLE IMAP4rev2');
    r = await d.run('ESEARCH IN (subtree-one Archive) SUBJECT greetings');
    assert.match(Buffer.from(r.untagged[0]!, 'latin1').toString('utf8'), /^\* ESEARCH \(TAG "t\d+" MAILBOX "Archive\/Grüße" UIDVALIDITY \d+\) UID ALL 1$/); // UTF-8 names for IMAP4rev2 (the client reads latin1)
  } finally {
    await f.done();
  }
});
