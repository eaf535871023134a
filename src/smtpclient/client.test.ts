// The SMTP client against our SMTP server (a peer we test elsewhere against swaks,
// smtplib and nodemailer) and against small scripted servers for the awkward cases:
// pipelined transactions with refused recipients, dot-stuffing, BDAT, STARTTLS + AUTH,
// HELO fallback, missing extensions, malformed replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { smtpFixture, testPassword } from '../smtpserver/testfixture.ts';
import { SmtpClient, SmtpClientError } from './client.ts';

const message = (subject: string, body: string) => Buffer.from(`From: a@example.net\r\nTo: mjl@example.com\r\nSubject: ${subject}\r\n\r\n${body}`);

test('MX delivery: pipelined MAIL/RCPT/DATA, a refused recipient reported with its enhanced code, dot-stuffing of a streamed message', async () => {
  const f = await smtpFixture({ context: { unknownRecipientDelayMs: 0 } });
  try {
    const c = await SmtpClient.connect({ host: '127.0.0.1', port: f.smtp.addresses.find((a) => a.service === 'smtp')!.port, timeoutMs: 10_000 });
    assert.match(c.greeting.lines[0]!, /ESMTP Mailcove/);
    await c.hello('client.example.net');
    assert.ok(c.esmtp && c.has('PIPELINING') && c.has('CHUNKING'));
    const body = 'line one\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast';
    const r = await c.send({ mailFrom: 'a@example.net', recipients: [{ address: 'mjl@example.com' }, { address: 'nobody@example.com' }], size: 200 }, () => Readable.from([message('dots', body)]));
    assert.deepEqual(r.accepted.map((x) => x.address), ['mjl@example.com']);
    assert.deepEqual(r.rejected.map((x) => [x.address, x.reply.code, x.reply.enhanced]), [['nobody@example.com', 550, '5.1.1']]);
    assert.equal(r.data?.code, 250);
    assert.equal(r.data?.enhanced, '2.0.0');
    const stored = (await f.messages('mjl')).at(-1)!;
    assert.ok(stored.endsWith(`${body}\r\n`), 'byte-exact after dot-stuffing, with the final CRLF added');
    // The same message in memory goes by BDAT (RFC 3030), unstuffed.
    const r2 = await c.send({ mailFrom: 'a@example.net', recipients: [{ address: 'mjl@example.com' }] }, message('bdat', body + '\r\n'));
    assert.equal(r2.data?.code, 250);
    assert.ok((await f.messages('mjl')).at(-1)!.endsWith(`${body}\r\n`));
    // Nobody accepted: no data is sent, the transaction is reset and the session goes on.
    const r3 = await c.send({ mailFrom: 'a@example.net', recipients: [{ address: 'nobody@example.com' }] }, message('none', 'x\r\n'));
    assert.equal(r3.data, undefined);
    assert.equal(r3.rejected.length, 1);
    await assert.rejects(c.send({ mailFrom: 'a@example.net', recipients: [{ address: 'mjl@example.com' }], size: 10 * 1024 * 1024 * 1024 }, message('big', 'x\r\n')), (e: unknown) => e instanceof SmtpClientError && e.permanent && /larger than the server's SIZE/.test(e.message));
    await c.quit();
  } finally {
    await f.done();
  }
});

test('submission: STARTTLS, then AUTH PLAIN, then a message to a local account', async () => {
  const f = await smtpFixture();
  try {
    const c = await SmtpClient.connect({ host: '127.0.0.1', port: f.smtp.addresses.find((a) => a.service === 'submission')!.port });
    await c.hello('client.example.net');
    assert.ok(c.has('STARTTLS') && !c.has('AUTH'));
    await c.starttls('client.example.net', { rejectUnauthorized: false, servername: 'mail.example.com' });
    assert.ok(c.tls && c.has('AUTH') && !c.has('STARTTLS'));
    await assert.rejects(c.auth('mjl@example.com', 'wrong'), (e: unknown) => e instanceof SmtpClientError && e.reply?.code === 535 && e.permanent);
    await c.auth('mjl@example.com', testPassword);
    const r = await c.send({ mailFrom: 'mjl@example.com', recipients: [{ address: 'other@example.com', notify: 'SUCCESS,FAILURE' }], envid: 'env 1', ret: 'HDRS' }, Buffer.from('From: mjl@example.com\r\nTo: other@example.com\r\nSubject: hi\r\n\r\nhello\r\n'));
    assert.equal(r.data?.code, 250);
    assert.equal((await f.messages('other')).length, 1);
    await c.quit();
  } finally {
    await f.done();
  }
});

/** A scripted server: answers each line it receives with the next reply of the script. */
async function scripted(greeting: string, answer: (line: string) => string | undefined): Promise<{ port: number; lines: string[]; close: () => Promise<void> }> {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.write(greeting);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        lines.push(line);
        const a = answer(line);
        if (a !== undefined) s.write(a);
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, lines, close: async () => { for (const s of sockets) s.destroy(); server.close(); } };
}

test('an old server: EHLO refused so HELO is used, and a message that needs SMTPUTF8 fails clearly without sending anything', async () => {
  const srv = await scripted('220 old.example SMTP\r\n', (l) => (l.startsWith('EHLO') ? '500 5.5.1 what?\r\n' : l.startsWith('HELO') ? '250 old.example\r\n' : l === 'QUIT' ? '221 bye\r\n' : '250 ok\r\n'));
  try {
    const c = await SmtpClient.connect({ host: '127.0.0.1', port: srv.port });
    await c.hello('client.example.net');
    assert.equal(c.esmtp, false);
    await assert.rejects(c.send({ mailFrom: 'jörg@example.net', recipients: [{ address: 'a@old.example' }], smtputf8: true }, Buffer.from('x\r\n')), (e: unknown) => e instanceof SmtpClientError && e.kind === 'unsupported' && e.permanent && /SMTPUTF8/.test(e.message));
    await assert.rejects(c.send({ mailFrom: 'a@example.net', recipients: [{ address: 'a@old.example' }], body: '8BITMIME' }, Buffer.from('x\r\n')), /8BITMIME/);
    await c.quit();
    assert.deepEqual(srv.lines, ['EHLO client.example.net', 'HELO client.example.net', 'QUIT']);
  } finally {
    await srv.close();
  }
});

test('replies: multi-line with enhanced codes, a 4xx to MAIL is temporary, a malformed reply is a protocol error', async () => {
  const srv = await scripted('220-first line\r\n220 second\r\n', (l) => {
    if (l.startsWith('EHLO')) return '250-mx.example\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 1000\r\n';
    if (l.startsWith('MAIL')) return '451-4.3.0 try\r\n451 4.3.0 later\r\n';
    if (l === 'RSET') return '250 2.0.0 ok\r\n';
    if (l === 'NOOP') return 'hello there\r\n';
    return undefined;
  });
  try {
    const c = await SmtpClient.connect({ host: '127.0.0.1', port: srv.port });
    assert.deepEqual(c.greeting.lines, ['first line', 'second']);
    await c.hello('client.example.net');
    assert.equal(c.extensions.get('SIZE'), '1000');
    await assert.rejects(c.send({ mailFrom: 'a@example.net', recipients: [{ address: 'b@mx.example' }] }, Buffer.from('x\r\n')), (e: unknown) => e instanceof SmtpClientError && !e.permanent && e.reply?.enhanced === '4.3.0' && e.reply.lines.join('|') === 'try|later');
    await assert.rejects(c.command('NOOP'), (e: unknown) => e instanceof SmtpClientError && e.kind === 'protocol');
    c.close();
  } finally {
    await srv.close();
  }
});

test('STARTTLS: a server that answers 220 and then never completes the handshake fails the client within its time limit', async (t) => {
  const server = createServer((sock: Socket) => {
    sock.write('220 stall.example ESMTP\r\n');
    sock.on('data', (d: Buffer) => {
      const line = d.toString('latin1');
      if (line.startsWith('EHLO')) sock.write('250-stall.example\r\n250 STARTTLS\r\n');
      else if (line.startsWith('STARTTLS')) sock.write('220 go ahead\r\n'); // and then silence: no ServerHello
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const c = await SmtpClient.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, timeoutMs: 300 });
  await c.hello('client.example');
  const started = Date.now();
  await assert.rejects(c.starttls('client.example', { rejectUnauthorized: false }), (e: unknown) => e instanceof SmtpClientError && e.kind === 'tls' && /no handshake within/.test(e.message));
  assert.ok(Date.now() - started < 5000);
});
