// A zip writer and reader (PKWARE APPNOTE.TXT 6.3) with ZIP64, so that exports of
// accounts over 4 GiB or with more than 65535 messages stay valid. fflate's Zip writes no
// ZIP64 fields (sizes and offsets wrap silently past 4 GiB) and deflates on the event
// loop; here node:zlib deflates in the thread pool (DESIGN.md: never block the event loop).
// The writer streams: each entry has a data descriptor, so nothing is buffered; only the
// central directory (about 100 octets per entry) is held until the end. The reader uses
// the central directory, so it needs the archive as a file (an upload on disk).
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { crc32, createDeflateRaw, createInflateRaw } from 'node:zlib';
import iconv from 'iconv-lite';
import { ContentLimitError, EntryError, writableSink, type ArchiveEntry, type ArchiveReader, type ArchiveWriter, type ByteSink, type ContentBudget } from './archive.ts';
import { normalizePath } from './names.ts';

const sigLocal = 0x04034b50; // APPNOTE 4.3.7
const sigDescriptor = 0x08074b50; // APPNOTE 4.3.9.3
const sigCentral = 0x02014b50; // APPNOTE 4.3.12
const sigEnd = 0x06054b50; // APPNOTE 4.3.16
const sigEnd64 = 0x06064b50; // APPNOTE 4.3.14
const sigLocator64 = 0x07064b50; // APPNOTE 4.3.15
const flagDescriptor = 0x0008; // APPNOTE 4.4.4 bit 3: CRC and sizes follow the data
const flagUtf8 = 0x0800; // APPNOTE 4.4.4 bit 11, Appendix D: the name is UTF-8
const extraZip64 = 0x0001; // APPNOTE 4.5.3
const extraTimestamp = 0x5455; // APPNOTE 4.6.1 (Info-ZIP "UT"): mtime in UTC seconds, DOS time is local and 2-second
const extraUnicodePath = 0x7075; // APPNOTE 4.6.9
const max32 = 0xffffffff;
const max16 = 0xffff;
const zip64Threshold = 0xf0000000; // a known size below this cannot grow past 4 GiB when deflated (deflate adds at most ~0.03%)

export class ZipWriter implements ArchiveWriter {
  readonly #out: ByteSink;
  readonly #forceZip64: boolean;
  #offset = 0;
  readonly #central = new CentralDirectory();
  #count = 0;

  /** forceZip64: ZIP64 fields on every entry and the end record, for tests of readers on small archives. */
  constructor(out: ByteSink, options: { forceZip64?: boolean } = {}) {
    this.#out = out;
    this.#forceZip64 = options.forceZip64 ?? false;
  }

  async #write(b: Buffer): Promise<void> {
    this.#offset += b.length;
    await this.#out.write(b);
  }

  async directory(path: string, mtime: Date): Promise<void> {
    const name = Buffer.from(path.endsWith('/') ? path : path + '/');
    const offset = this.#offset;
    await this.#write(localHeader(name, mtime, 0, false, 0));
    this.#addCentral({ name, mtime, method: 0, flags: nameFlags(name), crc: 0, csize: 0, usize: 0, offset, directory: true });
  }

  async file(path: string, mtime: Date, size: number | undefined, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    const name = Buffer.from(path);
    const zip64 = this.#forceZip64 || size === undefined || size >= zip64Threshold;
    const flags = nameFlags(name) | flagDescriptor;
    const offset = this.#offset;
    await this.#write(localHeader(name, mtime, flags, zip64, 8));
    const { crc, csize, usize } = await this.#deflate(body);
    const d = Buffer.alloc(zip64 ? 24 : 16);
    d.writeUInt32LE(sigDescriptor, 0);
    d.writeUInt32LE(crc, 4);
    if (zip64) {
      d.writeBigUInt64LE(BigInt(csize), 8); // APPNOTE 4.3.9.2: 8-octet sizes when the local header has a ZIP64 field
      d.writeBigUInt64LE(BigInt(usize), 16);
    } else {
      d.writeUInt32LE(csize, 8);
      d.writeUInt32LE(usize, 12);
    }
    await this.#write(d);
    this.#addCentral({ name, mtime, method: 8, flags, crc, csize, usize, offset, directory: false });
  }

  async #deflate(body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<{ crc: number; csize: number; usize: number }> {
    const deflater = createDeflateRaw();
    const input = writableSink(deflater);
    let crc = 0;
    let usize = 0;
    let csize = 0;
    const feed = (async () => {
      try {
        for await (const chunk of body) {
          crc = crc32(chunk, crc);
          usize += chunk.length;
          await input.write(chunk);
        }
        deflater.end();
      } catch (e) {
        deflater.destroy(e as Error);
        throw e;
      }
    })();
    const drain = (async () => {
      try {
        for await (const chunk of deflater as AsyncIterable<Buffer>) {
          csize += chunk.length;
          await this.#write(chunk);
        }
      } catch (e) {
        deflater.destroy(e as Error); // feed stops waiting for 'drain'
        throw e;
      }
    })();
    await Promise.all([feed, drain]);
    return { crc, csize, usize };
  }

  #addCentral(e: CentralEntry): void {
    this.#central.append(centralHeader(e));
    this.#count++;
  }

  async end(): Promise<void> {
    const cdOffset = this.#offset;
    for (const block of this.#central.take()) await this.#write(block);
    const count = this.#count;
    const cdSize = this.#offset - cdOffset;
    const zip64 = this.#forceZip64 || count >= max16 || cdSize >= max32 || cdOffset >= max32;
    if (zip64) {
      const end64Offset = this.#offset;
      const e = Buffer.alloc(56);
      e.writeUInt32LE(sigEnd64, 0);
      e.writeBigUInt64LE(44n, 4); // size of the rest of this record
      e.writeUInt16LE((3 << 8) | 45, 12); // made by: Unix, version 4.5
      e.writeUInt16LE(45, 14); // APPNOTE 4.4.3.2: 4.5 for ZIP64
      e.writeBigUInt64LE(BigInt(count), 24);
      e.writeBigUInt64LE(BigInt(count), 32);
      e.writeBigUInt64LE(BigInt(cdSize), 40);
      e.writeBigUInt64LE(BigInt(cdOffset), 48);
      await this.#write(e);
      const l = Buffer.alloc(20);
      l.writeUInt32LE(sigLocator64, 0);
      l.writeBigUInt64LE(BigInt(end64Offset), 8);
      l.writeUInt32LE(1, 16); // total number of disks
      await this.#write(l);
    }
    const e = Buffer.alloc(22);
    e.writeUInt32LE(sigEnd, 0);
    e.writeUInt16LE(Math.min(count, max16), 8);
    e.writeUInt16LE(Math.min(count, max16), 10);
    e.writeUInt32LE(cdSize >= max32 ? max32 : cdSize, 12);
    e.writeUInt32LE(cdOffset >= max32 || this.#forceZip64 ? max32 : cdOffset, 16);
    await this.#write(e);
  }
}

/**
 * The central directory while entries are written, packed into 64 KiB blocks: a small
 * Buffer of its own would keep a whole slab of Node's shared buffer pool alive (64 KiB
 * per entry, seen in the export memory test).
 */
class CentralDirectory {
  static readonly blockSize = 64 * 1024;
  #full: Buffer[] = [];
  #block = Buffer.allocUnsafeSlow(CentralDirectory.blockSize);
  #used = 0;

  append(rec: Buffer): void {
    if (this.#used + rec.length > this.#block.length) {
      this.#full.push(this.#block.subarray(0, this.#used));
      this.#block = Buffer.allocUnsafeSlow(Math.max(CentralDirectory.blockSize, rec.length));
      this.#used = 0;
    }
    rec.copy(this.#block, this.#used);
    this.#used += rec.length;
  }

  take(): Buffer[] {
    const blocks = [...this.#full, this.#block.subarray(0, this.#used)];
    this.#full = [];
    this.#block = Buffer.alloc(0);
    this.#used = 0;
    return blocks;
  }
}

interface CentralEntry {
  name: Buffer;
  mtime: Date;
  method: number;
  flags: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  directory: boolean;
}

function nameFlags(name: Buffer): number {
  return name.some((b) => b >= 0x80) ? flagUtf8 : 0;
}

/** MS-DOS date and time (local time, 2-second steps), as APPNOTE 4.4.6 keeps them. */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, d.getFullYear()));
  if (year !== d.getFullYear()) return { time: 0, date: (year - 1980) << 9 | 1 << 5 | 1 };
  return { time: d.getHours() << 11 | d.getMinutes() << 5 | d.getSeconds() >> 1, date: (year - 1980) << 9 | (d.getMonth() + 1) << 5 | d.getDate() };
}

function unixSeconds(d: Date): number {
  return Math.min(max32, Math.max(0, Math.floor(d.getTime() / 1000)));
}

function localHeader(name: Buffer, mtime: Date, flags: number, zip64: boolean, method: number): Buffer {
  const extra = Buffer.alloc((zip64 ? 20 : 0) + 9);
  let x = 0;
  if (zip64) {
    extra.writeUInt16LE(extraZip64, 0);
    extra.writeUInt16LE(16, 2); // sizes 0: they follow in the data descriptor
    x = 20;
  }
  extra.writeUInt16LE(extraTimestamp, x);
  extra.writeUInt16LE(5, x + 2);
  extra.writeUInt8(1, x + 4); // mtime present
  extra.writeUInt32LE(unixSeconds(mtime), x + 5);
  const h = Buffer.alloc(30);
  const { time, date } = dosDateTime(mtime);
  h.writeUInt32LE(sigLocal, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt16LE(method, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  // CRC 0; sizes 0, or 0xffffffff pointing to the ZIP64 field (APPNOTE 4.4.8, as Python's zipfile writes them)
  h.writeUInt32LE(zip64 ? max32 : 0, 18);
  h.writeUInt32LE(zip64 ? max32 : 0, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, name, extra]);
}

function centralHeader(e: CentralEntry): Buffer {
  const z: bigint[] = []; // APPNOTE 4.5.3: only the fields whose header value is 0xffffffff, in this order
  if (e.usize >= max32) z.push(BigInt(e.usize));
  if (e.csize >= max32) z.push(BigInt(e.csize));
  if (e.offset >= max32) z.push(BigInt(e.offset));
  const extra = Buffer.alloc((z.length > 0 ? 4 + 8 * z.length : 0) + 9);
  let x = 0;
  if (z.length > 0) {
    extra.writeUInt16LE(extraZip64, 0);
    extra.writeUInt16LE(8 * z.length, 2);
    z.forEach((v, i) => extra.writeBigUInt64LE(v, 4 + 8 * i));
    x = 4 + 8 * z.length;
  }
  extra.writeUInt16LE(extraTimestamp, x);
  extra.writeUInt16LE(5, x + 2);
  extra.writeUInt8(1, x + 4);
  extra.writeUInt32LE(unixSeconds(e.mtime), x + 5);
  const h = Buffer.alloc(46);
  const { time, date } = dosDateTime(e.mtime);
  h.writeUInt32LE(sigCentral, 0);
  h.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix (so the external attributes are a mode), version 4.5
  h.writeUInt16LE(z.length > 0 ? 45 : 20, 6);
  h.writeUInt16LE(e.flags, 8);
  h.writeUInt16LE(e.method, 10);
  h.writeUInt16LE(time, 12);
  h.writeUInt16LE(date, 14);
  h.writeUInt32LE(e.crc, 16);
  h.writeUInt32LE(Math.min(e.csize, max32), 20);
  h.writeUInt32LE(Math.min(e.usize, max32), 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt32LE((e.directory ? 0o40755 * 0x10000 + 0x10 : 0o100644 * 0x10000) >>> 0, 38); // Unix mode; 0x10: MS-DOS directory
  h.writeUInt32LE(Math.min(e.offset, max32), 42);
  return Buffer.concat([h, e.name, extra]);
}

interface CentralRecord {
  path: string;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  mtime: Date;
  directory: boolean;
  symlink: boolean;
}

export class ZipReader implements ArchiveReader {
  readonly #file: string;
  readonly #fh: FileHandle;
  readonly #cdOffset: number;
  readonly #cdSize: number;
  readonly #budget: ContentBudget;
  position = 0;

  private constructor(file: string, fh: FileHandle, cdOffset: number, cdSize: number, budget: ContentBudget) {
    this.#file = file;
    this.#fh = fh;
    this.#cdOffset = cdOffset;
    this.#cdSize = cdSize;
    this.#budget = budget;
  }

  /** Reads the end records; a zip file without a readable central directory is an error. budget: the entries' content (stored or inflated), per pass. */
  static async open(file: string, budget: ContentBudget): Promise<ZipReader> {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const tailLength = Math.min(size, 22 + 0xffff); // the end record and its comment of at most 65535 octets
      const tail = await readAt(fh, size - tailLength, tailLength);
      let i = tail.length - 22;
      while (i >= 0 && tail.readUInt32LE(i) !== sigEnd) i--;
      if (i < 0) throw new Error('not a complete zip archive: no end of central directory record (truncated upload?)');
      let cdSize = tail.readUInt32LE(i + 12);
      let cdOffset = tail.readUInt32LE(i + 16);
      const endOffset = size - tailLength + i;
      if (i >= 20 && tail.readUInt32LE(i - 20) === sigLocator64) {
        const end64 = await readAt(fh, Number(tail.readBigUInt64LE(i - 20 + 8)), 56);
        if (end64.length < 56 || end64.readUInt32LE(0) !== sigEnd64) throw new Error('corrupt zip archive: bad ZIP64 end of central directory record');
        cdSize = Number(end64.readBigUInt64LE(40));
        cdOffset = Number(end64.readBigUInt64LE(48));
      }
      if (cdOffset + cdSize > endOffset) throw new Error('corrupt zip archive: the central directory lies beyond the end record');
      return new ZipReader(file, fh, cdOffset, cdSize, budget);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.#fh.close();
  }

  async *entries(): AsyncGenerator<ArchiveEntry> {
    this.position = 0;
    this.#budget.reset();
    for await (const rec of this.#centralRecords()) {
      yield {
        path: normalizePath(rec.path),
        type: rec.directory ? 'directory' : rec.symlink ? 'other' : 'file',
        mtime: rec.mtime,
        body: () => this.#body(rec),
      };
    }
  }

  async *#centralRecords(): AsyncGenerator<CentralRecord> {
    const end = this.#cdOffset + this.#cdSize;
    let pos = this.#cdOffset;
    let buf: Buffer = Buffer.alloc(0);
    let bufStart = pos;
    const need = async (n: number) => {
      if (pos + n <= bufStart + buf.length) return;
      bufStart = pos;
      buf = await readAt(this.#fh, pos, Math.max(n, Math.min(64 * 1024, end - pos)));
      if (buf.length < n) throw new Error('corrupt zip archive: the central directory is truncated');
    };
    while (pos < end) {
      await need(46);
      let b = buf.subarray(pos - bufStart);
      if (b.readUInt32LE(0) !== sigCentral) throw new Error(`corrupt zip archive: bad central directory record at offset ${pos}`);
      const total = 46 + b.readUInt16LE(28) + b.readUInt16LE(30) + b.readUInt16LE(32);
      await need(total);
      b = buf.subarray(pos - bufStart, pos - bufStart + total);
      pos += total;
      yield parseCentral(b);
    }
  }

  async *#body(rec: CentralRecord): AsyncGenerator<Buffer> {
    if (rec.flags & 0x0001) throw new EntryError('encrypted (APPNOTE 4.4.4 bit 0): not supported');
    if (rec.method !== 0 && rec.method !== 8) throw new EntryError(`compression method ${rec.method} not supported (only stored and deflated)`);
    const lh = await readAt(this.#fh, rec.offset, 30);
    if (lh.length < 30 || lh.readUInt32LE(0) !== sigLocal) throw new EntryError(`bad local header at offset ${rec.offset}`);
    const start = rec.offset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    const self = this;
    async function* raw(): AsyncGenerator<Buffer> {
      if (rec.csize === 0) return;
      let read = 0;
      for await (const chunk of createReadStream(self.#file, { start, end: start + rec.csize - 1 }) as AsyncIterable<Buffer>) {
        read += chunk.length;
        self.position = start + read;
        yield chunk;
      }
    }
    let source: AsyncIterable<Buffer> = raw();
    if (rec.method === 8) {
      const inflater = createInflateRaw();
      pipeline(Readable.from(source), inflater, () => {}); // errors reach the iteration below through the inflater
      source = inflater;
    }
    let crc = 0;
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > rec.usize) throw new EntryError(`content longer than the ${rec.usize} octets the archive says`);
        this.#budget.take(chunk.length); // the declared size is the archive's say: what inflates is counted
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (e) {
      if (e instanceof EntryError || e instanceof ContentLimitError) throw e;
      throw new EntryError(`corrupt data: ${(e as Error).message}`);
    }
    if (size !== rec.usize || crc !== rec.crc) throw new EntryError('corrupt data: CRC or size does not match the archive directory');
  }
}

function parseCentral(b: Buffer): CentralRecord {
  const flags = b.readUInt16LE(8);
  const nameLength = b.readUInt16LE(28);
  const extraLength = b.readUInt16LE(30);
  const rawName = b.subarray(46, 46 + nameLength);
  let usize = b.readUInt32LE(24);
  let csize = b.readUInt32LE(20);
  let offset = b.readUInt32LE(42);
  let mtime = fromDos(b.readUInt16LE(14), b.readUInt16LE(12));
  let path = flags & flagUtf8 || isUtf8(rawName) ? rawName.toString('utf8') : iconv.decode(rawName, 'cp437'); // APPNOTE Appendix D: IBM 437 unless bit 11
  const extra = b.subarray(46 + nameLength, 46 + nameLength + extraLength);
  for (let i = 0; i + 4 <= extra.length; ) {
    const tag = extra.readUInt16LE(i);
    const len = extra.readUInt16LE(i + 2);
    const data = extra.subarray(i + 4, i + 4 + len);
    i += 4 + len;
    if (tag === extraZip64) {
      let j = 0;
      const next = () => (j + 8 <= data.length ? Number(data.readBigUInt64LE((j += 8) - 8)) : undefined);
      if (usize === max32) usize = next() ?? usize;
      if (csize === max32) csize = next() ?? csize;
      if (offset === max32) offset = next() ?? offset;
    } else if (tag === extraTimestamp && data.length >= 5 && data[0]! & 1) {
      mtime = new Date(data.readUInt32LE(1) * 1000);
    } else if (tag === extraUnicodePath && data.length > 5 && !(flags & flagUtf8) && data.readUInt32LE(1) === crc32(rawName)) {
      path = data.subarray(5).toString('utf8');
    }
  }
  const madeBy = b.readUInt16LE(4) >> 8;
  const mode = b.readUInt32LE(38) >>> 16;
  return {
    path,
    flags,
    method: b.readUInt16LE(10),
    crc: b.readUInt32LE(16),
    csize,
    usize,
    offset,
    mtime,
    directory: path.endsWith('/'),
    symlink: madeBy === 3 && (mode & 0o170000) === 0o120000,
  };
}

function fromDos(date: number, time: number): Date {
  return new Date((date >> 9) + 1980, ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2);
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(b, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return b.subarray(0, got);
}
