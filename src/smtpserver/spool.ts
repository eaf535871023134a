// Spools: a message is kept in memory while small and moved to a temporary file once it
// grows past a limit (never a large message whole in memory), checked, then finished into
// what the store or queue takes: bytes for small messages (one file write, in the store),
// a file for large ones (linked into place). Fewer file-system operations per message
// matter: each create/unlink competes with the deliveries' fsyncs for the journal.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { headerEnd } from '../mime/index.ts';

/** Messages up to this size stay in memory (with the connection limits: a bounded total). */
export const spoolMemoryLimit = 256 * 1024;

export class Spool {
  readonly #dir: string;
  readonly #prefix: string;
  #path: string | undefined;
  size = 0;
  #handle: FileHandle | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #closed = false;

  private constructor(dir: string, prefix: string) {
    this.#dir = dir;
    this.#prefix = prefix;
  }

  static async create(dir: string, prefix = 'smtp'): Promise<Spool> {
    return new Spool(dir, prefix);
  }

  /** The message bytes while the message is small enough to be held in memory. */
  get data(): Buffer | undefined {
    if (this.#handle || this.#path) return undefined;
    if (this.#pending.length !== 1) this.#pending = [Buffer.concat(this.#pending)];
    return this.#pending[0];
  }

  /** Adds bytes; past the memory limit they go to a file, written in batches of up to 256 KiB. */
  async write(chunks: readonly Buffer[]): Promise<void> {
    for (const c of chunks) {
      this.#pending.push(c);
      this.#pendingBytes += c.length;
      this.size += c.length;
    }
    if (this.#pendingBytes >= spoolMemoryLimit) await this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#pending.length === 0) return;
    if (!this.#handle) {
      this.#path = `${this.#dir}/${this.#prefix}-${Date.now()}-${randomBytes(6).toString('hex')}`;
      this.#handle = await open(this.#path, 'wx', 0o600);
    }
    const bufs = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#handle.writev(bufs);
  }

  /** Ends writing: a file spool gets what is pending and is closed (not fsynced: the store fsyncs what it takes). */
  async finish(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#handle) return;
    await this.#drain();
    await this.#handle.close();
  }

  /** A file with the message, for what takes only files (the queue, large deliveries); an in-memory spool is written out now. */
  async file(): Promise<string> {
    if (this.#path) return this.#path;
    const path = `${this.#dir}/${this.#prefix}-${Date.now()}-${randomBytes(6).toString('hex')}`;
    await writeFile(path, this.data ?? Buffer.alloc(0), { flag: 'wx', mode: 0o600 });
    this.#path = path;
    return path;
  }

  /** The message for readers that take bytes or a file (DKIM, authentication checks). */
  async source(): Promise<Buffer | string> {
    return this.data ?? (await this.file());
  }

  /** Closes and removes the file, if any; safe to call more than once. */
  async discard(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle?.close().catch(() => {});
    }
    this.#pending = [];
    if (this.#path) await unlink(this.#path).catch(() => {});
  }

  /** A new spool with `prefix` bytes followed by this spool's content from byte `from` on (header fields added in front, or a rewritten header). */
  async withPrefix(dir: string, prefix: Buffer, from = 0): Promise<Spool> {
    const out = await Spool.create(dir, 'final');
    try {
      const data = this.data;
      if (data) {
        await out.write([prefix, data.subarray(from)]);
      } else {
        await out.write([prefix]);
        const src = createReadStream(this.#path!, { start: from });
        const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => void out.write([chunk]).then(() => cb(), cb) });
        await pipeline(src, sink);
      }
      await out.finish();
      return out;
    } catch (e) {
      await out.discard();
      throw e;
    }
  }

  /** The header block (up to and including the empty line), at most max bytes, without reading the body of a file. */
  async header(max: number): Promise<{ header: Buffer; complete: boolean }> {
    const data = this.data;
    if (!data) return readHeaderBlock(this.#path!, max);
    const end = headerEnd(data.subarray(0, max));
    return end >= 0 ? { header: data.subarray(0, end), complete: true } : { header: data.subarray(0, max), complete: false };
  }
}

/** The header block of a message file (up to and including the empty line), read without loading the body; at most `max` bytes. */
async function readHeaderBlock(path: string, max: number): Promise<{ header: Buffer; complete: boolean }> {
  const h = await open(path, 'r');
  try {
    let head = Buffer.alloc(0);
    while (head.length < max) {
      const b = Buffer.allocUnsafe(Math.min(64 * 1024, max - head.length));
      const { bytesRead } = await h.read(b, 0, b.length, head.length);
      if (bytesRead === 0) break;
      head = Buffer.concat([head, b.subarray(0, bytesRead)]); // at most 16 rounds of 64 KiB below the 1 MiB limit
      const end = headerEnd(head);
      if (end >= 0) return { header: head.subarray(0, end), complete: true };
    }
    return { header: head, complete: false };
  } finally {
    await h.close();
  }
}
