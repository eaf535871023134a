// BODYSTRUCTURE, BODY and ENVELOPE over messages indexed by src/mime parseMessage: exact
// IMAP output, compared with what Dovecot sends for the same messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseEnvelope, parseMessage, type Envelope, type MimePart } from '../../mime/index.ts';
import { bodyStructure, encapsulatedMessages } from './structure.ts';
import { envelope } from './envelope.ts';

/** A message from src/mime/testdata (LF files, as CRLF), or given text (LF turned into CRLF). */
function message(nameOrText: string): Buffer {
  const text = nameOrText.endsWith('.eml') ? readFileSync(new URL(`../../mime/testdata/${nameOrText}`, import.meta.url), 'latin1') : nameOrText;
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

function structure(m: Buffer, o: { extensible?: boolean; utf8?: boolean } = {}): string {
  const ix = parseMessage(m);
  const envelopes = new Map<MimePart, Envelope>();
  for (const e of encapsulatedMessages(ix.root)) envelopes.set(e, parseEnvelope(m.subarray(e.headerStart, e.bodyStart)));
  return bodyStructure(ix.root, { extensible: o.extensible ?? true, utf8: o.utf8 ?? false, envelopes }).toString('utf8');
}

function env(m: Buffer, utf8 = false): string {
  return envelope(parseEnvelope(m.subarray(0, parseMessage(m).root.bodyStart)), utf8).toString('utf8');
}

test('multipart/mixed with a forwarded message/rfc822: envelope, body and lines of the encapsulated message, disposition of the part', () => {
  const m = message('forwarded-rfc822.eml');
  const inner =
    '(NIL "Quarterly numbers" (("Carol" NIL "carol" "example.com")) (("Carol" NIL "carol" "example.com")) (("Carol" NIL "carol" "example.com")) (("Dave" NIL "dave" "example.net")) NIL NIL NIL "<q-2026@example.com>")';
  assert.equal(
    structure(m),
    '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 34 1 NIL NIL NIL NIL)' +
      `("message" "rfc822" NIL NIL NIL "7bit" 366 ${inner} (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 1 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 28 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL) 16 NIL ("attachment" ("filename" "Quarterly numbers.eml")) NIL NIL)` +
      ' "mixed" ("boundary" "outer") NIL NIL NIL)',
  );
  // BODY: the same without extension data, also inside the encapsulated message.
  assert.equal(
    structure(m, { extensible: false }),
    `(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 34 1)("message" "rfc822" NIL NIL NIL "7bit" 366 ${inner} (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 1)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 28 1) "alternative") 16) "mixed")`,
  );
});

test('multipart/alternative of quoted-printable parts: encoding and line counts as indexed', () => {
  assert.equal(
    structure(message('gmail-alternative.eml')),
    '(("text" "plain" ("charset" "UTF-8") NIL NIL "quoted-printable" 57 4 NIL NIL NIL NIL)("text" "html" ("charset" "UTF-8") NIL NIL "quoted-printable" 114 2 NIL NIL NIL NIL) "alternative" ("boundary" "000000000000a1b2c3d4e5f6") NIL NIL NIL)',
  );
});

test('a base64 attachment with id, description, md5, language and location; text without charset gets "us-ascii" (RFC 2046 §4.1.2, as Dovecot)', () => {
  const m = message(
    [
      'Subject: attachment',
      'Content-Type: multipart/mixed; boundary=x',
      'Content-Language: en',
      'Content-Location: http://example.com/all',
      '',
      '--x',
      'Content-Type: text/html',
      '',
      '<p>hi</p>',
      '--x',
      'Content-Type: image/png; name="dot.png"',
      'Content-Transfer-Encoding: base64',
      'Content-ID: <dot@example.com>',
      'Content-Description: a "dot"',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      'Content-Disposition: inline; filename=dot.png; size=3',
      'Content-Language: en, de',
      'Content-Location: dot.png',
      '',
      'iVBO',
      'Rw0K',
      '--x--',
      '',
    ].join('\n'),
  );
  assert.equal(
    structure(m),
    '(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 9 1 NIL NIL NIL NIL)' +
      '("image" "png" ("name" "dot.png") "<dot@example.com>" "a \\"dot\\"" "base64" 10 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" ("filename" "dot.png" "size" "3")) ("en" "de") "dot.png")' +
      ' "mixed" ("boundary" "x") NIL ("en") "http://example.com/all")',
  );
});

test('RFC 2231 parameters: decoded UTF-8 for UTF-8 sessions, else sent back as name* "utf-8\'\'..." (7-bit, as Dovecot passes them on)', () => {
  const m = message('rfc2231.eml');
  assert.equal(
    structure(m),
    `(("application" "x-stuff" ("title" "This is even more ***fun*** isn't it!") NIL NIL "7bit" 1 NIL ("attachment" ("filename*" "utf-8''Gr%C3%BC%C3%9Fe%20aus%20K%C3%B6ln.txt")) NIL NIL)` +
      `("text" "plain" ("name*" "utf-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt" "charset" "utf-8") NIL NIL "7bit" 1 1 NIL ("attachment" ("filename*" "utf-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt")) NIL NIL) "mixed" ("boundary" "=_2231") NIL NIL NIL)`,
  );
  assert.equal(
    structure(m, { utf8: true }),
    `(("application" "x-stuff" ("title" "This is even more ***fun*** isn't it!") NIL NIL "7bit" 1 NIL ("attachment" ("filename" "Grüße aus Köln.txt")) NIL NIL)` +
      `("text" "plain" ("name" "日本語.txt" "charset" "utf-8") NIL NIL "7bit" 1 1 NIL ("attachment" ("filename" "日本語.txt")) NIL NIL) "mixed" ("boundary" "=_2231") NIL NIL NIL)`,
  );
});

test('message/global with 8-bit UTF-8 headers: literals unless the session accepts UTF-8 (RFC 9051 §4.3, RFC 6855)', () => {
  const m = Buffer.from(readFileSync(new URL('../../mime/testdata/global.eml', import.meta.url), 'utf8').replace(/\n/g, '\r\n'), 'utf8');
  const s = structure(m);
  assert.ok(s.startsWith('(("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 9 1 NIL NIL NIL NIL)("message" "global" NIL NIL NIL "7bit" 128 (NIL {16}\r\nMöte på fredag (({6}\r\nÖdön NIL {6}\r\nödön {11}\r\nexämple.se))'), s);
  assert.ok(s.endsWith(' NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 23 1 NIL NIL NIL NIL) 5 NIL NIL NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL)'), s);
  assert.equal(
    env(m, true),
    '(NIL "Vidarebefordrat: Möte på fredag" (("Zoë Ångström" NIL "zoë" "exämple.se")) (("Zoë Ångström" NIL "zoë" "exämple.se")) (("Zoë Ångström" NIL "zoë" "exämple.se")) (("田中" NIL "tanaka" "例え.jp")) NIL NIL NIL NIL)',
  );
  assert.ok(env(m, false).startsWith('(NIL {33}\r\nVidarebefordrat: Möte på fredag (({15}\r\nZoë Ångström NIL {4}\r\nzoë {11}\r\nexämple.se))'));
});

test('malformed MIME: a multipart without parts shows one empty text/plain part (Dovecot), a missing close boundary keeps the parts seen', () => {
  assert.equal(structure(message('malformed-no-boundary.eml')), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "alternative" ("boundary" "never-used") NIL NIL NIL)');
  assert.equal(structure(message('malformed-no-boundary.eml'), { extensible: false }), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "alternative")');
  assert.equal(
    structure(message('Subject: x\nContent-Type: multipart/mixed\n\nno boundary parameter\n')),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)',
  );
  assert.equal(
    structure(message('malformed-missing-close.eml')),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)("application" "octet-stream" NIL NIL NIL "base64" 18 NIL NIL NIL NIL) "mixed" ("boundary" "cut") NIL NIL NIL)',
  );
  // An unparseable Content-Type is text/plain (RFC 2045 §5.2); a base64 message/rfc822 is a basic part (it was not indexed as a message).
  assert.equal(structure(message('Content-Type: text/\n\nx\n')), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 1 NIL NIL NIL NIL)');
  assert.equal(
    structure(message('Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQp4DQo=\n')),
    '("message" "rfc822" NIL NIL NIL "base64" 26 NIL NIL NIL NIL)',
  );
});

test('a message without MIME headers is text/plain; charset us-ascii (RFC 2045 §5.2)', () => {
  assert.equal(structure(message('Subject: plain\n\nline 1\nline 2\n')), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 16 2 NIL NIL NIL NIL)');
  assert.equal(structure(message('Subject: plain\n\nline 1\nline 2\n'), { extensible: false }), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 16 2)');
});

test('ENVELOPE: raw encoded words, NIL for absent fields, sender/reply-to from From, groups, source routes, no domain, quoting', () => {
  assert.equal(
    env(message('gmail-alternative.eml')),
    '("Tue, 3 Mar 2026 10:15:02 +0100" "=?UTF-8?Q?Caf=C3=A9_meeting_=E2=98=95?=" (("=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?=" NIL "juergen" "example.de")) (("=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?=" NIL "juergen" "example.de")) (("=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?=" NIL "juergen" "example.de")) (("Ann Smith" NIL "ann" "example.com")(NIL NIL "bob" "example.org")) NIL NIL NIL "<CAF1x2y3z@mail.gmail.com>")',
  );
  const m = message(
    [
      'Date: Fri, 21 Nov 1997 09:55:06 -0600',
      'Subject: say "hi" \\ bye',
      'From: "Smith, John" <john@example.com>',
      'Sender: secretary@example.com',
      'Reply-To: ',
      'To: A Group:a@example.com, "B" <b@example.com>;, undisclosed-recipients:;',
      'Cc: <@relay.example:c@example.com>, localonly',
      'Bcc: bcc@example.com',
      'In-Reply-To: <parent@example.com>',
      'Message-ID: <id@example.com>',
      '',
      'body',
      '',
    ].join('\n'),
  );
  assert.equal(
    env(m),
    '("Fri, 21 Nov 1997 09:55:06 -0600" "say \\"hi\\" \\\\ bye" (("Smith, John" NIL "john" "example.com")) ((NIL NIL "secretary" "example.com")) (("Smith, John" NIL "john" "example.com")) ' +
      '((NIL NIL "A Group" NIL)(NIL NIL "a" "example.com")("B" NIL "b" "example.com")(NIL NIL NIL NIL)(NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ' +
      '((NIL "@relay.example" "c" "example.com")(NIL NIL "localonly" "")) ((NIL NIL "bcc" "example.com")) "<parent@example.com>" "<id@example.com>")',
  );
  assert.equal(env(message('X-Nothing: here\n\nbody\n')), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
});
