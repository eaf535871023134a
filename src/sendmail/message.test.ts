// Reading and preparing the message without a server: the "." rule across chunks, line
// ends, header sections that end early or are missing, Bcc removal, -t addresses; and the
// client certificate file forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { makeSelfSigned } from '../tls/index.ts';
import { decodeQuotedPrintable } from '../mime/index.ts';
import { readMessage, toCrlf } from './input.ts';
import { addressesOf, prepareMessage } from './message.ts';
import { encodeQuotedPrintable } from './quotedprintable.ts';
import { loadClientCertificate } from './clientcert.ts';
import { SendmailError } from './sysexits.ts';

const chunks = (...parts: string[]) => parts.map((p) => Buffer.from(p));
const read = async (dotEnds: boolean, ...parts: string[]) => (await readMessage(chunks(...parts), { dotEnds })).toString();

test('a line "." ends the input, also split over chunks and with CRLF; not with dotEnds off', async () => {
  assert.equal(await read(true, 'a\n.\nb\n'), 'a\n');
  assert.equal(await read(true, 'a\n', '.', '\nb\n'), 'a\n');
  assert.equal(await read(true, 'a\r\n.', '\r', '\nb'), 'a\r\n');
  assert.equal(await read(true, '.\nall gone'), '');
  assert.equal(await read(true, 'a\n.'), 'a\n', 'an unterminated "." at the end');
  assert.equal(await read(true, 'a\n..\n.b\nb.\n'), 'a\n..\n.b\nb.\n', 'other lines with dots stay');
  assert.equal(await read(false, 'a\n.\nb\n'), 'a\n.\nb\n');
});

test('line ends become CRLF; existing CRLFs and all other bytes stay', () => {
  assert.equal(toCrlf(Buffer.from('a\nb\r\nc')).toString(), 'a\r\nb\r\nc\r\n');
  assert.equal(toCrlf(Buffer.from('a\r\n')).toString(), 'a\r\n');
  assert.equal(toCrlf(Buffer.from('a\r')).toString(), 'a\r\n');
  assert.equal(toCrlf(Buffer.alloc(0)).length, 0);
  assert.deepEqual([...toCrlf(Buffer.from([0xff, 0x0a, 0x00]))], [0xff, 0x0d, 0x0a, 0x00, 0x0d, 0x0a]);
  assert.equal(toCrlf(Buffer.from('a\rb\r\r\nc\n\rd')).toString(), 'a\r\nb\r\n\r\nc\r\n\r\nd\r\n', 'a bare CR is a line end too (RFC 5321 §2.3.8), as the DATA writer sends it');
});

test('more input than the limit is an error with exit code 65, also when a "." line follows', async () => {
  assert.equal((await readMessage(chunks('12345', '6789\n'), { dotEnds: false, maxBytes: 10 })).length, 10);
  for (const dotEnds of [false, true]) {
    await assert.rejects(readMessage(chunks('12345', '67890\n', '.\n'), { dotEnds, maxBytes: 10 }), (e) => e instanceof SendmailError && e.exitCode === 65 && /larger than 10 bytes/.test(e.message));
  }
  assert.equal((await readMessage(chunks('1234\n.\n', 'x'.repeat(100)), { dotEnds: true, maxBytes: 10 })).toString(), '1234\n', 'what follows the "." line is not counted');
});

const now = new Date('2026-03-01T10:00:00Z');
const prepare = (s: string, extract = true) => prepareMessage(Buffer.from(s), { from: 'me@example.com', extractRecipients: extract, now });

test('Bcc fields (folded too) are removed and their addresses taken with -t; groups give their members', () => {
  const p = prepare('To: a@x.example, "B b" <b@y.example>\r\nBcc: c@z.example,\r\n d@z.example\r\nCc: list: e@x.example;, undisclosed:;\r\nSubject: s\r\nDate: x\r\nMessage-ID: <1@x>\r\nFrom: me@example.com\r\n\r\nBcc: in the body\r\n');
  assert.deepEqual(p.headerRecipients, ['a@x.example', 'b@y.example', 'c@z.example', 'd@z.example', 'e@x.example']);
  assert.equal(p.message.toString(), 'To: a@x.example, "B b" <b@y.example>\r\nCc: list: e@x.example;, undisclosed:;\r\nSubject: s\r\nDate: x\r\nMessage-ID: <1@x>\r\nFrom: me@example.com\r\n\r\nBcc: in the body\r\n');
  assert.deepEqual(prepare('Bcc: c@z.example\r\n\r\nx\r\n', false).headerRecipients, [], 'without -t no header addresses, Bcc still removed');
});

test('a message without a header section gets From, Date and Message-ID and an empty line before its text', () => {
  const p = prepare('just text, no headers\r\nSubject: not a header here\r\n');
  assert.match(p.message.toString(), /^From: me@example\.com\r\nDate: Sun, 1 Mar 2026 10:00:00 \+0000\r\nMessage-ID: <[\w-]{22}@example\.com>\r\n\r\njust text, no headers\r\nSubject: not a header here\r\n$/);
  const h = prepare('Subject: only a header\r\n').message.toString();
  assert.match(h, /^Subject: only a header\r\nFrom: [^\r]+\r\nDate: [^\r]+\r\nMessage-ID: [^\r]+\r\n\r\n$/);
  const named = prepareMessage(Buffer.from('Subject: s\r\n\r\n'), { from: 'me@example.com', fromName: 'Jörg Ä. "J"', extractRecipients: false, now });
  assert.match(named.message.toString(), /\r\nFrom: =\?utf-8\?b\?[A-Za-z0-9+/=]+\?=\r\n =\?utf-8\?b\?[A-Za-z0-9+/=]+\?= <me@example\.com>\r\n/, 'encoded words folded, one a line');
  assert.ok(named.message.toString().split('\r\n').every((l) => l.length <= 76), 'RFC 2047 §2: lines with encoded words at most 76 characters');
  assert.equal(named.headerSize, named.message.length, 'headerSize: the header section with its empty line');
});

test('a body line over 998 octets in a message without MIME fields: the body goes quoted-printable, decoding to the same bytes', () => {
  const body = Buffer.concat([Buffer.from('short\r\n'), Buffer.from('x= '.repeat(500)), Buffer.from('caf\u00e9 \r\n\ttab at end\t\r\n.\r\n')]);
  const p = prepareMessage(Buffer.concat([Buffer.from('Subject: cron\r\nFrom: me@example.com\r\n\r\n'), body]), { from: 'me@example.com', extractRecipients: false, now });
  assert.equal(p.quotedPrintable, true);
  const header = p.message.subarray(0, p.headerSize).toString('latin1');
  assert.match(header, /^Subject: cron\r\nFrom: me@example\.com\r\nDate: [^\r]+\r\nMessage-ID: [^\r]+\r\nMIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n$/);
  const encoded = p.message.subarray(p.headerSize);
  assert.ok(encoded.toString('latin1').split('\r\n').every((l) => l.length <= 76 && !/[ \t]$/.test(l)), 'RFC 2045 §6.7 (3), (5)');
  assert.ok(decodeQuotedPrintable(encoded).equals(body), 'same bytes after decoding');
  assert.equal(prepare('Subject: s\r\n\r\n' + 'y'.repeat(998) + '\r\n').quotedPrintable, false, '998 octets is allowed');
  assert.match(prepare('Subject: s\r\n\r\n' + 'y'.repeat(999) + '\r\n').message.toString('latin1'), /charset=us-ascii/);
  assert.match(prepareMessage(Buffer.concat([Buffer.from('Subject: s\r\n\r\n'), Buffer.alloc(999, 0xe9)]), { from: 'me@example.com', extractRecipients: false, now }).message.toString('latin1'), /charset=unknown-8bit/, 'RFC 1428: 8-bit, not UTF-8');
});

test('a long body line in a text part with an identity encoding (Debian cron: 8bit): its Content-Transfer-Encoding becomes quoted-printable, other fields stay', () => {
  const body = Buffer.from(`${'ü'.repeat(600)}\r\n`);
  const raw = Buffer.concat([Buffer.from('Subject: cron\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), body]);
  const p = prepareMessage(raw, { from: 'me@example.com', extractRecipients: false, now });
  assert.match(p.message.subarray(0, p.headerSize).toString('latin1'), /^Subject: cron\r\nMIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=UTF-8\r\nFrom: [^\r]+\r\nDate: [^\r]+\r\nMessage-ID: [^\r]+\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n$/);
  assert.ok(decodeQuotedPrintable(p.message.subarray(p.headerSize)).equals(body));
});

test('a line over 998 octets in a header, or in a multipart or already encoded message, is refused with exit code 65', () => {
  const refused = (s: string, re: RegExp) => assert.throws(() => prepare(s), (e) => e instanceof SendmailError && e.exitCode === 65 && re.test(e.message), s.slice(0, 40));
  refused(`Subject: ${'s'.repeat(990)}\r\n\r\nx\r\n`, /header line 1 is 999 octets/);
  refused(`Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nok\r\n${'y'.repeat(1500)}\r\n--b--\r\n`, /body line 4 is 1500 octets.*encode that MIME part/);
  refused(`Subject: s\r\nContent-Transfer-Encoding: base64\r\n\r\n${'Q'.repeat(1000)}\r\n`, /body line 1 is 1000 octets/);
  assert.throws(() => prepareMessage(Buffer.from('Subject: s\r\n\r\n'), { from: 'me@example.com', fromName: 'n'.repeat(1000), extractRecipients: false, now }), /header line/);
});

test('-t: an address SMTP cannot carry (a control character, a bad domain) refuses the message, exit code 65', () => {
  assert.deepEqual(prepare('To: "a\rRCPT TO:<victim@x.example>"@y.example\r\n\r\nx\r\n').headerRecipients, ['"a RCPT TO:<victim@x.example>"@y.example'], 'a CR in a field is whitespace to the header parser, then quoted: one recipient, no command');
  for (const to of ['"a\u0000b"@y.example', 'a\u0001b@y.example', 'a@exa_mple.com', 'a@[300.1.1.1]']) {
    assert.throws(() => prepare(`To: ${to}\r\nSubject: s\r\n\r\nx\r\n`), (e) => e instanceof SendmailError && e.exitCode === 65 && /^To field: /.test(e.message), to);
  }
});

test('quoted-printable: literal where allowed, "=", 8-bit and line-final whitespace encoded, soft breaks within 76', () => {
  assert.equal(encodeQuotedPrintable(Buffer.from('a=b \r\nc\t\r\n')).toString(), 'a=3Db=20\r\nc=09\r\n');
  assert.equal(encodeQuotedPrintable(Buffer.from([0xc3, 0xa9, 0x00])).toString(), '=C3=A9=00');
  assert.equal(encodeQuotedPrintable(Buffer.from('z'.repeat(76))).toString(), 'z'.repeat(76), 'a line of 76 needs no soft break');
  assert.equal(encodeQuotedPrintable(Buffer.from('z'.repeat(77))).toString(), `${'z'.repeat(75)}=\r\nzz`);
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.from(Array.from({ length: 50 + i * 13 }, (_, k) => [0x20, 0x09, 0x3d, 0x41, 0xff, 0x0d, 0x0a][(k * 7 + i) % 7]!));
    const crlf = toCrlf(bytes);
    const encoded = encodeQuotedPrintable(crlf);
    assert.ok(decodeQuotedPrintable(encoded).equals(crlf), `round trip ${i}`);
    assert.ok(encoded.toString('latin1').split('\r\n').every((l) => l.length <= 76 && !/[ \t]$/.test(l)), `line limits ${i}`);
  }
});

test('addresses: display names, comments and quoted local parts, bare local parts', () => {
  assert.deepEqual(addressesOf('"x y"@example.com, Name <a.b@example.com> (c), root'), ['"x y"@example.com', 'a.b@example.com', 'root']);
  assert.deepEqual(addressesOf('jörg@exämple.com'), ['jörg@exämple.com']);
  assert.deepEqual(addressesOf('Mjl@Exämple.COM, <"a..b"@example.com>'), ['Mjl@xn--exmple-cua.com', '"a..b"@example.com'], 'domain as A-label when the local part is ASCII (no SMTPUTF8 needed); local part kept as written');
  assert.throws(() => addressesOf('"a\r\nRSET"@example.com'), /bad character in quoted string/);
  assert.throws(() => addressesOf('a@-exa-.com'), /bad domain/);
  assert.throws(() => addressesOf('"a\r\nRSET@b"'), /not an address/, 'a quoted local part with "@" and no domain');
  assert.throws(() => addressesOf('"ro\u0001ot"'), /bad character/, 'a bare local part is checked too');
});

test('client certificate files: key with certificate, ed25519 key alone; other forms refused', async () => {
  const kc = await makeSelfSigned({ names: ['me@example.com'], keyType: 'ecdsa-p256' });
  assert.equal((await loadClientCertificate(Buffer.from(kc.certPEM + kc.keyPEM), 'me')).generated, false, 'order does not matter');
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const made = await loadClientCertificate(Buffer.from(ed), 'me@example.com');
  assert.equal(made.generated, true);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await assert.rejects(loadClientCertificate(Buffer.from(rsa), 'me'), /must be ed25519/);
  await assert.rejects(loadClientCertificate(Buffer.from(ed + kc.certPEM), 'me'), /not for the private key/);
  await assert.rejects(loadClientCertificate(Buffer.from(kc.certPEM), 'me'), /found 0/);
});
