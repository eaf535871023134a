// Export then import into a fresh account, for every format and archive: the same
// mailboxes (nested, UTF-8, odd names, empty ones), and per message the same bytes, flags,
// keywords and internal date. The archives are also listed with the system's own tools.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Account } from '../store/index.ts';
import { importMail, type ExportOptions, type ImportProgress } from './index.ts';
import { dump, fixture, needs, type Fixture } from './testfixture.ts';

const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'));

/** A source account with what a round trip must keep. */
async function fill(a: Account): Promise<void> {
  const at = (iso: string) => new Date(iso);
  await a.append('INBOX', { data: crlf('Subject: plain\nFrom: a@example.org\n\nhello\n'), flags: ['\\Seen'], keywords: ['$Forwarded', 'Junk'], internalDate: at('2024-03-01T10:11:12Z') });
  await a.append('INBOX', {
    // mboxrd: "From " lines at every quoting depth must come back unchanged
    data: crlf('Subject: from lines\n\nFrom here on\n>From quoted\n>>From twice\nFrom MAILER-DAEMON Thu Jan  1 00:00:00 1970\n\nFrom \n'),
    flags: ['\\Answered', '\\Flagged', '\\Draft', '\\Deleted'],
    internalDate: at('1999-12-31T23:59:59Z'),
  });
  const eightBit = Buffer.concat([crlf('Subject: =?utf-8?q?caf=C3=A9?=\nContent-Type: text/plain; charset=latin1\nContent-Transfer-Encoding: 8bit\n\n'), Buffer.from([0xe9, 0xff, 0x80, 0x00, 0x0d, 0x0a]), Buffer.from('Grüße ☃\r\n')]);
  await a.append('INBOX', { data: eightBit, keywords: ['$label1'], internalDate: at('2023-01-02T03:04:05Z') });
  await a.append('INBOX', { data: crlf('Subject: header only, no empty line\n'), internalDate: at('2022-02-02T02:02:02Z') });
  // Over the 1 MiB kept in memory on import, with a line over the 64 KiB line hold.
  const big = Buffer.concat([crlf('Subject: big\n\n'), Buffer.alloc(200_000, 'x'), crlf('\nFrom inside a long message\n'), Buffer.alloc(1_500_000, 'abcdefghij\r\n')]);
  await a.append('INBOX', { data: big, flags: ['\\Seen'], internalDate: at('2021-06-07T08:09:10Z') });
  for (const name of ['Archive/2020', 'Küche/Entwürfe', '日本語', 'Archive/cur', 'Lists/new/Weekly', '.hidden', '100%', 'Empty']) await a.createMailbox(name);
  await a.append('Archive', { data: crlf('Subject: archived\n\nold\n'), flags: ['\\Seen'], internalDate: at('2020-05-05T05:05:05Z') });
  await a.append('Archive/2020', { data: crlf('Subject: nested\n\nbody\n'), keywords: ['NonJunk'], internalDate: at('2020-01-01T00:00:00Z') });
  await a.append('Küche/Entwürfe', { data: crlf('Subject: utf8 mailbox\n\nbody\n'), flags: ['\\Draft'], internalDate: at('2019-01-01T00:00:00Z') });
  await a.append('日本語', { data: crlf('Subject: cjk\n\n本文\n'), internalDate: at('2018-01-01T00:00:00Z') });
  await a.append('Archive/cur', { data: crlf('Subject: a mailbox named like a maildir folder\n\nx\n'), internalDate: at('2017-01-01T00:00:00Z') });
  await a.append('Lists/new/Weekly', { data: crlf('Subject: below a level named like a maildir folder\n\nx\n'), internalDate: at('2017-01-01T00:00:00Z') });
  await a.append('.hidden', { data: crlf('Subject: dot\n\nx\n'), internalDate: at('2016-01-01T00:00:00Z') });
  await a.append('100%', { data: crlf('Subject: percent\n\nx\n'), internalDate: at('2015-01-01T00:00:00Z') });
}

const combinations: ExportOptions[] = [
  { format: 'mbox', archive: 'zip' },
  { format: 'mbox', archive: 'tgz' },
  { format: 'maildir', archive: 'zip' },
  { format: 'maildir', archive: 'tgz' },
];

describe('round trip', () => {
  let f: Fixture;
  let source: Account;
  let expected: Awaited<ReturnType<typeof dump>>;

  before(async () => {
    f = await fixture();
    source = await f.account();
    await fill(source);
    expected = await dump(source);
  });
  after(() => f.done());

  for (const o of combinations) {
    test(`${o.format} in ${o.archive} keeps mailboxes, bytes, flags, keywords and internal dates`, async () => {
      const { path, result } = await f.exportFile(source, o, `all-${o.format}.${o.archive}`);
      assert.deepEqual(result, { mailboxes: Object.keys(expected).length, messages: 13, skipped: 0, keywordsDropped: 0 });
      const target = await f.account();
      const progress: ImportProgress[] = [];
      const r = await importMail(target, path, { onProgress: (p) => progress.push(p) });
      assert.deepEqual(r.errors, []);
      assert.equal(r.fatal, undefined);
      assert.equal(r.imported, 13);
      assert.ok(r.mailboxes.includes('Küche/Entwürfe') && r.mailboxes.includes('Archive/2020') && r.mailboxes.includes('Empty'), r.mailboxes.join(', '));
      const got = await dump(target);
      assert.deepEqual(Object.keys(got), Object.keys(expected));
      for (const name of Object.keys(expected)) assert.deepEqual(got[name], expected[name], `mailbox ${name}`);
      // Progress: after each message, counting up, with a fraction that ends at 1.
      assert.equal(progress.filter((p) => p.done > 0).length >= 13, true);
      assert.deepEqual(progress.map((p) => p.done), [...progress.map((p) => p.done)].sort((a, b) => a - b));
      assert.equal(progress.at(-1)?.fraction, 1);
      assert.ok(progress.every((p) => p.fraction >= 0 && p.fraction <= 1));
      if (o.format === 'maildir') assert.ok(progress.every((p) => p.total === 13), 'a maildir archive has a known message count');
    });
  }

  test('one mailbox exports alone, and imports under its own name', async () => {
    const { path, result } = await f.exportFile(source, { mailbox: 'Archive/2020', format: 'mbox', archive: 'zip' }, 'one.zip');
    assert.equal(result.mailboxes, 1);
    assert.equal(result.messages, 1);
    const target = await f.account();
    const r = await importMail(target, path);
    assert.deepEqual(r, { mailboxes: ['Archive/2020'], imported: 1, errors: [] });
    assert.deepEqual((await dump(target))['Archive/2020'], expected['Archive/2020']);
  });

  test('an unknown mailbox is a NONEXISTENT store error before anything is written', async () => {
    await assert.rejects(f.exportFile(source, { mailbox: 'Nope', format: 'mbox', archive: 'zip' }, 'nope.zip'), { code: 'NONEXISTENT' });
  });

  test('the tgz lists with tar, the zip with python zipfile and unzip', { skip: needs('tar', 'python3', 'unzip') }, async () => {
    const tgz = (await f.exportFile(source, { format: 'maildir', archive: 'tgz' }, 'list.tgz')).path;
    const tarList = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n');
    assert.ok(tarList.includes('Küche/Entwürfe/cur/'), 'pax path of a UTF-8 name');
    assert.ok(tarList.includes('INBOX/dovecot-keywords'));
    assert.ok(tarList.some((l) => /^INBOX\/cur\/1709287872\.M1P\d+\.mailcove,S=\d+:2,Sac$/.test(l)), tarList.filter((l) => l.startsWith('INBOX/cur/')).join('\n'));
    assert.ok(tarList.includes('%2Ehidden/cur/'));
    execFileSync('tar', ['-xzf', tgz, '-C', f.dir]); // extracts cleanly (checksums, padding, pax records)
    const zip = (await f.exportFile(source, { format: 'mbox', archive: 'zip' }, 'list.zip')).path;
    const pyList = execFileSync('python3', ['-m', 'zipfile', '-l', zip], { encoding: 'utf8' });
    assert.match(pyList, /Küche\/Entwürfe\.mbox/);
    assert.match(pyList, /Archive\/2020\.mbox/);
    execFileSync('python3', ['-m', 'zipfile', '-t', zip]); // CRCs
    const unzipList = execFileSync('unzip', ['-l', zip], { encoding: 'utf8' });
    assert.match(unzipList, /INBOX\.mbox/);
    execFileSync('unzip', ['-tq', zip]);
  });
});
