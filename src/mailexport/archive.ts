// What the zip and tar code share: a writer interface for export, an entry interface for
// import, the byte sink with backpressure, and telling archive kinds apart by their
// first bytes (never by the uploaded file's name).
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, gunzip } from 'node:zlib';

/** Where an archive's bytes go; write resolves when more may be written (backpressure). */
export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
}

export interface ArchiveWriter {
  directory(path: string, mtime: Date): Promise<void>;
  /** size: the exact number of octets the body yields; tar needs it first, zip can do without (undefined). */
  file(path: string, mtime: Date, size: number | undefined, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void>;
  /** Writes the archive's end; the sink is not ended. */
  end(): Promise<void>;
}

export interface ArchiveEntry {
  path: string; // normalized (names.ts normalizePath)
  type: 'file' | 'directory' | 'hardlink' | 'other';
  linkTarget?: string; // hardlink: the earlier entry's path
  mtime: Date | undefined;
  /** The content; read it at most once, before asking for the next entry. Throws EntryError for a bad entry the archive can go on after. */
  body(): AsyncIterable<Buffer>;
}

export interface ArchiveReader {
  /** The entries in archive order; each call is a new pass over the archive. Throws (not EntryError) when the archive itself is broken. */
  entries(): AsyncIterable<ArchiveEntry>;
  /** Octets of the archive file consumed in the current pass, for progress. */
  readonly position: number;
  close(): Promise<void>;
}

/** A problem with one entry (bad CRC, unsupported compression): reported, and the import goes on. */
export class EntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntryError';
  }
}

/**
 * Counts the octets an archive's content yields in one pass, decompressed: past the limit
 * the pass fails (not an EntryError: the import stops). Deflate reaches about 1032:1 (a
 * 258-octet match, RFC 1951 §3.2.5, in about 2 bits), and zip central directory records
 * pointing at the same data (APPNOTE 4.3.12 "relative offset of local header") multiply
 * that: only a count of what comes out bounds it.
 */
export class ContentBudget {
  readonly #max: number;
  #used = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** A new pass over the archive. */
  reset(): void {
    this.#used = 0;
  }

  take(octets: number): void {
    this.#used += octets;
    if (this.#used > this.#max) throw new ContentLimitError(`the archive's content is larger than ${this.#max} octets uncompressed (a decompression bomb?): stopped there`);
  }
}

export class ContentLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentLimitError';
  }
}

/** A Writable as a sink: waits for 'drain' when it asks to, and fails when it closes or errors (the client went away). */
export function writableSink(out: Writable): ByteSink {
  return {
    write(chunk) {
      if (out.destroyed || out.writableEnded) return Promise.reject(out.errored ?? new Error('output closed'));
      if (out.write(chunk)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = (err?: Error | null) => {
          out.off('drain', onDrain).off('close', onClose).off('error', done);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        const onClose = () => done(out.errored ?? new Error('output closed'));
        out.on('drain', onDrain).on('close', onClose).on('error', done);
      });
    },
  };
}

export type ArchiveKind = 'zip' | 'tar' | 'tgz' | 'gz' | 'mbox';

/** The kind of an uploaded file by its magic bytes; a gzip file is a tgz when its content starts with a tar header. */
export async function detectArchive(path: string): Promise<ArchiveKind> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (head.length === 0) throw new Error('the file is empty');
  const sig = head.readUInt32LE(0);
  if (head.length >= 4 && (sig === 0x04034b50 || sig === 0x06054b50)) return 'zip'; // PKWARE APPNOTE 4.3.7, 4.3.16 (empty archive)
  if (head[0] === 0x1f && head[1] === 0x8b) return isTarHeader(await gunzipHead(head)) ? 'tgz' : 'gz'; // RFC 1952 §2.3.1
  if (isTarHeader(head)) return 'tar';
  if (head.subarray(0, 5).toString('latin1') === 'From ') return 'mbox'; // RFC 4155 Appendix A
  if (head.subarray(0, 3).toString('latin1') === 'BZh') throw new Error('bzip2 files are not supported; use zip, tgz or tar');
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))) throw new Error('xz files are not supported; use zip, tgz or tar');
  if (head.readUInt32LE(0) === 0xfd2fb528) throw new Error('zstd files are not supported; use zip, tgz or tar');
  throw new Error('not a zip, tgz or tar archive, nor an mbox file');
}

const gunzipAsync = promisify(gunzip);

/** The first decompressed octets of a gzip file, enough for a tar header; inflated in the thread pool, not on the event loop. */
async function gunzipHead(head: Buffer): Promise<Buffer> {
  try {
    // 4 KiB of deflate data inflate to at most ~4 MiB (RFC 1951: 1032:1 at most); SYNC_FLUSH accepts the cut-off end.
    return await gunzipAsync(head.subarray(0, 4096), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 4096 * 1032 + 1024 });
  } catch {
    return Buffer.alloc(0);
  }
}

/** A tar header block: its checksum (POSIX ustar) matches; old tar files have no "ustar" magic, so the checksum decides. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/[\0 ]+/g, ' ').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}
