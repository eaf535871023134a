// FETCH through the protocol: ENVELOPE, BODYSTRUCTURE and BODY from the stored index,
// sections (part numbers, HEADER, HEADER.FIELDS, TEXT, MIME, nested messages), partial
// fetches, BINARY with literal8, \Seen by BODY[] but not BODY.PEEK[], CONDSTORE
// CHANGEDSINCE, QRESYNC VANISHED, and a large body streamed byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imapFixture } from '../testfixture.ts';

const mixed = [
  'From: "Joe Q" <joe@example.com>',
  'To: a@example.org, undisclosed:;',
  'Subject: =?utf-8?q?h=C3=A9llo?=',
  'Date: Mon, 1 Jan 2024 10:00:00 +0000',
  'Message-ID: <x@y>',
  'Content-Type: multipart/mixed; boundary=b',
  '',
  '--b',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'hello there',
  '--b',
  'Content-Type: application/octet-stream; name="a.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="a.bin"',
  '',
  'AAECAw==',
  '--b',
  'Content-Type: message/rfc822',
  '',
  'From: inner@example.com',
  'Subject: inner',
  '',
  'inner body',
  '--b--',
  '',
].join('\r\n');

test('ENVELOPE, BODYSTRUCTURE, BODY and sections of a multipart message with an attachment and a nested message', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', mixed, { internalDate: new Date('2024-01-02T03:04:05Z') });
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)');
    assert.deepEqual(r.untagged, [
      `* 1 FETCH (UID 1 FLAGS (\\Recent) INTERNALDATE "02-Jan-2024 03:04:05 +0000" RFC822.SIZE ${mixed.length} ENVELOPE ("Mon, 1 Jan 2024 10:00:00 +0000" "=?utf-8?q?h=C3=A9llo?=" (("Joe Q" NIL "joe" "example.com")) (("Joe Q" NIL "joe" "example.com")) (("Joe Q" NIL "joe" "example.com")) ((NIL NIL "a" "example.org")(NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL)) NIL NIL NIL "<x@y>"))`,
    ]);
    r = await c.run('FETCH 1 BODYSTRUCTURE');
    assert.deepEqual(r.untagged, [
      '* 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 11 1 NIL NIL NIL NIL)("application" "octet-stream" ("name" "a.bin") NIL NIL "base64" 8 NIL ("attachment" ("filename" "a.bin")) NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 53 (NIL "inner" ((NIL NIL "inner" "example.com")) ((NIL NIL "inner" "example.com")) ((NIL NIL "inner" "example.com")) NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))',
    ]);
    r = await c.run('FETCH 1 BODY');
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(BODY \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 11 1\)\("application" .* "mixed"\)\)$/);
    r = await c.run('FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.1] BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[]<0.10> BODY.PEEK[4] BINARY.PEEK[2] BINARY.SIZE[2] PREVIEW)');
    assert.deepEqual(r.untagged, [
      '* 1 FETCH (BODY[1] {11}\r\nhello there BODY[2.MIME] {142}\r\nContent-Type: application/octet-stream; name="a.bin"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="a.bin"\r\n\r\n' +
        ' BODY[3.HEADER] {43}\r\nFrom: inner@example.com\r\nSubject: inner\r\n\r\n BODY[3.1] {10}\r\ninner body' +
        ' BODY[HEADER.FIELDS (Subject From)] {68}\r\nFrom: "Joe Q" <joe@example.com>\r\nSubject: =?utf-8?q?h=C3=A9llo?=\r\n\r\n' +
        ' BODY[]<0> {10}\r\nFrom: "Joe BODY[4] NIL BINARY[2] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[2] 4 PREVIEW "hello there")',
    ]);
    r = await c.run('FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (From To Subject Date Message-ID)] BODY.PEEK[TEXT]<2000.5>)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BODY[HEADER.FIELDS.NOT (From To Subject Date Message-ID)] {45}\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n BODY[TEXT]<2000> {0}\r\n)']);
    r = await c.run('FETCH 1 (BODY[1.2] BINARY[1.1])');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BODY[1.2] NIL BINARY[1.1] NIL FLAGS (\\Seen \\Recent))']);
    r = await c.run('FETCH 1 BODY[1.MIME');
    assert.equal(r.tagged, 'BAD syntax error: expected "]" at end of command');
    r = await c.run('FETCH 1 BODY[MIME]');
    assert.equal(r.tagged, 'BAD MIME needs a part number');
    r = await c.run('FETCH 2 FLAGS');
    assert.equal(r.tagged, 'BAD invalid sequence number: mailbox has 1 messages');
    r = await c.run('FETCH 1 FROB');
    assert.equal(r.tagged, 'BAD unknown fetch item FROB');
  } finally {
    await f.done();
  }
});

test('\\Seen: BODY[] and RFC822 set it (and FLAGS is told), BODY.PEEK and EXAMINE do not', async () => {
  const f = await imapFixture();
  try {
    for (let i = 0; i < 3; i++) await f.deliver('INBOX', `Subject: m${i}\r\n\r\nbody ${i}\r\n`);
    const c = await f.connect({ login: 'mjl' });
    await c.run('EXAMINE INBOX');
    let r = await c.run('FETCH 1 BODY[TEXT]');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BODY[TEXT] {8}\r\nbody 0\r\n)']);
    await c.run('SELECT INBOX');
    r = await c.run('FETCH 1 BODY.PEEK[TEXT]');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BODY[TEXT] {8}\r\nbody 0\r\n)']);
    r = await c.run('FETCH 1:2 (BODY[TEXT])');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BODY[TEXT] {8}\r\nbody 0\r\n FLAGS (\\Seen \\Recent))', '* 2 FETCH (BODY[TEXT] {8}\r\nbody 1\r\n FLAGS (\\Seen \\Recent))']);
    r = await c.run('UID FETCH 3 RFC822');
    assert.deepEqual(r.untagged, ['* 3 FETCH (UID 3 RFC822 {23}\r\nSubject: m2\r\n\r\nbody 2\r\n FLAGS (\\Seen \\Recent))']);
    r = await c.run('FETCH 1:* FLAGS');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Seen \\Recent))', '* 2 FETCH (FLAGS (\\Seen \\Recent))', '* 3 FETCH (FLAGS (\\Seen \\Recent))']);
    const d = await f.connect({ login: 'mjl' });
    await d.run('SELECT INBOX');
    r = await d.run('FETCH 1 RFC822.HEADER');
    assert.deepEqual(r.untagged, ['* 1 FETCH (RFC822.HEADER {15}\r\nSubject: m0\r\n\r\n)']);
  } finally {
    await f.done();
  }
});

test('CHANGEDSINCE and UID FETCH VANISHED (RFC 7162); MODSEQ on every FETCH once CONDSTORE is on', async () => {
  const f = await imapFixture();
  try {
    for (let i = 0; i < 5; i++) await f.deliver('INBOX', `Subject: m${i}\r\n\r\nx\r\n`);
    const c = await f.connect({ login: 'mjl' });
    await c.run('ENABLE QRESYNC');
    const sel = await c.run('SELECT INBOX');
    const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.all.join(' '))![1]);
    const acct = await f.account();
    await acct.storeFlags('INBOX', [2], { mode: 'add', flags: ['\\Flagged'] });
    await acct.storeFlags('INBOX', [4], { mode: 'add', flags: ['\\Deleted'] });
    await acct.expunge('INBOX', [4]);
    let r = await c.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms} VANISHED)`);
    assert.equal(r.untagged[0], '* VANISHED (EARLIER) 4', r.all.join('\n'));
    assert.ok(r.untagged.some((l) => /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$/.test(l)), r.all.join('\n'));
    assert.ok(!r.untagged.some((l) => /UID [135] /.test(l)), 'unchanged messages are not sent');
    r = await c.run(`FETCH 1:* (FLAGS) (VANISHED CHANGEDSINCE ${hms})`);
    assert.equal(r.tagged, 'BAD VANISHED needs UID FETCH and ENABLE QRESYNC');
    r = await c.run('FETCH 1 (UID) (VANISHED)');
    assert.equal(r.tagged, 'BAD VANISHED needs CHANGEDSINCE');
    r = await c.run('FETCH 1 FLAGS');
    assert.match(r.untagged.find((l) => l.startsWith('* 1 FETCH'))!, /^\* 1 FETCH \(FLAGS \(\\Recent\) MODSEQ \(\d+\)\)$/);
  } finally {
    await f.done();
  }
});

test('a 5 MiB message: BODY[] streams byte-exact, partial fetch from the middle, BINARY decodes base64', async () => {
  const f = await imapFixture();
  try {
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!?\r\n';
    const body = line.repeat(Math.ceil((5 * 1024 * 1024) / line.length));
    const raw = Buffer.from(`Subject: big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(body).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`);
    await f.deliver('INBOX', raw);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('FETCH 1 BODY.PEEK[]', 20_000);
    const literal = r.untagged[0]!;
    const start = literal.indexOf('}\r\n') + 3;
    const got = Buffer.from(literal.slice(start, start + raw.length), 'latin1');
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(raw).digest('hex'));
    assert.ok(literal.startsWith(`* 1 FETCH (BODY[] {${raw.length}}\r\n`));
    r = await c.run('FETCH 1 BODY.PEEK[]<1000000.20>');
    assert.deepEqual(r.untagged, [`* 1 FETCH (BODY[]<1000000> {20}\r\n${raw.subarray(1000000, 1000020).toString('latin1')})`]);
    r = await c.run('FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1]<65.10>)', 20_000);
    assert.deepEqual(r.untagged, [`* 1 FETCH (BINARY.SIZE[1] ${body.length} BINARY[1]<65> {10}\r\n${body.slice(65, 75)})`]);
  } finally {
    await f.done();
  }
});

test('FETCH MODSEQ enables CONDSTORE: HIGHESTMODSEQ once; then an implicit \\Seen is told with UID, FLAGS and MODSEQ and not echoed again', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', 'Subject: a\r\n\r\nbody a\r\n');
    await f.deliver('INBOX', 'Subject: b\r\n\r\nbody b\r\n');
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('FETCH 1 (FLAGS)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (FLAGS (\\Recent))'], 'no MODSEQ before CONDSTORE');
    r = await c.run('FETCH 1 (MODSEQ)');
    assert.match(r.untagged[0]!, /^\* OK \[HIGHESTMODSEQ \d+\] CONDSTORE enabled$/);
    assert.match(r.untagged[1]!, /^\* 1 FETCH \(MODSEQ \(\d+\)\)$/);
    assert.equal(r.untagged.length, 2);
    r = await c.run('FETCH 1 (MODSEQ)');
    assert.equal(r.untagged.length, 1, 'HIGHESTMODSEQ only when CONDSTORE is first enabled');
    r = await c.run('FETCH 2 BODY[TEXT]');
    assert.match(r.untagged[0]!, /^\* 2 FETCH \(UID 2 BODY\[TEXT\] \{8\}\r\nbody b\r\n FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$/); // RFC 7162 §3.1: UID and MODSEQ with an implicit \Seen
    r = await c.run('NOOP');
    assert.deepEqual(r.untagged, [], 'the session is not told its own \\Seen change again');
  } finally {
    await f.done();
  }
});

test('UIDONLY: UIDFETCH responses carry the UID; UID FETCH (UID) still answers UID', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', 'Subject: a\r\n\r\na\r\n');
    await f.deliver('INBOX', 'Subject: b\r\n\r\nb\r\n');
    const acct = await f.account();
    await acct.storeFlags('INBOX', [1], { mode: 'add', flags: ['\\Deleted'] });
    await acct.expunge('INBOX', [1]);
    const c = await f.connect({ login: 'mjl' });
    await c.run('ENABLE UIDONLY IMAP4rev2');
    await c.run('SELECT INBOX');
    let r = await c.run('UID FETCH 1:* (FLAGS RFC822.SIZE)');
    assert.deepEqual(r.untagged, ['* 2 UIDFETCH (FLAGS () RFC822.SIZE 17)']);
    r = await c.run('UID FETCH 2 (UID)');
    assert.deepEqual(r.untagged, ['* 2 UIDFETCH (UID 2)']);
    r = await c.run('FETCH 1 FLAGS');
    assert.equal(r.tagged, 'BAD [UIDREQUIRED] UIDONLY is enabled: use the UID form');
  } finally {
    await f.done();
  }
});

test('a message expunged by another session is skipped; FETCH does not tell the expunge (RFC 9051 §7.5.1), NOOP does', async () => {
  const f = await imapFixture();
  try {
    for (let i = 1; i <= 3; i++) await f.deliver('INBOX', `Subject: m${i}\r\n\r\nbody ${i}\r\n`);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    const d = await f.connect({ login: 'mjl' });
    await d.run('SELECT INBOX');
    await d.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
    await d.run('EXPUNGE');
    let r = await c.run('FETCH 1:3 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.deepEqual(r.untagged, [
      '* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {15}\r\nSubject: m1\r\n\r\n)',
      '* 3 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT)] {15}\r\nSubject: m3\r\n\r\n)',
      '* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))', // the other session's flag change, told after the command
    ]);
    assert.equal(r.tagged, 'OK FETCH completed');
    r = await c.run('NOOP');
    assert.deepEqual(r.untagged, ['* 2 EXPUNGE']);
  } finally {
    await f.done();
  }
});

test('BINARY: unknown transfer encoding is NO [UNKNOWN-CTE] without a half response; quoted-printable decoded; NUL in BODY[] is sent as 0x80', async () => {
  const f = await imapFixture();
  try {
    const m = ['Content-Type: multipart/mixed; boundary=z', '', '--z', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=C3=A9 =3D soft=', 'break', '--z', 'Content-Transfer-Encoding: x-uuencode', '', 'begin 644 x', '--z--', ''].join('\r\n');
    await f.deliver('INBOX', m);
    await f.deliver('INBOX', Buffer.from('Subject: nul\r\n\r\na\x00b\r\n', 'latin1'));
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    let r = await c.run('FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BINARY[1] {17}\r\ncaf\xc3\xa9 = softbreak BINARY.SIZE[1] 17)']);
    r = await c.run('FETCH 1 (FLAGS BINARY.PEEK[2])');
    assert.deepEqual(r.untagged, []);
    assert.equal(r.tagged, 'NO [UNKNOWN-CTE] cannot decode content-transfer-encoding x-uuencode');
    r = await c.run('FETCH 1 (BINARY.PEEK[3] BINARY.SIZE[3] BINARY.PEEK[1]<200.10>)');
    assert.deepEqual(r.untagged, ['* 1 FETCH (BINARY[3] NIL BINARY.SIZE[3] 0 BINARY[1]<200> {0}\r\n)']);
    r = await c.run('FETCH 2 (BODY.PEEK[TEXT] BINARY.PEEK[1])');
    assert.deepEqual(r.untagged, ['* 2 FETCH (BODY[TEXT] {5}\r\na\x80b\r\n BINARY[1] ~{5}\r\na\x00b\r\n)']); // RFC 9051 §9 CHAR8; RFC 3516 §4.3 literal8
  } finally {
    await f.done();
  }
});

test('a new keyword from another session: FLAGS is sent before the FETCH that shows it (RFC 9051 §7.3.5)', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', 'Subject: a\r\n\r\na\r\n');
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    await (await f.account()).storeFlags('INBOX', [1], { mode: 'add', keywords: ['$Label1'] });
    const r = await c.run('FETCH 1 FLAGS');
    assert.equal(r.untagged[0], '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Label1)');
    assert.match(r.untagged[1]!, /^\* OK \[PERMANENTFLAGS \(.* \$Label1 \\\*\)\]/);
    assert.equal(r.untagged[2], '* 1 FETCH (FLAGS ($Label1 \\Recent))');
  } finally {
    await f.done();
  }
});

test('UTF8=ACCEPT: 8-bit envelope strings and previews quoted; without it, literals', async () => {
  const f = await imapFixture();
  try {
    await f.deliver('INBOX', Buffer.from('From: Zoë <zoe@example.se>\r\nSubject: Möte\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHej på dig\r\n', 'utf8'));
    const c = await f.connect({ login: 'mjl' });
    let r = await c.run('EXAMINE INBOX');
    r = await c.run('FETCH 1 (ENVELOPE PREVIEW)');
    assert.deepEqual(r.untagged.map((l) => Buffer.from(l, 'latin1').toString('utf8')), ['* 1 FETCH (ENVELOPE (NIL {5}\r\nMöte (({4}\r\nZoë NIL "zoe" "example.se")) (({4}\r\nZoë NIL "zoe" "example.se")) (({4}\r\nZoë NIL "zoe" "example.se")) NIL NIL NIL NIL NIL) PREVIEW {11}\r\nHej på dig)']);
    const u = await f.connect({ login: 'mjl' });
    await u.run('ENABLE UTF8=ACCEPT');
    await u.run('EXAMINE INBOX');
    r = await u.run('FETCH 1 (ENVELOPE PREVIEW (LAZY))');
    assert.deepEqual(r.untagged.map((l) => Buffer.from(l, 'latin1').toString('utf8')), ['* 1 FETCH (ENVELOPE (NIL "Möte" (("Zoë" NIL "zoe" "example.se")) (("Zoë" NIL "zoe" "example.se")) (("Zoë" NIL "zoe" "example.se")) NIL NIL NIL NIL NIL) PREVIEW "Hej på dig")']);
  } finally {
    await f.done();
  }
});

test('UID FETCH VANISHED with "*" reports an expunged last message; SAVEDATE and INTERNALDATE as date-time', async () => {
  const f = await imapFixture();
  try {
    for (let i = 1; i <= 3; i++) await f.deliver('INBOX', `Subject: m${i}\r\n\r\nx\r\n`, { internalDate: new Date('2025-03-04T05:06:07Z') });
    const c = await f.connect({ login: 'mjl' });
    await c.run('ENABLE QRESYNC');
    const sel = await c.run('SELECT INBOX');
    const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.all.join(' '))![1]);
    const acct = await f.account();
    await acct.storeFlags('INBOX', [3], { mode: 'add', flags: ['\\Deleted'] });
    await acct.expunge('INBOX', [3]);
    let r = await c.run(`UID FETCH 2:* (UID) (CHANGEDSINCE ${hms} VANISHED)`);
    assert.deepEqual(r.untagged, ['* VANISHED (EARLIER) 3', '* VANISHED 3'], r.all.join('\n')); // then the expunge itself: UID FETCH may tell it (RFC 9051 §7.5.1)
    r = await c.run('UID FETCH 1 (INTERNALDATE SAVEDATE)');
    assert.match(r.untagged[0]!, /^\* 1 FETCH \(UID 1 INTERNALDATE "04-Mar-2025 05:06:07 \+0000" SAVEDATE "\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000" MODSEQ \(\d+\)\)$/);
  } finally {
    await f.done();
  }
});

test('many messages in one FETCH: every response complete and in order across batches and flushes', async () => {
  const f = await imapFixture();
  try {
    const acct = await f.account();
    const body = 'y'.repeat(2000);
    for (let i = 1; i <= 700; i++) await acct.append('INBOX', { data: Buffer.from(`Subject: n${i}\r\n\r\n${body}\r\n`) });
    const c = await f.connect({ login: 'mjl' });
    await c.run('EXAMINE INBOX');
    const r = await c.run('FETCH 1:* (UID BODY.PEEK[])', 30_000);
    assert.equal(r.untagged.length, 700);
    for (let i = 1; i <= 700; i++) {
      const head = `Subject: n${i}\r\n\r\n`;
      assert.equal(r.untagged[i - 1], `* ${i} FETCH (UID ${i} BODY[] {${head.length + body.length + 2}}\r\n${head}${body}\r\n)`);
    }
  } finally {
    await f.done();
  }
});

/** The message file of the given size under the fixture's data directory. */
async function messageFile(dir: string, size: number): Promise<string> {
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    if (e.isFile() && (await stat(path)).size === size && !/\.(db|sqlite|wal|shm)/.test(e.name)) return path;
  }
  throw new Error(`no file of ${size} octets`);
}

test('message data that ends inside a streamed literal closes the connection instead of desynchronising it', async () => {
  const f = await imapFixture();
  let file: string | undefined;
  let saved: Buffer | undefined;
  try {
    const raw = Buffer.from(`Subject: big\r\n\r\n${'z'.repeat(1_000_000)}\r\n`);
    await f.deliver('INBOX', raw);
    file = await messageFile(f.dir, raw.length);
    saved = await readFile(file);
    const c = await f.connect({ login: 'mjl' });
    await c.run('SELECT INBOX');
    await truncate(file, 500_000);
    c.write('t9 FETCH 1 BODY.PEEK[]\r\n');
    for (let i = 0; i < 100 && !c.closed; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(c.closed, 'the server closed the connection');
  } finally {
    if (file && saved) await writeFile(file, saved);
    await f.done();
  }
});
