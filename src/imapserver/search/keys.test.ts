// The SEARCH criteria grammar: every key of RFC 9051 §6.4.4 and the extensions, nesting,
// OR/NOT, and syntax errors answered BAD with text that says what was wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser, type CommandPart } from '../parser.ts';
import { isImapError } from '../errors.ts';
import { conjuncts, contentNeeds, parseCriteria, usesModseq, usesSaved, type SearchKey } from './keys.ts';

/** Criteria as the reader hands them over: text, with each `{n}CRLF` literal as a part of its own. */
function parts(criteria: string): CommandPart[] {
  const out: CommandPart[] = [];
  let rest = criteria;
  for (let m = /\{(\d+)\}\r\n/.exec(rest); m; m = /\{(\d+)\}\r\n/.exec(rest)) {
    out.push(Buffer.from(rest.slice(0, m.index), 'utf8'));
    const data = Buffer.from(rest.slice(m.index + m[0].length), 'utf8').subarray(0, Number(m[1]));
    out.push({ kind: 'memory', data, binary: false });
    rest = Buffer.from(rest.slice(m.index + m[0].length), 'utf8').subarray(data.length).toString('utf8');
  }
  out.push(Buffer.from(rest, 'utf8'));
  return out.filter((x) => !Buffer.isBuffer(x) || x.length > 0);
}

function parse(criteria: string, sequences = true): SearchKey {
  return parseCriteria(new Parser(parts(criteria)), { sequences, text: (b) => b.toString('utf8') });
}

function badText(criteria: string, sequences = true): string {
  try {
    parse(criteria, sequences);
  } catch (e) {
    assert.ok(isImapError(e), String(e));
    assert.equal(e.status, 'BAD');
    return e.message;
  }
  assert.fail(`parsed: ${criteria}`);
}

const day = (y: number, m: number, d: number): number => Date.UTC(y, m, d);

test('every RFC 9051 search key parses to its key', () => {
  const cases: [string, SearchKey][] = [
    ['ALL', { k: 'all' }],
    ['ANSWERED', { k: 'flag', flag: '\\Answered', system: true, set: true }],
    ['UNANSWERED', { k: 'flag', flag: '\\Answered', system: true, set: false }],
    ['DELETED', { k: 'flag', flag: '\\Deleted', system: true, set: true }],
    ['UNDELETED', { k: 'flag', flag: '\\Deleted', system: true, set: false }],
    ['DRAFT', { k: 'flag', flag: '\\Draft', system: true, set: true }],
    ['UNDRAFT', { k: 'flag', flag: '\\Draft', system: true, set: false }],
    ['FLAGGED', { k: 'flag', flag: '\\Flagged', system: true, set: true }],
    ['UNFLAGGED', { k: 'flag', flag: '\\Flagged', system: true, set: false }],
    ['seen', { k: 'flag', flag: '\\Seen', system: true, set: true }],
    ['UNSEEN', { k: 'flag', flag: '\\Seen', system: true, set: false }],
    ['KEYWORD $Forwarded', { k: 'flag', flag: '$forwarded', system: false, set: true }],
    ['UNKEYWORD Work', { k: 'flag', flag: 'work', system: false, set: false }],
    ['KEYWORD \\seen', { k: 'flag', flag: '\\Seen', system: true, set: true }],
    ['BCC "bob"', { k: 'header', name: 'bcc', value: 'bob' }],
    ['CC Bob', { k: 'header', name: 'cc', value: 'bob' }],
    ['FROM {5}\r\nAlice', { k: 'header', name: 'from', value: 'alice' }],
    ['FROM {6}\r\nÄlice SEEN', { k: 'and', keys: [{ k: 'header', name: 'from', value: 'älice' }, { k: 'flag', flag: '\\Seen', system: true, set: true }] }],
    ['TO x', { k: 'header', name: 'to', value: 'x' }],
    ['SUBJECT "Grüße"', { k: 'header', name: 'subject', value: 'grüße' }],
    ['HEADER Message-ID "<a@b>"', { k: 'header', name: 'message-id', value: '<a@b>' }],
    ['HEADER X-Spam ""', { k: 'header', name: 'x-spam', value: '' }],
    ['BODY tulips', { k: 'body', value: 'tulips' }],
    ['TEXT "Two Words"', { k: 'text', value: 'two words' }],
    ['BEFORE 1-Feb-2024', { k: 'date', field: 'internal', op: 'before', day: day(2024, 1, 1) }],
    ['ON "15-mar-2024"', { k: 'date', field: 'internal', op: 'on', day: day(2024, 2, 15) }],
    ['SINCE 31-Dec-1999', { k: 'date', field: 'internal', op: 'since', day: day(1999, 11, 31) }],
    ['SENTBEFORE 1-Jan-2024', { k: 'date', field: 'sent', op: 'before', day: day(2024, 0, 1) }],
    ['SENTON 2-Jan-2024', { k: 'date', field: 'sent', op: 'on', day: day(2024, 0, 2) }],
    ['SENTSINCE 3-Jan-2024', { k: 'date', field: 'sent', op: 'since', day: day(2024, 0, 3) }],
    ['LARGER 1000', { k: 'larger', n: 1000 }],
    ['SMALLER 5000000000', { k: 'smaller', n: 5_000_000_000 }],
    ['UID 1:3,7,9:*', { k: 'uid', set: { kind: 'set', ranges: [[1, 3], [7, 7], [9, '*']] } }],
    ['2:4', { k: 'seq', set: { kind: 'set', ranges: [[2, 4]] } }],
    ['*', { k: 'seq', set: { kind: 'set', ranges: [['*', '*']] } }],
    ['$', { k: 'seq', set: { kind: 'saved' } }],
    ['UID $', { k: 'uid', set: { kind: 'saved' } }],
    ['NOT SEEN', { k: 'not', key: { k: 'flag', flag: '\\Seen', system: true, set: true } }],
    ['RECENT', { k: 'recent' }],
    ['NEW', { k: 'new' }],
    ['OLD', { k: 'old' }],
    ['KEYWORD \\Recent', { k: 'recent' }],
    ['MODSEQ 0', { k: 'modseq', n: 0 }],
    ['MODSEQ "/flags/\\\\draft" all 620162338', { k: 'modseq', n: 620162338 }],
    ['OLDER 3600', { k: 'older', seconds: 3600 }],
    ['YOUNGER 60', { k: 'younger', seconds: 60 }],
    ['SAVEDBEFORE 1-Jan-2025', { k: 'date', field: 'saved', op: 'before', day: day(2025, 0, 1) }],
    ['SAVEDON 1-Jan-2025', { k: 'date', field: 'saved', op: 'on', day: day(2025, 0, 1) }],
    ['SAVEDSINCE 1-Jan-2025', { k: 'date', field: 'saved', op: 'since', day: day(2025, 0, 1) }],
    ['SAVEDATESUPPORTED', { k: 'savedatesupported' }],
  ];
  for (const [criteria, want] of cases) assert.deepEqual(parse(criteria), want, criteria);
});

test('keys in a row are ANDed; parentheses group; OR takes two keys and NOT one', () => {
  assert.deepEqual(parse('SEEN FLAGGED'), { k: 'and', keys: [{ k: 'flag', flag: '\\Seen', system: true, set: true }, { k: 'flag', flag: '\\Flagged', system: true, set: true }] });
  assert.deepEqual(parse('(SEEN)'), { k: 'flag', flag: '\\Seen', system: true, set: true });
  const k = parse('OR (SEEN FROM a) NOT (OR DRAFT 1:2) LARGER 10');
  assert.equal(k.k, 'and');
  if (k.k !== 'and') return;
  assert.equal(k.keys.length, 2);
  const or = k.keys[0]!;
  assert.equal(or.k, 'or');
  if (or.k !== 'or') return;
  assert.equal(or.a.k, 'and');
  assert.equal(or.b.k, 'not');
  if (or.b.k === 'not') assert.equal(or.b.key.k, 'or');
  assert.deepEqual(k.keys[1], { k: 'larger', n: 10 });
  // NOT and OR bind to the single key after them (RFC 9051 §6.4.4 example: OR applies to the next two keys).
  const n = parse('NOT SEEN DRAFT');
  assert.equal(n.k, 'and');
  if (n.k === 'and') assert.deepEqual(n.keys.map((x) => x.k), ['not', 'flag']);
  // Nested groups are conjuncts too, so a set inside them still narrows what is read.
  assert.deepEqual(conjuncts(parse('SEEN (UID 5 (DRAFT))')).map((x) => x.k), ['flag', 'uid', 'flag']);
});

test('what a key needs: header for header keys, SENT* and TEXT; the BODY and TEXT strings; MODSEQ and "$"', () => {
  assert.deepEqual(contentNeeds(parse('SEEN LARGER 5 SINCE 1-Jan-2024 UID 1:*')), { header: false, body: [], text: [] });
  assert.deepEqual(contentNeeds(parse('SENTON 1-Jan-2024')), { header: true, body: [], text: [] });
  assert.deepEqual(contentNeeds(parse('OR BODY Foo NOT TEXT bar BODY foo')), { header: true, body: ['foo'], text: ['bar'] });
  assert.equal(usesModseq(parse('OR SEEN NOT MODSEQ 5')), true);
  assert.equal(usesModseq(parse('SEEN')), false);
  assert.equal(usesSaved(parse('NOT (UID $)')), true);
  assert.equal(usesSaved(parse('UID 1')), false);
});

test('syntax errors are BAD and say what was expected where', () => {
  assert.equal(badText('FROB'), 'unknown search key FROB');
  assert.equal(badText('SEEN FROB'), 'unknown search key FROB');
  assert.match(badText('FROM'), /^syntax error: expected a space at end of command$/);
  assert.match(badText('OR SEEN'), /^syntax error: expected a space/);
  assert.match(badText('NOT'), /^syntax error: expected a space/);
  assert.match(badText('(SEEN'), /^syntax error: expected "\)" at end of command$/);
  assert.match(badText('()'), /^syntax error: expected a list item/);
  assert.match(badText('SEEN)'), /^syntax error: expected end of command at "\)"/);
  assert.match(badText('SEEN '), /^syntax error: expected a search key at end of command$/);
  assert.equal(badText('SINCE 1-Foo-2024'), 'SINCE needs a date as 1-Feb-2024 (invalid month)');
  assert.equal(badText('SENTON 2024-01-01'), 'SENTON needs a date as 1-Feb-2024 (number out of range (max 31))');
  assert.match(badText('LARGER x'), /^syntax error: expected a number at "x"/);
  assert.match(badText('OLDER 0'), /^number must not be zero$/);
  assert.match(badText('UID 0'), /^number must not be zero$/);
  assert.match(badText('UID'), /^syntax error: expected a space/);
  assert.match(badText('KEYWORD \\Bogus'), /^unknown system flag \\Bogus$/);
  assert.match(badText('MODSEQ "/flags/\\\\seen" mine 5'), /^MODSEQ entry type must be priv, shared or all$/);
  assert.match(badText('HEADER Subject'), /^syntax error: expected a space/);
  assert.equal(badText('1:3', false), 'sequence numbers are not allowed here, use UID');
  assert.deepEqual(parse('$', false), { k: 'seq', set: { kind: 'saved' } }); // "$" holds UIDs: fine where sequence numbers are not
  assert.equal(badText('NOT '.repeat(150) + 'SEEN'), 'search criteria nested too deeply');
  assert.equal(badText('('.repeat(150) + 'SEEN' + ')'.repeat(150)), 'search criteria nested too deeply');
});

test('search strings that are not valid in the charset are BAD, through the decoder the command gives', () => {
  const p = new Parser([Buffer.concat([Buffer.from('SUBJECT "'), Buffer.from([0xff, 0xfe]), Buffer.from('"')])]);
  assert.throws(() => parseCriteria(p, { sequences: true, text: () => { throw new Error('undecodable'); } }), /undecodable/);
});
