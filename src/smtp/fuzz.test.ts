// Bounded fuzzing of the command grammar and the DATA reader (seeded, about a second):
// parsers throw nothing but SmtpError, and the reader gives the same result for any chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, parseMailFrom, parseRcptTo } from './command.ts';
import { isSmtpError } from './reply.ts';
import { readAll } from './testreader.ts';
import { dotStuffTransform } from './dotstuff.ts';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { prng } from '../../test/prng.ts';

const pieces = ['MAIL', 'RCPT', 'FROM:', 'TO:', '<', '>', '@', '"', '\\', '.', ' ', 'a', 'ü', 'xn--', '[', ']', 'IPv6:', '::1', '1.2.3.4', 'SIZE=', 'NOTIFY=', 'ORCPT=', 'rfc822;', 'utf-8;', '\\x{', '}', '+2B', '=', ',', 'SMTPUTF8', 'postmaster', ':', '\t', '\u0000'];
const dataPieces = ['\r\n', '\n', '\r', '.', '..', 'x', 'abc', '\r\n.\r\n', '\n.\n', '\r.\r'];

test('fuzz: command parsers throw only SmtpError', () => {
  const rnd = prng(3);
  const ext = { extensions: new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH', 'REQUIRETLS', 'HOLDFOR', 'HOLDUNTIL', 'NOTIFY', 'ORCPT']) };
  const deadline = Date.now() + 400;
  let n = 0;
  while (Date.now() < deadline) {
    let s = '';
    const len = Math.floor(rnd() * 12);
    for (let i = 0; i < len; i++) s += pieces[Math.floor(rnd() * pieces.length)];
    for (const f of [() => parseCommand(Buffer.from(s)), () => parseMailFrom(s, ext), () => parseRcptTo(s, { ...ext, smtputf8: rnd() < 0.5 })]) {
      try {
        f();
      } catch (e) {
        assert.ok(isSmtpError(e), `non-SMTP error for ${JSON.stringify(s)}: ${String(e)}`);
      }
    }
    n++;
  }
  assert.ok(n > 1000);
});

test('fuzz: DATA reader results do not depend on chunking', () => {
  const rnd = prng(7);
  const deadline = Date.now() + 400;
  while (Date.now() < deadline) {
    let s = '';
    const len = Math.floor(rnd() * 20);
    for (let i = 0; i < len; i++) s += dataPieces[Math.floor(rnd() * dataPieces.length)];
    s += '\r\n.\r\n';
    const input = Buffer.from(s, 'latin1');
    const whole = readAll(input, [], 40);
    const cuts = Array.from({ length: Math.floor(rnd() * 5) }, () => Math.floor(rnd() * input.length));
    assert.deepEqual(readAll(input, cuts, 40), whole, `${JSON.stringify(s)} cuts ${cuts.join(',')}`);
    assert.equal(whole.done, true, JSON.stringify(s));
  }
});

test('fuzz: what dot-stuffing sends, the DATA reader reads back with line ends normalised', async () => {
  const rnd = prng(11);
  const deadline = Date.now() + 300;
  let n = 0;
  for (; Date.now() < deadline; n++) {
    let s = '';
    const len = Math.floor(rnd() * 20);
    for (let i = 0; i < len; i++) s += dataPieces[Math.floor(rnd() * dataPieces.length)];
    const chunks: Buffer[] = [];
    for (let from = 0; from < s.length; ) {
      const to = from + 1 + Math.floor(rnd() * 6);
      chunks.push(Buffer.from(s.slice(from, to), 'latin1'));
      from = to;
    }
    const sent = await buffer(Readable.from(chunks).pipe(dotStuffTransform()));
    const r = readAll(sent, [Math.floor(rnd() * sent.length)]);
    let want = s.replace(/\r\n|\r|\n/g, '\r\n');
    if (want !== '' && !want.endsWith('\r\n')) want += '\r\n';
    assert.deepEqual(r, { consumed: sent.length, message: want, done: true, error: undefined }, JSON.stringify(s));
  }
  assert.ok(n > 100, `only ${n} rounds`);
});
