// The zip and tar formats on their own: what we write, the system's tools read (ZIP64
// included, long and UTF-8 names); what the tools write (GNU and pax long names), we read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { detectArchive, writableSink, type ArchiveReader, type ArchiveWriter } from './archive.ts';
import { LfToCrlf, LineSplitter } from './lines.ts';
import { openArchive } from './open.ts';
import { TarWriter } from './tar.ts';
import { ZipWriter } from './zip.ts';
import { fixture, needs, type Fixture } from './testfixture.ts';

const longPath = `${'a'.repeat(120)}/${'b'.repeat(99)}/${'ü'.repeat(40)}/message:2,S`; // over ustar's 100+155 octets, and not ASCII
const files: Array<[string, Buffer]> = [
  ['INBOX/cur/1.host:2,S', Buffer.from('Subject: one\r\n\r\nhello\r\n')],
  [longPath, Buffer.from('Subject: long\r\n\r\nname\r\n')],
  ['big', Buffer.alloc(300_000, 'xyz\r\n')],
  ['empty', Buffer.alloc(0)],
];

async function write(path: string, make: (sink: ReturnType<typeof writableSink>) => ArchiveWriter, gzipped = false): Promise<void> {
  const out = createWriteStream(path);
  const w = make(writableSink(out));
  await w.directory('INBOX/new', new Date('2024-01-01T00:00:00Z'));
  for (const [name, data] of files) await w.file(name, new Date('2024-02-03T04:05:06Z'), data.length, (async function* () { yield data; })());
  await w.end();
  out.end();
  await finished(out);
  if (gzipped) execFileSync('gzip', ['-f', path]);
}

async function readAll(r: ArchiveReader): Promise<Map<string, { data: Buffer; mtime: Date | undefined; type: string }>> {
  const m = new Map<string, { data: Buffer; mtime: Date | undefined; type: string }>();
  for await (const e of r.entries()) {
    const chunks: Buffer[] = [];
    for await (const c of e.body()) chunks.push(c);
    m.set(e.path, { data: Buffer.concat(chunks), mtime: e.mtime, type: e.type });
  }
  await r.close();
  return m;
}

describe('archives', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(() => f.done());

  test('a ZIP64 zip (forced on small entries) passes python zipfile and unzip, and reads back', { skip: needs('python3', 'unzip') }, async () => {
    const path = `${f.dir}/64.zip`;
    await write(path, (s) => new ZipWriter(s, { forceZip64: true }));
    execFileSync('python3', ['-m', 'zipfile', '-t', path]);
    execFileSync('unzip', ['-tq', path]);
    assert.match(execFileSync('python3', ['-m', 'zipfile', '-l', path], { encoding: 'utf8' }), /ü{40}\/message:2,S/);
    assert.equal(await detectArchive(path), 'zip');
    const got = await readAll(await openArchive(path, 'zip', ''));
    for (const [name, data] of files) assert.deepEqual(got.get(name)?.data, data, name);
    assert.equal(got.get('INBOX/new')?.type, 'directory');
    assert.equal(got.get('big')?.mtime?.toISOString(), '2024-02-03T04:05:06.000Z', 'UTC mtime from the extended timestamp');
  });

  test('a tar with pax names passes GNU tar and Python tarfile, and reads back', { skip: needs('tar', 'gzip', 'python3') }, async () => {
    const path = `${f.dir}/pax.tar`;
    await write(path, (s) => new TarWriter(s), true);
    const listed = execFileSync('tar', ['-tvzf', `${path}.gz`], { encoding: 'utf8' });
    assert.ok(listed.includes(longPath), listed);
    assert.ok(listed.includes('2024-02-03'), 'mtime');
    execFileSync('python3', ['-c', 'import sys,tarfile; t=tarfile.open(sys.argv[1]); assert sys.argv[2] in t.getnames(), t.getnames()', `${path}.gz`, longPath]);
    assert.equal(await detectArchive(`${path}.gz`), 'tgz');
    const got = await readAll(await openArchive(`${path}.gz`, 'tgz', ''));
    for (const [name, data] of files) assert.deepEqual(got.get(name)?.data, data, name);
  });

  test('tar archives written by GNU tar in gnu and pax formats read with their long names', { skip: needs('tar') }, async () => {
    const dir = `${f.dir}/src`;
    const name = `${'c'.repeat(150)}/${'d'.repeat(130)}/cur/1.host:2,S`;
    await mkdir(`${dir}/${name.slice(0, name.lastIndexOf('/'))}`, { recursive: true });
    await writeFile(`${dir}/${name}`, 'Subject: x\n\ny\n');
    for (const format of ['gnu', 'pax', 'ustar']) {
      const path = `${f.dir}/tool-${format}.tar`;
      try {
        execFileSync('tar', [`--format=${format}`, '-cf', path, '-C', dir, '.'], { stdio: 'pipe' });
      } catch (e) {
        assert.equal(format, 'ustar', String(e)); // ustar cannot hold this name: tar refuses, as it should
        continue;
      }
      assert.equal(await detectArchive(path), 'tar');
      const got = await readAll(await openArchive(path, 'tar', ''));
      assert.equal(got.get(name)?.data.toString(), 'Subject: x\n\ny\n', format);
    }
  });

  test('kinds are told by content: mbox and gzipped mbox', { skip: needs('gzip') }, async () => {
    await writeFile(`${f.dir}/m`, 'From x Mon Feb 12 09:30:00 2024\n\n');
    assert.equal(await detectArchive(`${f.dir}/m`), 'mbox');
    execFileSync('gzip', ['-kf', `${f.dir}/m`]);
    assert.equal(await detectArchive(`${f.dir}/m.gz`), 'gz');
  });
});

describe('lines', () => {
  test('a line longer than the hold is passed in pieces; the first has the line start, a CRLF is never split', () => {
    const s = new LineSplitter(8);
    const pieces = [...s.push(Buffer.from('0123456789ab\r')), ...s.push(Buffer.from('\nshort\n')), ...s.end()];
    assert.deepEqual(pieces.map((p) => [p.data.toString(), p.start, p.end]), [
      ['0123456789ab', true, false],
      ['\r\n', false, true],
      ['short\n', true, true],
    ]);
  });

  test('bare LF becomes CRLF across chunk boundaries; CRLF stays', () => {
    const c = new LfToCrlf();
    const out = Buffer.concat([...c.push(Buffer.from('a\nb\r')), ...c.push(Buffer.from('\nc\n')), ...c.push(Buffer.from('\n'))]);
    assert.equal(out.toString(), 'a\r\nb\r\nc\r\n\r\n');
  });
});
