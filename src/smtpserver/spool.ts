// Spool files: a message is written to a temporary file while it arrives (never whole in
// memory), checked, then finished into the file the store or queue links into place.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

export class Spool {
  readonly path: string;
  size = 0;
  #handle: FileHandle;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #closed = false;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  static async create(dir: string, prefix = 'smtp'): Promise<Spool> {
    const path = `${dir}/${prefix}-${Date.now()}-${randomBytes(6).toString('hex')}`;
    return new Spool(path, await open(path, 'wx', 0o600));
  }

  /** Adds bytes; they are written in batches of up to 256 KiB (fewer system calls for small chunks). */
  async write(chunks: readonly Buffer[]): Promise<void> {
    for (const c of chunks) {
      this.#pending.push(c);
      this.#pendingBytes += c.length;
      this.size += c.length;
    }
    if (this.#pendingBytes >= 256 * 1024) await this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#pending.length === 0) return;
    const bufs = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#handle.writev(bufs);
  }

  /** Writes what is pending and closes the file (not fsynced: the store fsyncs what it links). */
  async finish(): Promise<void> {
    if (this.#closed) return;
    await this.#drain();
    this.#closed = true;
    await this.#handle.close();
  }

  /** Closes and removes the file; safe to call more than once. */
  async discard(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#pending = [];
      await this.#handle.close().catch(() => {});
    }
    await unlink(this.path).catch(() => {});
  }

  /** A new spool with `prefix` bytes followed by this spool's content from byte `from` on (header fields added in front, or a rewritten header). */
  async withPrefix(dir: string, prefix: Buffer, from = 0): Promise<Spool> {
    const out = await Spool.create(dir, 'final');
    try {
      await out.write([prefix]);
      await out.#drain();
      const src = createReadStream(this.path, { start: from });
      const sink = new Writable({
        write: (chunk: Buffer, _enc, cb) => void out.write([chunk]).then(() => cb(), cb),
        final: (cb) => void out.finish().then(() => cb(), cb),
      });
      await pipeline(src, sink);
      return out;
    } catch (e) {
      await out.discard();
      throw e;
    }
  }
}

/** The header block of a message file (up to and including the empty line), read without loading the body; at most `max` bytes. */
export async function readHeaderBlock(path: string, max: number): Promise<{ header: Buffer; complete: boolean }> {
  const h = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    let carry = Buffer.alloc(0);
    while (size < max) {
      const b = Buffer.allocUnsafe(Math.min(64 * 1024, max - size));
      const { bytesRead } = await h.read(b, 0, b.length, size);
      if (bytesRead === 0) break;
      const chunk = b.subarray(0, bytesRead);
      const scan = Buffer.concat([carry, chunk]);
      const end = headerEnd(scan, size === 0);
      if (end >= 0) {
        chunks.push(chunk.subarray(0, end - carry.length));
        return { header: Buffer.concat(chunks), complete: true };
      }
      chunks.push(chunk);
      size += bytesRead;
      carry = scan.subarray(Math.max(0, scan.length - 3));
    }
    return { header: Buffer.concat(chunks), complete: false };
  } finally {
    await h.close();
  }
}

/** Offset after the empty line ending a header block (CRLF CRLF or LF LF), or -1. An empty header (message starting with a blank line) ends at once. */
function headerEnd(b: Buffer, atStart: boolean): number {
  if (atStart && b[0] === 13 && b[1] === 10) return 2;
  if (atStart && b[0] === 10) return 1;
  const crlf = b.indexOf('\r\n\r\n');
  const lf = b.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf + 2 <= lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}
