// Dot-stuffing for sending: leading dots doubled, bare CR and LF sent as CRLF, the end
// marker appended, the same output for any chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { dotStuffTransform } from './dotstuff.ts';

async function stuff(chunks: string[]): Promise<string> {
  const out = await buffer(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(dotStuffTransform()));
  return out.toString('latin1');
}

test('lines starting with a dot get one more dot and the message ends with CRLF.CRLF', async () => {
  assert.equal(await stuff(['.a\r\nb\r\n..c\r\n']), '..a\r\nb\r\n...c\r\n.\r\n');
});

test('a message without a final line end gets CRLF before the end marker', async () => {
  assert.equal(await stuff(['a\r\nb']), 'a\r\nb\r\n.\r\n');
});

test('an empty message is just the end marker', async () => {
  assert.equal(await stuff([]), '.\r\n');
});

test('bare LF and bare CR are sent as CRLF, so no smuggling sequence leaves us', async () => {
  assert.equal(await stuff(['a\n.\nb\r.\rc\r']), 'a\r\n..\r\nb\r\n..\r\nc\r\n.\r\n');
});

test('a CRLF or a leading dot split across chunks is handled like one chunk', async () => {
  const whole = await stuff(['a\r\n.b\r\n\r\n.\r']);
  const s = 'a\r\n.b\r\n\r\n.\r';
  for (let cut = 1; cut < s.length; cut++) assert.equal(await stuff([s.slice(0, cut), s.slice(cut)]), whole, `cut at ${cut}`);
  assert.equal(await stuff(s.split('')), whole);
});
