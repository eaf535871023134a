// Nothing acknowledged is lost (DESIGN.md principle 2): a child process delivers
// concurrently and reports each acknowledged delivery; it is killed with SIGKILL in the
// middle of its work; after reopening, every acknowledged message is present with
// intact bytes, acknowledged flag changes are present, and the consistency check passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { openStore, verifyData } from '../src/store/index.ts';

interface Acks {
  delivered: Map<number, { messageId: string; sha256: string }>;
  seen: Set<number>;
}

/** Runs the child until it has acknowledged `n` more deliveries, then kills it with SIGKILL. */
async function runAndKill(dataDir: string, n: number, acks: Acks): Promise<void> {
  const child = spawn(process.execPath, [new URL('./durability-child.ts', import.meta.url).pathname, dataDir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MAILCOVE_LOG_LEVEL: 'silent' } });
  const exited = once(child, 'exit');
  let count = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const [kind, uid, messageId, sha256] = line.split(' ');
    if (kind === 'D') {
      acks.delivered.set(Number(uid), { messageId: messageId!, sha256: sha256! });
      if (++count === n) child.kill('SIGKILL'); // mid-run: other writers have commits in flight
    } else if (kind === 'F') acks.seen.add(Number(uid));
  }
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGKILL', `child ended by itself (code ${code})`);
}

test('every acknowledged delivery and flag change survives SIGKILL, and the store stays consistent', async () => {
  const dataDir = await mkdtemp(`${tmpdir()}/mailcove-durability-`);
  try {
    let store = await openStore(dataDir);
    await store.createAccount('crash');
    await store.close();
    const acks: Acks = { delivered: new Map(), seen: new Set() };
    await runAndKill(dataDir, 300, acks);
    await runAndKill(dataDir, 300, acks); // reopens an account that was not closed: orphan cleanup, WAL recovery
    assert.ok(acks.delivered.size >= 600);

    store = await openStore(dataDir);
    try {
      const account = await store.openAccount('crash');
      const rows = new Map((await account.messages('INBOX')).map((m) => [m.uid, m]));
      for (const [uid, ack] of acks.delivered) {
        const row = rows.get(uid);
        assert.ok(row, `acknowledged UID ${uid} is present`);
        assert.equal(row.messageId, ack.messageId);
        const hash = createHash('sha256');
        for await (const chunk of await account.openMessage(row.messageId)) hash.update(chunk as Buffer);
        assert.equal(hash.digest('hex'), ack.sha256, `UID ${uid} has its exact bytes`);
        if (acks.seen.has(uid)) assert.deepEqual(row.flags, ['\\Seen'], `UID ${uid} keeps its acknowledged \\Seen`);
      }
      const uids = [...rows.keys()];
      assert.deepEqual(uids, [...uids].sort((a, b) => a - b));
      await account.close(); // runs the consistency checker (MAILCOVE_VERIFY_ON_CLOSE)
    } finally {
      await store.close();
    }
    const report = await verifyData(dataDir);
    assert.deepEqual(report.problems, []);
    assert.equal(report.orphans.length, 0, 'files of unacknowledged deliveries were cleaned up at reopen or are absent');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
