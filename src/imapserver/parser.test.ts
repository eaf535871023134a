// The command parser and modified UTF-7 names: every production over text and literals,
// and errors as BAD with a text that says what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser, type CommandPart } from './parser.ts';
import { ImapError } from './errors.ts';
import { decodeMutf7, encodeMutf7 } from './mutf7.ts';
import { str } from './encode.ts';

const P = (...parts: (string | CommandPart)[]) => new Parser(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));

function badWith(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ImapError && e.status === 'BAD' && re.test(e.message));
}

test('atoms, astrings, quoted strings with escapes and UTF-8', () => {
  const p = P('a1 LOGIN "f\\"oo\\\\" bär] x');
  assert.equal(p.tag(), 'a1');
  p.sp();
  assert.equal(p.atom(), 'LOGIN');
  p.sp();
  assert.equal(p.astring().toString(), 'f"oo\\');
  p.sp();
  assert.equal(p.astring().toString(), 'bär]');
  p.sp();
  assert.equal(p.atom(), 'x');
  p.end();
});

test('literals sit between line fragments', () => {
  const lit = { kind: 'memory' as const, data: Buffer.from('pa ss\r\n'), binary: false };
  const p = P('a LOGIN joe ', lit, '');
  p.tag();
  p.sp();
  p.atom();
  p.sp();
  assert.equal(p.astring().toString(), 'joe');
  p.sp();
  assert.deepEqual(p.astring(), Buffer.from('pa ss\r\n'));
  p.end();
});

test('sequence sets with ranges, "*", and "$"', () => {
  assert.deepEqual(P('1:3,5,*,7:*').sequenceSet(), { kind: 'set', ranges: [[1, 3], [5, 5], ['*', '*'], [7, '*']] });
  assert.deepEqual(P('$').sequenceSet(), { kind: 'saved' });
  badWith(() => P('0').sequenceSet(), /zero/);
  badWith(() => P('1:').sequenceSet(), /sequence number/);
  badWith(() => P('x').sequenceSet(), /sequence number/);
  badWith(() => P('4294967296').sequenceSet(), /out of range/);
});

test('flags, flag lists and keywords', () => {
  assert.deepEqual(P('(\\Seen $Junk \\*)').flagList(), ['\\Seen', '$Junk', '\\*']);
  assert.deepEqual(P('()').flagList(), []);
  assert.deepEqual(P('\\Seen \\Deleted').flagList(true), ['\\Seen', '\\Deleted']);
  badWith(() => P('(\\Seen').flagList(), /"\)"/);
});

test('date and date-time', () => {
  assert.deepEqual(P('1-Feb-2024').date(), { year: 2024, month: 1, day: 1 });
  assert.deepEqual(P('"17-Jul-1996"').date(), { year: 1996, month: 6, day: 17 });
  assert.equal(P('"17-Jul-1996 02:44:25 -0700"').dateTime().toISOString(), '1996-07-17T09:44:25.000Z');
  assert.equal(P('" 7-Jul-1996 02:44:25 +0000"').dateTime().toISOString(), '1996-07-07T02:44:25.000Z');
  badWith(() => P('"17-Foo-1996 02:44:25 -0700"').dateTime(), /date-time/);
  badWith(() => P('32-Jan-2024').date(), /out of range/);
});

test('keywords match whole atoms only', () => {
  const p = P('NILX');
  assert.equal(p.takeKeyword('NIL'), false);
  assert.equal(p.atom(), 'NILX');
  badWith(() => P('"abc').quoted(), /unterminated/);
  badWith(() => P('"a\\b"').quoted(), /escape/);
});

test('modified UTF-7 round trip and strictness (RFC 3501 §5.1.3)', () => {
  assert.equal(encodeMutf7('Entwürfe'), 'Entw&APw-rfe');
  assert.equal(encodeMutf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  assert.equal(encodeMutf7('A&B'), 'A&-B');
  for (const n of ['Entwürfe', '台北', 'a&b', '😀 smile']) assert.equal(decodeMutf7(encodeMutf7(n)), n);
  badWith(() => decodeMutf7('&AGE-'), /ASCII/); // "a" encoded
  badWith(() => decodeMutf7('&U,BTFw'), /unterminated/);
  badWith(() => decodeMutf7('a&b!-'), /invalid/);
});

test('strings are quoted when they can be, literals otherwise', () => {
  assert.equal(str('plain', false).toString(), '"plain"');
  assert.equal(str('a"b\\c', false).toString(), '"a\\"b\\\\c"');
  assert.equal(str('ü', false).toString(), '{2}\r\nü');
  assert.equal(str('ü', true).toString(), '"ü"');
  assert.equal(str('a\r\nb', true).toString(), '{4}\r\na\r\nb');
});
