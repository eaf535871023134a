// Submission: AUTH exchanges and their errors, sender checks, header fixes, the queue
// with DSN/REQUIRETLS/FUTURERELEASE parameters, X-Mailcove-Extra, per-account limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { smtpFixture, testPassword, domainsText } from './testfixture.ts';
import { scramClient } from '../sasl/index.ts';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

test('AUTH PLAIN, LOGIN and CRAM-MD5 log in; a wrong password gets 535 5.7.8', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('submissions', { ehlo: 'client.example' });
    await c.command(`AUTH PLAIN ${b64(`\0mjl@example.com\0wrong`)}`, 535, /5\.7\.8/);
    await c.command(`AUTH PLAIN ${b64(`\0mjl@example.com\0${testPassword}`)}`, 235, /2\.7\.0/);
    await c.command('AUTH PLAIN =', 503, /already/);
    c.close();
    const l = await f.connect('submissions', { ehlo: 'client.example' });
    await l.command('AUTH LOGIN', 334, /^VXNlcm5hbWU6$/);
    await l.command(b64('mjl'), 334, /^UGFzc3dvcmQ6$/);
    await l.command(b64(testPassword), 235);
    l.close();
    const m = await f.connect('submissions', { ehlo: 'client.example' });
    const ch = await m.command('AUTH CRAM-MD5', 334);
    const { createHmac } = await import('node:crypto');
    const digest = createHmac('md5', testPassword).update(Buffer.from(ch.text, 'base64')).digest('hex');
    await m.command(b64(`mjl ${digest}`), 235);
    m.close();
  } finally {
    await f.done();
  }
});

test('SASL protocol errors are 501/504 replies and the session stays usable', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('submissions', { ehlo: 'client.example' });
    await c.command('AUTH PLAIN !!!notbase64', 501, /base64/);
    await c.command('AUTH LOGIN', 334);
    await c.command('*', 501, /cancelled/);
    await c.command('AUTH BOGUS-MECH', 504);
    await c.command('AUTH SCRAM-SHA-256', 334);
    await c.command(b64('n,,n=mjl,r=abc'), 334); // server-first
    await c.command(b64('c=biws,r=wrongnonce,p=AAAA'), 535);
    await c.command('NOOP', 250);
    await c.command(`AUTH PLAIN ${b64(`\0mjl\0${testPassword}`)}`, 235);
    c.close();
  } finally {
    await f.done();
  }
});

test('SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (tls-exporter) exchanges log in and prove the server', async () => {
  const f = await smtpFixture();
  try {
    for (const plus of [false, true]) {
      const c = await f.connect('submissions', { ehlo: 'client.example' });
      const { exportKeyingMaterial } = c.socket as import('node:tls').TLSSocket;
      const cb = plus ? exportKeyingMaterial.call(c.socket, 32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) : undefined;
      const client = scramClient({ hash: 'sha256', username: 'mjl@example.com', password: testPassword, ...(cb ? { channelBinding: { type: 'tls-exporter', data: cb } } : {}) });
      const first = await c.command(`AUTH SCRAM-SHA-256${plus ? '-PLUS' : ''} ${b64(client.first())}`, 334);
      const final = await c.command(b64(await client.final(Buffer.from(first.text, 'base64'))), 334);
      assert.ok(client.verify(Buffer.from(final.text, 'base64')), 'server signature verifies');
      await c.command('', 235);
      c.close();
    }
  } finally {
    await f.done();
  }
});

test('submission: From must be the account\'s; exactly one From; Date and Message-ID are added; local recipients delivered, others queued', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('submissions', { ehlo: 'client.example', auth: true });
    await c.command('MAIL FROM:<other@example.com>', 550, /5\.7\.1/);
    await c.transaction('mjl+tag@example.com', ['other@example.com'], 'From: <other@example.com>\r\nSubject: spoof\r\n\r\nx', 550, /not an address of your account/);
    await c.transaction('mjl@example.com', ['other@example.com'], 'From: <mjl@example.com>\r\nFrom: <mjl@example.com>\r\nSubject: two\r\n\r\nx', 550, /exactly one From/);
    await c.command('MAIL FROM:<mjl@example.com> RET=HDRS ENVID=env+2B1', 250);
    await c.command('RCPT TO:<other@example.com>', 250);
    await c.command('RCPT TO:<friend@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;friend@remote.example', 250);
    await c.command('DATA', 354);
    c.write('From: Mjl <mjl@example.com>\r\nSubject: hello\r\nX-Mailcove-Extra-Customer: 42\r\n\r\nbody\r\n.\r\n');
    await c.expect(250);
    const [local] = await f.messages('other');
    assert.ok(local);
    assert.match(local, /with ESMTPSA id \S+\.1 \(TLS1\.3 TLS_\w+\)/); // the first message of the connection accepted this far; TLS version and cipher
    assert.match(local, /\r\nDate: \w{3}, /);
    assert.match(local, /\r\nMessage-ID: <[^>]+@mail\.example\.com>\r\n/);
    assert.doesNotMatch(local, /X-Mailcove-Extra/);
    const [q] = await f.store.queue.list();
    assert.ok(q);
    assert.equal(q.account, 'mjl');
    assert.equal(q.mailFrom, 'mjl@example.com');
    assert.equal(q.ret, 'HDRS');
    assert.equal(q.envid, 'env+1');
    assert.deepEqual(q.extra, { Customer: '42' });
    assert.equal(q.recipients.length, 1);
    assert.equal(q.recipients[0]?.address, 'friend@remote.example');
    assert.equal(q.recipients[0]?.notify, 'SUCCESS,FAILURE');
    assert.equal(q.recipients[0]?.orcpt, 'rfc822;friend@remote.example');
    assert.equal(q.requireTLS, null);
    const queued = await text(await f.store.queue.openMessage(q.id));
    assert.match(queued, /Subject: hello\r\n/);
    c.close();
  } finally {
    await f.done();
  }
});

test('REQUIRETLS is recorded over TLS and refused without; HOLDFOR sets the first attempt', async () => {
  const f = await smtpFixture();
  try {
    const plain = await f.connect('smtp', { ehlo: 'client.example' });
    await plain.command('MAIL FROM:<a@example.net> REQUIRETLS', 530, /5\.7\.10 REQUIRETLS needs a TLS session/);
    plain.close();
    const c = await f.connect('submissions', { ehlo: 'client.example', auth: true });
    await c.command('MAIL FROM:<mjl@example.com> REQUIRETLS HOLDFOR=3600', 250);
    await c.command('RCPT TO:<friend@remote.example>', 250);
    await c.command('RCPT TO:<other@example.com>', 250);
    await c.command('DATA', 354);
    c.write('From: <mjl@example.com>\r\nSubject: later\r\n\r\nx\r\n.\r\n');
    await c.expect(250);
    await c.command('MAIL FROM:<mjl@example.com> HOLDFOR=999999999', 501);
    const [q] = await f.store.queue.list();
    assert.equal(q?.requireTLS, true);
    const wait = q!.recipients[0]!.nextAttempt.getTime() - Date.now();
    assert.ok(wait > 3500_000 && wait <= 3600_000, `held for ${wait} ms`);
    assert.deepEqual(q!.recipients.map((r) => r.address), ['friend@remote.example', 'other@example.com']); // the local recipient waits too
    assert.equal((await f.messages('other')).length, 0);
    c.close();
  } finally {
    await f.done();
  }
});

test('per-account daily limits answer 451 4.5.3', async () => {
  const f = await smtpFixture({ domains: domainsText.replace('  mjl:\n    domain: example.com\n', '  mjl:\n    domain: example.com\n    maxOutgoingMessagesPerDay: 1\n    maxFirstTimeRecipientsPerDay: 2\n') });
  try {
    const c = await f.connect('submissions', { ehlo: 'client.example', auth: true });
    await c.command('MAIL FROM:<mjl@example.com>', 250);
    for (const r of ['a@remote.example', 'b@remote.example', 'c@remote.example']) await c.command(`RCPT TO:<${r}>`, 250);
    await c.command('DATA', 354);
    c.write('From: <mjl@example.com>\r\n\r\nx\r\n.\r\n');
    await c.expect(451, /4\.5\.3 .*first-time recipients/);
    await c.transaction('mjl@example.com', ['a@remote.example'], 'From: <mjl@example.com>\r\n\r\nx');
    await c.transaction('mjl@example.com', ['a@remote.example'], 'From: <mjl@example.com>\r\n\r\nx', 451, /4\.5\.3 .*messages/);
    c.close();
  } finally {
    await f.done();
  }
});

test('failed logins are limited per network', async () => {
  const { authFailureLimiter } = await import('../sasl/index.ts');
  const f = await smtpFixture({ context: { authFailures: authFailureLimiter({ delayMs: 0, limits: [{ windowMs: 60_000, limits: [2, 4, 8] }] }) } });
  try {
    const c = await f.connect('submissions', { ehlo: 'client.example' });
    await c.command(`AUTH PLAIN ${b64('\0mjl\0bad')}`, 535);
    await c.command(`AUTH PLAIN ${b64('\0mjl\0bad')}`, 535);
    await c.command(`AUTH PLAIN ${b64(`\0mjl\0${testPassword}`)}`, 454, /too many failed/);
    c.close();
  } finally {
    await f.done();
  }
});

test('submitted messages are DKIM-signed with the From domain\'s selectors', async () => {
  const { generateDkimKey, checkInbound } = await import('../mailauth/index.ts');
  const { MemoryResolver } = await import('../dns/index.ts');
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const keyDir = await mkdtemp(`${tmpdir()}/mailcove-dkimkey-`);
  const key = await generateDkimKey('ed25519');
  await writeFile(`${keyDir}/k.pem`, key.privateKeyPEM);
  const f = await smtpFixture({ domains: domainsText.replace('  example.com:\n    localpartCatchallSeparator: +\n', `  example.com:\n    localpartCatchallSeparator: +\n    dkim:\n      selectors:\n        s1:\n          privateKeyFile: ${keyDir}/k.pem\n      sign: [s1]\n`) });
  try {
    const c = await f.connect('submissions', { ehlo: 'client.example', auth: true });
    await c.transaction('mjl@example.com', ['other@example.com'], 'From: <mjl@example.com>\r\nSubject: signed\r\n\r\nbody');
    const [m] = await f.messages('other');
    assert.match(m!, /^DKIM-Signature: v=1; a=ed25519-sha256;[^]*d=example\.com;[^]*s=s1;/);
    await writeFile(`${keyDir}/m`, m!);
    const res = await checkInbound({ remoteIP: '192.0.2.1', ehlo: 'x', mailFrom: 'mjl@example.com', messagePath: `${keyDir}/m`, hostname: 'mx', resolver: new MemoryResolver().addTXT('s1._domainkey.example.com', key.dnsRecord) });
    assert.equal(res.dkim[0]?.result, 'pass');
    c.close();
  } finally {
    await f.done();
    await rm(keyDir, { recursive: true, force: true });
  }
});
