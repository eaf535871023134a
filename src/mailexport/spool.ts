// One message being imported: kept in memory while small, written to a spool file once
// it grows, so that an import's memory stays bounded whatever the message sizes. The
// store takes either form (AppendInput: data, or a spool file it links).
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';

/** The folder for an import's spool files, made when the first message outgrows memory. */
export class SpoolDir {
  readonly #parent: string;
  #path: Promise<string> | undefined;
  #count = 0;

  constructor(parent = tmpdir()) {
    this.#parent = parent;
  }

  async newFile(): Promise<string> {
    this.#path ??= mkdtemp(`${this.#parent}/mailcove-import-`);
    return `${await this.#path}/${this.#count++}`;
  }

  async remove(): Promise<void> {
    if (this.#path) await rm(await this.#path, { recursive: true, force: true });
  }
}

export class MessageSpool {
  static readonly memoryLimit = 1024 * 1024; // larger messages go to a spool file
  readonly #dir: SpoolDir;
  readonly #maxSize: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #file: { path: string; handle: FileHandle } | undefined;

  constructor(dir: SpoolDir, maxSize: number) {
    this.#dir = dir;
    this.#maxSize = maxSize;
  }

  /** Past maxSize the data is dropped and only counted. */
  get tooLarge(): boolean {
    return this.#size > this.#maxSize;
  }

  async write(chunks: readonly Buffer[]): Promise<void> {
    const wasTooLarge = this.tooLarge;
    for (const c of chunks) this.#size += c.length;
    if (wasTooLarge) return;
    if (this.tooLarge) return this.discard(); // the message will be reported, not imported: its bytes need not be kept
    if (this.#file) {
      await this.#file.handle.writev(chunks as Buffer[]);
      return;
    }
    this.#chunks.push(...chunks);
    if (this.#size <= MessageSpool.memoryLimit) return;
    const path = await this.#dir.newFile();
    this.#file = { path, handle: await open(path, 'wx', 0o600) }; // mail: the account's alone
    const held = this.#chunks;
    this.#chunks = [];
    await this.#file.handle.writev(held);
  }

  /** The message for Account.append; the spool file stays until discard(). */
  async input(): Promise<{ data: Buffer } | { spoolPath: string }> {
    if (!this.#file) return { data: Buffer.concat(this.#chunks) };
    await this.#file.handle.close();
    return { spoolPath: this.#file.path };
  }

  async discard(): Promise<void> {
    this.#chunks = [];
    const f = this.#file;
    this.#file = undefined;
    if (!f) return;
    await f.handle.close().catch(() => {}); // already closed by input()
    await rm(f.path, { force: true });
  }
}
