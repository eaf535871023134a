// Immutable message files of one account: msg/<shard>/<id>. A file is complete and
// fsynced (with its directory entry) before any database row references it; a file
// without a row is a harmless orphan left by a crash, a row without a file is corruption.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { StoreError } from './errors.ts';
import type { ByteRange } from './types.ts';

export interface PlacedFile {
  id: string;
  path: string;
  size: number;
  dirs: string[]; // to fsync before the commit that references the file
  synced: Promise<void>; // the file's fdatasync, started at once so that it overlaps other commits; awaited before the commit
}

/** fdatasync of a file; the promise never rejects unobserved (the commit awaits it). */
function datasync(path: string): Promise<void> {
  const p = (async () => {
    const h = await open(path, 'r');
    try {
      await h.datasync();
    } finally {
      await h.close();
    }
  })();
  p.catch(() => {});
  return p;
}

const idPattern = /^[0-9a-f]{16}$/;

export class MessageFiles {
  readonly root: string; // <account>/msg
  #shards = new Set<string>();

  constructor(accountDir: string) {
    this.root = `${accountDir}/msg`;
  }

  path(id: string): string {
    if (!idPattern.test(id)) throw new StoreError('NONEXISTENT', 'no such message'); // ids name files: nothing else may reach the file system
    return `${this.root}/${id.slice(0, 2)}/${id}`;
  }

  /** Places a message in the store: a hard link to the spool file (or a stream copy across file systems), or the given bytes; fsynced. */
  async place(source: { spoolPath: string } | { data: Buffer }): Promise<PlacedFile> {
    const id = randomBytes(8).toString('hex');
    const shard = `${this.root}/${id.slice(0, 2)}`;
    const dirs = [shard];
    if (!this.#shards.has(shard)) {
      const created = await mkdir(shard, { recursive: true });
      if (created) dirs.push(this.root, this.root.slice(0, this.root.lastIndexOf('/'))); // new directories need their own entries synced
      this.#shards.add(shard);
    }
    const path = `${shard}/${id}`;
    if ('data' in source) {
      await writeFile(path, source.data, { flag: 'wx' });
      return { id, path, size: source.data.length, dirs, synced: datasync(path) };
    }
    try {
      await link(source.spoolPath, path); // no copy: the spool file becomes the message file
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new StoreError('NONEXISTENT', `spool file not found: ${source.spoolPath}`);
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw e;
      await pipeline(createReadStream(source.spoolPath), createWriteStream(path, { flags: 'wx' })); // streams: never the whole message in memory
    }
    return { id, path, size: (await stat(path)).size, dirs, synced: datasync(path) }; // the spool writer may not have synced
  }

  async open(id: string, range: ByteRange = {}): Promise<Readable> {
    let h;
    try {
      h = await open(this.path(id), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StoreError('NONEXISTENT', 'no such message');
      throw e;
    }
    return h.createReadStream({ start: range.start, end: range.end, autoClose: true });
  }

  /** Removes files no longer referenced (after the commit that dropped their last row). */
  async remove(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => unlink(this.path(id)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; })));
  }

  /** Every message file id on disk. */
  async list(): Promise<string[]> {
    const ids: string[] = [];
    let shards: string[];
    try {
      shards = await readdir(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    for (const s of shards) for (const f of await readdir(`${this.root}/${s}`)) ids.push(f);
    return ids;
  }
}
