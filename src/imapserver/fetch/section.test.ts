// What BODY[section] names (RFC 9051 §6.4.5) over indexed messages: part numbers into
// multiparts and encapsulated messages, HEADER/TEXT/MIME, HEADER.FIELDS(.NOT), parts that
// do not exist; checked by slicing the message bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseMessage, type MessageIndex } from '../../mime/index.ts';
import type { Section } from './items.ts';
import { headerFields, resolvePart, sectionSource } from './section.ts';

function message(nameOrText: string): Buffer {
  const text = nameOrText.endsWith('.eml') ? readFileSync(new URL(`../../mime/testdata/${nameOrText}`, import.meta.url), 'latin1') : nameOrText;
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** The section's bytes as text, or null for NIL. */
function section(m: Buffer, ix: MessageIndex, spec: string, fields: string[] = []): string | null {
  const [, path = '', text = ''] = /^([\d.]*?)\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?$/.exec(spec)!;
  const s: Section = { path: path ? path.split('.').map(Number) : [], text: text as Section['text'], fields };
  const src = sectionSource(ix.root, ix.size, s);
  if (!src) return null;
  if (src.kind === 'fields') return headerFields(m.subarray(src.header.headerStart, src.header.bodyStart), src.names, src.not).toString('latin1');
  return m.subarray(src.start, src.end).toString('latin1');
}

const forwarded = message('forwarded-rfc822.eml');
const fwd = parseMessage(forwarded);

test('part numbers: multipart children, then the parts of an encapsulated message (RFC 9051 §6.4.5)', () => {
  assert.equal(section(forwarded, fwd, ''), forwarded.toString('latin1'));
  assert.equal(section(forwarded, fwd, '1'), 'See the forwarded message below.\r\n');
  assert.ok(section(forwarded, fwd, '2')!.startsWith('From: Carol <carol@example.com>\r\n'), 'part 2 is the whole encapsulated message');
  assert.ok(section(forwarded, fwd, '2')!.endsWith('--inner--\r\n'));
  assert.equal(section(forwarded, fwd, '2.1'), 'Revenue is up.');
  assert.equal(section(forwarded, fwd, '2.2'), '<p>Revenue is <b>up</b>.</p>');
  assert.equal(section(forwarded, fwd, '2.1.MIME'), 'Content-Type: text/plain; charset=us-ascii\r\n\r\n');
  assert.equal(section(forwarded, fwd, '3'), null);
  assert.equal(section(forwarded, fwd, '2.3'), null);
  assert.equal(section(forwarded, fwd, '1.1'), null, 'a leaf has no subparts');
});

test('HEADER, TEXT and MIME of the message and of a message/rfc822 part; HEADER of a part that is no message is NIL', () => {
  assert.ok(section(forwarded, fwd, 'HEADER')!.startsWith('From: Dave <dave@example.net>\r\n'));
  assert.ok(section(forwarded, fwd, 'HEADER')!.endsWith('boundary="outer"\r\n\r\n'), 'with the blank line');
  assert.ok(section(forwarded, fwd, 'TEXT')!.startsWith('This is a multi-part message in MIME format.\r\n--outer\r\n'));
  assert.equal(section(forwarded, fwd, '2.MIME'), 'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="Quarterly numbers.eml"\r\n\r\n');
  assert.ok(section(forwarded, fwd, '2.HEADER')!.startsWith('From: Carol <carol@example.com>\r\n'));
  assert.ok(section(forwarded, fwd, '2.HEADER')!.endsWith('boundary="inner"\r\n\r\n'));
  assert.ok(section(forwarded, fwd, '2.TEXT')!.startsWith('--inner\r\n'));
  assert.equal(section(forwarded, fwd, '1.HEADER'), null);
  assert.equal(section(forwarded, fwd, '1.TEXT'), null);
  assert.equal(section(forwarded, fwd, '2.HEADER.FIELDS', ['subject', 'X-None']), 'Subject: Quarterly numbers\r\n\r\n');
});

test('a message that is not multipart: part 1 is its body, 1.MIME its header', () => {
  const m = message('Subject: one part\nContent-Type: text/plain\n\nthe body\n');
  const ix = parseMessage(m);
  assert.equal(section(m, ix, '1'), 'the body\r\n');
  assert.equal(section(m, ix, '1.MIME'), 'Subject: one part\r\nContent-Type: text/plain\r\n\r\n');
  assert.equal(section(m, ix, '2'), null);
  assert.equal(section(m, ix, 'TEXT'), 'the body\r\n');
  assert.equal(resolvePart(ix.root, [1]), ix.root);
});

test('a multipart without parts has no part 1 (its BODYSTRUCTURE shows an empty one)', () => {
  const m = message('malformed-no-boundary.eml');
  const ix = parseMessage(m);
  assert.equal(section(m, ix, '1'), null);
  assert.equal(section(m, ix, 'TEXT'), 'just some text\r\n--not-the-boundary\r\nmore text\r\n');
});

test('nested multipart inside multipart: 1.2 is the second part of the first part', () => {
  const m = message(
    ['Content-Type: multipart/mixed; boundary=o', '', '--o', 'Content-Type: multipart/alternative; boundary=i', '', '--i', '', 'plain', '--i', 'Content-Type: text/html', '', '<b>html</b>', '--i--', '--o', 'Content-Type: text/plain', '', 'second', '--o--', ''].join('\n'),
  );
  const ix = parseMessage(m);
  assert.equal(section(m, ix, '1.1'), 'plain');
  assert.equal(section(m, ix, '1.2'), '<b>html</b>');
  assert.equal(section(m, ix, '1.2.MIME'), 'Content-Type: text/html\r\n\r\n');
  assert.equal(section(m, ix, '2'), 'second');
  assert.equal(section(m, ix, '1.3'), null);
});

test('HEADER.FIELDS and HEADER.FIELDS.NOT: case-insensitive names, folded fields whole, repeated fields all, blank line last', () => {
  const header = Buffer.from('Received: from a\r\n\tby b\r\nSubject: hello\r\n  world\r\nFROM: x@example.com\r\nReceived: from c\r\nX-Empty:\r\n\r\n');
  assert.equal(headerFields(header, new Set(['received', 'from']), false).toString(), 'Received: from a\r\n\tby b\r\nFROM: x@example.com\r\nReceived: from c\r\n\r\n');
  assert.equal(headerFields(header, new Set(['received', 'from']), true).toString(), 'Subject: hello\r\n  world\r\nX-Empty:\r\n\r\n');
  assert.equal(headerFields(header, new Set(['nothing']), false).toString(), '\r\n');
  assert.equal(headerFields(Buffer.from('Subject: no line end'), new Set(['subject']), false).toString(), 'Subject: no line end\r\n\r\n');
  assert.equal(headerFields(Buffer.from('Subject: lf only\nTo: a\n\n'), new Set(['subject']), false).toString(), 'Subject: lf only\n\r\n');
});
