// The control socket, driven as the CLI drives it: JSON lines over the Unix socket in the
// data directory of a running queue (localserve delivery, so nothing leaves the machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { rename, stat, writeFile } from 'node:fs/promises';
import { ControlClient, ControlError, controlLineMax, controlRequest, startControl } from './control.ts';
import { controlFixture, type ControlFixture } from './testfixture.ts';
import { waitFor } from '../../test/waitfor.ts';

const hour = 3600_000;

/** Runs a test against a fresh queue with its control socket. */
function withQueue(name: string, fn: (f: ControlFixture) => Promise<void>): void {
  test(name, async () => {
    const f = await controlFixture();
    try {
      await fn(f);
    } finally {
      await f.done();
    }
  });
}


withQueue('the socket is mode 0600 and a second server on it is refused', async (f) => {
  assert.equal((await stat(f.path)).mode & 0o777, 0o600);
  await assert.rejects(startControl({ path: f.path, queue: f.queue }), /another mailcove is running/);
  assert.deepEqual(await controlRequest(f.path, 'queue.list', {}), [], 'the first server still answers');
});

withQueue('a stale socket file is replaced; a file that is not a socket is not', async (f) => {
  await f.control.close();
  // A socket file nobody listens on, as a crashed server leaves it: bound, moved into place, listener gone.
  const old = createServer().listen(`${f.path}.old`);
  await once(old, 'listening');
  await rename(`${f.path}.old`, f.path);
  old.close();
  await assert.rejects(controlRequest(f.path, 'queue.list', {}), /is mailcove running\? no server answers the control socket/);
  f.control = await startControl({ path: f.path, queue: f.queue });
  assert.deepEqual(await controlRequest(f.path, 'queue.list', {}), []);

  await f.control.close();
  await writeFile(f.path, 'not a socket');
  await assert.rejects(startControl({ path: f.path, queue: f.queue }), /is not a socket/);
  f.control = { close: async () => {} };
});

test('without a server, the client asks whether mailcove is running', async () => {
  await assert.rejects(controlRequest('/nonexistent/mailcove/ctl', 'queue.list', {}), (e: unknown) => e instanceof ControlError && e.message === 'is mailcove running? no control socket at /nonexistent/mailcove/ctl');
});

withQueue('queue.list returns the entries with ISO dates; each filter narrows it', async (f) => {
  const [a1, a2] = await f.add({ from: 'alice@example.org', to: ['one@example.net', 'two@example.com'] });
  const [b] = await f.add({ from: 'bob@example.org', to: ['three@example.net'], account: 'other', nextAttempt: new Date(Date.now() + 48 * hour) });
  await f.queue.release({ ids: [b!] });

  const all = await controlRequest(f.path, 'queue.list', {});
  assert.deepEqual(all.map((e) => e.id), [a1, a2, b]);
  const e = all[0]!;
  assert.equal(e.mailFrom, 'alice@example.org');
  assert.equal(e.recipient, 'one@example.net');
  assert.equal(e.held, true);
  assert.equal(e.attempts, 0);
  assert.match(e.nextAttempt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const ids = async (args: Parameters<typeof controlRequest<'queue.list'>>[2]) => (await controlRequest(f.path, 'queue.list', args)).map((x) => x.id);
  assert.deepEqual(await ids({ ids: [a2!, b!] }), [a2, b]);
  assert.deepEqual(await ids({ account: 'other' }), [b]);
  assert.deepEqual(await ids({ from: 'ALICE@' }), [a1, a2]);
  assert.deepEqual(await ids({ to: 'example.net' }), [a1, b]);
  assert.deepEqual(await ids({ held: false }), [b]);
  assert.deepEqual(await ids({ nextAttemptBefore: new Date(Date.now() + 36 * hour).toISOString() }), [a1, a2]);
  assert.deepEqual(await ids({ nextAttemptAfter: new Date(Date.now() + 36 * hour).toISOString() }), [b]);
  assert.deepEqual(await ids({ submittedBefore: new Date(Date.now() + hour).toISOString(), submittedAfter: new Date(Date.now() - hour).toISOString() }), [a1, a2, b]);
  assert.deepEqual(await ids({ submittedAfter: new Date(Date.now() + hour).toISOString() }), []);
});

withQueue('queue.hold and queue.release answer how many entries they changed', async (f) => {
  const [a, b] = await f.add({ from: 'alice@example.org', to: ['one@example.net', 'two@example.net'] });
  assert.equal(await controlRequest(f.path, 'queue.release', { ids: [a!] }), 1);
  assert.equal(await controlRequest(f.path, 'queue.release', { ids: [a!] }), 0, 'already released');
  assert.deepEqual((await controlRequest(f.path, 'queue.list', { held: true })).map((e) => e.id), [b]);
  assert.equal(await controlRequest(f.path, 'queue.hold', {}), 1);
  assert.equal((await controlRequest(f.path, 'queue.list', { held: true })).length, 2);
});

withQueue('queue.schedule sets the next attempt at a time, moves it, or makes it now', async (f) => {
  const [a] = await f.add({ from: 'alice@example.org', to: ['one@example.net'] });
  const next = async () => Date.parse((await controlRequest(f.path, 'queue.list', { ids: [a!] }))[0]!.nextAttempt);
  const at = new Date(Date.now() + 5 * hour);
  assert.equal(await controlRequest(f.path, 'queue.schedule', { ids: [a!], at: at.toISOString() }), 1);
  assert.equal(await next(), at.getTime());
  assert.equal(await controlRequest(f.path, 'queue.schedule', { ids: [a!], moveMs: -hour }), 1);
  assert.equal(await next(), at.getTime() - hour);
  const before = Date.now();
  assert.equal(await controlRequest(f.path, 'queue.schedule', {}), 1);
  assert.ok((await next()) >= before && (await next()) <= Date.now());
  await assert.rejects(controlRequest(f.path, 'queue.schedule', { at: at.toISOString(), moveMs: 1 }), /give at or moveMs, not both/);
});

withQueue('a released entry that is due is delivered into the localserve account and retired as delivered', async (f) => {
  const [a] = await f.add({ from: 'alice@example.org', to: ['one@example.net'] });
  await controlRequest(f.path, 'queue.schedule', { ids: [a!] });
  assert.equal(await controlRequest(f.path, 'queue.release', { ids: [a!] }), 1);
  const r = await waitFor('retired', async () => (await controlRequest(f.path, 'queue.retired', { ids: [a!] }))[0]);
  assert.equal(r.success, true);
  assert.equal(r.attempts[0]?.transport, 'localserve');
  assert.deepEqual(await controlRequest(f.path, 'queue.list', {}), []);
});

withQueue('a deferred entry shows its attempt in queue.attempts and its last error in queue.list', async (f) => {
  const [a] = await f.add({ from: 'alice@example.org', to: ['queuetempfail@example.net'], nextAttempt: new Date() }); // localserve: a simulated 451
  await controlRequest(f.path, 'queue.release', { ids: [a!] });
  const e = await waitFor('an attempt', async () => (await controlRequest(f.path, 'queue.list', { ids: [a!] })).find((x) => x.attempts === 1));
  assert.equal(e.lastError, 'simulated temporary failure');
  assert.ok(Date.parse(e.nextAttempt) > Date.now(), 'retried later');
  const [attempt] = await controlRequest(f.path, 'queue.attempts', { id: a! });
  assert.equal(attempt?.success, false);
  assert.equal(attempt?.code, 451);
  assert.equal(attempt?.enhanced, '4.3.0');
  assert.equal(attempt?.transport, 'localserve');
});

withQueue('queue.fail retires entries as failed, with the attempt in the history; it needs a filter or all', async (f) => {
  const [a, b] = await f.add({ from: 'alice@example.org', to: ['one@example.net', 'two@example.net'] });
  await assert.rejects(controlRequest(f.path, 'queue.fail', {}), /refusing to fail every queue entry: give a filter, or all: true/);
  assert.equal(await controlRequest(f.path, 'queue.fail', { ids: [a!] }), 1);
  assert.deepEqual((await controlRequest(f.path, 'queue.list', {})).map((e) => e.id), [b]);
  const [r] = await controlRequest(f.path, 'queue.retired', { success: false });
  assert.equal(r?.id, a);
  assert.equal(r?.address, 'one@example.net');
  assert.match(r?.retired ?? '', /Z$/);
  assert.equal(r?.attempts.length, 1);
  assert.equal(r?.attempts[0]?.transport, 'admin');
  assert.deepEqual(await controlRequest(f.path, 'queue.attempts', { id: b! }), [], 'not tried yet');
  assert.deepEqual(await controlRequest(f.path, 'queue.retired', { success: true }), []);
  assert.equal(await controlRequest(f.path, 'queue.fail', { all: true }), 1);
  assert.deepEqual(await controlRequest(f.path, 'queue.list', {}), []);
});

withQueue('queue.drop removes entries without history; it needs a filter or all', async (f) => {
  const [a, b] = await f.add({ from: 'alice@example.org', to: ['one@example.net', 'two@example.net'] });
  await assert.rejects(controlRequest(f.path, 'queue.drop', { all: false }), /refusing to drop every queue entry/);
  assert.equal(await controlRequest(f.path, 'queue.drop', { to: 'one@' }), 1);
  assert.deepEqual((await controlRequest(f.path, 'queue.list', {})).map((e) => e.id), [b]);
  assert.deepEqual(await controlRequest(f.path, 'queue.retired', {}), [], 'no history');
  assert.equal(await controlRequest(f.path, 'queue.drop', { ids: [a!] }), 0);
});

withQueue('queue.dump returns the message bytes in base64', async (f) => {
  const data = Buffer.concat([Buffer.from('Subject: bytes\r\n\r\n'), Buffer.from([0xe2, 0x82, 0xac, 0x00, 0xff]), Buffer.from('\r\n')]);
  const [a] = await f.add({ from: 'alice@example.org', to: ['one@example.net'], data });
  assert.deepEqual(Buffer.from(await controlRequest(f.path, 'queue.dump', { id: a! }), 'base64'), data);
  await assert.rejects(controlRequest(f.path, 'queue.dump', { id: 999 }), /: no queue entry 999$/);
});

withQueue('hold rules: add (domains as A-labels; matching queued entries held at once), list, rm', async (f) => {
  const [a] = await f.add({ from: 'alice@example.org', to: ['one@bücher.example'], held: false });
  const rule = await controlRequest(f.path, 'queue.holdrules.add', { recipientDomain: 'Bücher.Example' });
  assert.equal(rule.recipientDomain, 'xn--bcher-kva.example');
  assert.equal(rule.account, '');
  assert.match(rule.created, /Z$/);
  assert.deepEqual((await controlRequest(f.path, 'queue.list', { held: true })).map((e) => e.id), [a]);
  assert.deepEqual(await controlRequest(f.path, 'queue.holdrules.list', {}), [rule]);
  await assert.rejects(controlRequest(f.path, 'queue.holdrules.add', { senderDomain: 'not a domain' }), /bad args: senderDomain: invalid domain/);
  assert.equal(await controlRequest(f.path, 'queue.holdrules.rm', { id: rule.id }), undefined);
  assert.deepEqual(await controlRequest(f.path, 'queue.holdrules.list', {}), []);
  await assert.rejects(controlRequest(f.path, 'queue.holdrules.rm', { id: rule.id }), new RegExp(`: no hold rule ${rule.id}$`));
});

withQueue('suppressions: add, list per account, rm', async (f) => {
  await controlRequest(f.path, 'queue.suppress.add', { account: 'mailcove', address: 'John.Doe+news@Example.com', reason: 'asked to stop' });
  await controlRequest(f.path, 'queue.suppress.add', { account: 'other', address: 'x@example.com' });
  const [s] = await controlRequest(f.path, 'queue.suppress.list', { account: 'mailcove' });
  assert.equal(s?.base, 'johndoe@example.com');
  assert.equal(s?.address, 'John.Doe+news@Example.com');
  assert.equal(s?.reason, 'asked to stop');
  assert.equal(s?.manual, true);
  assert.equal((await controlRequest(f.path, 'queue.suppress.list', {})).length, 2);
  await controlRequest(f.path, 'queue.suppress.rm', { account: 'mailcove', address: 'johndoe@example.com' });
  assert.deepEqual(await controlRequest(f.path, 'queue.suppress.list', { account: 'mailcove' }), []);
  await assert.rejects(controlRequest(f.path, 'queue.suppress.rm', { account: 'mailcove', address: 'johndoe@example.com' }), /is not suppressed/);
  await assert.rejects(controlRequest(f.path, 'queue.suppress.add', { account: 'mailcove', address: 'no-at-sign' }), /address: not an email address/);
});

withQueue('bad requests get ok:false with the reason, and the connection stays usable', async (f) => {
  const c = await ControlClient.connect(f.path);
  try {
    assert.deepEqual(await c.send('{"op":"queue.bogus"}'), { ok: false, error: 'unknown op "queue.bogus" (known: queue.list, queue.hold, queue.release, queue.schedule, queue.fail, queue.drop, queue.dump, queue.attempts, queue.retired, queue.holdrules.list, queue.holdrules.add, queue.holdrules.rm, queue.suppress.list, queue.suppress.add, queue.suppress.rm)' });
    assert.deepEqual(await c.send('{"op":"queue.list","args":{"colour":"red"}}'), { ok: false, error: 'bad args: Unrecognized key: "colour"' });
    assert.deepEqual(await c.send('{"op":"queue.list","args":{"ids":[1.5]}}'), { ok: false, error: 'bad args: ids.0: Invalid input: expected int, received number' });
    assert.deepEqual(await c.send('{"op":"queue.list","args":{"submittedBefore":"yesterday"}}'), { ok: false, error: 'bad args: submittedBefore: Invalid ISO datetime' });
    assert.deepEqual(await c.send('{"op":"queue.list","id":7}'), { ok: false, error: 'bad request: Unrecognized key: "id"' });
    assert.deepEqual(await c.send('queue.list'), { ok: false, error: 'request is not JSON (one object per line: {"op":"...","args":{...}})' });
    assert.deepEqual(await c.send('{"op":"queue.dump","args":{}}'), { ok: false, error: 'bad args: id: Invalid input: expected number, received undefined' });
    assert.deepEqual(await c.request('queue.list', {}), []);
    assert.deepEqual(await c.send('{"op":"queue.holdrules.list"}'), { ok: true, result: [] }, 'args may be left out');
  } finally {
    c.close();
  }
});

withQueue('requests sent together on one connection are answered in order', async (f) => {
  await f.add({ from: 'alice@example.org', to: ['one@example.net'] });
  const c = await ControlClient.connect(f.path);
  try {
    const [list, held, rules] = await Promise.all([c.request('queue.list', {}), c.request('queue.hold', {}), c.request('queue.holdrules.list', {})]);
    assert.equal(list.length, 1);
    assert.equal(held, 0);
    assert.deepEqual(rules, []);
  } finally {
    c.close();
  }
});

withQueue('a request line over 1 MiB is refused and the connection closed', async (f) => {
  const c = await ControlClient.connect(f.path);
  try {
    assert.deepEqual(await c.request('queue.list', {}), []);
    const r = await c.send(JSON.stringify({ op: 'queue.list', args: { from: 'x'.repeat(controlLineMax) } }));
    assert.deepEqual(r, { ok: false, error: `request line longer than ${controlLineMax} bytes; closing the connection` });
    await assert.rejects(c.request('queue.list', {}), /closed the control connection/);
  } finally {
    c.close();
  }
  assert.deepEqual(await controlRequest(f.path, 'queue.list', {}), [], 'other connections are served');
});
