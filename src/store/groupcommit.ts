// Group commit over one SQLite database: writes that arrive while a commit is being
// made durable are applied together in the next transaction and share one fsync round.
// node:sqlite is synchronous, so the transaction itself runs on the event loop (it only
// writes to the page cache: synchronous=NORMAL in WAL mode does not fsync at commit);
// durability comes from an asynchronous fdatasync of the -wal file on the libuv pool,
// after which the batch's operations resolve. New message files and the directories that
// received them are fsynced (all in parallel) before the transaction that references them.
// Why no database worker thread: bench/store.ts measured the event loop's p99 delay at
// 1.5 ms with one writer and 2.5-6 ms with 20 (max ~10 ms, also seen without the store
// under GC), so synchronous SQLite statements cost less than a thread hop would add.
import type { DatabaseSync } from 'node:sqlite';
import { open, type FileHandle } from 'node:fs/promises';
import { histogram, counter } from '../metrics/index.ts';
import { StoreError } from './errors.ts';
import { openDatabase } from './schema.ts';
import type { Checkpointer } from './checkpointer.ts';

const batchSize = histogram('mailcove_store_commit_batch_operations', 'Operations per group commit.', [], [1, 2, 5, 10, 20, 50, 100, 500]);
const commitSeconds = histogram('mailcove_store_commit_seconds', 'Time from the start of a group commit until it is durable.');
const commits = counter('mailcove_store_commits_total', 'Group commits made durable.');

interface Pending {
  apply: () => unknown;
  dirs: readonly string[];
  ready: Promise<unknown> | undefined;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
  result?: unknown;
  failed?: unknown;
  committed?: ((result: unknown) => void) | undefined;
}

export interface WriteOptions<T> {
  /** Directories to fsync before the transaction (new entries they hold must be durable first). */
  dirs?: readonly string[];
  /** Must resolve before the transaction (e.g. a new file's fdatasync); a rejection fails this write only. */
  ready?: Promise<unknown>;
  /** Runs after the batch is durable, before the promise resolves, in commit order: publishing changes. */
  committed?: (result: T) => void;
}

export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #walPath: string;
  readonly #afterDurable: () => void;
  #wal: FileHandle | undefined;
  #queue: Pending[] = [];
  #running = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(db: DatabaseSync, dbPath: string, afterDurable: () => void) {
    this.#db = db;
    this.#walPath = `${dbPath}-wal`;
    this.#afterDurable = afterDurable;
  }

  /** Opens the WAL for fsync; the database must have been read once (that creates the WAL). */
  async open(): Promise<void> {
    this.#wal = await open(this.#walPath, 'r');
    await fsyncDir(this.#walPath.slice(0, this.#walPath.lastIndexOf('/'))); // the WAL's directory entry must survive too
  }

  /** Queues a write; `apply` runs inside the batch transaction (its own savepoint). */
  write<T>(apply: () => T, options: WriteOptions<T> = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreError('CLOSED', 'closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, dirs: options.dirs ?? [], ready: options.ready, resolve: resolve as (v: unknown) => void, reject, committed: options.committed as ((r: unknown) => void) | undefined });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#run()); // lets writes of the same tick join the batch
      }
    });
  }

  /** Waits for queued writes, then refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#running) await new Promise<void>((r) => this.#idle.push(r));
    await this.#wal?.close();
    this.#wal = undefined;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      await this.#commit(batch);
    }
    this.#running = false;
    for (const r of this.#idle.splice(0)) r();
  }

  async #commit(batch: Pending[]): Promise<void> {
    const start = performance.now();
    batchSize.observe({}, batch.length);
    const dirs = new Set(batch.flatMap((p) => p.dirs));
    const [dirsSynced, ...ready] = await Promise.allSettled([Promise.all([...dirs].map(fsyncDir)), ...batch.map((p) => p.ready)]);
    if (dirsSynced.status === 'rejected') {
      for (const p of batch) p.reject(dirsSynced.reason);
      return;
    }
    ready.forEach((r, i) => { if (r.status === 'rejected') batch[i]!.failed = r.reason; });
    const db = this.#db;
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const p of batch) {
        if (p.failed !== undefined) continue;
        db.exec('SAVEPOINT op');
        try {
          p.result = p.apply();
          db.exec('RELEASE op');
        } catch (e) {
          p.failed = e;
          db.exec('ROLLBACK TO op; RELEASE op'); // this operation only; the batch goes on
        }
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      for (const p of batch) p.reject(p.failed ?? e);
      return;
    }
    try {
      await this.#wal!.datasync(); // the commit is durable from here on
    } catch (e) {
      const err = new StoreError('IO', `fsync of the database log failed; the change may or may not persist: ${String(e)}`, { cause: e });
      for (const p of batch) p.reject(p.failed ?? err);
      return;
    }
    commits.inc();
    commitSeconds.observe({}, (performance.now() - start) / 1000);
    this.#afterDurable();
    for (const p of batch) {
      if (p.failed !== undefined) p.reject(p.failed);
      else {
        p.committed?.(p.result);
        p.resolve(p.result);
      }
    }
  }
}

/** fsync of a directory, so that names created in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Opens a database with its group commit (and WAL handle) ready; closes the database if that fails. */
export async function openCommitted(path: string, kind: 'auth' | 'queue', checkpointer: Checkpointer): Promise<{ db: DatabaseSync; commit: GroupCommit }> {
  const db = openDatabase(path, kind);
  const commit = new GroupCommit(db, path, () => checkpointer.dirty(path));
  try {
    await commit.open();
  } catch (e) {
    db.close();
    throw e;
  }
  return { db, commit };
}
