// The DATA reader: the end marker, dot-unstuffing, normalising bare LF, refusing bare CR
// and the smuggling sequences, size limits, and identical results for any chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAll } from './testreader.ts';
import { dotStuffTransform } from './dotstuff.ts';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

test('CRLF.CRLF ends the message; what follows is not consumed', () => {
  const input = Buffer.from('Subject: a\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  const r = readAll(input);
  assert.equal(r.done, true);
  assert.equal(r.message, 'Subject: a\r\n\r\nbody\r\n');
  assert.equal(input.subarray(r.consumed).toString(), 'QUIT\r\n');
  assert.equal(r.error, undefined);
});

test('an empty message is just the end marker', () => {
  const r = readAll(Buffer.from('.\r\n'));
  assert.deepEqual([r.done, r.message, r.consumed], [true, '', 3]);
});

test('leading dots are removed (RFC 5321 §4.5.2)', () => {
  assert.equal(readAll(Buffer.from('..x\r\n...\r\n.y\r\n.\r\n')).message, '.x\r\n..\r\ny\r\n');
});

test('bare LF is normalised to CRLF', () => {
  assert.equal(readAll(Buffer.from('a\nb\r\n\nc\r\n.\r\n')).message, 'a\r\nb\r\n\r\nc\r\n');
});

test('smuggling sequences and bare CR set a 500 error; the reader still finds the real end', () => {
  const cases: Array<[string, RegExp]> = [
    ['a\n.\nMAIL FROM:<x>\r\n', /LF\.LF/],
    ['a\r\n.\nMAIL FROM:<x>\r\n', /CRLF\.LF/],
    ['a\n.\r\nMAIL FROM:<x>\r\n', /LF\.CRLF/],
    ['a\r.\rMAIL FROM:<x>\r\n', /CR\.CR/],
    ['a\rb\r\n', /bare CR/],
    ['a\r\n.\rb\r\n', /bare CR|CR\.CR/],
  ];
  for (const [body, want] of cases) {
    const input = Buffer.from(`${body}.\r\nNEXT`);
    const r = readAll(input);
    assert.equal(r.done, true, body);
    assert.match(r.error ?? '', /^500 /, body);
    assert.match(r.error ?? '', want, body);
    assert.equal(input.subarray(r.consumed).toString(), 'NEXT', body);
  }
});

test('a message over the limit gets 552 and is consumed to its end', () => {
  const input = Buffer.from(`${'x'.repeat(100)}\r\n`.repeat(10) + '.\r\nQUIT\r\n');
  const r = readAll(input, [], 500);
  assert.equal(r.done, true);
  assert.match(r.error ?? '', /^552 /);
  assert.ok(r.message.length <= 500);
  assert.equal(input.subarray(r.consumed).toString(), 'QUIT\r\n');
});

test('every split point gives the same result as one push', () => {
  const samples = [
    'Subject: x\r\n\r\n..dot\r\nline\nlf\r\n.\r\nQUIT\r\n',
    'a\r\n.\nb\r\n.\r\nX',
    'a\n.\r\nb\r\n.\r\n',
    'x\r\n\r\n.\r\n',
    '.\r\n',
    'a\rb\r\n.\r\n',
  ];
  for (const s of samples) {
    const input = Buffer.from(s);
    const whole = readAll(input);
    for (let cut = 1; cut < input.length; cut++) assert.deepEqual(readAll(input, [cut]), whole, `${JSON.stringify(s)} cut at ${cut}`);
    assert.deepEqual(readAll(input, Array.from({ length: input.length }, (_, i) => i)), whole, `${JSON.stringify(s)} byte by byte`);
  }
});

test('dot-stuffing and the reader are inverse', async () => {
  const message = '.starts with dot\r\nmiddle\r\n..two\r\n.\r\nend';
  for (const chunking of [[message], [message.slice(0, 19), message.slice(19, 30), message.slice(30)]]) {
    const stuffed = await buffer(Readable.from(chunking.map((c) => Buffer.from(c))).pipe(dotStuffTransform()));
    const r = readAll(stuffed);
    assert.equal(r.done, true);
    assert.equal(r.consumed, stuffed.length);
    assert.equal(r.message, `${message}\r\n`);
  }
});
