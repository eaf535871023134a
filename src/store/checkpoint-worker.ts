// Runs WAL checkpoints of the store's databases on its own connections, off the main
// thread: a checkpoint fsyncs the WAL and the database file synchronously, which would
// otherwise stall the event loop (see checkpointer.ts).
import { DatabaseSync } from 'node:sqlite';
import { parentPort } from 'node:worker_threads';

export type CheckpointRequest = { type: 'dirty'; path: string } | { type: 'release'; path: string; id: number };
export type CheckpointReply = { type: 'released'; id: number } | { type: 'error'; path: string; message: string };

const port = parentPort;
if (!port) throw new Error('checkpoint-worker must run in a worker thread');

const delayMs = 200; // at most one checkpoint per database per this interval
const connections = new Map<string, DatabaseSync>();
const timers = new Map<string, NodeJS.Timeout>();

function checkpoint(path: string): void {
  timers.delete(path);
  try {
    let db = connections.get(path);
    if (!db) {
      db = new DatabaseSync(path);
      db.exec('PRAGMA busy_timeout = 1000');
      connections.set(path, db);
    }
    db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get(); // PASSIVE: never waits for or blocks the writer
  } catch (e) {
    port!.postMessage({ type: 'error', path, message: e instanceof Error ? e.message : String(e) } satisfies CheckpointReply);
  }
}

port.on('message', (m: CheckpointRequest) => {
  if (m.type === 'dirty') {
    if (!timers.has(m.path)) timers.set(m.path, setTimeout(checkpoint, delayMs, m.path));
    return;
  }
  clearTimeout(timers.get(m.path));
  timers.delete(m.path);
  connections.get(m.path)?.close();
  connections.delete(m.path);
  port.postMessage({ type: 'released', id: m.id } satisfies CheckpointReply);
});
