// The FETCH item grammar (RFC 9051 §9 fetch-att, RFC 3516, RFC 7162, RFC 8970): what parses
// to what, response labels, and what is a BAD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser } from '../parser.ts';
import { isImapError } from '../errors.ts';
import { parseFetch, type FetchRequest } from './items.ts';

const parse = (text: string): FetchRequest => parseFetch(new Parser([Buffer.from(text)]));

function badText(text: string): string {
  try {
    parse(text);
  } catch (e) {
    assert.ok(isImapError(e) && e.status === 'BAD', String(e));
    return e.message;
  }
  assert.fail(`parsed: ${text}`);
}

test('macros, single items and lists, case-insensitive', () => {
  assert.deepEqual(parse('all').items.map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  assert.deepEqual(parse('FAST').items.map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(parse('Full').items.map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  assert.deepEqual(parse('uid').items, [{ kind: 'UID' }]);
  assert.deepEqual(parse('(uid flags Bodystructure body modseq savedate preview rfc822.size)').items.map((i) => i.kind), ['UID', 'FLAGS', 'BODYSTRUCTURE', 'BODY', 'MODSEQ', 'SAVEDATE', 'PREVIEW', 'RFC822.SIZE']);
  assert.match(badText('(ALL)'), /unknown fetch item ALL/); // RFC 9051 §9: macros only alone
  assert.match(badText('(FLAGS'), /expected/);
  assert.match(badText('()'), /expected a list item/);
});

test('sections: part numbers, HEADER, HEADER.FIELDS(.NOT) lists, TEXT, MIME, partial; labels as answered', () => {
  const r = parse('(BODY[] BODY.PEEK[1.2.3] body[header] BODY[2.HEADER.FIELDS (From "X-Odd Name" to)]<0.100> BODY[HEADER.FIELDS.NOT (Received)] BODY[3.TEXT] BODY[1.MIME])');
  assert.deepEqual(
    r.items.map((i) => (i.kind === 'section' ? [i.label, i.peek, i.section.path, i.section.text, i.section.fields, i.partial] : i.kind)),
    [
      ['BODY[]', false, [], '', [], undefined],
      ['BODY[1.2.3]', true, [1, 2, 3], '', [], undefined],
      ['BODY[HEADER]', false, [], 'HEADER', [], undefined],
      ['BODY[2.HEADER.FIELDS (From "X-Odd Name" to)]', false, [2], 'HEADER.FIELDS', ['From', 'X-Odd Name', 'to'], { origin: 0, length: 100 }],
      ['BODY[HEADER.FIELDS.NOT (Received)]', false, [], 'HEADER.FIELDS.NOT', ['Received'], undefined],
      ['BODY[3.TEXT]', false, [3], 'TEXT', [], undefined],
      ['BODY[1.MIME]', false, [1], 'MIME', [], undefined],
    ],
  );
  assert.equal(badText('BODY[MIME]'), 'MIME needs a part number');
  assert.match(badText('BODY[0]'), /expected/);
  assert.match(badText('BODY[1.]'), /HEADER, TEXT or MIME/);
  assert.match(badText('BODY[HEADER.FIELDS ()]'), /expected/);
  assert.match(badText('BODY[TEXT]<0.0>'), /zero/); // RFC 9051 §9 partial: nz-number64 length
  assert.match(badText('BODY.PEEK'), /expected "\["/);
  assert.match(badText('BODY[99999999999]'), /too large/);
});

test('RFC822 forms are BODY[] (sets \\Seen), BODY.PEEK[HEADER] and BODY[TEXT] under their own labels', () => {
  const r = parse('(RFC822 RFC822.HEADER RFC822.TEXT)');
  assert.deepEqual(
    r.items.map((i) => (i.kind === 'section' ? [i.label, i.peek, i.section.text] : i.kind)),
    [
      ['RFC822', false, ''],
      ['RFC822.HEADER', true, 'HEADER'],
      ['RFC822.TEXT', false, 'TEXT'],
    ],
  );
});

test('BINARY, BINARY.PEEK and BINARY.SIZE take part numbers only (RFC 3516 §4.1)', () => {
  const r = parse('(BINARY[1.2]<10.5> BINARY.PEEK[] BINARY.SIZE[3])');
  assert.deepEqual(r.items, [
    { kind: 'binary', peek: false, path: [1, 2], partial: { origin: 10, length: 5 } },
    { kind: 'binary', peek: true, path: [], partial: undefined },
    { kind: 'binary.size', path: [3] },
  ]);
  assert.match(badText('BINARY[HEADER]'), /expected "\]"/);
});

test('repeated items are answered once; BODY[x] with BODY.PEEK[x] sets \\Seen', () => {
  const r = parse('(FLAGS BODY.PEEK[1] FLAGS BODY[1] BODY[1]<0.5> UID UID)');
  assert.deepEqual(
    r.items.map((i) => (i.kind === 'section' ? `${i.label}${i.partial ? '<>' : ''} peek=${i.peek}` : i.kind)),
    ['FLAGS', 'BODY[1] peek=false', 'BODY[1]<> peek=false', 'UID'],
  );
});

test('PREVIEW (LAZY) and fetch modifiers: CHANGEDSINCE, VANISHED (needs CHANGEDSINCE), each once', () => {
  assert.deepEqual(parse('PREVIEW (LAZY)').items, [{ kind: 'PREVIEW' }]);
  assert.deepEqual(parse('(PREVIEW (lazy) FLAGS)').items, [{ kind: 'PREVIEW' }, { kind: 'FLAGS' }]);
  let r = parse('PREVIEW (CHANGEDSINCE 7)');
  assert.deepEqual([r.items, r.changedSince, r.vanished], [[{ kind: 'PREVIEW' }], 7, false]);
  r = parse('(FLAGS) (CHANGEDSINCE 0 VANISHED)');
  assert.deepEqual([r.changedSince, r.vanished], [0, true]);
  r = parse('FLAGS (VANISHED CHANGEDSINCE 12345678901234)');
  assert.deepEqual([r.changedSince, r.vanished], [12345678901234, true]);
  assert.equal(badText('FLAGS (VANISHED)'), 'VANISHED needs CHANGEDSINCE');
  assert.equal(badText('FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)'), 'CHANGEDSINCE given twice');
  assert.match(badText('FLAGS (FROB)'), /CHANGEDSINCE or VANISHED/);
  assert.match(badText('FLAGS extra'), /expected "\(" at "extra"/);
});
