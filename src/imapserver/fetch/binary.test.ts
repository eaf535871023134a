// Streamed BINARY decoding gives exactly what src/mime decodeTransfer gives on the whole body,
// however the input is cut into chunks (cuts inside quanta, escapes, soft breaks, padding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTransfer } from '../../mime/index.ts';
import { decodeStream, knownEncoding, measure, slice } from './binary.ts';

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of src) out.push(c);
  return Buffer.concat(out);
}

async function* chunks(b: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let pos = 0;
  for (let i = 0; pos < b.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield b.subarray(pos, pos + n);
    pos += n;
  }
}

const qp = Buffer.from(
  'caf=C3=A9 with trailing spaces   \r\nsoft=\r\nbreak and =3D sign=\r\n' +
    'padding before soft break =  \r\n' +
    'bare = kept, lower =c3=a9, bad =ZZ\nlf line   \nend without newline=',
);
const b64 = Buffer.from(Buffer.from('binary \x00\x01\x02 data, and more of it to cross several chunks '.repeat(20)).toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n');
const b64Odd = Buffer.from('QUJD\r\nRA==RUZH\r\n!!SElK*TA\r\n='); // padding mid-stream, junk characters, a trailing partial quantum

test('base64 and quoted-printable decode the same in any chunking as in one piece', async () => {
  for (const [input, enc] of [[qp, 'quoted-printable'], [b64, 'base64'], [b64Odd, 'base64'], [b64, 'BASE64 ']] as const) {
    const whole = decodeTransfer(input, enc);
    for (const sizes of [[1], [2], [3], [5, 1, 7], [64], [1 << 20]]) {
      assert.deepEqual(await collect(decodeStream(chunks(input, sizes), enc)), whole, `${enc} in chunks of ${sizes.join(',')}`);
    }
  }
});

test('a quoted-printable line longer than the carry limit is cut where nothing is pending', async () => {
  const long = Buffer.from(('x=3Dy ' + 'a'.repeat(50) + '= ').repeat(4000) + '\r\nend  \r\n');
  assert.deepEqual(await collect(decodeStream(chunks(long, [4096]), 'quoted-printable')), decodeTransfer(long, 'quoted-printable'));
});

test('identity encodings pass through; unknown encodings are not known (NO [UNKNOWN-CTE])', async () => {
  const data = Buffer.from('as =3D is\r\n');
  assert.deepEqual(await collect(decodeStream(chunks(data, [3]), '8bit')), data);
  assert.deepEqual(await collect(decodeStream(chunks(data, [3]), null)), data);
  for (const e of [null, '7bit', '8BIT', 'binary', 'base64', 'Quoted-Printable']) assert.ok(knownEncoding(e), String(e));
  for (const e of ['x-uuencode', 'binhex', '']) assert.ok(!knownEncoding(e), e);
});

test('slice and measure: a window of a stream, its size and whether the window holds NUL', async () => {
  const data = Buffer.from('abc\x00defghij');
  assert.equal((await collect(slice(chunks(data, [3]), 2, 7))).toString('latin1'), 'c\x00def');
  assert.equal((await collect(slice(chunks(data, [3]), 20, 30))).length, 0);
  assert.deepEqual(await measure(chunks(data, [2])), { size: 11, nul: true });
  assert.deepEqual(await measure(chunks(data, [2]), 4, 11), { size: 11, nul: false });
  assert.deepEqual(await measure(chunks(data, [2]), 3, 4), { size: 11, nul: true });
});
