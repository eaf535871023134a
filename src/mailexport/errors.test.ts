// Import errors: a bad file or message is reported by name and the rest imports; a broken
// archive, an abort or a full quota stop the import, and the result still counts what
// was imported before.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { importMail } from './index.ts';
import { dump, fixture, needs, type Fixture } from './testfixture.ts';

const message = (subject: string, body = 'body') => `Subject: ${subject}\r\n\r\n${body}\r\n`;

/**
 * Raw deflate data (RFC 1951) inflating to head and then count copies of unit, at close to
 * deflate's 1032:1: unit is compressed once, and each copy ends in a full flush, so that it
 * stands alone and can be repeated; an empty final block (BFINAL 1, fixed codes) ends it.
 */
function deflateBomb(head: Buffer, unit: Buffer, count: number): Buffer {
  const o = { level: 9, finishFlush: constants.Z_FULL_FLUSH };
  const copy = deflateRawSync(unit, o);
  return Buffer.concat([deflateRawSync(head, o), ...Array<Buffer>(count).fill(copy), Buffer.from([0x03, 0x00])]);
}

/** A zip (APPNOTE 4.3.6) of one deflated entry that declares `usize` octets; CRC 0: a bomb is stopped before its end. */
function zipOf(name: string, data: Buffer, usize: number): Buffer {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); // APPNOTE 4.3.7
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflated
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(usize, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); // APPNOTE 4.3.12
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(usize, 24);
  central.writeUInt16LE(n.length, 28);
  const cdOffset = 30 + n.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // APPNOTE 4.3.16
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, data, central, n, end]);
}

describe('import errors', () => {
  let f: Fixture;
  let n = 0;
  const tree = async (files: Record<string, string | Buffer>): Promise<string> => {
    const dir = `${f.dir}/tree-${n++}`;
    for (const [path, data] of Object.entries(files)) {
      await mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ''), { recursive: true });
      await writeFile(`${dir}/${path}`, data);
    }
    return dir;
  };

  before(async () => {
    f = await fixture();
  });
  after(() => f.done());

  test('a zip entry with bad data, a file that is not mail and a bad name are reported; the rest imports', { skip: needs('zip') }, async () => {
    const dir = await tree({
      'A/cur/1.host:2,S': message('a1', 'CORRUPT-ME'),
      'A/cur/2.host:2,S': message('a2'),
      'notes.txt': 'just some notes\n',
      'bad\x01name.mbox': `From x Mon Feb 12 09:30:00 2024\n${message('b')}`,
      'B.mbox': `From x Mon Feb 12 09:30:00 2024\n${message('b1')}\nFrom x Mon Feb 12 09:30:00 2024\n${message('b2')}`,
    });
    const archive = `${f.dir}/bad.zip`;
    execFileSync('zip', ['-0qr', archive, '.'], { cwd: dir }); // stored: the bytes can be found and changed
    const data = await readFile(archive);
    data[data.indexOf('CORRUPT-ME')] = 0x58; // the CRC no longer matches
    await writeFile(archive, data);
    const a = await f.account();
    const r = await importMail(a, archive);
    assert.equal(r.fatal, undefined);
    assert.equal(r.imported, 3);
    assert.deepEqual(r.errors.map((e) => e.file).sort(), ['A/cur/1.host:2,S', 'bad\x01name.mbox', 'notes.txt']);
    assert.match(r.errors.find((e) => e.file === 'A/cur/1.host:2,S')!.message, /CRC/);
    assert.match(r.errors.find((e) => e.file === 'notes.txt')!.message, /not mail/);
    assert.match(r.errors.find((e) => e.file.startsWith('bad'))!.message, /mailbox .*control characters/);
    const got = await dump(a);
    assert.deepEqual(got['A']!.map((m) => m.data), [message('a2')]);
    assert.deepEqual(got['B']!.map((m) => m.data), [message('b1'), message('b2')]);
  });

  test('an encrypted zip entry is reported', { skip: needs('zip') }, async () => {
    const dir = await tree({ 'X/cur/1.host:2,': message('secret') });
    const archive = `${f.dir}/encrypted.zip`;
    execFileSync('zip', ['-qr', '-P', 'password', archive, '.'], { cwd: dir });
    const r = await importMail(await f.account(), archive);
    assert.equal(r.imported, 0);
    assert.match(r.errors[0]!.message, /encrypted/);
  });

  test('a message over the size limit is reported by its place in the mbox file; the others import', { skip: needs('tar') }, async () => {
    const big = 'x'.repeat(3000);
    const dir = await tree({
      'M.mbox': [1, 2, 3].map((i) => `From x Mon Feb 12 09:30:00 2024\n${message(`m${i}`, i === 2 ? big : 'small')}`).join('\n'),
      'D/cur/1.host:2,': message('d1', big),
      'D/cur/2.host:2,': message('d2'),
    });
    const archive = `${f.dir}/large.tgz`;
    execFileSync('tar', ['-czf', archive, '-C', dir, '.']);
    const a = await f.account();
    const r = await importMail(a, archive, { maxMessageSize: 2048 });
    assert.equal(r.imported, 3);
    assert.deepEqual(r.errors.map((e) => `${e.file}: ${e.message}`).sort(), [
      'D/cur/1.host:2,: larger than the limit of 2048 octets: not imported',
      'M.mbox: message 2: larger than the limit of 2048 octets: not imported',
    ]);
    assert.deepEqual((await dump(a))['M']!.map((m) => m.data), [message('m1', 'small'), message('m3', 'small')]);
  });

  test('a truncated tgz is a fatal error before anything is imported (the first pass reads it all)', async () => {
    const source = await f.account();
    for (let i = 0; i < 40; i++) await source.append('INBOX', { data: Buffer.from(message(`m${i}`, `${i} `.repeat(20000) + Math.random())) });
    const { path } = await f.exportFile(source, { format: 'maildir', archive: 'tgz' }, 'cut.tgz');
    await truncate(path, Math.floor((await stat(path)).size / 2));
    const target = await f.account();
    const r = await importMail(target, path);
    assert.match(r.fatal ?? '', /^nothing was imported: corrupt gzip data: unexpected end of file/);
    assert.equal(r.imported, 0);
    assert.equal((await dump(target))['INBOX']!.length, 0);
  });

  test('a tar with a corrupt header is a fatal error naming the offset', { skip: needs('tar') }, async () => {
    const dir = await tree({ 'A/cur/1.host:2,': message('a'), 'B/cur/1.host:2,': message('b') });
    const archive = `${f.dir}/corrupt.tar`;
    execFileSync('tar', ['-cf', archive, '-C', dir, 'A', 'B']);
    const data = await readFile(archive);
    const second = data.indexOf('B/cur/1.host');
    data[second] = 0x43; // the header checksum no longer matches
    await writeFile(archive, data);
    const r = await importMail(await f.account(), archive);
    assert.equal(r.fatal, `nothing was imported: corrupt tar header at offset ${second} (bad checksum)`);
  });

  test('a truncated zip (no central directory) is a fatal error naming the cause', async () => {
    const source = await f.account();
    await source.append('INBOX', { data: Buffer.from(message('m')) });
    const { path } = await f.exportFile(source, { format: 'mbox', archive: 'zip' }, 'cut.zip');
    const data = await readFile(path);
    await writeFile(path, data.subarray(0, data.length - 30));
    const r = await importMail(await f.account(), path);
    assert.deepEqual(r, { mailboxes: [], imported: 0, errors: [], fatal: 'not a complete zip archive: no end of central directory record (truncated upload?)' });
  });

  test('a file that is no archive, or empty, is a fatal error', async () => {
    await writeFile(`${f.dir}/junk`, Buffer.from('%PDF-1.7 not mail'));
    assert.match((await importMail(await f.account(), `${f.dir}/junk`)).fatal ?? '', /not a zip, tgz or tar archive, nor an mbox file/);
    await writeFile(`${f.dir}/empty`, '');
    assert.equal((await importMail(await f.account(), `${f.dir}/empty`)).fatal, 'the file is empty');
    await writeFile(`${f.dir}/bz`, 'BZh91AY&SY');
    assert.match((await importMail(await f.account(), `${f.dir}/bz`)).fatal ?? '', /bzip2/);
  });

  test('an abort stops the import; the result counts what was imported', async () => {
    const source = await f.account();
    for (let i = 0; i < 20; i++) await source.append('INBOX', { data: Buffer.from(message(`m${i}`)) });
    const { path } = await f.exportFile(source, { format: 'mbox', archive: 'zip' }, 'abort.zip');
    const abort = new AbortController();
    const target = await f.account();
    const r = await importMail(target, path, { signal: abort.signal, onProgress: (p) => p.done === 5 && abort.abort() });
    assert.equal(r.fatal, 'import aborted');
    assert.equal(r.imported, 5);
    assert.equal((await dump(target))['INBOX']!.length, 5);
  });

  test('a full quota stops the import, naming the message', async () => {
    const source = await f.account();
    for (let i = 0; i < 5; i++) await source.append('INBOX', { data: Buffer.from(message(`m${i}`, 'x'.repeat(1000))) });
    const { path } = await f.exportFile(source, { format: 'maildir', archive: 'zip' }, 'quota.zip');
    const target = await f.account();
    await target.setQuota(2500);
    const r = await importMail(target, path);
    assert.equal(r.imported, 2);
    assert.match(r.fatal ?? '', /^INBOX\/cur\/.*quota/i);
  });

  test('a 1 MB zip entry declaring and inflating to 1 GiB, and a gzipped mbox doing so, stop at 256 MiB of content', async () => {
    const head = Buffer.from('From x Mon Feb 12 09:30:00 2024\nSubject: bomb\n\n');
    const unit = Buffer.from(`${'x'.repeat(16383)}\n`.repeat(64)); // 1 MiB of body lines
    const bomb = deflateBomb(head, unit, 1024);
    assert.ok(bomb.length < 2 * 1024 * 1024, String(bomb.length));
    const zip = `${f.dir}/bomb.zip`;
    await writeFile(zip, zipOf('Bomb.mbox', bomb, 1024 ** 3));
    const a = await f.account();
    const r = await importMail(a, zip);
    assert.match(r.fatal ?? '', /^Bomb\.mbox: message 1: the archive's content is larger than 268435456 octets uncompressed \(a decompression bomb\?\)/);
    assert.equal(r.imported, 0);
    assert.deepEqual((await dump(a))['Bomb'], []);

    // gzip (RFC 1952 §2.3): header, the deflate data, CRC-32 and size (wrong: never reached).
    const gz = `${f.dir}/bomb.mbox.gz`;
    await writeFile(gz, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), bomb, Buffer.alloc(8)]));
    const g = await importMail(a, gz, { name: 'Gz.mbox.gz' });
    assert.match(g.fatal ?? '', /^Gz\.mbox: message 1: the archive's content is larger than 268435456 octets uncompressed/);
    assert.equal(g.imported, 0);
  });

  test('paths with ".." levels or a NUL and empty files are reported, not imported; no mailbox is named by them', async () => {
    const mbox = (s: string) => Buffer.from(`From x Mon Feb 12 09:30:00 2024\n${message(s)}`);
    const zip = `${f.dir}/paths.zip`;
    await writeFile(zip, zipSync({
      '../Evil.mbox': mbox('evil'),
      'a/../../Up/cur/1.host:2,S': Buffer.from(message('up')),
      'nul\0.mbox': mbox('nul'),
      'empty.txt': Buffer.alloc(0),
      'Good.mbox': mbox('good'),
    }));
    const a = await f.account();
    const r = await importMail(a, zip);
    assert.equal(r.fatal, undefined);
    assert.equal(r.imported, 1);
    assert.deepEqual(r.errors.map((e) => `${e.file}: ${e.message}`).sort(), [
      '../Evil.mbox: path with a ".." level: not imported (it would name a mailbox outside the archive\'s folders)',
      'a/../../Up/cur/1.host:2,S: path with a ".." level: not imported (it would name a mailbox outside the archive\'s folders)',
      'empty.txt: an empty file: not mail',
      'nul\0.mbox: path with a NUL character: not imported',
    ]);
    assert.deepEqual(r.mailboxes, ['Good']);
    assert.ok(Object.keys(await dump(a)).every((name) => !name.includes('..') && !name.includes('\0')));
  });

  test('symbolic links and hard links to anything but a maildir message are reported, not dropped', { skip: needs('tar') }, async () => {
    const dir = await tree({ 'L.mbox': `From x Mon Feb 12 09:30:00 2024\n${message('l')}` });
    await link(`${dir}/L.mbox`, `${dir}/M.mbox`); // sorted after L.mbox: tar stores it as the link
    await symlink('L.mbox', `${dir}/S.mbox`);
    const archive = `${f.dir}/links.tar`;
    execFileSync('tar', ['--sort=name', '-cf', archive, '-C', dir, '.']);
    const a = await f.account();
    const r = await importMail(a, archive);
    assert.equal(r.imported, 1);
    assert.deepEqual(r.errors.map((e) => `${e.file}: ${e.message}`), [
      'S.mbox: not a regular file (a symbolic link, device or FIFO): not imported',
      'M.mbox: a hard link to L.mbox, which is not a maildir message in the archive: not imported',
    ]);
  });

  test('past 1000 errors, the rest are counted, not listed', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 1005; i++) files[`note${i}.txt`] = Buffer.alloc(0);
    const zip = `${f.dir}/many.zip`;
    await writeFile(zip, zipSync(files));
    const r = await importMail(await f.account(), zip);
    assert.equal(r.errors.length, 1000);
    assert.equal(r.moreErrors, 5);
  });
});
