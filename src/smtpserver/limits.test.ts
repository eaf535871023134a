// Per-IP-class limits on MX: new connections per window (421), concurrent connections
// (421), messages and bytes per window (451); and a 100 MiB message through a bounded spool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyLimiter, RateLimiter } from '../ratelimit/index.ts';
import { smtpFixture } from './testfixture.ts';
import { SmtpTestClient } from './testclient.ts';

const minute = 60_000;

test('MX: too many new connections from a network get 421 4.7.0', async () => {
  const f = await smtpFixture({ context: { rateLimits: { connections: new RateLimiter([{ windowMs: minute, limits: [2, 10, 10] }]), concurrent: new ConcurrencyLimiter([10, 10, 10]), messages: new RateLimiter([{ windowMs: minute, limits: [10, 10, 10] }]), bytes: new RateLimiter([{ windowMs: minute, limits: [1e9, 1e9, 1e9] }]) } } });
  try {
    for (let i = 0; i < 2; i++) (await f.connect('smtp')).close();
    const c = await SmtpTestClient.connect(f.port('smtp'));
    await c.expect(421, /4\.7\.0 .*too many connections/);
    await c.closedByServer();
  } finally {
    await f.done();
  }
});

test('MX: concurrent connections over the class limit get 421', async () => {
  const f = await smtpFixture({ context: { rateLimits: { connections: new RateLimiter([{ windowMs: minute, limits: [100, 100, 100] }]), concurrent: new ConcurrencyLimiter([1, 5, 5]), messages: new RateLimiter([{ windowMs: minute, limits: [10, 10, 10] }]), bytes: new RateLimiter([{ windowMs: minute, limits: [1e9, 1e9, 1e9] }]) } } });
  try {
    const a = await f.connect('smtp');
    const b = await SmtpTestClient.connect(f.port('smtp'));
    await b.expect(421);
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    (await f.connect('smtp')).close(); // the slot is free again
  } finally {
    await f.done();
  }
});

test('MX: messages over the per-network limit get 451 4.7.0 at MAIL', async () => {
  const f = await smtpFixture({ context: { rateLimits: { connections: new RateLimiter([{ windowMs: minute, limits: [100, 100, 100] }]), concurrent: new ConcurrencyLimiter([10, 10, 10]), messages: new RateLimiter([{ windowMs: minute, limits: [1, 10, 10] }]), bytes: new RateLimiter([{ windowMs: minute, limits: [1e9, 1e9, 1e9] }]) } } });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.transaction('a@example.net', ['mjl@example.com'], 'Subject: one\r\n\r\nx');
    await c.command('MAIL FROM:<a@example.net>', 451, /4\.7\.0/);
    c.close();
  } finally {
    await f.done();
  }
});

test('a 100 MiB message is spooled and delivered with bounded memory', async () => {
  const f = await smtpFixture({ context: { limits: { maxMessageSize: 110 * 1024 * 1024, maxRecipients: 100, maxConnectionsPerIP: 10, maxCommandLine: 4096, maxErrors: 50, maxReceived: 100 } } });
  try {
    const c = await f.connect('smtp', { ehlo: 'client.example' });
    await c.command('MAIL FROM:<a@example.net> SIZE=104857600', 250);
    await c.command('RCPT TO:<mjl@example.com>', 250);
    await c.command('DATA', 354);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    c.write('Subject: big\r\n\r\n');
    const line = Buffer.from(`${'x'.repeat(1022)}\r\n`);
    const block = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 1 MiB
    for (let i = 0; i < 100; i++) if (!c.socket.write(block)) await new Promise((r) => c.socket.once('drain', r));
    c.write('.\r\n');
    await c.expect(250);
    clearInterval(sampler);
    const a = await f.store.openAccount('mjl');
    try {
      const [row] = await a.messages('INBOX');
      assert.ok(row && row.size > 100 * 1024 * 1024, `stored ${row?.size}`);
    } finally {
      await a.close();
    }
    assert.ok(peak - rssBefore < 96 * 1024 * 1024, `RSS grew by ${Math.round((peak - rssBefore) / 1048576)} MiB`); // client and server share this process; the message is 100 MiB
    c.close();
  } finally {
    await f.done();
  }
});
