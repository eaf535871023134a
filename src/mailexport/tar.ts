// A small tar writer and reader (POSIX.1-2001 ustar with pax extended headers, as
// GNU tar and bsdtar read and write them by default). Names longer than ustar holds, or
// not ASCII, go in a pax "path" record; sizes beyond ustar's 8 GiB in a pax "size" record
// (and GNU's base-256 field). The reader also takes GNU long names ("L" entries).
import { EntryError, isTarHeader, type ArchiveEntry, type ArchiveWriter, type ByteSink } from './archive.ts';
import { normalizePath } from './names.ts';

const block = 512;
const maxOctal11 = 0o77777777777; // 8 GiB - 1: the most an 11-digit octal field holds
const zeroBlock = Buffer.alloc(block);
const maxPaxHeader = 1024 * 1024; // a pax header is a few records; more is not a tar file we want

export class TarWriter implements ArchiveWriter {
  readonly #out: ByteSink;

  constructor(out: ByteSink) {
    this.#out = out;
  }

  async directory(path: string, mtime: Date): Promise<void> {
    await this.#header(path.endsWith('/') ? path : path + '/', 0, mtime, '5');
  }

  async file(path: string, mtime: Date, size: number | undefined, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    if (size === undefined) throw new Error('tar needs the size of a file before its content');
    await this.#header(path, size, mtime, '0');
    let written = 0;
    for await (const chunk of body) {
      written += chunk.length;
      if (written > size) throw new Error(`${path}: content longer than the ${size} octets announced`);
      await this.#out.write(chunk);
    }
    if (written !== size) throw new Error(`${path}: content of ${written} octets, ${size} announced`);
    await this.#pad(size);
  }

  async end(): Promise<void> {
    await this.#out.write(Buffer.alloc(2 * block)); // POSIX: two zero blocks end the archive
  }

  async #pad(size: number): Promise<void> {
    const rest = size % block;
    if (rest !== 0) await this.#out.write(zeroBlock.subarray(rest));
  }

  async #header(path: string, size: number, mtime: Date, type: '0' | '5'): Promise<void> {
    const h = Buffer.alloc(block);
    const pax: string[] = [];
    const split = ustarName(path);
    if (split) {
      h.write(split.name, 0, 100, 'latin1');
      h.write(split.prefix, 345, 155, 'latin1');
    } else {
      pax.push(paxRecord('path', path));
      h.write(asciiFallback(path).slice(-100), 0, 100, 'latin1');
    }
    if (size > maxOctal11) pax.push(paxRecord('size', String(size)));
    if (pax.length > 0) {
      const data = Buffer.from(pax.join(''));
      await this.#out.write(headerBlock(paxName(path), data.length, mtime, 'x'));
      await this.#out.write(data);
      await this.#pad(data.length);
    }
    await this.#out.write(fillHeader(h, size, mtime, type));
  }
}

/** The ustar name and prefix fields for a path, if it fits them (ASCII, name at most 100 octets, split at a "/"). */
function ustarName(path: string): { name: string; prefix: string } | undefined {
  if (!/^[\x20-\x7e]*$/.test(path)) return undefined; // pax says ustar names are the portable set; others go in a UTF-8 pax path
  if (path.length <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0) return { prefix: path.slice(0, i), name: path.slice(i + 1) };
  }
  return undefined;
}

function asciiFallback(path: string): string {
  return path.replace(/[^\x20-\x7e]/g, '_');
}

/** The name of a pax header entry (only extractors without pax support ever see it). */
function paxName(path: string): string {
  const p = path.replace(/\/$/, '');
  return ('PaxHeader/' + asciiFallback(p.slice(p.lastIndexOf('/') + 1))).slice(0, 100);
}

/** A pax record: "<length> <key>=<value>\n", the length counting itself (POSIX pax, extended header). */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restLength = Buffer.byteLength(rest);
  let length = restLength;
  for (let next = restLength + String(length).length; next !== length; next = restLength + String(length).length) length = next;
  return `${length}${rest}`;
}

function headerBlock(path: string, size: number, mtime: Date, type: string): Buffer {
  const h = Buffer.alloc(block);
  h.write(path, 0, 100, 'latin1');
  return fillHeader(h, size, mtime, type);
}

function fillHeader(h: Buffer, size: number, mtime: Date, type: string): Buffer {
  writeOctal(h, 100, 8, type === '5' ? 0o755 : 0o644); // mode
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  if (size <= maxOctal11) writeOctal(h, 124, 12, size);
  else {
    h[124] = 0x80; // GNU base-256, for readers without pax
    h.writeBigUInt64BE(BigInt(size), 124 + 4);
  }
  writeOctal(h, 136, 12, Math.min(maxOctal11, Math.max(0, Math.floor(mtime.getTime() / 1000))));
  h.write(type, 156, 1, 'latin1');
  h.write('ustar\x0000', 257, 8, 'latin1'); // POSIX ustar magic and version
  h.fill(32, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

function writeOctal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'latin1');
}

/** Reads a tar stream's entries. A bad header ends the reading (a tar file has no index to go on from). */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<ArchiveEntry> {
  const it = source[Symbol.asyncIterator]();
  try {
    yield* readEntries(new ChunkReader(it));
  } finally {
    await it.return?.(); // a reader that stops early closes the file
  }
}

async function* readEntries(r: ChunkReader): AsyncGenerator<ArchiveEntry> {
  let pax: Map<string, string> = new Map();
  let longName: string | undefined;
  for (;;) {
    const offset = r.consumed;
    const h = await r.read(block);
    if (h.length === 0) return; // no end blocks: tolerated, the content is complete
    if (h.length < block) throw new Error('the tar archive is truncated');
    if (h.equals(zeroBlock)) return; // end of archive
    if (!isTarHeader(h)) throw new Error(`corrupt tar header at offset ${offset} (bad checksum)`);
    const type = String.fromCharCode(h[156]!);
    let size = parseNumber(h.subarray(124, 136));
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > maxPaxHeader) throw new Error(`tar header record at offset ${offset} too large`);
      const data = await r.read(size);
      if (data.length < size) throw new Error('the tar archive is truncated');
      await r.skip(padding(size));
      if (type === 'x') pax = parsePax(data);
      if (type === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue; // 'g' (global) and 'K' (long link name) say nothing an import needs
    }
    let path = cString(h.subarray(0, 100));
    const magic = h.subarray(257, 262).toString('latin1');
    const prefix = magic === 'ustar' ? cString(h.subarray(345, 500)) : '';
    if (prefix) path = prefix + '/' + path;
    path = pax.get('path') ?? longName ?? path;
    if (pax.has('size')) size = Number(pax.get('size'));
    const mtimeSeconds = pax.has('mtime') ? Number(pax.get('mtime')) : parseNumber(h.subarray(136, 148));
    const linkTarget = pax.get('linkpath') ?? cString(h.subarray(157, 257));
    pax = new Map();
    longName = undefined;
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`corrupt tar header at offset ${offset} (size)`);
    const kind = type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'directory' : type === '1' ? 'hardlink' : 'other';
    const dataSize = '123456'.includes(type) ? 0 : size; // links, devices, directories and FIFOs have no content blocks (as Python's tarfile reads them)
    const left = { octets: dataSize };
    const entry: ArchiveEntry = {
      path: normalizePath(path),
      type: kind,
      mtime: Number.isFinite(mtimeSeconds) ? new Date(mtimeSeconds * 1000) : undefined,
      body: () => r.take(left),
    };
    if (kind === 'hardlink') entry.linkTarget = normalizePath(linkTarget);
    yield entry;
    const skipped = await r.skip(left.octets + padding(dataSize));
    if (skipped < left.octets) throw new Error('the tar archive is truncated');
  }
}

function padding(size: number): number {
  return (block - (size % block)) % block;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return (nul < 0 ? b : b.subarray(0, nul)).toString('utf8');
}

/** A numeric field: octal text, or GNU base-256 when the first octet has its high bit set. */
function parseNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** pax records "<length> <key>=<value>\n"; malformed ones end the parse (what was read stays). */
function parsePax(data: Buffer): Map<string, string> {
  const map = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(32, pos);
    const length = Number(data.subarray(pos, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(length) || length <= 0 || pos + length > data.length) break;
    const record = data.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) map.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return map;
}

/** Reads exact byte counts from a stream of chunks. */
class ChunkReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #eof = false;
  consumed = 0; // octets taken from the stream

  constructor(it: AsyncIterator<Buffer>) {
    this.#it = it;
  }

  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#buf.length) {
      if (this.#eof) return false;
      const n = await this.#it.next();
      if (n.done) {
        this.#eof = true;
        return false;
      }
      this.#buf = n.value;
      this.#pos = 0;
    }
    return true;
  }

  #slice(max: number): Buffer {
    const s = this.#buf.subarray(this.#pos, this.#pos + max);
    this.#pos += s.length;
    this.consumed += s.length;
    return s;
  }

  /** n octets, fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && (await this.#fill())) {
      const s = this.#slice(n - got);
      parts.push(s);
      got += s.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Skips n octets; returns how many there were. */
  async skip(n: number): Promise<number> {
    let done = 0;
    while (done < n && (await this.#fill())) done += this.#slice(n - done).length;
    return done;
  }

  /** The next left.octets octets as chunks; left counts down, so that what the consumer leaves can be skipped. */
  async *take(left: { octets: number }): AsyncGenerator<Buffer> {
    while (left.octets > 0) {
      if (!(await this.#fill())) throw new EntryError('the tar archive ends inside this file');
      const s = this.#slice(left.octets);
      left.octets -= s.length;
      yield s;
    }
  }
}
