import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBase64, decodeCharset, decodeQuotedPrintable, decodeTransfer, isKnownCharset } from './decode.ts';

describe('decodeTransfer', () => {
  test('base64 across line breaks, in either line-ending style', () => {
    assert.equal(decodeTransfer(Buffer.from('SGVsbG8s\r\nIHdvcmxk\r\nIQ==\r\n'), 'base64').toString(), 'Hello, world!');
    assert.equal(decodeTransfer(Buffer.from('SGVsbG8s\nIHdvcmxkIQ==\n'), 'BASE64 ').toString(), 'Hello, world!');
  });

  test('base64 skips characters outside the alphabet (RFC 2045 §6.8) and binary bytes survive', () => {
    assert.equal(decodeBase64(Buffer.from('SGV*sb G8\x00s!IHdv~cmxk')).toString(), 'Hello, world');
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    assert.deepEqual(decodeBase64(Buffer.from(bytes.toString('base64'))), bytes);
  });

  test('base64 with padding in the middle (concatenated parts) and a truncated tail', () => {
    assert.equal(decodeBase64(Buffer.from('YQ==Yg==')).toString(), 'ab');
    assert.equal(decodeBase64(Buffer.from('SGVsbG')).toString(), 'Hell');
  });

  test('quoted-printable: escapes, soft breaks, transport whitespace, lowercase hex', () => {
    const qp = Buffer.from('caf=C3=A9 =\r\nau lait   \r\nline=3d2=\nend=e2=82=ac\n');
    assert.equal(decodeTransfer(qp, 'quoted-printable').toString('utf8'), 'café au lait\r\nline=2end€\n');
  });

  test('quoted-printable keeps a malformed "=" literally (RFC 2045 §6.7 note 2)', () => {
    assert.equal(decodeQuotedPrintable(Buffer.from('a=ZZb=4')).toString(), 'a=ZZb=4');
    assert.equal(decodeQuotedPrintable(Buffer.from('x = y =')).toString(), 'x = y ');
  });

  test('7bit, 8bit, binary, absent and unknown encodings return the bytes unchanged', () => {
    const body = Buffer.from([0x41, 0x0d, 0x0a, 0xff, 0x00, 0x3d]);
    for (const enc of ['7bit', '8bit', 'binary', null, 'x-uuencode']) assert.deepEqual(decodeTransfer(body, enc), body);
  });
});

describe('decodeCharset', () => {
  test('declared charsets: ISO-8859-1, windows-1252, KOI8-R, GBK, ISO-2022-JP, UTF-8', () => {
    assert.equal(decodeCharset(Buffer.from([0x41, 0x6e, 0x64, 0x72, 0xe9]), 'ISO-8859-1'), 'André');
    assert.equal(decodeCharset(Buffer.from([0x93, 0x78, 0x94, 0x20, 0x80]), 'windows-1252'), '“x” €');
    assert.equal(decodeCharset(Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), 'koi8-r'), 'Привет');
    assert.equal(decodeCharset(Buffer.from([0xd6, 0xd0, 0xce, 0xc4]), 'GBK'), '中文');
    assert.equal(decodeCharset(Buffer.from('GyRCJUYlOSVIGyhC', 'base64'), 'iso-2022-jp'), 'テスト');
    assert.equal(decodeCharset(Buffer.from('Grüße', 'utf8'), 'utf-8'), 'Grüße');
  });

  test('unknown or absent charset: UTF-8 when valid, windows-1252 otherwise', () => {
    assert.equal(decodeCharset(Buffer.from('Grüße', 'utf8'), 'x-unknown'), 'Grüße');
    assert.equal(decodeCharset(Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65]), null), 'Grüße');
    assert.equal(decodeCharset(Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65]), 'utf-8'), 'Grüße'); // mislabelled 8-bit
  });

  test('isKnownCharset refuses unknown names and UTF-7', () => {
    assert.equal(isKnownCharset('ISO-8859-15'), true);
    assert.equal(isKnownCharset('shift_jis'), true);
    assert.equal(isKnownCharset('no-such-charset'), false);
    assert.equal(isKnownCharset('utf-7'), false);
  });
});
