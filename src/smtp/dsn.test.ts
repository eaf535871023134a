// DSN composition: the multipart/report structure read back with our MIME indexer, the
// delivery-status fields per recipient, RET, byte-exact returned originals, the RFC 6533
// UTF-8 forms, field injection and folding; and Python's email package as a second reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { decodePartText, formatDate, headerValue, parseHeader, parseMessage } from '../mime/index.ts';
import type { MessageIndex, MimePart } from '../mime/index.ts';
import { composeDsn, type ComposedDsn, type DsnInput, type DsnRecipient } from './dsn.ts';

const arrival = new Date('2026-11-28T21:50:00Z');
const now = new Date('2026-11-28T22:07:51Z');
const lastAttempt = new Date('2026-11-28T22:07:50Z');
const retryUntil = new Date('2026-12-03T21:50:00Z');

// An original with an 8-bit (UTF-8) body and an ASCII header.
const originalHeader = [
  'Received: from client.example.com (client.example.com [192.0.2.7]) by mx.mailcove.example; Sat, 28 Nov 2026 21:50:00 +0000',
  'From: Ann <ann@example.com>',
  'To: Bob <bob@example.org>',
  'Subject: Lunch',
  'Message-ID: <lunch-1@example.com>',
  'Date: Sat, 28 Nov 2026 21:49:58 +0000',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
].map((l) => `${l}\r\n`).join('');
const original = Buffer.from(`${originalHeader}\r\nSee you at the café at noon.\r\n`, 'utf8');

const bob: DsnRecipient = {
  finalRecipient: 'bob@example.org',
  originalRecipient: 'rfc822;bob@example.org',
  action: 'failed',
  status: '5.1.1',
  remoteMta: 'mx.example.org',
  diagnostic: '550 5.1.1 no such user',
  lastAttempt,
};

function input(over: Partial<DsnInput> = {}): DsnInput {
  return {
    reportingMta: 'mx.mailcove.example',
    from: 'MAILER-DAEMON@mx.mailcove.example',
    to: 'ann@example.com',
    envid: 'QQ314159',
    arrivalDate: arrival,
    recipients: [bob],
    original,
    ret: 'HDRS',
    messageIdDomain: 'mx.mailcove.example',
    now,
    ...over,
  };
}

interface Read {
  ix: MessageIndex;
  parts: MimePart[];
  top: (name: string) => string | null; // the DSN's own header fields
  body: (i: number) => Buffer; // part i's body bytes as the index slices them
  type: (i: number) => string;
}

/** Reads a DSN with our MIME indexer and checks what every DSN must be. */
function read(d: ComposedDsn): Read {
  const ix = parseMessage(d.message);
  assert.deepEqual([ix.root.type, ix.root.subtype], ['multipart', 'report']);
  assert.equal(ix.root.params.find((p) => p.name === 'report-type')?.value, 'delivery-status');
  const parts = ix.root.children;
  assert.equal(parts.length, 3, 'explanation, report, returned original');
  const walk = (p: MimePart): void => {
    assert.deepEqual(p.defects, [], `${p.type}/${p.subtype} is well-formed`);
    p.children.forEach(walk);
  };
  walk(ix.root);
  const ours = d.message.subarray(0, parts[2]?.bodyStart ?? 0); // the returned original may be binary
  for (const line of ours.toString('latin1').split('\r\n')) assert.ok(line.length <= 998, 'no line over 998 octets');
  const fields = parseHeader(d.message.subarray(0, ix.root.bodyStart));
  return {
    ix,
    parts,
    top: (name) => headerValue(fields, name),
    body: (i) => d.message.subarray(parts[i]!.bodyStart, parts[i]!.end),
    type: (i) => `${parts[i]!.type}/${parts[i]!.subtype}`,
  };
}

/** The blocks of a delivery-status body (RFC 3464 §2.1), unfolded, as lowercased name → value. */
function statusBlocks(body: Buffer): Array<Record<string, string>> {
  const text = body.toString('utf8').replace(/\r\n(?=[ \t])/g, ''); // RFC 5322 §2.2.3 unfolding
  assert.ok(text.endsWith('\r\n'), 'the last field ends with CRLF');
  return text
    .slice(0, -2)
    .split('\r\n\r\n')
    .map((block) => Object.fromEntries(block.split('\r\n').map((line) => {
      const colon = line.indexOf(':');
      assert.ok(colon > 0, `a field: ${JSON.stringify(line)}`);
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    })));
}

const cte = (p: MimePart | undefined): string | null => p?.encoding ?? null;
const text = (r: Read): string => decodePartText(r.body(0), r.parts[0]!);

test('a failure DSN is a multipart/report of explanation, delivery-status and the returned header', () => {
  const d = composeDsn(input());
  const r = read(d);
  assert.deepEqual([r.type(0), r.type(1), r.type(2)], ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
  assert.equal(r.parts[0]!.params.find((p) => p.name === 'charset')?.value, 'utf-8');
  assert.equal(r.top('From'), 'Mail Delivery Subsystem <MAILER-DAEMON@mx.mailcove.example>');
  assert.equal(r.top('To'), '<ann@example.com>');
  assert.equal(r.top('Subject'), 'Delivery Status Notification (Failure)');
  assert.equal(r.top('Date'), formatDate(now));
  assert.match(r.top('Message-ID') ?? '', /^<[A-Za-z0-9_-]{16}@mx\.mailcove\.example>$/);
  assert.equal(r.top('In-Reply-To'), '<lunch-1@example.com>');
  assert.equal(r.top('References'), '<lunch-1@example.com>');
  assert.equal(r.top('Auto-Submitted'), 'auto-replied');
  assert.equal(r.top('MIME-Version'), '1.0');
  assert.equal(r.body(2).toString('utf8'), originalHeader, 'the header block, without the empty line');
  assert.deepEqual([d.smtputf8, d.body], [false, '7BIT']);
  const t = text(r);
  assert.match(t, /^This is the mail system at mx\.mailcove\.example\./);
  assert.match(t, /could not be delivered/);
  assert.match(t, /<bob@example\.org>\r\n {2}Delivery failed; the mail system will not try again\. Status 5\.1\.1\.\r\n {2}The mail server mx\.example\.org replied: 550 5\.1\.1 no such user\r\n/);
  assert.match(t, /The header of your message is attached\./);
});

test('the delivery-status part has the per-message fields, then one block per recipient in RFC 3464 order', () => {
  const d = composeDsn(input());
  const r = read(d);
  assert.equal(cte(r.parts[1]), '7bit');
  const body = r.body(1).toString('utf8');
  assert.equal(body, [
    'Original-Envelope-Id: QQ314159',
    'Reporting-MTA: dns; mx.mailcove.example',
    `Arrival-Date: ${formatDate(arrival)}`,
    '',
    'Original-Recipient: rfc822; bob@example.org',
    'Final-Recipient: rfc822; bob@example.org',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mx.example.org',
    'Diagnostic-Code: smtp; 550 5.1.1 no such user',
    `Last-Attempt-Date: ${formatDate(lastAttempt)}`,
    '',
  ].join('\r\n'));
  const [perMessage, rcpt, ...rest] = statusBlocks(r.body(1));
  assert.equal(rest.length, 0);
  assert.equal(perMessage!['reporting-mta'], 'dns; mx.mailcove.example');
  assert.equal(rcpt!['final-recipient'], 'rfc822; bob@example.org');
});

test('the subject says failure, delay or success; a delay says until when we keep trying', () => {
  const delayed = composeDsn(input({ recipients: [{ ...bob, action: 'delayed', status: '4.4.1', diagnostic: '451 4.4.1 try again later', willRetryUntil: retryUntil }] }));
  const rd = read(delayed);
  assert.equal(rd.top('Subject'), 'Delivery Status Notification (Delay)');
  const [, block] = statusBlocks(rd.body(1));
  assert.equal(block!['action'], 'delayed');
  assert.equal(block!['status'], '4.4.1');
  assert.equal(block!['will-retry-until'], formatDate(retryUntil));
  const t = text(rd);
  assert.match(t, /There is no need to send it again/);
  assert.match(t, new RegExp(`Next attempts until\\s+${formatDate(retryUntil).replace(/[+]/g, '\\+').replace(/ /g, '\\s+')}`));

  const delivered = composeDsn(input({ recipients: [{ ...bob, action: 'delivered', status: '2.0.0', diagnostic: '250 2.0.0 ok', willRetryUntil: retryUntil }] }));
  const rs = read(delivered);
  assert.equal(rs.top('Subject'), 'Delivery Status Notification (Success)');
  const [, ok] = statusBlocks(rs.body(1));
  assert.equal(ok!['action'], 'delivered');
  assert.equal(ok!['will-retry-until'], undefined, 'RFC 3464 §2.3.8: delayed DSNs only');

  const relayed = composeDsn(input({ recipients: [{ ...bob, action: 'relayed', status: '2.0.0' }] }));
  assert.equal(read(relayed).top('Subject'), 'Delivery Status Notification (Relayed)');
});

test('RET=FULL returns the whole message byte-exact, 8-bit bytes included, as 8bit message/rfc822', () => {
  const d = composeDsn(input({ ret: 'FULL' }));
  const r = read(d);
  assert.equal(r.type(2), 'message/rfc822');
  assert.equal(cte(r.parts[2]), '8bit');
  assert.ok(r.body(2).equals(original));
  assert.equal(r.parts[2]!.children.length, 1, 'the indexer sees the encapsulated message');
  assert.equal(d.body, '8BITMIME');
  assert.equal(d.smtputf8, false, 'an 8-bit body is not a UTF-8 header');
  assert.match(text(r), /Your message is attached\./);
});

test('an original without a final CRLF comes back byte-exact, in full and as header only', () => {
  const noCrlf = Buffer.from('Subject: x\r\nMessage-ID: <x@example.com>\r\n\r\nline one\r\nno line break at the end: \xe9', 'latin1');
  const full = composeDsn(input({ ret: 'FULL', original: noCrlf }));
  const rf = read(full);
  assert.ok(rf.body(2).equals(noCrlf));
  assert.equal(cte(rf.parts[2]), '8bit');
  const headerOnly = Buffer.from('Subject: only a header\r\nX-Last: no line break');
  const rh = read(composeDsn(input({ original: headerOnly })));
  assert.ok(rh.body(2).equals(headerOnly), 'no empty line: all of it is header');
});

test('RET=FULL returns only the header in a delay or success notice; without RET the header too', () => {
  for (const action of ['delayed', 'delivered'] as const) {
    const r = read(composeDsn(input({ ret: 'FULL', recipients: [{ ...bob, action, status: action === 'delayed' ? '4.4.1' : '2.0.0' }] })));
    assert.equal(r.type(2), 'text/rfc822-headers', `${action}: RFC 3461 §4.3 FULL is for "failed" DSNs`);
  }
  const { ret: _, ...noRet } = input();
  const r = read(composeDsn(noRet));
  assert.equal(r.type(2), 'text/rfc822-headers');
  assert.equal(r.body(2).toString('utf8'), originalHeader);
});

test('an original that is not line-oriented text is returned as binary and needs BINARYMIME', () => {
  const bare = Buffer.from('Subject: bare LF\nX: y\r\n\r\nbody\nwith\x00NUL\r\n');
  const d = composeDsn(input({ ret: 'FULL', original: bare }));
  const r = read(d);
  assert.equal(cte(r.parts[2]), 'binary');
  assert.ok(r.body(2).equals(bare));
  assert.equal(d.body, 'BINARYMIME');
  const longLine = Buffer.from(`Subject: long\r\n\r\n${'x'.repeat(1000)}\r\n`);
  assert.equal(cte(read(composeDsn(input({ ret: 'FULL', original: longLine }))).parts[2]), 'binary');
});

test('UTF-8 addresses and a UTF-8 header make a global DSN, with utf-8 address types, sent with SMTPUTF8', () => {
  const utf8Header = 'From: Jörg <jörg@bücher.example>\r\nTo: Zoë <zoë@example.org>\r\nSubject: Grüße\r\nMessage-ID: <grüße-1@bücher.example>\r\n';
  const utf8Original = Buffer.from(`${utf8Header}\r\nHallo!\r\n`, 'utf8');
  const zoe: DsnRecipient = { ...bob, finalRecipient: 'zoë@example.org', originalRecipient: 'utf-8;zoë@example.org', diagnostic: '550 5.1.1 unbekannter Empfänger' };
  const d = composeDsn(input({ to: 'jörg@bücher.example', recipients: [zoe, bob], original: utf8Original }));
  const r = read(d);
  assert.deepEqual([r.type(1), r.type(2)], ['message/global-delivery-status', 'message/global-headers']);
  assert.deepEqual([cte(r.parts[1]), cte(r.parts[2])], ['8bit', '8bit']);
  assert.deepEqual([d.smtputf8, d.body], [true, '8BITMIME']);
  assert.equal(r.top('To'), '<jörg@bücher.example>');
  assert.equal(r.top('In-Reply-To'), '<grüße-1@bücher.example>', 'RFC 6532 msg-id: allowed with SMTPUTF8');
  const [, z, b] = statusBlocks(r.body(1));
  assert.equal(z!['original-recipient'], 'utf-8; zoë@example.org');
  assert.equal(z!['final-recipient'], 'utf-8; zoë@example.org');
  assert.equal(z!['diagnostic-code'], 'smtp; 550 5.1.1 unbekannter Empfänger', 'RFC 6533 §6.2: UTF-8 in a global report');
  assert.equal(b!['final-recipient'], 'rfc822; bob@example.org', 'an ASCII address keeps rfc822');
  assert.equal(r.body(2).toString('utf8'), utf8Header);
  assert.equal(cte(r.parts[0]), '8bit');
  assert.match(text(r), /unbekannter Empfänger/);

  const full = composeDsn(input({ ret: 'FULL', recipients: [zoe], original: utf8Original }));
  const rf = read(full);
  assert.equal(rf.type(2), 'message/global');
  assert.ok(rf.body(2).equals(utf8Original));
});

test('a UTF-8 header alone makes the DSN SMTPUTF8; a UTF-8 sender alone keeps the report in plain types', () => {
  const d = composeDsn(input({ original: Buffer.from('Subject: Grüße\r\n\r\nx\r\n', 'utf8') }));
  const r = read(d);
  assert.equal(d.smtputf8, true);
  assert.deepEqual([r.type(1), r.type(2)], ['message/delivery-status', 'message/global-headers']);

  const s = composeDsn(input({ to: 'jörg@example.com' }));
  const rs = read(s);
  assert.equal(s.smtputf8, true, 'RCPT TO and To: hold UTF-8');
  assert.deepEqual([rs.type(1), rs.type(2)], ['message/delivery-status', 'text/rfc822-headers'], 'nothing in the parts needs the global types');
});

test('legacy 8-bit in the original header is returned as is without asking for SMTPUTF8', () => {
  const latin1 = Buffer.from('Subject: Gr\xfc\xdfe\r\nMessage-ID: <\xfc@example.com>\r\n\r\nx\r\n', 'latin1');
  const d = composeDsn(input({ original: latin1 }));
  const r = read(d);
  assert.equal(d.smtputf8, false);
  assert.equal(r.type(2), 'text/rfc822-headers');
  assert.equal(cte(r.parts[2]), '8bit');
  assert.ok(r.body(2).equals(latin1.subarray(0, latin1.indexOf('\r\n\r\n') + 2)));
  assert.equal(r.top('In-Reply-To'), null, 'a non-UTF-8 Message-ID is not copied into our header');
  assert.equal(d.body, '8BITMIME');
});

test('an IDN domain with an ASCII local part is written as its A-label and needs no SMTPUTF8', () => {
  const d = composeDsn(input({ to: 'ann@bücher.example', recipients: [{ ...bob, finalRecipient: 'bob@münchen.example', remoteMta: 'mx.münchen.example' }] }));
  const r = read(d);
  assert.equal(d.smtputf8, false);
  assert.equal(r.top('To'), '<ann@xn--bcher-kva.example>');
  const [, b] = statusBlocks(r.body(1));
  assert.equal(b!['final-recipient'], 'rfc822; bob@xn--mnchen-3ya.example');
  assert.equal(b!['remote-mta'], 'dns; mx.xn--mnchen-3ya.example');
});

test('CR/LF in a diagnostic, an ORCPT or an ENVID cannot end the field or start another', () => {
  const d = composeDsn(input({
    envid: 'id\r\nX-Injected-Envid: yes',
    recipients: [{ ...bob, originalRecipient: 'rfc822;bob@example.org\r\nX-Injected-Orcpt: yes', diagnostic: '550 no such user\r\nX-Injected: yes\r\n\r\n--fake-boundary\x00\x1b[31m' }],
  }));
  const r = read(d);
  const lines = d.message.toString('utf8').split('\r\n');
  assert.ok(!lines.some((l) => /^X-Injected/i.test(l)), 'no injected field starts a line');
  assert.ok(!lines.some((l) => l.startsWith('--fake-boundary')), 'no injected delimiter line');
  const [m, b, ...rest] = statusBlocks(r.body(1));
  assert.equal(rest.length, 0, 'no extra block from an injected empty line');
  assert.equal(b!['diagnostic-code'], 'smtp; 550 no such user X-Injected: yes --fake-boundary??[31m');
  assert.equal(b!['original-recipient'], 'rfc822; bob@example.org??X-Injected-Orcpt: yes');
  assert.equal(m!['original-envelope-id'], 'id+0D+0AX-Injected-Envid:+20yes', 'xtext form (RFC 3461 §4), lossless and printable');
  assert.ok(!/X-Injected: yes\r\n\r\n/.test(text(r)), 'the explanation has the reply on one line too');
});

test('a failure of our own is no SMTP reply: a private diagnostic type, and the explanation says error', () => {
  const d = composeDsn(input({ recipients: [{ ...bob, diagnostic: 'connect to mx.example.org: connection timed out' }, { finalRecipient: 'carol@example.org', action: 'delayed', status: '4.7.0', diagnostic: '421-4.7.0 try later\r\n421 4.7.0 really' }] }));
  const r = read(d);
  const [, b, c] = statusBlocks(r.body(1));
  assert.equal(b!['diagnostic-code'], 'X-Mailcove; connect to mx.example.org: connection timed out');
  assert.equal(c!['diagnostic-code'], 'smtp; 421-4.7.0 try later 421 4.7.0 really', 'a multi-line reply as one line');
  const t = text(r);
  assert.match(t, /Error with mail server mx\.example\.org: connect to mx\.example\.org:\s+connection timed out/);
  assert.match(t, /The mail server replied: 421-4\.7\.0 try later 421 4\.7\.0 really/);
});

test('long fields are folded within 78 octets where spaces allow and within 998 always', () => {
  const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
  const huge = 'y'.repeat(2500);
  const d = composeDsn(input({ recipients: [{ ...bob, diagnostic: `550 5.7.1 ${words}` }, { ...bob, finalRecipient: 'carol@example.org', diagnostic: `550 ${huge}` }] }));
  const r = read(d);
  const raw = r.body(1).toString('utf8');
  const diagLines = raw.slice(raw.indexOf('Diagnostic-Code'), raw.indexOf('Last-Attempt-Date')).split('\r\n').filter((l) => l !== '');
  assert.ok(diagLines.length > 1, 'folded');
  for (const l of diagLines) assert.ok(l.length <= 78, `≤ 78: ${l}`);
  for (const l of diagLines.slice(1)) assert.match(l, /^ \S/, 'continuation lines start with one space');
  const [, first, second] = statusBlocks(r.body(1));
  assert.equal(first!['diagnostic-code'], `smtp; 550 5.7.1 ${words}`, 'unfolds to the value');
  assert.equal(second!['diagnostic-code']!.replace(/ /g, ''), `smtp;550${huge}`, 'a run without spaces is split, never lost');
  assert.ok(r.body(0).toString('utf8').split('\r\n').every((l) => l.length <= 998));
});

test('a UTF-8 reply without SMTPUTF8: "?" in the report, quoted-printable in the explanation', () => {
  const d = composeDsn(input({ recipients: [{ ...bob, diagnostic: '550 5.1.1 unbekannter Empfänger 📮' }] }));
  const r = read(d);
  assert.deepEqual([d.smtputf8, d.body], [false, '7BIT']);
  assert.equal(cte(r.parts[0]), 'quoted-printable');
  assert.ok(r.body(0).every((b) => b < 0x80));
  assert.match(text(r), /replied: 550 5\.1\.1 unbekannter Empfänger 📮/);
  const [, b] = statusBlocks(r.body(1));
  assert.equal(b!['diagnostic-code'], 'smtp; 550 5.1.1 unbekannter Empf?nger ?');
});

test('several recipients: one block each in order; failure and delay together read as failure', () => {
  const carol: DsnRecipient = { finalRecipient: 'carol@example.net', action: 'delayed', status: '4.2.2', remoteMta: 'mx.example.net', diagnostic: '452 4.2.2 mailbox full', willRetryUntil: retryUntil };
  const dave: DsnRecipient = { finalRecipient: 'dave@example.net', originalRecipient: 'rfc822;info@example.net', action: 'failed', status: 'garbage' };
  const d = composeDsn(input({ recipients: [bob, carol, dave] }));
  const r = read(d);
  assert.equal(r.top('Subject'), 'Delivery Status Notification (Failure)');
  const [, b, c, dv, ...rest] = statusBlocks(r.body(1));
  assert.equal(rest.length, 0);
  assert.deepEqual([b!['final-recipient'], b!['action']], ['rfc822; bob@example.org', 'failed']);
  assert.deepEqual([c!['final-recipient'], c!['action'], c!['will-retry-until'], c!['original-recipient']], ['rfc822; carol@example.net', 'delayed', formatDate(retryUntil), undefined]);
  assert.deepEqual([dv!['final-recipient'], dv!['original-recipient'], dv!['status'], dv!['remote-mta']], ['rfc822; dave@example.net', 'rfc822; info@example.net', '5.0.0', undefined]);
  const t = text(r);
  assert.ok(t.indexOf('<bob@example.org>') < t.indexOf('<carol@example.net>') && t.indexOf('<carol@example.net>') < t.indexOf('<dave@example.net>'));
  assert.match(t, /\(you addressed it to <info@example\.net>\)/);
  assert.match(t, /452 4\.2\.2 mailbox full/);
});

test('the boundary is random and occurs in none of the parts', () => {
  const a = read(composeDsn(input({ ret: 'FULL' })));
  const b = read(composeDsn(input({ ret: 'FULL' })));
  const boundary = (r: Read): string => r.ix.root.params.find((p) => p.name === 'boundary')?.value ?? '';
  assert.notEqual(boundary(a), boundary(b));
  assert.ok(boundary(a).length >= 20 && boundary(a).length <= 70, 'RFC 2046 §5.1.1: 1 to 70 characters');
  for (const i of [0, 1, 2]) assert.ok(!a.body(i).includes(boundary(a)));
  // An original that carries delimiter lines of its own stays inside the third part.
  const nested = Buffer.from('Content-Type: multipart/mixed; boundary="=_dsn_x"\r\nSubject: x\r\n\r\n--=_dsn_x\r\n\r\nhi\r\n--=_dsn_x--\r\n');
  const n = read(composeDsn(input({ ret: 'FULL', original: nested })));
  assert.ok(n.body(2).equals(nested));
  assert.equal(n.parts[2]!.children[0]!.subtype, 'mixed');
});

test('In-Reply-To and References only when the original has a Message-ID', () => {
  const r = read(composeDsn(input({ original: Buffer.from('Subject: no id\r\n\r\nx\r\n') })));
  assert.equal(r.top('In-Reply-To'), null);
  assert.equal(r.top('References'), null);
  const folded = read(composeDsn(input({ original: Buffer.from('Message-ID:\r\n <folded@example.com> (comment)\r\n\r\nx\r\n') })));
  assert.equal(folded.top('In-Reply-To'), '<folded@example.com>');
});

test('refuses a DSN to the null reverse-path or without recipients', () => {
  assert.throws(() => composeDsn(input({ to: '' })), /null reverse-path/);
  assert.throws(() => composeDsn(input({ recipients: [] })), /at least one recipient/);
});

// Python's email package, a parser we did not write. In CI a missing python3 fails the test.
const python = spawnSync('python3', ['--version']).status === 0;
if (!python && process.env['CI'] === 'true') throw new Error('python3 is not installed');

const pythonReader = `
import sys, json, re, email, email.policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
def fields(m):
    return {k.lower(): str(v) for k, v in m.items()}
out = {'type': msg.get_content_type(), 'reportType': msg.get_param('report-type'), 'to': str(msg['to']), 'subject': str(msg['subject']),
       'defects': [type(d).__name__ for p in msg.walk() for d in p.defects], 'parts': []}
for part in msg.iter_parts():
    info = {'type': part.get_content_type()}
    if part.get_content_type() == 'message/delivery-status':
        info['blocks'] = [fields(b) for b in part.get_payload()]
    elif part.get_content_type() == 'message/global-delivery-status':
        # Python parses this type as one message: the per-message block is its header, the rest its body.
        inner = part.get_payload(0)
        rest = re.split(r'\\r?\\n\\r?\\n', inner.get_payload(decode=True).decode('utf-8'))
        info['blocks'] = [fields(inner)] + [fields(email.message_from_string(b, policy=email.policy.default)) for b in rest if b.strip()]
    elif part.get_content_type() == 'text/plain':
        info['text'] = part.get_content()
    elif part.get_content_type() in ('message/rfc822', 'message/global'):
        info['subject'] = str(part.get_payload(0)['subject'])
    out['parts'].append(info)
print(json.dumps(out))
`;

interface PythonView {
  type: string;
  reportType: string;
  to: string;
  subject: string;
  defects: string[];
  parts: Array<{ type: string; blocks?: Array<Record<string, string>>; text?: string; subject?: string }>;
}

function pythonRead(message: Buffer): PythonView {
  const r = spawnSync('python3', ['-c', pythonReader], { input: message, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as PythonView;
}

test("Python's email package reads the DSN as we meant it", { skip: python ? false : 'python3 not installed' }, () => {
  const carol: DsnRecipient = { finalRecipient: 'carol@example.net', action: 'delayed', status: '4.2.2', diagnostic: `452 4.2.2 ${'mailbox full '.repeat(12)}`, willRetryUntil: retryUntil };
  const p = pythonRead(composeDsn(input({ ret: 'FULL', recipients: [bob, carol] })).message);
  assert.deepEqual([p.type, p.reportType, p.subject], ['multipart/report', 'delivery-status', 'Delivery Status Notification (Failure)']);
  assert.deepEqual(p.defects, []);
  assert.deepEqual(p.parts.map((x) => x.type), ['text/plain', 'message/delivery-status', 'message/rfc822']);
  assert.match(p.parts[0]!.text ?? '', /550 5\.1\.1 no such user/);
  const blocks = p.parts[1]!.blocks ?? [];
  assert.equal(blocks.length, 3, 'per-message block and two recipient blocks');
  assert.equal(blocks[0]!['original-envelope-id'], 'QQ314159');
  assert.equal(blocks[0]!['reporting-mta'], 'dns; mx.mailcove.example');
  assert.deepEqual([blocks[1]!['final-recipient'], blocks[1]!['action'], blocks[1]!['status'], blocks[1]!['diagnostic-code']], ['rfc822; bob@example.org', 'failed', '5.1.1', 'smtp; 550 5.1.1 no such user']);
  assert.deepEqual([blocks[2]!['final-recipient'], blocks[2]!['action'], blocks[2]!['will-retry-until']], ['rfc822; carol@example.net', 'delayed', formatDate(retryUntil)]);
  assert.equal(blocks[2]!['diagnostic-code'], `smtp; 452 4.2.2 ${'mailbox full '.repeat(12)}`.trim(), 'the folded field unfolds');
  assert.equal(p.parts[2]!.subject, 'Lunch');

  const utf8 = pythonRead(composeDsn(input({ to: 'jörg@bücher.example', recipients: [{ ...bob, finalRecipient: 'zoë@example.org' }], original: Buffer.from('Subject: Grüße\r\n\r\nHallo\r\n', 'utf8'), ret: 'FULL' })).message);
  assert.deepEqual(utf8.defects, []);
  assert.equal(utf8.to, 'jörg@bücher.example');
  assert.deepEqual(utf8.parts.map((x) => x.type), ['text/plain', 'message/global-delivery-status', 'message/global']);
  const u = utf8.parts[1]!.blocks ?? [];
  assert.deepEqual([u.length, u[0]!['reporting-mta'], u[1]!['final-recipient'], u[1]!['action']], [2, 'dns; mx.mailcove.example', 'utf-8; zoë@example.org', 'failed']);
  assert.equal(utf8.parts[2]!.subject, 'Grüße');
});
