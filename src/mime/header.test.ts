import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeEncodedWords, fieldColon, headerValue, headerValues, parseHeader, unfold } from './header.ts';

describe('parseHeader', () => {
  test('fields carry raw values with folding kept and byte offsets that slice back to the field', () => {
    const buf = Buffer.from('Subject: hello\r\n  world\r\nTo: a@b.example\r\n\r\nbody\r\n');
    const fields = parseHeader(buf);
    assert.deepEqual(fields.map((f) => f.name), ['Subject', 'To']);
    assert.equal(fields[0]!.value.toString(), ' hello\r\n  world');
    assert.equal(buf.subarray(fields[0]!.start, fields[0]!.end).toString(), 'Subject: hello\r\n  world\r\n');
    assert.equal(buf.subarray(fields[1]!.start, fields[1]!.end).toString(), 'To: a@b.example\r\n');
    assert.equal(headerValue(fields, 'subject'), 'hello  world');
  });

  test('stops at the empty line, unfolds by removing only the line break (RFC 5322 §2.2.3), accepts bare LF, obsolete space before colon and skips junk lines', () => {
    const buf = Buffer.from('X-A : 1\nnot a field\nX-A: 2\n\tcont\n\nX-A: 3\n');
    const fields = parseHeader(buf);
    assert.deepEqual(headerValues(fields, 'x-a'), ['1', '2\tcont']);
    assert.equal(fields[0]!.key, 'x-a');
    assert.equal(buf.subarray(fields[1]!.start, fields[1]!.end).toString(), 'X-A: 2\n\tcont\n');
  });

  test('a header without final line break and a leading continuation do not throw', () => {
    const fields = parseHeader(Buffer.from(' orphan\r\nA: x'));
    assert.equal(fields.length, 1);
    assert.equal(fields[0]!.value.toString(), ' x');
    assert.deepEqual(parseHeader(Buffer.alloc(0)), []);
  });

  test('fieldColon finds the colon only after a valid field name', () => {
    assert.equal(fieldColon(Buffer.from('Subject: x')), 7);
    assert.equal(fieldColon(Buffer.from('Subject  : x')), 9);
    assert.equal(fieldColon(Buffer.from(': x')), -1);
    assert.equal(fieldColon(Buffer.from('no colon here')), -1);
  });

  test('unfold reads UTF-8 raw headers (RFC 6532) and falls back to windows-1252 for 8-bit garbage', () => {
    assert.equal(unfold(Buffer.from(' Grüße aus Köln ', 'utf8')), 'Grüße aus Köln');
    assert.equal(unfold(Buffer.from([0x20, 0x43, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x78, 0x94])), 'Café “x”');
  });
});

describe('decodeEncodedWords', () => {
  const cases: [string, string, string][] = [
    ['UTF-8 base64', '=?UTF-8?B?w6nDqMOg?=', 'éèà'],
    ['ISO-8859-1 Q (RFC 2047 §8 example)', '=?ISO-8859-1?Q?Andr=E9?= Pirard', 'André Pirard'],
    ['ISO-2022-JP base64', '=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=', 'テスト'],
    ['windows-1252 Q with underscore as space', '=?windows-1252?Q?=93quoted=94_=80?=', '“quoted” €'],
    ['GBK base64', '=?GBK?B?1tDOxA==?=', '中文'],
    ['GB2312 Q', '=?gb2312?Q?=D6=D0=CE=C4?=', '中文'],
    ['KOI8-R Q', '=?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?=', 'Привет'],
    ['lowercase encoding letter and RFC 2231 language', '=?utf-8*en?q?caf=C3=A9?=', 'café'],
    ['adjacent words joined, whitespace between dropped (RFC 2047 §6.2)', '(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)', '(a b)'],
    ['character split across two words', '=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=', 'é'],
    ['text after a word keeps its space', '=?UTF-8?Q?a?= b  =?UTF-8?Q?c?=', 'a b  c'],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(decodeEncodedWords(input), expected));
  }

  test('malformed words, unknown charsets and UTF-7 are left as they are', () => {
    for (const s of ['=?utf-8?X?abc?=', '=?no-such-charset?Q?abc?=', '=?utf-8?Q?unterminated', '=?utf-7?Q?+ADw-script+AD4-?=', '=??Q?x?=']) {
      assert.equal(decodeEncodedWords(s), s);
    }
  });

  test('a Buffer is unfolded first and may hold raw UTF-8 next to encoded words', () => {
    const raw = Buffer.from(' Re: Grüße\r\n =?UTF-8?B?w6nDqMOg?=', 'utf8');
    assert.equal(decodeEncodedWords(raw), 'Re: Grüße éèà');
  });
});

test('headerEnd finds the empty line ending the header, with CRLF, bare LF or mixed line ends', async () => {
  const { headerEnd } = await import('./header.ts');
  const cases: Array<[string, number]> = [
    ['A: b\r\n\r\nbody', 8], ['A: b\n\nbody', 6], ['A: b\n\r\nbody', 7], ['A: b\r\n\nbody', 7], ['\r\nbody', 2], ['\nbody', 1],
    ['A: b\r\n', -1], ['A: b\r\n\r', -1], ['', -1], ['A: b\r\n c\r\n\r\n', 12],
  ];
  for (const [text, want] of cases) assert.equal(headerEnd(Buffer.from(text)), want, JSON.stringify(text));
});
