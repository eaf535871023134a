// The command loop: greeting, EHLO keywords per service, command order, errors that keep
// the session usable, limits, pipelining order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpFixture } from './testfixture.ts';

test('MX greets with 220 and EHLO lists the MX extensions, STARTTLS before TLS, no AUTH', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp');
    const r = await c.command('EHLO client.example', 250);
    assert.equal(r.lines[0], 'mail.example.com greets client.example');
    for (const k of ['PIPELINING', 'SIZE 104857600', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', 'CHUNKING', 'BINARYMIME', 'DSN', 'LIMITS RCPTMAX=1000']) assert.ok(r.lines.includes(k), k);
    assert.ok(!r.lines.some((l) => l.startsWith('AUTH')), 'no AUTH on MX');
    assert.ok(!r.lines.includes('REQUIRETLS'), 'REQUIRETLS only after TLS');
    await c.starttls();
    const t = await c.command('EHLO client.example', 250);
    assert.ok(t.lines.includes('REQUIRETLS'));
    assert.ok(!t.lines.includes('STARTTLS'));
    await c.command('QUIT', 221);
    await c.closedByServer();
  } finally {
    await f.done();
  }
});

test('submission offers AUTH and FUTURERELEASE only after STARTTLS', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('submission');
    const before = await c.command('EHLO client.example', 250);
    assert.ok(!before.lines.some((l) => l.startsWith('AUTH')));
    await c.command('AUTH PLAIN AG1qbEBleGFtcGxlLmNvbQB4', 530, /STARTTLS/);
    await c.command('MAIL FROM:<mjl@example.com>', 530, /authentication required/);
    await c.starttls();
    const after = await c.command('EHLO client.example', 250);
    const auth = after.lines.find((l) => l.startsWith('AUTH '));
    assert.ok(auth);
    for (const m of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS']) assert.ok(auth.split(' ').includes(m), m);
    assert.ok(after.lines.some((l) => /^FUTURERELEASE 604800 \d{4}-\d\d-\d\dT/.test(l)));
    c.close();
  } finally {
    await f.done();
  }
});

test('submissions is implicit TLS and offers AUTH at once', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('submissions');
    const r = await c.command('EHLO client.example', 250);
    assert.ok(r.lines.some((l) => l.startsWith('AUTH ')));
    assert.ok(!r.lines.includes('STARTTLS'));
    c.close();
  } finally {
    await f.done();
  }
});

test('bad commands get 5xx replies and the session stays usable', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp');
    await c.command('FROBNICATE', 500, /5\.5\.1 unknown command/);
    await c.command('MAIL FROM:<a@example.org>', 503, /5\.5\.1 send EHLO first/);
    await c.command('EHLO', 501);
    await c.command('EHLO client.example', 250);
    await c.command('RCPT TO:<mjl@example.com>', 503, /send MAIL first/);
    await c.command('DATA', 503);
    await c.command('MAIL FROM:a@example.org', 501);
    await c.command('MAIL FROM:<a@example.org> FOO=BAR', 555);
    await c.command('MAIL FROM:<a@example.org>', 250);
    await c.command('MAIL FROM:<a@example.org>', 503, /RSET/);
    await c.command('DATA', 554, /no valid recipients/);
    await c.command(`MAIL FROM:<${'x'.repeat(5000)}@example.org>`, 500, /line too long/);
    await c.command('RSET', 250);
    await c.command('NOOP', 250);
    await c.command('VRFY mjl', 252);
    await c.command('HELP', 214);
    await c.command('RSET now', 501);
    c.send(Buffer.from([0xff, 0xfe, 0x20, 0x41]));
    await c.expect(500);
    await c.command('QUIT', 221);
  } finally {
    await f.done();
  }
});

test('too many protocol errors end the connection with 421', async () => {
  const f = await smtpFixture({ context: { limits: { maxMessageSize: 1 << 20, maxRecipients: 100, maxConnectionsPerIP: 10, maxCommandLine: 4096, maxErrors: 3, maxReceived: 100 } } });
  try {
    const c = await f.connect('smtp');
    for (let i = 0; i < 3; i++) await c.command('BOGUS', 500);
    await c.command('BOGUS', 421, /too many errors/);
    await c.closedByServer();
  } finally {
    await f.done();
  }
});

test('an idle connection times out with 421', async () => {
  const f = await smtpFixture({ context: { timeouts: { commandMs: 200, dataMs: 200 } } });
  try {
    const c = await f.connect('smtp');
    await c.expect(421, /timeout/);
    await c.closedByServer();
  } finally {
    await f.done();
  }
});

test('connections over the per-IP limit are refused with 421', async () => {
  const f = await smtpFixture({ context: { limits: { maxMessageSize: 1 << 20, maxRecipients: 100, maxConnectionsPerIP: 2, maxCommandLine: 4096, maxErrors: 50, maxReceived: 100 } } });
  try {
    const a = await f.connect('smtp');
    const b = await f.connect('smtp');
    const { SmtpTestClient } = await import('./testclient.ts');
    const c = await SmtpTestClient.connect(f.port('smtp'));
    await c.expect(421, /too many connections/);
    await c.closedByServer();
    a.close();
    b.close();
  } finally {
    await f.done();
  }
});

test('pipelined commands get their replies in order, in one group', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    c.write('MAIL FROM:<a@example.org>\r\nRCPT TO:<mjl@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<other@example.com>\r\nDATA\r\n');
    await c.expect(250, /sender OK/);
    await c.expect(250, /recipient OK/);
    await c.expect(550, /5\.1\.1/);
    await c.expect(250, /recipient OK/);
    await c.expect(354);
    c.write('Subject: pipelined\r\n\r\nhello\r\n.\r\nMAIL FROM:<b@example.org>\r\nRCPT TO:<mjl@example.com>\r\nDATA\r\n');
    await c.expect(250, /delivered/);
    await c.expect(250);
    await c.expect(250);
    await c.expect(354);
    c.write('Subject: second\r\n\r\nagain\r\n.\r\nQUIT\r\n');
    await c.expect(250);
    await c.expect(221);
    const inbox = await f.messages('mjl');
    assert.equal(inbox.length, 2);
    assert.match(inbox[0]!, /Subject: pipelined\r\n\r\nhello\r\n$/);
    assert.equal((await f.messages('other')).length, 1);
  } finally {
    await f.done();
  }
});

test('commands pipelined after STARTTLS in plaintext are dropped, not run after the handshake (RFC 3207 §4.2)', async () => {
  const f = await smtpFixture();
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    c.write('STARTTLS\r\nMAIL FROM:<injected@example.net>\r\n');
    await c.expect(220);
    const { connect } = await import('node:tls');
    const plain = c.socket;
    plain.removeAllListeners('data');
    const secure = connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => { secure.once('secureConnect', () => resolve()); secure.once('error', reject); });
    let got = '';
    secure.on('data', (d: Buffer) => (got += d.toString()));
    secure.write('EHLO client.example\r\nMAIL FROM:<a@example.net>\r\n');
    const deadline = Date.now() + 5000;
    while (!/\r\n250 2\.1\.0/.test(got) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(got, /^250-mail\.example\.com greets client\.example\r\n/);
    assert.match(got, /\r\n250 2\.1\.0 sender OK\r\n$/); // MAIL accepted: no transaction was started by the injected command
    secure.destroy();
  } finally {
    await f.done();
  }
});

test('while DATA streams in, the data timeout applies, also under STARTTLS', async () => {
  const f = await smtpFixture({ context: { timeouts: { commandMs: 10_000, dataMs: 300 } } });
  try {
    const c = await f.connect('smtp', { starttls: true, ehlo: 'client.example' });
    await c.command('MAIL FROM:<a@example.net>', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    await c.command('DATA', 354);
    const started = Date.now();
    c.write('Subject: stalled\r\n');
    await c.expect(421, /timeout/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal((await f.messages('mjl')).length, 0);
  } finally {
    await f.done();
  }
});
