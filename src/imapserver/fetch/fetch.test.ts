// FETCH through the protocol: ENVELOPE, BODYSTRUCTURE and BODY from the stored index,
// sections (part numbers, HEADER, HEADER.FIELDS, TEXT, MIME, nested messages), partial
// fetches, BINARY with literal8, \Seen by BODY[] but not BODY.PEEK[], CONDSTORE
// CHANGEDSINCE, QRESYNC VANISHED, and a large body streamed byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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
