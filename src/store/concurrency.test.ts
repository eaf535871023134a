import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, message, failsWith } from './testfixture.ts';
import type { ChangeEvent } from './types.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

test('concurrent deliveries to one mailbox get unique, dense UIDs and exact counts', async () => {
  const f = await fixture();
  try {
    const n = 200;
    const spools = await Promise.all(Array.from({ length: n }, (_, i) => f.spool(message(`m${i}`))));
    const added = await Promise.all(spools.map((spoolPath, i) => f.account.deliver('INBOX', { spoolPath, flags: i % 2 ? ['\\Seen'] : [] })));
    assert.deepEqual(added.map((a) => a.uid).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1));
    assert.equal(new Set(added.map((a) => a.modseq)).size, n, 'MODSEQs unique');
    const s = await f.account.mailboxStatus('INBOX');
    const size = spools.reduce((t, _, i) => t + message(`m${i}`).length, 0);
    assert.deepEqual([s.total, s.unseen, s.size, s.uidNext], [n, n / 2, size, n + 1]);
    assert.equal(s.highestModseq, Math.max(...added.map((a) => a.modseq)));
  } finally {
    await f.done();
  }
});

test('concurrent mixed operations keep counts consistent, and failures do not disturb the batch', async () => {
  const f = await fixture();
  try {
    for (let i = 0; i < 20; i++) await f.account.append('INBOX', { data: message(`m${i}`) });
    const ops: Promise<unknown>[] = [];
    for (let i = 1; i <= 20; i++) {
      ops.push(f.account.storeFlags('INBOX', [i], { mode: 'add', flags: ['\\Deleted', '\\Seen'] }));
      ops.push(f.account.append('Sent', { data: message(`s${i}`) }));
      if (i % 5 === 0) ops.push(f.account.copy('INBOX', [i], 'Archive'));
    }
    const bad = assert.rejects(f.account.createMailbox('Sent'), failsWith('ALREADYEXISTS')); // fails inside a batch, alone
    ops.push(f.account.expunge('INBOX', [[1, 10]]));
    await Promise.all(ops);
    await bad;
    const inbox = await f.account.mailboxStatus('INBOX');
    const rows = await f.account.messages('INBOX');
    assert.equal(inbox.total, rows.length);
    assert.equal(inbox.deleted, rows.filter((m) => m.flags.includes('\\Deleted')).length);
    assert.equal((await f.account.mailboxStatus('Sent')).total, 20);
    assert.equal((await f.account.mailboxStatus('Archive')).total, 4);
  } finally {
    await f.done(); // the consistency checker runs here
  }
});

test('the change feed publishes committed changes in MODSEQ order, before the operation resolves', async () => {
  const f = await fixture();
  try {
    const events: ChangeEvent[] = [];
    const stop = f.account.changes.subscribe((e) => void events.push(e));
    await f.account.createMailbox('Feed');
    assert.deepEqual(events.map((e) => [e.type, e.mailbox]), [['mailboxCreated', 'Feed']], 'published by the time the operation resolves');
    await Promise.all(Array.from({ length: 30 }, (_, i) => f.account.append('Feed', { data: message(`m${i}`) })));
    await f.account.storeFlags('Feed', [[1, 3]], { mode: 'add', flags: ['\\Deleted'] });
    await f.account.expunge('Feed');
    await f.account.renameMailbox('Feed', 'Fed');
    await f.account.deleteMailbox('Fed');
    stop();
    await f.account.append('INBOX', { data: message('after') });
    const types = events.map((e) => e.type);
    assert.equal(types.filter((t) => t === 'added').length, 30);
    assert.equal(types.filter((t) => t === 'flags').length, 3);
    assert.deepEqual(types.filter((t) => t !== 'added' && t !== 'flags' && t !== 'counts'), ['mailboxCreated', 'expunged', 'mailboxRenamed', 'mailboxDeleted']);
    const modseqs = events.flatMap((e) => (e.type === 'counts' || e.type === 'metadata' ? [] : [e.modseq]));
    assert.deepEqual(modseqs, [...modseqs].sort((a, b) => a - b), 'in commit (MODSEQ) order');
    const added = events.filter((e) => e.type === 'added');
    assert.deepEqual(added.map((e) => e.uid).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1));
    const lastCounts = events.filter((e) => e.type === 'counts' && e.mailbox === 'Feed').at(-1);
    assert.ok(lastCounts?.type === 'counts' && lastCounts.status.total === 27);
    assert.ok(!events.some((e) => e.mailbox === 'INBOX'), 'no events after unsubscribing');
  } finally {
    await f.done();
  }
});

test('a throwing listener is counted as a bug and does not stop other listeners', async () => {
  // In a child process: this process's harness fails on any counted bug (test/setup.ts).
  const script = `
    import { fixture, message } from ${JSON.stringify(new URL('./testfixture.ts', import.meta.url).href)};
    import { uncaughtErrorCount } from ${JSON.stringify(new URL('../metrics/index.ts', import.meta.url).href)};
    const f = await fixture();
    let got = 0;
    f.account.changes.subscribe(() => { throw new Error('listener bug'); });
    f.account.changes.subscribe(() => void got++);
    await f.account.append('INBOX', { data: message('x') });
    await f.done();
    console.log(JSON.stringify({ got, bugs: uncaughtErrorCount() }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, MAILCOVE_LOG_LEVEL: 'silent' } });
  assert.deepEqual(JSON.parse(stdout), { got: 2, bugs: 2 }, 'the second listener got added + counts; both throws counted');
});
