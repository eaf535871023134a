// mboxrd writing and reading (RFC 4155 Appendix A), and importing mbox files as mutt,
// Thunderbird and Dovecot write them: LF line ends, Status/X-Status/X-Keywords fields,
// plain or gzipped uploads.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { importMail } from './index.ts';
import { MboxReader, MboxRecordWriter, parseFromLineDate, type MboxEvent } from './mbox.ts';
import { dump, fixture, type Fixture } from './testfixture.ts';

function write(data: Buffer, attrs: ConstructorParameters<typeof MboxRecordWriter>[0], chunkSize = 3): Buffer {
  const w = new MboxRecordWriter(attrs);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) out.push(...w.push(data.subarray(i, i + chunkSize)));
  out.push(...w.end());
  return Buffer.concat(out);
}

function read(mbox: Buffer, chunkSize = 5): Array<{ date: Date | undefined; data: string; flags: string[]; keywords: string[] }> {
  const r = new MboxReader();
  const events: MboxEvent[] = [];
  for (let i = 0; i < mbox.length; i += chunkSize) events.push(...r.push(mbox.subarray(i, i + chunkSize)));
  events.push(...r.end());
  const out: Array<{ date: Date | undefined; data: string; flags: string[]; keywords: string[] }> = [];
  for (const e of events) {
    if (e.kind === 'begin') out.push({ date: e.date, data: '', flags: [], keywords: [] });
    else if (e.kind === 'data') out.at(-1)!.data += e.data.toString('latin1');
    else Object.assign(out.at(-1)!, { flags: e.flags.sort(), keywords: e.keywords });
  }
  return out;
}

const attrs = { flags: [], keywords: [], internalDate: new Date('2024-01-05T06:07:08Z') };

describe('mboxrd', () => {
  test('"From " and ">From " lines get one more ">", in the header and the body; CRLF becomes LF', () => {
    const msg = Buffer.from('From: x\r\n>From header\r\n\r\nFrom a\r\n>From b\r\n>>From c\r\nFromage\r\n From d\r\n');
    assert.equal(
      write(msg, attrs).toString(),
      'From MAILER-DAEMON Fri Jan  5 06:07:08 2024\nFrom: x\n>>From header\nStatus: O\n\n>From a\n>>From b\n>>>From c\nFromage\n From d\n\n',
    );
  });

  test('every chunking reads back to the same bytes', () => {
    const msg = Buffer.from('Subject: s\r\n\r\nFrom a\r\n>From b\r\n\r\n\r\nend without newline');
    const mbox = Buffer.concat([write(msg, attrs, 1), write(Buffer.from('Subject: two\r\n\r\n\r\n'), attrs, 7)]);
    for (const size of [1, 2, 3, 7, 64, 100000]) {
      const got = read(mbox, size);
      assert.equal(got.length, 2);
      assert.equal(got[0]!.data, 'Subject: s\r\n\r\nFrom a\r\n>From b\r\n\r\n\r\nend without newline\r\n', `chunks of ${size}`); // the last line gains its CRLF
      assert.equal(got[1]!.data, 'Subject: two\r\n\r\n\r\n');
      assert.deepEqual(got[0]!.date, attrs.internalDate);
    }
  });

  test('flags and keywords go in Status, X-Status and X-Keywords, folded, and are removed on reading', () => {
    const keywords = Array.from({ length: 12 }, (_, i) => `$keyword-number-${i}`);
    const mbox = write(Buffer.from('Subject: s\r\n\r\nbody\r\n'), { flags: ['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted'], keywords, internalDate: attrs.internalDate });
    const text = mbox.toString();
    assert.match(text, /\nStatus: RO\nX-Status: AFTD\nX-Keywords: \$keyword-number-0 /);
    assert.ok(text.split('\n').every((l) => l.length <= 78), 'folded');
    const [m] = read(mbox);
    assert.equal(m!.data, 'Subject: s\r\n\r\nbody\r\n');
    assert.deepEqual(m!.flags, ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen']);
    assert.deepEqual(m!.keywords, keywords);
  });

  test('a "From " line without a date is body text (an mboxo file that did not quote it)', () => {
    const got = read(Buffer.from('From a@b Sat Jan  3 01:05:34 1996\nSubject: s\n\nFrom the desk of\nbye\n'));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.data, 'Subject: s\r\n\r\nFrom the desk of\r\nbye\r\n');
  });

  test('From_ line dates: asctime, zones before or after the year, two-digit years, Thunderbird\'s "From - "', () => {
    assert.equal(parseFromLineDate('From a@b Sat Jan  3 01:05:34 1996')?.toISOString(), '1996-01-03T01:05:34.000Z');
    assert.equal(parseFromLineDate('From a@b Sat Jan 3 01:05:34 +0200 1996')?.toISOString(), '1996-01-02T23:05:34.000Z');
    assert.equal(parseFromLineDate('From a@b Sat Jan 3 01:05:34 1996 -0100')?.toISOString(), '1996-01-03T02:05:34.000Z');
    assert.equal(parseFromLineDate('From a@b Sat Jan 3 01:05 CET DST 96')?.toISOString(), '1996-01-03T01:05:00.000Z');
    assert.equal(parseFromLineDate('From - Mon Feb 12 09:30:00 2024')?.toISOString(), '2024-02-12T09:30:00.000Z');
    assert.equal(parseFromLineDate('From the desk of'), undefined);
  });
});

describe('mbox import', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.done());

  // As mutt writes a folder: LF line ends, Status/X-Status after the header fields, Dovecot's X-Keywords.
  const muttMbox = [
    'From alice@example.org Mon Feb 12 09:30:00 2024',
    'Subject: one',
    'Status: RO',
    'X-Keywords: $label1',
    '  NonJunk',
    '',
    'first',
    '>From quoted',
    '',
    'From bob@example.org Tue Feb 13 10:00:00 2024',
    'Subject: two',
    'X-Status: F',
    'Status: O',
    '',
    'second',
    '',
    '',
  ].join('\n');

  test('an uploaded .mbox file becomes the mailbox named like the file, with flags, keywords and dates', async () => {
    const path = `${f.dir}/upload-1`;
    await writeFile(path, muttMbox);
    const a = await f.account();
    const r = await importMail(a, path, { name: 'Lists/mutt.mbox' });
    assert.deepEqual(r, { mailboxes: ['Lists', 'Lists/mutt'], imported: 2, errors: [] });
    assert.deepEqual((await dump(a))['Lists/mutt'], [
      { data: 'Subject: one\r\n\r\nfirst\r\nFrom quoted\r\n', flags: ['\\Seen'], keywords: ['$label1', 'NonJunk'], internalDate: Date.parse('2024-02-12T09:30:00Z') },
      { data: 'Subject: two\r\n\r\nsecond\r\n', flags: ['\\Flagged'], keywords: [], internalDate: Date.parse('2024-02-13T10:00:00Z') },
    ]);
  });

  test('a gzipped mbox file is read the same; without a name it goes to "Imported"', async () => {
    const path = `${f.dir}/upload-2`;
    await writeFile(path, gzipSync(muttMbox));
    const a = await f.account();
    const r = await importMail(a, path);
    assert.deepEqual(r, { mailboxes: ['Imported'], imported: 2, errors: [] });
  });

  test('CRLF mbox files (as some Windows tools write them) keep single CRLFs', async () => {
    const path = `${f.dir}/upload-3`;
    await writeFile(path, muttMbox.replace(/\n/g, '\r\n'));
    const a = await f.account();
    await importMail(a, path, { name: 'x.mbox' });
    assert.equal((await dump(a))['x']![1]!.data, 'Subject: two\r\n\r\nsecond\r\n');
  });
});
