// Mailcove with Postfix as its peer (test/postfix.ts): Postfix as the sending MTA relaying
// into Mailcove's MX (STARTTLS, DSN parameters, SMTPUTF8, 8-bit bodies, a refused
// recipient bounced), a self-test of the Postfix receiver, and Mailcove's outbound queue
// delivering to that receiver (plain, STARTTLS, DSN parameters, SMTPUTF8). Postfix comes from scripts/install-test-peers.sh; in CI (CI=true) its
// absence fails the tests instead of skipping them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpFixture, domainsText, type SmtpFixture } from '../src/smtpserver/testfixture.ts';
import { SmtpClient, type Envelope } from '../src/smtpclient/index.ts';
import { parseHeader } from '../src/mime/index.ts';
import { makeSelfSigned } from '../src/tls/index.ts';
import { MemoryResolver } from '../src/dns/index.ts';
import { postfixMissing, startPostfix, type PostfixPeer } from './postfix.ts';

const skip = postfixMissing();
const relayName = 'relay.postfix.test'; // the relay's myhostname; mail to it stays in its Maildir (bounces)
const domains = domainsText.replace("      '@example.org': {}\n", "      '@example.org': {}\n      jörg@example.com: {}\n");

/** Mailcove's MX (STARTTLS with its self-signed certificate) and a Postfix relaying everything to it. */
async function relayIntoMailcove(run: (f: SmtpFixture, postfix: PostfixPeer) => Promise<void>): Promise<void> {
  const f = await smtpFixture({ domains });
  try {
    const postfix = await startPostfix({ relay: { host: '127.0.0.1', port: f.port('smtp') }, name: relayName });
    try {
      await run(f, postfix);
    } finally {
      await postfix.stop();
    }
  } finally {
    await f.done();
  }
}

/** Submits one message to Postfix with our SMTP client; returns Postfix's queue id. */
async function submit(port: number, envelope: Envelope, message: Buffer, o: { starttls?: boolean } = {}): Promise<string> {
  const c = await SmtpClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 });
  try {
    await c.hello('client.example');
    if (o.starttls) await c.starttls('client.example', { rejectUnauthorized: false, servername: 'localhost' });
    const r = await c.send(envelope, message);
    assert.deepEqual(r.rejected, []);
    assert.equal(r.data?.code, 250, r.data?.lines.join(' '));
    const id = /queued as ([0-9A-Za-z]+)/.exec(r.data.lines.join(' '))?.[1];
    assert.ok(id, `no queue id in ${r.data.lines.join(' ')}`);
    return id;
  } finally {
    await c.quit();
  }
}

/** An account's messages as stored, byte for byte. */
async function stored(f: SmtpFixture, account: string): Promise<Buffer[]> {
  const a = await f.store.openAccount(account);
  try {
    const out: Buffer[] = [];
    for (const r of await a.messages('INBOX')) {
      const chunks: Buffer[] = [];
      for await (const c of await a.openMessage(r.messageId)) chunks.push(c as Buffer);
      out.push(Buffer.concat(chunks));
    }
    return out;
  } finally {
    await a.close();
  }
}

/** The fields a relay and the receiving MX put on top of what the client sent (RFC 5321 §4.4; RFC 8601; RFC 7208 §9.1). */
function addedFields(got: Buffer, sent: Buffer): string[] {
  assert.ok(got.subarray(got.length - sent.length).equals(sent), `message changed in transit:\n${got.toString('utf8')}`);
  return parseHeader(got.subarray(0, got.length - sent.length)).map((h) => h.key);
}

/** What Postfix's smtp client said to Mailcove (the relay logs its dialogue, debug_peer_list). */
function sentToMailcove(postfix: PostfixPeer, mxPort: number): string[] {
  const prefix = `> 127.0.0.1[127.0.0.1]:${mxPort}: `;
  return postfix.log().split('\n').filter((l) => l.includes(prefix)).map((l) => l.slice(l.indexOf(prefix) + prefix.length));
}

test('Postfix relays into the MX over STARTTLS, passes the DSN parameters on, and the message arrives unchanged under the trace fields', { skip }, async () => {
  await relayIntoMailcove(async (f, postfix) => {
    const message = Buffer.from('From: <sender@relay.postfix.test>\r\nTo: <mjl@example.com>\r\nSubject: relayed by Postfix\r\nMessage-ID: <relay-1@client.example>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n\r\nHello Mailcove.\r\n..a line that starts with a dot\r\n');
    const id = await submit(postfix.port, { mailFrom: 'sender@relay.postfix.test', ret: 'HDRS', envid: 'relay-1 +x', recipients: [{ address: 'mjl@example.com', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;mjl+orig@example.com' }] }, message);
    await postfix.waitLog(new RegExp(`${id}: to=<mjl@example\\.com>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${f.port('smtp')},.* status=sent \\(250 2\\.0\\.0 `));
    assert.match(postfix.log(), new RegExp(`(Anonymous|Untrusted) TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${f.port('smtp')}: TLSv1\\.[23]`));
    const said = sentToMailcove(postfix, f.port('smtp'));
    assert.ok(said.includes('STARTTLS'), said.join('\n'));
    assert.match(said.find((l) => l.startsWith('MAIL FROM:')) ?? '', /^MAIL FROM:<sender@relay\.postfix\.test> SIZE=\d+ ENVID=relay-1\+20\+2Bx RET=HDRS$/); // RFC 3461 §4.3, §4.4: xtext
    assert.equal(said.find((l) => l.startsWith('RCPT TO:')), 'RCPT TO:<mjl@example.com> ORCPT=rfc822;mjl+2Borig@example.com NOTIFY=SUCCESS,FAILURE'); // RFC 3461 §4.1, §4.2

    const [got] = await stored(f, 'mjl');
    assert.ok(got);
    assert.deepEqual(addedFields(got, message), ['received', 'authentication-results', 'received-spf', 'received']);
    const [mailcove, , , relay] = parseHeader(got).map((h) => h.value.toString('utf8'));
    assert.match(mailcove ?? '', /^ from relay\.postfix\.test \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.com \(Mailcove\) with ESMTPS /); // TLS: "S" (RFC 3848)
    assert.match(relay ?? '', new RegExp(`^ from client\\.example \\(unknown \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby relay\\.postfix\\.test \\(Postfix\\) with ESMTP id ${id}\\r\\n\\tfor <mjl@example\\.com>;`));
  });
});

test('Postfix relays an 8-bit body (BODY=8BITMIME) byte for byte', { skip }, async () => {
  await relayIntoMailcove(async (f, postfix) => {
    const body = Buffer.concat([Buffer.from('Caf'), Buffer.from([0xe9]), Buffer.from(' cr'), Buffer.from([0xe8, 0x6d, 0x65]), Buffer.from(' br'), Buffer.from([0xfb, 0x6c, 0xe9, 0x65]), Buffer.from('\r\n')]); // ISO-8859-1, not UTF-8
    const message = Buffer.concat([Buffer.from('From: <sender@relay.postfix.test>\r\nTo: <mjl@example.com>\r\nSubject: latin-1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), body]);
    const id = await submit(postfix.port, { mailFrom: 'sender@relay.postfix.test', body: '8BITMIME', recipients: [{ address: 'mjl@example.com' }] }, message);
    await postfix.waitLog(new RegExp(`${id}: to=<mjl@example\\.com>,.* status=sent`));
    assert.match(sentToMailcove(postfix, f.port('smtp')).find((l) => l.startsWith('MAIL FROM:')) ?? '', / BODY=8BITMIME/); // RFC 6152 §3: passed on, not downgraded
    const [got] = await stored(f, 'mjl');
    assert.ok(got);
    assert.deepEqual(addedFields(got, message), ['received', 'authentication-results', 'received-spf', 'received']);
  });
});

test('Postfix relays an SMTPUTF8 message with a UTF-8 local part and header', { skip }, async () => {
  await relayIntoMailcove(async (f, postfix) => {
    const message = Buffer.from('From: Zoë <zoë@relay.postfix.test>\r\nTo: Jörg <jörg@example.com>\r\nSubject: grüße aus Köln\r\n\r\nÄpfel und Öl\r\n');
    const id = await submit(postfix.port, { mailFrom: 'zoë@relay.postfix.test', smtputf8: true, body: '8BITMIME', recipients: [{ address: 'jörg@example.com' }] }, message);
    await postfix.waitLog(new RegExp(`${id}: to=<jörg@example\\.com>,.* status=sent`));
    const said = sentToMailcove(postfix, f.port('smtp'));
    assert.match(said.find((l) => l.startsWith('MAIL FROM:')) ?? '', /^MAIL FROM:<zoë@relay\.postfix\.test> .*SMTPUTF8/); // RFC 6531 §3.4
    // Postfix 3.7 makes up an ORCPT of type rfc822 with the UTF-8 bytes in xtext (not RFC 6533's utf-8 type); the MX takes it.
    assert.ok(said.includes('RCPT TO:<jörg@example.com> ORCPT=rfc822;j+C3+B6rg@example.com'), said.join('\n'));
    const [got] = await stored(f, 'other'); // jörg@example.com is one of other's addresses
    assert.ok(got);
    assert.deepEqual(addedFields(got, message), ['received', 'authentication-results', 'received-spf', 'received']);
    assert.match(parseHeader(got)[0]!.value.toString('utf8'), / with UTF8SMTPS /); // RFC 6531 §4.3
    assert.match(parseHeader(got)[3]!.value.toString('utf8'), / with UTF8SMTP id /);
  });
});

test('a recipient the MX refuses (550 5.1.1) is bounced by Postfix to the sender; the other is delivered', { skip }, async () => {
  await relayIntoMailcove(async (f, postfix) => {
    const message = Buffer.from('From: <sender@relay.postfix.test>\r\nTo: <mjl@example.com>, <nobody@example.com>\r\nSubject: one unknown\r\n\r\nHi.\r\n');
    const id = await submit(postfix.port, { mailFrom: `sender@${relayName}`, envid: 'bounce-1', recipients: [{ address: 'mjl@example.com' }, { address: 'nobody@example.com', notify: 'FAILURE' }] }, message);
    const bounced = await postfix.waitLog(new RegExp(`${id}: to=<nobody@example\\.com>,.* status=bounced`));
    assert.match(bounced, /dsn=5\.1\.1, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 no such user \(in reply to RCPT TO command\)\)$/);
    await postfix.waitLog(new RegExp(`${id}: to=<mjl@example\\.com>,.* status=sent`));
    await postfix.waitLog(new RegExp(`to=<sender@${relayName.replaceAll('.', '\\.')}>, relay=virtual,.* status=sent`)); // the bounce, in Postfix's own Maildir
    assert.equal((await stored(f, 'mjl')).length, 1);
    const [dsn] = await postfix.received();
    const text = dsn?.toString('utf8') ?? '';
    assert.match(text, /^Subject: Undelivered Mail Returned to Sender\r$/m);
    assert.match(text, /^Content-Type: multipart\/report; report-type=delivery-status;/m); // RFC 3464
    assert.match(text, /^Original-Envelope-Id: bounce-1\r$/m);
    assert.match(text, /^Final-Recipient: rfc822; nobody@example\.com\r\nOriginal-Recipient: rfc822;nobody@example\.com\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; 127\.0\.0\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 no such user\r$/m);
  });
});

test('Postfix receiver harness: STARTTLS, SMTPUTF8, BODY and the DSN parameters as Postfix recorded them, then local delivery', { skip }, async () => {
  const { certPEM, keyPEM } = await makeSelfSigned({ names: ['localhost'], keyType: 'ecdsa-p256' });
  const postfix = await startPostfix({ tls: { certPEM, keyPEM }, name: 'mx.postfix.test' });
  try {
    const utf8 = Buffer.from('From: Zoë <zoë@sender.example>\r\nTo: Jörg <jörg@dest.example>\r\nSubject: grüße\r\n\r\nÄpfel\r\n.starts with a dot\r\n');
    const utf8Id = await submit(postfix.port, {
      mailFrom: 'zoë@sender.example', smtputf8: true, body: '8BITMIME', ret: 'FULL', envid: 'env 1+2=3',
      recipients: [
        { address: 'jörg@dest.example', notify: 'SUCCESS,FAILURE', orcpt: 'utf-8;jörg@dest.example' }, // RFC 6533 §3: sent as utf-8;j\x{F6}rg@...
        { address: 'bob@dest.example', notify: 'NEVER', orcpt: 'rfc822;bob+list@dest.example' },
      ],
    }, utf8, { starttls: true });
    const plain = Buffer.from('From: <a@sender.example>\r\nSubject: plain\r\n\r\nhi\r\n');
    const plainId = await submit(postfix.port, { mailFrom: '', recipients: [{ address: 'c@dest.example' }] }, plain);
    assert.match(postfix.log(), /Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: TLSv1\.3/);

    const queued = await postfix.queued();
    const m = queued.find((q) => q.id === utf8Id);
    assert.ok(m, JSON.stringify(queued));
    assert.equal(m.queue, 'hold');
    assert.equal(m.sender, 'zoë@sender.example');
    assert.equal(m.smtputf8, true);
    assert.equal(m.body, '8BITMIME');
    assert.equal(m.ret, 'FULL');
    assert.equal(m.envid, 'env 1+2=3'); // sent as xtext "env+201+2B2+3D3"
    assert.deepEqual(m.recipients, [
      { address: 'jörg@dest.example', notify: 'SUCCESS,FAILURE', orcpt: 'utf-8;jörg@dest.example', reason: undefined },
      { address: 'bob@dest.example', notify: 'NEVER', orcpt: 'rfc822;bob+list@dest.example', reason: undefined },
    ]);
    const fields = parseHeader(m.message);
    assert.equal(fields[0]?.key, 'received');
    assert.match(fields[0]!.value.toString('utf8'), /\(using TLSv1\.3 with cipher [^\r]+\r\n(\t[^\r]*\r\n)*\tby mx\.postfix\.test \(Postfix\) with UTF8SMTPS id /);
    assert.ok(m.message.subarray(fields[0]!.end).equals(utf8), m.message.toString('utf8'));

    const p = queued.find((q) => q.id === plainId);
    assert.ok(p);
    assert.deepEqual({ sender: p.sender, smtputf8: p.smtputf8, body: p.body, ret: p.ret, envid: p.envid }, { sender: '', smtputf8: false, body: undefined, ret: undefined, envid: undefined });
    assert.deepEqual(p.recipients, [{ address: 'c@dest.example', notify: undefined, orcpt: 'rfc822;c@dest.example', reason: undefined }]); // Postfix records an ORCPT of the address itself when none was given

    await postfix.release();
    await postfix.waitLog(new RegExp(`${utf8Id}: to=<jörg@dest\\.example>, relay=virtual,.* status=sent`));
    await postfix.waitLog(new RegExp(`${plainId}: to=<c@dest\\.example>, relay=virtual,.* status=sent`));
    await postfix.waitLog(/to=<zoë@sender\.example>, relay=virtual,.* status=sent/); // NOTIFY=SUCCESS: Postfix's success notice, to the sender
    const received = await postfix.received();
    assert.equal(received.length, 4);
    const toJorg = received.find((r) => r.includes('Delivered-To: jörg@dest.example\r\n'));
    assert.ok(toJorg);
    assert.ok(toJorg.subarray(toJorg.length - m.message.length).equals(m.message)); // as queued, under virtual(8)'s Return-Path, X-Original-To, Delivered-To
    assert.ok(toJorg.toString('utf8').startsWith('Return-Path: <zoë@sender.example>\r\nX-Original-To: jörg@dest.example\r\nDelivered-To: jörg@dest.example\r\n'));
    const success = received.find((r) => r.includes('Subject: Successful Mail Delivery Report\r\n'))?.toString('utf8') ?? '';
    assert.match(success, /^Original-Envelope-Id: env 1\+2=3\r$/m);
    assert.match(success, /^Original-Recipient: utf-8; ?jörg@dest\.example\r\nAction: delivered\r$/m);
  } finally {
    await postfix.stop();
  }
});

/** Mailcove's queue delivering to a Postfix receiver: every MX resolves to 127.0.0.1 and the MX port is Postfix's (the test-only override). */
async function queueIntoPostfix(tls: boolean, run: (f: SmtpFixture, postfix: PostfixPeer) => Promise<void>): Promise<void> {
  const cert = tls ? await makeSelfSigned({ names: ['mx.dest.example'], keyType: 'ecdsa-p256' }) : undefined;
  const postfix = await startPostfix({ ...(cert ? { tls: cert } : {}), name: 'mx.dest.example' });
  try {
    const resolver = new MemoryResolver().add('dest.example', 'MX', [{ preference: 10, exchange: 'mx.dest.example' }]).add('mx.dest.example', 'A', ['127.0.0.1']);
    const f = await smtpFixture({ domains, resolver, queue: { testing: { mxPort: postfix.port, firstRetryMs: 100 } } });
    try {
      await run(f, postfix);
    } finally {
      await f.done();
    }
  } finally {
    await postfix.stop();
  }
}

/** Submits to Mailcove's submission service (STARTTLS, AUTH as mjl); `mail`/`rcpt` are parameter strings. */
async function submitToMailcove(f: SmtpFixture, from: string, to: string[], message: string, o: { mail?: string; rcpt?: string } = {}): Promise<void> {
  const c = await f.connect('submission', { starttls: true, auth: true });
  await c.command(`MAIL FROM:<${from}>${o.mail ? ` ${o.mail}` : ''}`, 250);
  for (const t of to) await c.command(`RCPT TO:<${t}>${o.rcpt ? ` ${o.rcpt}` : ''}`, 250);
  await c.command('DATA', 354);
  c.write(`${message}\r\n.\r\n`);
  await c.expect(250);
  c.close();
}

async function retiredOk(f: SmtpFixture, address: string) {
  for (let i = 0; i < 500; i++) {
    const r = (await f.store.queue.listRetired()).find((x) => x.address === address);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`${address} not retired`);
}

test('the queue delivers to Postfix: plain SMTP when Postfix offers no STARTTLS', { skip }, async () => {
  await queueIntoPostfix(false, async (f, postfix) => {
    await submitToMailcove(f, 'mjl@example.com', ['plain@dest.example'], 'From: <mjl@example.com>\r\nTo: <plain@dest.example>\r\nSubject: plain\r\n\r\nhello postfix');
    const r = await retiredOk(f, 'plain@dest.example');
    assert.equal(r.success, true, r.lastError);
    assert.equal(r.attempts[0]!.tls, 'none');
    assert.match(r.attempts[0]!.enhanced ?? '', /^2\.0\.0$/);
    const [m] = await postfix.queued();
    assert.ok(m);
    assert.equal(m.sender, 'mjl@example.com');
    assert.deepEqual(m.recipients.map((x) => x.address), ['plain@dest.example']);
    assert.match(m.message.toString(), /with ESMTP id /);
    assert.match(m.message.toString(), /\r\n\r\nhello postfix\r\n$/);
  });
});

test('the queue delivers to Postfix over STARTTLS with the DSN parameters (NOTIFY, ORCPT, ENVID, RET) passed on', { skip }, async () => {
  await queueIntoPostfix(true, async (f, postfix) => {
    await submitToMailcove(f, 'mjl@example.com', ['dsn@dest.example'], 'From: <mjl@example.com>\r\nTo: <dsn@dest.example>\r\nSubject: dsn\r\n\r\nwith dsn', { mail: 'RET=HDRS ENVID=queue+2Denv', rcpt: 'NOTIFY=SUCCESS,DELAY ORCPT=rfc822;list+2Bdsn@dest.example' });
    const r = await retiredOk(f, 'dsn@dest.example');
    assert.equal(r.success, true, r.lastError);
    assert.equal(r.attempts[0]!.tls, 'starttls');
    assert.match(postfix.log(), /Anonymous TLS connection established from unknown\[127\.0\.0\.1\]/);
    const [m] = await postfix.queued();
    assert.ok(m);
    assert.equal(m.envid, 'queue-env');
    assert.equal(m.ret, 'HDRS');
    assert.deepEqual(m.recipients, [{ address: 'dsn@dest.example', notify: 'SUCCESS,DELAY', orcpt: 'rfc822;list+dsn@dest.example', reason: undefined }]);
    assert.match(m.message.toString(), /with ESMTPS id /);
    assert.equal((await f.messages('mjl')).filter((x) => /multipart\/report/.test(x)).length, 0, 'Postfix offers DSN: the success report is its job');
  });
});

test('the queue delivers an SMTPUTF8 message with a UTF-8 recipient and header to Postfix', { skip }, async () => {
  await queueIntoPostfix(true, async (f, postfix) => {
    await submitToMailcove(f, 'mjl@example.com', ['jörg@dest.example'], 'From: <mjl@example.com>\r\nTo: Jörg <jörg@dest.example>\r\nSubject: grüße\r\n\r\nÄpfel', { mail: 'SMTPUTF8 BODY=8BITMIME' });
    const r = await retiredOk(f, 'jörg@dest.example');
    assert.equal(r.success, true, r.lastError);
    const [m] = await postfix.queued();
    assert.ok(m);
    assert.equal(m.smtputf8, true);
    assert.equal(m.body, '8BITMIME');
    assert.deepEqual(m.recipients.map((x) => x.address), ['jörg@dest.example']);
    assert.match(m.message.toString('utf8'), /with UTF8SMTPS id /);
    assert.match(m.message.toString('utf8'), /Subject: grüße\r\n(.+\r\n)*\r\nÄpfel\r\n$/); // Date and Message-ID added at submission
  });
});
