// Matching messages built with src/mime's parseMessage: RFC 2047 headers, addresses,
// base64 and quoted-printable bodies in UTF-8 and ISO-8859-1, HTML, nested messages,
// attachments, dates in and out of time zones, flags and sizes; and that content is read
// only as far as the criteria need.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../mime/index.ts';
import type { MessageMeta, Uid } from '../../store/index.ts';
import { Parser } from '../parser.ts';
import { contentNeeds, parseCriteria, setKeys } from './keys.ts';
import type { SearchContext } from './match.ts';
import { decide } from './scan.ts';
import { resolveSet } from '../uidranges.ts';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

interface Run {
  matched: boolean;
  reads: [number, number][]; // byte ranges read from the message
}

async function run(message: Buffer, criteria: string, row: Partial<MessageMeta> = {}, o: { recent?: Uid[]; now?: number } = {}): Promise<Run> {
  const key = parseCriteria(new Parser([Buffer.from(criteria, 'utf8')]), { sequences: true, text: (b) => b.toString('utf8') });
  const full: MessageMeta = { uid: 7, modseq: 40, flags: [], keywords: [], internalDate: new Date('2024-03-01T12:00:00Z'), saveDate: new Date('2024-03-02T12:00:00Z'), size: message.length, messageId: 'm', ...row };
  const ctx: SearchContext = {
    sets: new Map(setKeys(key).map((k) => [k, resolveSet(k.set, k.k === 'uid', [3, 7, 9], [9])])),
    recent: new Set(o.recent ?? []),
    now: o.now ?? Date.parse('2024-03-01T13:00:00Z'),
  };
  const reads: [number, number][] = [];
  const read = async (start: number, end: number): Promise<Buffer> => {
    reads.push([start, end]);
    return message.subarray(start, end);
  };
  return { matched: await decide(key, ctx, contentNeeds(key), full, parseMessage(message), read), reads };
}

async function matches(message: Buffer, criteria: string, row?: Partial<MessageMeta>, o?: { recent?: Uid[]; now?: number }): Promise<boolean> {
  return (await run(message, criteria, row, o)).matched;
}

const encodedHeaders = crlf(`From: =?utf-8?b?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.de>
To: "Smith, Bob" <bob@example.org>, (the team) team@example.net
Cc: undisclosed-recipients:;
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?K=F6ln?=
 und Umgebung
Date: Tue, 2 Jan 2024 23:30:00 -0500
X-Empty:
Message-ID: <abc@example.de>

Hallo.
`);

test('header keys match RFC 2047 decoded and raw text, case-insensitively; folded values unfolded', async () => {
  assert.equal(await matches(encodedHeaders, 'SUBJECT "grüße aus köln"'), true);
  assert.equal(await matches(encodedHeaders, 'SUBJECT "GRÜSSE"'), false);
  assert.equal(await matches(encodedHeaders, 'SUBJECT "GRÜßE AUS KÖLN UND UMGEBUNG"'), true);
  assert.equal(await matches(encodedHeaders, 'SUBJECT "=?utf-8?q?Gr"'), true); // the raw form matches too
  assert.equal(await matches(encodedHeaders, 'FROM "jürgen müller"'), true);
  assert.equal(await matches(encodedHeaders, 'FROM juergen@EXAMPLE.de'), true);
  assert.equal(await matches(encodedHeaders, 'FROM "Müller <juergen"'), true); // the parsed address, display name decoded
  assert.equal(await matches(encodedHeaders, 'TO "bob smith"'), false);
  assert.equal(await matches(encodedHeaders, 'TO "smith, bob"'), true);
  assert.equal(await matches(encodedHeaders, 'TO team@example.net'), true);
  assert.equal(await matches(encodedHeaders, 'CC undisclosed'), true);
  assert.equal(await matches(encodedHeaders, 'BCC ""'), false); // no Bcc field at all
  assert.equal(await matches(encodedHeaders, 'HEADER X-Empty ""'), true); // RFC 9051 §6.4.4: "" matches any message with the field
  assert.equal(await matches(encodedHeaders, 'HEADER message-id "<ABC@example.de>"'), true);
  assert.equal(await matches(encodedHeaders, 'HEADER Subject hallo'), false);
  assert.equal(await matches(encodedHeaders, 'TEXT "köln und"'), true); // TEXT: header, decoded
  assert.equal(await matches(encodedHeaders, 'TEXT hallo'), true); // TEXT: body
  assert.equal(await matches(encodedHeaders, 'BODY köln'), false); // BODY: not the header
});

test('SENT* compare the Date field\'s own day; internal and save dates compare by UTC day', async () => {
  assert.equal(await matches(encodedHeaders, 'SENTON 2-Jan-2024'), true); // 23:30 -0500 is 3 Jan in UTC, but the sender's day counts
  assert.equal(await matches(encodedHeaders, 'SENTBEFORE 2-Jan-2024'), false);
  assert.equal(await matches(encodedHeaders, 'SENTBEFORE 3-Jan-2024'), true);
  assert.equal(await matches(encodedHeaders, 'SENTSINCE 2-Jan-2024'), true);
  assert.equal(await matches(encodedHeaders, 'SENTSINCE 3-Jan-2024'), false);
  const noDate = crlf('Subject: x\n\nbody\n');
  assert.equal(await matches(noDate, 'SENTBEFORE 1-Jan-2100'), false); // no Date field: sent on no day
  assert.equal(await matches(noDate, 'NOT SENTBEFORE 1-Jan-2100'), true);
  assert.equal(await matches(crlf('Date: 5 Feb 99 10:00 GMT\n\n'), 'SENTON 5-Feb-1999'), true); // RFC 5322 §4.3 two-digit year
  assert.equal(await matches(crlf('Date: Mon, 05 Feb 2024 10:00:00 +1400\n\n'), 'SENTON 5-Feb-2024'), true);

  const internalDate = new Date('2024-03-01T23:59:59Z');
  assert.equal(await matches(noDate, 'ON 1-Mar-2024', { internalDate }), true);
  assert.equal(await matches(noDate, 'SINCE 1-Mar-2024', { internalDate }), true);
  assert.equal(await matches(noDate, 'SINCE 2-Mar-2024', { internalDate }), false);
  assert.equal(await matches(noDate, 'BEFORE 1-Mar-2024', { internalDate }), false);
  assert.equal(await matches(noDate, 'BEFORE 2-Mar-2024', { internalDate }), true);
  assert.equal(await matches(noDate, 'SAVEDON 2-Mar-2024'), true);
  assert.equal(await matches(noDate, 'SAVEDSINCE 3-Mar-2024'), false);
  assert.equal(await matches(noDate, 'SAVEDBEFORE 3-Mar-2024'), true);
  // RFC 5032: OLDER/YOUNGER in seconds against the internal date; "now" is 13:00, the message 12:00.
  assert.equal(await matches(noDate, 'OLDER 3600'), true);
  assert.equal(await matches(noDate, 'OLDER 3601'), false);
  assert.equal(await matches(noDate, 'YOUNGER 3600'), true);
  assert.equal(await matches(noDate, 'YOUNGER 3599'), false);
});

const base64Utf8 = crlf(`From: carol@example.net
Subject: report
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

${Buffer.from('Der Bericht über Äpfel und Birnen.\r\nZweite Zeile.\r\n').toString('base64').replace(/(.{40})/g, '$1\n')}
`);

const qpLatin1 = Buffer.concat([
  crlf('From: dave@example.com\nSubject: latin\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n'),
  Buffer.from('Sch=F6ne Gr=\r\n=FC=DFe aus M=FCnchen\r\n', 'latin1'),
]);

test('BODY searches transfer- and charset-decoded text: base64 UTF-8, quoted-printable ISO-8859-1 across a soft line break; never the encoded form', async () => {
  assert.equal(await matches(base64Utf8, 'BODY "über äpfel"'), true);
  assert.equal(await matches(base64Utf8, 'BODY "ÜBER ÄPFEL"'), true);
  assert.equal(await matches(base64Utf8, 'BODY "zweite zeile"'), true);
  assert.equal(await matches(base64Utf8, `BODY ${base64Utf8.toString('latin1').split('\r\n\r\n')[1]!.slice(0, 12)}`), false); // the raw base64
  assert.equal(await matches(base64Utf8, 'BODY report'), false); // the subject is not body
  assert.equal(await matches(qpLatin1, 'BODY "schöne grüße"'), true);
  assert.equal(await matches(qpLatin1, 'BODY "münchen"'), true);
  assert.equal(await matches(qpLatin1, 'BODY "=FC"'), false);
  assert.equal(await matches(qpLatin1, 'TEXT "latin"'), true);
  assert.equal(await matches(qpLatin1, 'NOT BODY "schöne"'), false);
});

const multipart = crlf(`From: erin@example.com
Subject: with parts
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble is not searched: preamblewords
--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

plain version
--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Caf&eacute; &amp; <b>Bar</b> at <a href=3D"https://example.org/menu">the menu</a> &#8364;5</p>
--alt--
--outer
Content-Type: application/octet-stream; name="data.bin"
Content-Disposition: attachment; filename="quarterly.bin"
Content-Transfer-Encoding: base64

${Buffer.from('secretbinaryword').toString('base64')}
--outer
Content-Type: message/rfc822

From: frank@example.com
Subject: =?utf-8?q?forwarded_n=C3=B6tes?=

the forwarded text
--outer--
`);

test('multipart: text parts and HTML (as written and as shown) are body; attachments and preambles are not; a nested message\'s header is body; MIME headers are text', async () => {
  assert.equal(await matches(multipart, 'BODY "plain version"'), true);
  assert.equal(await matches(multipart, 'BODY "& bar at the menu"'), true); // HTML as shown: tags gone, entities decoded
  assert.equal(await matches(multipart, 'BODY "€5"'), true);
  assert.equal(await matches(multipart, 'BODY "example.org/menu"'), true); // HTML as written: the link
  assert.equal(await matches(multipart, 'BODY "<b>bar</b>"'), true);
  assert.equal(await matches(multipart, 'BODY secretbinaryword'), false); // an attachment is not text
  assert.equal(await matches(multipart, 'BODY preamblewords'), false);
  assert.equal(await matches(multipart, 'BODY "forwarded nötes"'), true); // nested message header, RFC 2047 decoded
  assert.equal(await matches(multipart, 'BODY "forwarded text"'), true);
  assert.equal(await matches(multipart, 'BODY "with parts"'), false);
  assert.equal(await matches(multipart, 'BODY quarterly.bin'), false);
  assert.equal(await matches(multipart, 'TEXT quarterly.bin'), true); // RFC 9051 §6.4.4: TEXT includes MIME header fields
  assert.equal(await matches(multipart, 'TEXT "with parts"'), true);
  assert.equal(await matches(multipart, 'SUBJECT forwarded'), false); // header keys look at the message's own header
  assert.equal(await matches(multipart, 'OR BODY nothing-here TEXT "the menu"'), true);
  assert.equal(await matches(multipart, 'BODY "plain version" BODY nothing-here'), false);
});

test('flags, keywords, \\Recent, sizes, UID and sequence sets, "$", MODSEQ are decided from the row', async () => {
  const m = crlf('Subject: x\n\nbody\n');
  const row = { flags: ['\\Seen' as const, '\\Flagged' as const], keywords: ['$Work'] };
  assert.equal(await matches(m, 'SEEN FLAGGED UNANSWERED UNDELETED UNDRAFT', row), true);
  assert.equal(await matches(m, 'UNSEEN', row), false);
  assert.equal(await matches(m, 'KEYWORD $WORK', row), true);
  assert.equal(await matches(m, 'UNKEYWORD $work', row), false);
  assert.equal(await matches(m, 'KEYWORD $Other', row), false);
  assert.equal(await matches(m, 'RECENT', {}, { recent: [7] }), true);
  assert.equal(await matches(m, 'NEW', {}, { recent: [7] }), true);
  assert.equal(await matches(m, 'NEW', row, { recent: [7] }), false); // NEW is RECENT UNSEEN
  assert.equal(await matches(m, 'OLD', {}, { recent: [7] }), false);
  assert.equal(await matches(m, 'OLD'), true);
  assert.equal(await matches(m, 'LARGER 99 SMALLER 101', { size: 100 }), true);
  assert.equal(await matches(m, 'LARGER 99', { size: 100 }), true);
  assert.equal(await matches(m, 'SMALLER 100', { size: 100 }), false);
  // The message is UID 7, sequence number 2 of the UIDs [3, 7, 9]; "$" holds UID 9.
  assert.equal(await matches(m, 'UID 7'), true);
  assert.equal(await matches(m, 'UID 8:*'), false);
  assert.equal(await matches(m, 'UID 5:8'), true);
  assert.equal(await matches(m, '2'), true);
  assert.equal(await matches(m, '1,3:*'), false);
  assert.equal(await matches(m, '$'), false);
  assert.equal(await matches(m, 'NOT UID $'), true);
  assert.equal(await matches(m, 'MODSEQ 40'), true); // RFC 7162 §3.1.5: equal or greater
  assert.equal(await matches(m, 'MODSEQ 41'), false);
  assert.equal(await matches(m, 'SAVEDATESUPPORTED ALL'), true);
});

test('content is read only as far as needed: nothing for row keys, the header block for header keys, the text last', async () => {
  const headerEnd = multipart.indexOf('\r\n\r\n') + 4;
  let r = await run(multipart, 'SEEN BODY "plain version"');
  assert.deepEqual(r, { matched: false, reads: [] }); // unseen: decided by the row
  r = await run(multipart, 'SUBJECT "with parts" UNSEEN');
  assert.deepEqual(r, { matched: true, reads: [[0, headerEnd]] });
  r = await run(multipart, 'SUBJECT nope BODY "plain version"');
  assert.deepEqual(r, { matched: false, reads: [[0, headerEnd]] }); // the header decided: no body read
  r = await run(multipart, 'BODY "plain version"');
  assert.equal(r.matched, true);
  assert.equal(r.reads.length, 1); // the first text part had it: the rest is not read
  r = await run(multipart, 'TEXT erin');
  assert.deepEqual(r, { matched: true, reads: [[0, headerEnd]] });
});
