// The queue against scripted peers and our own SMTP server: what goes on the wire (DSN
// parameters passed on, SMTPUTF8, RCPTMAX, one connection for several messages), retries
// and their DSNs (delayed, failed after the last attempt, relayed success), DSNs to remote
// senders, unique MAIL FROM ids, routes to a smarthost with AUTH and through a SOCKS5 proxy
// (microsocks), localserve's simulated queue failures, and MX address ordering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { MemoryResolver } from '../dns/index.ts';
import { smtpFixture, staticText, testPassword, type SmtpFixture } from '../smtpserver/testfixture.ts';
import { lookupHostIPs, lookupMx, IpFailures } from '../smtpclient/index.ts';
import { Queue, type QueueOptions } from './queue.ts';
import { scriptedPeer, type ScriptedPeer } from './testpeer.ts';
import { waitFor } from '../../test/waitfor.ts';

/** Every domain's MX is mx.<domain> at 127.0.0.1 (the port is the test-only override). */
function resolverFor(...domains: string[]): MemoryResolver {
  const r = new MemoryResolver();
  for (const d of domains) r.add(d, 'MX', [{ preference: 10, exchange: `mx.${d}` }]).add(`mx.${d}`, 'A', ['127.0.0.1']);
  return r;
}

let spools = 0;
async function enqueue(f: SmtpFixture, o: { mailFrom?: string; to: Array<string | { address: string; notify?: string; orcpt?: string }>; message?: string; smtputf8?: boolean; envid?: string; ret?: 'FULL' | 'HDRS'; account?: string; fromid?: string }): Promise<number> {
  const spoolPath = join(f.dir, `spool-${spools++}`);
  await writeFile(spoolPath, o.message ?? 'From: <mjl@example.com>\r\nSubject: queued\r\nMessage-ID: <q1@example.com>\r\n\r\nHello\r\n');
  const m = await f.store.queue.add({
    account: o.account ?? 'mjl', mailFrom: o.mailFrom ?? 'mjl@example.com', smtputf8: o.smtputf8 ?? false, body: '8BITMIME', requireTLS: null,
    ...(o.envid ? { envid: o.envid } : {}), ...(o.ret ? { ret: o.ret } : {}), ...(o.fromid ? { fromid: o.fromid } : {}),
    recipients: o.to.map((t) => (typeof t === 'string' ? { address: t, domain: t.slice(t.indexOf('@') + 1) } : { ...t, domain: t.address.slice(t.address.indexOf('@') + 1) })),
    spoolPath, nextAttempt: new Date(), extra: {},
  });
  return m.id;
}


const retired = (f: SmtpFixture, address: string) => waitFor(`retired ${address}`, async () => (await f.store.queue.listRetired()).find((r) => r.address === address));
const inbox = (f: SmtpFixture, account = 'mjl') => f.messages(account);

async function withQueue(peer: ScriptedPeer | number, queue: Partial<QueueOptions>, fn: (f: SmtpFixture) => Promise<void>, o: { domains?: string; static?: string } = {}): Promise<void> {
  const mxPort = typeof peer === 'number' ? peer : peer.port;
  const f = await smtpFixture({ ...o, resolver: queue.resolver ?? resolverFor('remote.example', 'other.example', 'sender.example'), queue: { testing: { mxPort, firstRetryMs: 20 }, ...queue } });
  try {
    await fn(f);
  } finally {
    await f.done();
    if (typeof peer !== 'number') await peer.close();
  }
}

test('DSN parameters and SMTPUTF8 go to the next hop; messages for one domain share a connection', async () => {
  const peer = await scriptedPeer();
  await withQueue(peer, {}, async (f) => {
    const rule = await f.queue!.addHoldRule({ account: '', senderDomain: '', recipientDomain: '' }); // both wait, then go in one batch
    await enqueue(f, { to: [{ address: 'a@remote.example', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;orig+1@remote.example' }], envid: 'env 1', ret: 'FULL' });
    await enqueue(f, { to: ['ü@remote.example'], smtputf8: true, message: 'From: <mjl@example.com>\r\nSubject: Grüße\r\n\r\nß\r\n' });
    await waitFor('both held', async () => ((await f.queue!.list({ held: true })).length === 2 ? true : undefined));
    await f.queue!.removeHoldRule(rule.id);
    assert.equal(await f.queue!.release({}), 2);
    await retired(f, 'a@remote.example');
    await retired(f, 'ü@remote.example');
    assert.equal(peer.transactions.length, 2);
    const [t1, t2] = peer.transactions;
    assert.equal(t1!.mail, 'MAIL FROM:<mjl@example.com> BODY=8BITMIME RET=FULL ENVID=env+201');
    assert.equal(t1!.rcpts[0], 'RCPT TO:<a@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2B1@remote.example'); // RFC 3461 §4.2 xtext
    assert.match(t2!.mail, /^MAIL FROM:<mjl@example.com> BODY=8BITMIME SMTPUTF8$/);
    assert.equal(t2!.rcpts[0], 'RCPT TO:<ü@remote.example>');
    assert.equal(t2!.data.toString('utf8'), 'From: <mjl@example.com>\r\nSubject: Grüße\r\n\r\nß');
    assert.equal(t1!.connection, t2!.connection, 'one connection for the domain');
    assert.equal(peer.connections, 1);
    // The peer offers DSN: it reports success itself, so no DSN from us.
    assert.equal((await inbox(f)).length, 0);
  });
});

test('a next hop without DSN: NOTIFY=SUCCESS gets a "relayed" DSN from us; parameters are not sent', async () => {
  const peer = await scriptedPeer({ extensions: ['PIPELINING', '8BITMIME'] });
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { to: [{ address: 'b@remote.example', notify: 'SUCCESS' }] });
    const r = await retired(f, 'b@remote.example');
    assert.equal(r.success, true);
    assert.equal(peer.transactions[0]!.rcpts[0], 'RCPT TO:<b@remote.example>');
    const dsn = await waitFor('relayed DSN', async () => (await inbox(f)).find((m) => /Action: relayed/.test(m)));
    assert.match(dsn, /Subject: .*\(Success|Relayed/i);
    assert.match(dsn, /Final-Recipient: rfc822; ?b@remote\.example/);
  });
});

test('a server without SMTPUTF8 gets no UTF-8 message: permanent 5.6.7 with a failure DSN', async () => {
  const peer = await scriptedPeer({ extensions: ['PIPELINING', '8BITMIME', 'DSN'] });
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { to: ['ü@remote.example'], smtputf8: true });
    const r = await retired(f, 'ü@remote.example');
    assert.equal(r.success, false);
    assert.equal(r.attempts.at(-1)!.enhanced, '5.6.7'); // RFC 6531 §3.7.5
    assert.match(r.lastError ?? '', /SMTPUTF8/);
    assert.equal(peer.transactions.length, 0);
    await waitFor('failure DSN', async () => (await inbox(f)).find((m) => /Action: failed/.test(m) && /5\.6\.7/.test(m)));
  });
});

test('LIMITS RCPTMAX splits recipients over transactions; a refused recipient fails alone', async () => {
  const peer = await scriptedPeer({
    extensions: ['PIPELINING', '8BITMIME', 'DSN', 'LIMITS RCPTMAX=2'],
    reply: (line) => (line.startsWith('RCPT TO:<bad@') ? '550 5.1.1 no such user\r\n' : undefined),
  });
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { to: ['r1@remote.example', 'r2@remote.example', 'bad@remote.example', 'r4@remote.example', 'r5@remote.example'] });
    for (const a of ['r1', 'r2', 'r4', 'r5']) assert.equal((await retired(f, `${a}@remote.example`)).success, true);
    const bad = await retired(f, 'bad@remote.example');
    assert.equal(bad.success, false);
    assert.equal(bad.attempts.length, 1);
    assert.equal(peer.commands.filter((c) => c.startsWith('MAIL')).length, 3, 'five recipients at two per transaction: three transactions');
    assert.deepEqual(peer.transactions.map((t) => t.rcpts.length), [2, 1, 1]); // r1 r2 | bad r4 | r5
    assert.deepEqual((await f.queue!.suppressions('mjl')).map((s) => s.base), ['bad@remote.example']);
  });
});

test('temporary failures: retried with backoff, a delayed DSN after the 5th attempt, a failure DSN after the last', async () => {
  const peer = await scriptedPeer({ reply: (line) => (line.startsWith('RCPT') ? '451 4.3.0 try later\r\n' : undefined) });
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { mailFrom: 'mjl@example.com', to: ['slow@remote.example'], account: '' });
    const r = await retired(f, 'slow@remote.example');
    assert.equal(r.success, false);
    assert.equal(r.attempts.length, 8); // static.queue.maxAttempts default
    const times = r.attempts.map((a) => Date.parse(a.time));
    assert.ok(times[7]! - times[6]! >= times[2]! - times[1]!, 'the delay grows');
    const msgs = await inbox(f);
    const delayed = msgs.filter((m) => /Action: delayed/.test(m));
    const failed = msgs.filter((m) => /Action: failed/.test(m));
    assert.equal(delayed.length, 1, 'one delayed DSN');
    assert.match(delayed[0]!, /Will-Retry-Until: /);
    assert.equal(failed.length, 1);
    assert.match(failed[0]!, /Status: 4\.3\.0|Status: 4\.4\.7|Status: 5/);
    assert.match(failed[0]!, /451 4\.3\.0 try later/);
  });
});

test('a DSN for a remote sender is queued with the null reverse-path and delivered', async () => {
  const peer = await scriptedPeer({ reply: (line) => (line.startsWith('RCPT TO:<gone@') ? '550 5.1.1 gone\r\n' : undefined) });
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { mailFrom: 'app@sender.example', to: ['gone@remote.example'], account: '' });
    await retired(f, 'gone@remote.example');
    const bounce = await retired(f, 'app@sender.example');
    assert.equal(bounce.success, true);
    assert.equal(bounce.mailFrom, '');
    const t = peer.transactions.find((x) => x.rcpts[0]?.startsWith('RCPT TO:<app@sender.example>'));
    assert.ok(t);
    assert.match(t.mail, /^MAIL FROM:<>/);
    assert.match(t.data.toString(), /Content-Type: multipart\/report; report-type=delivery-status/);
  });
});

test('unique MAIL FROM id: sent as localpart+id, and the retired message is found by it', async () => {
  const peer = await scriptedPeer();
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { to: ['c@remote.example'], fromid: 'abcdefgh12345678' });
    await retired(f, 'c@remote.example');
    assert.match(peer.transactions[0]!.mail, /^MAIL FROM:<mjl\+abcdefgh12345678@example\.com>/);
    const found = await f.store.queue.retiredByFromId('abcdefgh12345678');
    assert.equal(found[0]?.address, 'c@remote.example');
  });
});

test('routes: after a failed direct attempt, a smarthost with STARTTLS and AUTH takes the message', async () => {
  const peer = await scriptedPeer({ reply: (line) => (line.startsWith('RCPT') ? '451 4.4.1 not now\r\n' : undefined) });
  const smarthost = await smtpFixture(); // our own submission service as the smarthost
  try {
    const dir = smarthost.dir;
    await writeFile(join(dir, 'relay-password'), `${testPassword}\n`);
    const stat = `${staticText}transports:\n  relay:\n    smarthost: { host: 127.0.0.1, port: ${smarthost.port('submission')}, username: mjl@example.com, passwordFile: ${join(dir, 'relay-password')}, verifyTLS: false }\nroutes:\n  - { toDomain: [example.com], minimumAttempts: 1, transport: relay }\n`;
    await withQueue(peer, { resolver: resolverFor('example.com') }, async (f) => {
      await enqueue(f, { to: ['other@example.com'] });
      const r = await retired(f, 'other@example.com');
      assert.equal(r.success, true);
      assert.deepEqual(r.attempts.map((a) => a.transport), ['direct', 'relay']);
      assert.equal(r.attempts[1]!.tls, 'starttls');
      assert.ok((await smarthost.messages('other')).some((m) => m.includes('Subject: queued')));
    }, { static: stat });
  } finally {
    await smarthost.done();
  }
});

const microsocks = existsSync('/usr/bin/microsocks');
test('SOCKS5 transport: delivery to the MX goes through microsocks', { skip: !microsocks && process.env['CI'] !== 'true' ? 'microsocks not installed' : false }, async () => {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const socksPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const proxy = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(socksPort)], { stdio: 'ignore' });
  try {
    await waitFor('microsocks', () => new Promise<true | undefined>((res) => {
      const c = createServer().listen(socksPort, '127.0.0.1');
      c.once('listening', () => c.close(() => res(undefined)));
      c.once('error', () => res(true));
    }));
    const peer = await scriptedPeer();
    const stat = `${staticText}transports:\n  proxy:\n    socks: { address: "127.0.0.1:${socksPort}", hostname: proxied.example.com }\nroutes:\n  - { transport: proxy }\n`;
    await withQueue(peer, {}, async (f) => {
      await enqueue(f, { to: ['s@remote.example'] });
      const r = await retired(f, 's@remote.example');
      assert.equal(r.success, true);
      assert.equal(r.attempts[0]!.transport, 'proxy');
      assert.ok(peer.commands.includes('EHLO proxied.example.com'));
    }, { static: stat });
  } finally {
    proxy.kill();
  }
});

test('localserve: the queue delivers into the account; queuepermfail and queue452 fail with DSNs to the account', async () => {
  const f = await smtpFixture({ localserve: true, domains: 'domains:\n  localhost: {}\naccounts:\n  mailcove:\n    domain: localhost\n    destinations:\n      mailcove@localhost: {}\n', queue: { testing: { firstRetryMs: 20 } } });
  try {
    await enqueue(f, { account: 'mailcove', mailFrom: 'app@myapp.example', to: ['customer@example.com', 'queuepermfail@example.com', 'queue452@example.com'] });
    assert.equal((await retired(f, 'customer@example.com')).success, true);
    assert.equal((await retired(f, 'queuepermfail@example.com')).success, false);
    const slow = await retired(f, 'queue452@example.com');
    assert.equal(slow.attempts.length, 8);
    const msgs = await f.messages('mailcove');
    assert.ok(msgs.some((m) => m.includes('Subject: queued')));
    assert.ok(msgs.some((m) => /Action: failed/.test(m) && m.includes('queuepermfail@example.com')));
    assert.ok(msgs.some((m) => /Action: delayed/.test(m) && m.includes('queue452@example.com')));
  } finally {
    await f.done();
  }
});

test('MX addresses: IPv6 and IPv4 interleaved, the first family alternating by attempt; recently failed IPs last', async () => {
  const r = new MemoryResolver().add('mx.example', 'AAAA', ['2001:db8::1', '2001:db8::2']).add('mx.example', 'A', ['192.0.2.1']);
  const a0 = await lookupHostIPs(r, 'mx.example', 0);
  const a1 = await lookupHostIPs(r, 'mx.example', 1);
  assert.deepEqual(a0.kind === 'ips' && a0.ips, ['2001:db8::1', '192.0.2.1', '2001:db8::2']);
  assert.deepEqual(a1.kind === 'ips' && a1.ips, ['192.0.2.1', '2001:db8::1', '2001:db8::2']);
  const failures = new IpFailures();
  failures.fail('2001:db8::1');
  const a2 = await lookupHostIPs(r, 'mx.example', 0, failures);
  assert.deepEqual(a2.kind === 'ips' && a2.ips, ['192.0.2.1', '2001:db8::2', '2001:db8::1']);
  const onlyV4 = new MemoryResolver().add('v4.example', 'A', ['192.0.2.9']).fail('v4.example', 'AAAA', 'servfail');
  const a3 = await lookupHostIPs(onlyV4, 'v4.example', 0);
  assert.deepEqual(a3.kind === 'ips' && a3.ips, ['192.0.2.9']); // one family failing does not block the other
});

test('three messages in a row failing for a recipient suppress it; attempts alone do not', async () => {
  const peer = await scriptedPeer({ reply: (line) => (line.startsWith('RCPT') ? '452 4.2.2 mailbox full\r\n' : undefined) });
  const stat = `${staticText}queue: { maxAttempts: 2 }\n`;
  await withQueue(peer, {}, async (f) => {
    for (let i = 1; i <= 3; i++) {
      await enqueue(f, { to: ['full@remote.example'] });
      await waitFor(`message ${i} failed`, async () => ((await f.store.queue.listRetired()).filter((r) => r.address === 'full@remote.example').length === i ? true : undefined));
      assert.equal((await f.queue!.suppressions('mjl')).length, i === 3 ? 1 : 0, `after message ${i}`);
    }
    await enqueue(f, { to: ['Full+x@remote.example'] });
    const r = await retired(f, 'Full+x@remote.example');
    assert.equal(r.attempts[0]!.transport, 'suppressed');
    assert.equal(peer.commands.filter((c) => c.startsWith('RCPT')).length, 6); // 3 messages × 2 attempts; none for the fourth
  }, { static: stat });
});

test('LIMITS MAILMAX: a new connection after that many transactions, all in one attempt', async () => {
  const peer = await scriptedPeer({ extensions: ['PIPELINING', '8BITMIME', 'DSN', 'LIMITS MAILMAX=2'] });
  await withQueue(peer, {}, async (f) => {
    const rule = await f.queue!.addHoldRule({ account: '', senderDomain: '', recipientDomain: '' });
    for (let i = 0; i < 5; i++) await enqueue(f, { to: [`m${i}@remote.example`] });
    await waitFor('held', async () => ((await f.queue!.list({ held: true })).length === 5 ? true : undefined));
    await f.queue!.removeHoldRule(rule.id);
    await f.queue!.release({});
    for (let i = 0; i < 5; i++) assert.equal((await retired(f, `m${i}@remote.example`)).attempts.length, 1);
    assert.equal(peer.connections, 3); // 2 + 2 + 1
    assert.deepEqual([...new Set(peer.transactions.map((t) => t.connection))], [1, 2, 3]);
  });
});

test('a recipient domain that is a CNAME: its target\'s MX is used (RFC 5321 §5.1)', async () => {
  const peer = await scriptedPeer();
  const resolver = resolverFor('remote.example').add('alias.example', 'CNAME', ['remote.example']);
  await withQueue(peer, { resolver }, async (f) => {
    await enqueue(f, { to: ['x@alias.example'] });
    const r = await retired(f, 'x@alias.example');
    assert.equal(r.success, true);
    assert.equal(r.attempts[0]!.mx, 'mx.remote.example');
  });
});

test('an address literal recipient is delivered to that IP, without an MX lookup (RFC 5321 §4.1.3)', async () => {
  const peer = await scriptedPeer();
  await withQueue(peer, { resolver: new MemoryResolver() }, async (f) => {
    await enqueue(f, { to: ['x@[127.0.0.1]'] });
    const r = await retired(f, 'x@[127.0.0.1]');
    assert.equal(r.success, true, r.lastError);
    assert.equal(r.attempts[0]!.ip, '127.0.0.1');
    assert.equal(peer.transactions[0]!.rcpts[0], 'RCPT TO:<x@[127.0.0.1]>');
  });
});

test('a smarthost over submissions (implicit TLS) with AUTH, chosen by sender domain', async () => {
  const smarthost = await smtpFixture();
  try {
    await writeFile(join(smarthost.dir, 'relay-password'), `${testPassword}\n`);
    const stat = `${staticText}transports:\n  relay:\n    smarthost: { host: 127.0.0.1, port: ${smarthost.port('submissions')}, tls: implicit, username: mjl@example.com, passwordFile: ${join(smarthost.dir, 'relay-password')}, verifyTLS: false }\nroutes:\n  - { fromDomain: [example.com], transport: relay }\n`;
    await withQueue(1, {}, async (f) => {
      await enqueue(f, { to: ['other@example.com'] });
      const r = await retired(f, 'other@example.com');
      assert.equal(r.success, true, r.lastError);
      assert.equal(r.attempts[0]!.transport, 'relay');
      assert.equal(r.attempts[0]!.tls, 'implicit');
      assert.ok((await smarthost.messages('other')).some((m) => m.includes('Subject: queued') && /with ESMTPSA/.test(m)));
    }, { static: stat });
  } finally {
    await smarthost.done();
  }
});

test('failure DSNs return the header by default and the whole message with RET=FULL', async () => {
  const peer = await scriptedPeer({ reply: (line) => (line.startsWith('RCPT') ? '550 5.1.1 no such user\r\n' : undefined) });
  await withQueue(peer, {}, async (f) => {
    await enqueue(f, { to: ['h@remote.example'], message: 'From: <mjl@example.com>\r\nSubject: hdrs\r\n\r\nbody one\r\n' });
    await enqueue(f, { to: ['f@remote.example'], ret: 'FULL', message: 'From: <mjl@example.com>\r\nSubject: full\r\n\r\nbody two\r\n' });
    const hdrs = await waitFor('HDRS DSN', async () => (await inbox(f)).find((m) => m.includes('h@remote.example')));
    const full = await waitFor('FULL DSN', async () => (await inbox(f)).find((m) => m.includes('f@remote.example')));
    assert.match(hdrs, /Content-Type: text\/rfc822-headers/);
    assert.match(hdrs, /Subject: hdrs/);
    assert.doesNotMatch(hdrs, /body one/);
    assert.match(full, /Content-Type: message\/rfc822/);
    assert.match(full, /Subject: full\r\n\r\nbody two\r\n/);
  });
});

test('MX selection: preference order, implicit MX, null MX only when alone, NXDOMAIN', async () => {
  const r = new MemoryResolver()
    .add('multi.example', 'MX', [{ preference: 20, exchange: 'b.multi.example' }, { preference: 10, exchange: 'a.multi.example' }, { preference: 30, exchange: '' }])
    .add('nomx.example', 'A', ['192.0.2.7'])
    .add('null.example', 'MX', [{ preference: 0, exchange: '' }])
    .fail('gone.example', 'MX', 'nxdomain')
    .fail('broken.example', 'MX', 'servfail');
  const multi = await lookupMx(r, 'multi.example');
  assert.deepEqual(multi.kind === 'hosts' && multi.hosts.map((h) => h.host), ['a.multi.example', 'b.multi.example']); // the stray null MX is skipped
  const implicit = await lookupMx(r, 'nomx.example');
  assert.deepEqual(implicit.kind === 'hosts' && implicit.hosts, [{ host: 'nomx.example', preference: 0 }]); // RFC 5321 §5.1
  assert.equal((await lookupMx(r, 'null.example')).kind, 'nullmx'); // RFC 7505 §3
  assert.equal((await lookupMx(r, 'gone.example')).kind, 'nodomain');
  assert.equal((await lookupMx(r, 'broken.example')).kind, 'error');
});

test('a delivery still running at stop is abandoned unrecorded and made after a restart', async () => {
  const stuck = await scriptedPeer({ reply: (line) => (line === '.' ? '' : undefined) }); // never answers the end of data
  const good = await scriptedPeer();
  try {
    await withQueue(stuck, {}, async (f) => {
      await enqueue(f, { to: ['later@remote.example'] });
      await waitFor('data sent', async () => (stuck.transactions.length > 0 ? true : undefined));
      await f.queue!.stop(100);
      const [m] = await f.store.queue.list();
      assert.equal(m?.recipients[0]?.attempts, 0, 'nothing recorded: still queued as before');
      const again = Queue.start({ store: f.store, static: f.config.static, configDir: f.dir, domains: () => f.domains.current(), resolver: resolverFor('remote.example'), accounts: { with: (n, fn) => f.store.openAccount(n).then(async (a) => { try { return await fn(a); } finally { await a.close(); } }) }, testing: { mxPort: good.port } });
      try {
        const r = await retired(f, 'later@remote.example');
        assert.equal(r.success, true);
        assert.equal(good.transactions.length, 1);
      } finally {
        await again.stop();
      }
    });
  } finally {
    await good.close();
  }
});

test('housekeeping removes expired MTA-STS policies and keeps current ones', async () => {
  const peer = await scriptedPeer();
  await withQueue(peer, {}, async (f) => {
    const now = Date.now();
    const policy = { mode: 'enforce', mx: ['mx.remote.example'], maxAge: 86400 };
    await f.store.queue.putMtaStsPolicy('old.example', { id: 'a', policy, fetched: now - 3 * 86400_000, expires: now - 86400_000 });
    await f.store.queue.putMtaStsPolicy('current.example', { id: 'b', policy, fetched: now, expires: now + 86400_000 });
    const q = Queue.start({ store: f.store, static: f.config.static, configDir: f.dir, domains: () => f.domains.current(), resolver: new MemoryResolver(), accounts: { with: () => Promise.reject(new Error('unused')) } });
    try {
      await waitFor('expired policy removed', async () => ((await f.store.queue.listMtaStsPolicies()).length === 1 ? true : undefined));
      assert.deepEqual((await f.store.queue.listMtaStsPolicies()).map((p) => p.domain), ['current.example']);
    } finally {
      await q.stop();
    }
  });
});
