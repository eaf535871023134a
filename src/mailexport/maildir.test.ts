// Importing maildirs as Dovecot writes them (Maildir++ layout: the top folder is INBOX,
// ".Sent" and ".Archive.2020" are folders, names in modified UTF-7; a dovecot-keywords
// file per maildir; LF line ends; mtime as internal date), archived by the system's tar
// and zip, and the file-name rules on their own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, utimes, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { importMail, type ImportProgress } from './index.ts';
import { maildirFileName, parseKeywordsFile, parseMaildirFileName } from './maildir.ts';
import { dump, fixture, needs, type Fixture } from './testfixture.ts';

const t = (iso: string) => new Date(iso);

async function put(path: string, data: string, mtime: Date): Promise<void> {
  await mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  await writeFile(path, data);
  await utimes(path, mtime, mtime);
}

/** A Dovecot Maildir++ folder tree, files and all. */
async function dovecotMaildir(root: string): Promise<void> {
  await put(`${root}/cur/1700000000.M1P100.host,S=25,W=27:2,Sa`, 'Subject: one\n\nfirst\n', t('2023-11-14T22:13:20Z'));
  await put(`${root}/cur/1700000050.M5P100.host,S=25,W=27:2,PS`, 'Subject: passed\n\nfwd\n', t('2023-11-14T22:14:10Z'));
  await put(`${root}/new/1700000100.M2P100.host`, 'Subject: new\r\n\r\nunread\r\n', t('2023-11-14T22:15:00Z'));
  await put(`${root}/tmp/1700000200.M3P100.host`, 'Subject: half delivered', t('2023-11-14T22:16:40Z'));
  await put(`${root}/dovecot-keywords`, '0 $Forwarded\n1 Work\n', t('2023-11-14T00:00:00Z'));
  await put(`${root}/dovecot-uidlist`, '3 V1700000000 N3 G0\n1 :1700000000.M1P100.host\n', t('2023-11-14T00:00:00Z'));
  await put(`${root}/dovecot.index.log`, '\x01\x02binary', t('2023-11-14T00:00:00Z'));
  await put(`${root}/subscriptions`, 'Sent\nArchive.2020\n', t('2023-11-14T00:00:00Z'));
  await put(`${root}/.Sent/maildirfolder`, '', t('2023-11-14T00:00:00Z'));
  await put(`${root}/.Sent/cur/1700000300.M4P100.host,S=20:2,S`, 'Subject: sent\n\nhi\n', t('2023-11-14T22:18:20Z'));
  await mkdir(`${root}/.Sent/new`);
  await mkdir(`${root}/.Sent/tmp`);
  await put(`${root}/.Archive.2020/dovecot-keywords`, '0 Old\n1 Done\nnot a keyword line\n', t('2023-11-14T00:00:00Z'));
  await put(`${root}/.Archive.2020/cur/1600000000.M6P100.host:2,RSbz`, 'Subject: archived\n\nold\n', t('2020-09-13T12:26:40Z'));
  // Dovecot copies by hard link (maildir_copy_with_hardlinks): tar stores the second name as a link.
  await link(`${root}/.Sent/cur/1700000300.M4P100.host,S=20:2,S`, `${root}/.Archive.2020/cur/1700000300.M7P100.host,S=20:2,F`);
  await put(`${root}/.Entw&APw-rfe/cur/1500000000.M8P100.host:2,D`, 'Subject: draft\n\nd\n', t('2017-07-14T02:40:00Z'));
}

const expected = {
  INBOX: [
    { data: 'Subject: one\r\n\r\nfirst\r\n', flags: ['\\Seen'], keywords: ['$Forwarded'], internalDate: t('2023-11-14T22:13:20Z').getTime() },
    { data: 'Subject: passed\r\n\r\nfwd\r\n', flags: ['\\Seen'], keywords: ['$Forwarded'], internalDate: t('2023-11-14T22:14:10Z').getTime() },
    { data: 'Subject: new\r\n\r\nunread\r\n', flags: [], keywords: [], internalDate: t('2023-11-14T22:15:00Z').getTime() },
  ],
  Sent: [{ data: 'Subject: sent\r\n\r\nhi\r\n', flags: ['\\Seen'], keywords: [], internalDate: t('2023-11-14T22:18:20Z').getTime() }],
  'Archive/2020': [
    { data: 'Subject: archived\r\n\r\nold\r\n', flags: ['\\Answered', '\\Seen'], keywords: ['Done'], internalDate: t('2020-09-13T12:26:40Z').getTime() }, // z: no keyword in the file, ignored as Dovecot does
    { data: 'Subject: sent\r\n\r\nhi\r\n', flags: ['\\Flagged'], keywords: [], internalDate: t('2023-11-14T22:18:20Z').getTime() },
  ],
  Entwürfe: [{ data: 'Subject: draft\r\n\r\nd\r\n', flags: ['\\Draft'], keywords: [], internalDate: t('2017-07-14T02:40:00Z').getTime() }],
};

describe('maildir import', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
    await dovecotMaildir(`${f.dir}/home/Maildir`);
  });
  after(() => f.done());

  async function check(archive: string, hardLinks: boolean): Promise<void> {
    const a = await f.account();
    const progress: ImportProgress[] = [];
    const r = await importMail(a, archive, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(r.errors, []);
    assert.equal(r.fatal, undefined);
    assert.deepEqual(r.mailboxes, ['Archive/2020', 'Entwürfe', 'INBOX', 'Sent']);
    const got = await dump(a);
    // The messages' order within a mailbox follows the archive's, which the tools choose: compare sorted.
    const sorted = (l: unknown[] | undefined) => [...(l ?? [])].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    for (const [name, messages] of Object.entries(expected)) assert.deepEqual(sorted(got[name]), sorted(messages), `mailbox ${name} (${hardLinks ? 'tar' : 'zip'})`);
    assert.equal(r.imported, 7);
    assert.ok(progress.every((p) => p.total === 7), `count of message files: ${JSON.stringify(progress.at(-1))}`);
  }

  test('a tgz of ~/Maildir made by tar: Maildir++ folders, keywords, flags, mtimes, hard links', { skip: needs('tar') }, async () => {
    const archive = `${f.dir}/maildir.tgz`;
    execFileSync('tar', ['-czf', archive, '-C', `${f.dir}/home`, 'Maildir']);
    await check(archive, true);
  });

  test('a zip of the maildir\'s content made by zip: the top folder is INBOX', { skip: needs('zip') }, async () => {
    const archive = `${f.dir}/maildir.zip`;
    execFileSync('zip', ['-qr', archive, '.'], { cwd: `${f.dir}/home/Maildir` });
    await check(archive, false);
  });
});

describe('maildir names', () => {
  test('flags and keyword letters are read from the info, with ":", ";" or "!" before it', () => {
    assert.deepEqual(parseMaildirFileName('1700000000.M1P2.host,S=3:2,DFPRSTac'), { flags: ['\\Draft', '\\Flagged', '\\Answered', '\\Seen', '\\Deleted'], keywordIndexes: [0, 2], passed: true, seconds: 1700000000 });
    assert.deepEqual(parseMaildirFileName('1700000000.M1P2.host;2,S').flags, ['\\Seen']);
    assert.deepEqual(parseMaildirFileName('1700000000.M1P2.host!2,S').flags, ['\\Seen']);
    assert.deepEqual(parseMaildirFileName('1700000000.M1P2.host').flags, []);
    assert.equal(parseMaildirFileName('not-a-time').seconds, undefined);
  });

  test('written names list flags in ASCII order, then keyword letters', () => {
    const m = { uid: 7, modseq: 1, flags: ['\\Seen', '\\Draft', '\\Answered'] as const, keywords: ['b', 'a'], internalDate: t('2024-01-01T00:00:00Z'), saveDate: new Date(), size: 123, messageId: 'x' };
    assert.equal(maildirFileName({ ...m, flags: [...m.flags] }, 42, ['a', 'x', 'b']), '1704067200.M7P42.mailcove,S=123:2,DRSac');
  });

  test('dovecot-keywords lines are "<index> <keyword>"; others are ignored', () => {
    assert.deepEqual([...parseKeywordsFile(Buffer.from('0 $Forwarded\n1 Work\nbogus\n30 TooFar\n2 bad(atom\n'))], [[0, '$Forwarded'], [1, 'Work']]);
  });
});
