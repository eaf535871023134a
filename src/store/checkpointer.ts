// The main-thread side of the checkpoint worker. Why a worker: a WAL checkpoint copies
// pages into the database and fsyncs both files synchronously on the calling thread.
// Measured on the development disk, a checkpoint of ~1000 WAL pages (SQLite's default
// automatic interval) holds its thread for ~3 ms; that is two fsyncs, so on a disk with
// 10 ms fsyncs it would be ~20+ ms of stalled event loop. bench/store.ts showed no
// difference in throughput or worst event-loop delay on that (noisy, fast) disk either way.
// The commits themselves stay on the main thread: their fsync is already asynchronous.
import { Worker } from 'node:worker_threads';
import { logger } from '../log/index.ts';
import type { CheckpointReply, CheckpointRequest } from './checkpoint-worker.ts';

const log = logger('store');

export class Checkpointer {
  #worker: Worker;
  #nextId = 1;
  #waiting = new Map<number, () => void>();
  #exited = false;

  constructor() {
    // No inherited execArgv: flags of the main program (e.g. --input-type) can make a worker fail to start; it needs none.
    this.#worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { execArgv: [] });
    this.#worker.unref(); // never keeps the process alive
    this.#worker.on('message', (m: CheckpointReply) => {
      if (m.type === 'released') {
        this.#waiting.get(m.id)?.();
        this.#waiting.delete(m.id);
        if (this.#waiting.size === 0) this.#worker.unref();
      } else log.warn({ path: m.path, err: m.message }, 'wal checkpoint failed');
    });
    this.#worker.on('error', (err) => log.error({ err }, 'checkpoint worker failed'));
    this.#worker.on('exit', () => {
      this.#exited = true; // from here SQLite's own (rarer) automatic checkpoints remain, see schema.ts
      for (const resolve of this.#waiting.values()) resolve(); // its connections are gone with it
      this.#waiting.clear();
    });
  }

  /** A commit added WAL frames to this database: checkpoint it soon. */
  dirty(path: string): void {
    if (!this.#exited) this.#worker.postMessage({ type: 'dirty', path } satisfies CheckpointRequest);
  }

  /** Closes the worker's connection to this database (before the database is closed or removed). */
  release(path: string): Promise<void> {
    if (this.#exited) return Promise.resolve();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.ref(); // an unref'd worker would let the process exit while we wait for its answer
      this.#worker.postMessage({ type: 'release', path, id } satisfies CheckpointRequest);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
