// `mailcove sendmail` end to end: the command run through main() with the message on
// stdin, submitting to a running Mailcove SMTP server on loopback; delivered messages are
// read back from the store as bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runArgv, type RunResult } from '../cli/testrun.ts';
import { smtpFixture, testPassword, type SmtpFixture } from '../smtpserver/testfixture.ts';
import { makeSelfSigned, publicKeyFingerprint } from '../tls/index.ts';
import { decodeQuotedPrintable } from '../mime/index.ts';
import { maxInputBytes } from './input.ts';

/** Runs `mailcove sendmail --config CONF ...argv` with `input` as standard input (bytes). */
function sendmail(conf: string, argv: string[], input: Buffer | string): Promise<RunResult> {
  return runArgv(['sendmail', '--config', conf, ...argv], input);
}

let f: SmtpFixture;
let serverCert: string; // the listener's self-signed certificate file
let serverPin: string;

before(async () => {
  f = await smtpFixture();
  serverCert = join(f.config.paths.dataDir, 'tls', 'selfsigned-mail.example.com.crt.pem');
  serverPin = publicKeyFingerprint(new X509Certificate(await readFile(serverCert)));
});

after(async () => {
  await f.done();
});

/** Writes a submit config into the fixture directory and returns its path. */
let confCount = 0;
async function conf(text: string): Promise<string> {
  const path = join(f.dir, `submit${++confCount}.conf`);
  await writeFile(path, text);
  return path;
}

const passwordConf = (service: 'submissions' | 'submission', extra = '') =>
  conf(`submission: 127.0.0.1:${f.port(service)}\ntls: ${service === 'submission' ? 'starttls' : 'submissions'}\nfrom: mjl@example.com\npassword: ${testPassword}\n${extra}`);

/** The stored messages of an account whose Subject is `subject`, as bytes. */
async function delivered(account: string, subject: string, mailbox = 'INBOX'): Promise<Buffer[]> {
  const a = await f.store.openAccount(account);
  try {
    const out: Buffer[] = [];
    for (const r of await a.messages(mailbox)) {
      const chunks: Buffer[] = [];
      for await (const c of await a.openMessage(r.messageId)) chunks.push(c as Buffer);
      const m = Buffer.concat(chunks);
      if (m.includes(`\r\nSubject: ${subject}\r\n`)) out.push(m);
    }
    return out;
  } finally {
    await a.close();
  }
}

const headerOf = (m: Buffer) => m.subarray(0, m.indexOf('\r\n\r\n') + 2).toString('latin1');

test('a password login over submissions (SCRAM-SHA-256-PLUS, tlsCAFile): the message arrives with From, Date and Message-ID added', async () => {
  const path = await passwordConf('submissions', `tlsCAFile: ${serverCert}\ntlsServerName: mail.example.com\n`);
  const r = await sendmail(path, ['-v', 'other@example.com'], 'Subject: plus\n\nhello\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /with TLS1\.3/);
  assert.match(r.stderr, /logged in with SCRAM-SHA-256-PLUS/);
  assert.match(r.stderr, /sent to 1 recipient\(s\): 250/);
  const [m] = await delivered('other', 'plus');
  assert.ok(m);
  const h = headerOf(m);
  assert.match(h, /\r\nFrom: mjl@example\.com\r\n/);
  assert.match(h, /\r\nDate: \w{3}, \d+ \w{3} \d{4} /);
  assert.match(h, /\r\nMessage-ID: <[\w-]+@example\.com>\r\n/);
  assert.ok(m.subarray(m.indexOf('\r\n\r\n')).equals(Buffer.from('\r\n\r\nhello\r\n')));
});

test('an 8-bit body is delivered byte for byte (BODY=8BITMIME), bare LFs becoming CRLF', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const body = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' latin-1, '), Buffer.from('naïve UTF-8, \x00\x01 controls\n.dot first\n')]);
  const r = await sendmail(path, ['other@example.com'], Buffer.concat([Buffer.from('From: Mjl <mjl@example.com>\nSubject: eightbit\n\n'), body]));
  assert.equal(r.code, 0, r.stderr);
  const [m] = await delivered('other', 'eightbit');
  assert.ok(m);
  const expected = Buffer.from(body.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');
  assert.ok(m.subarray(m.length - expected.length).equals(expected), 'body byte-exact');
  assert.match(headerOf(m), /\r\nFrom: Mjl <mjl@example\.com>\r\n/);
  assert.doesNotMatch(headerOf(m), /\r\nFrom: mjl@example\.com\r\n/, 'no second From');
});

test('without -i a line with only "." ends the message; with -i (and -oi) it is part of it', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const input = (s: string) => `Subject: ${s}\n\nbefore\n.\nafter\n`;
  assert.equal((await sendmail(path, ['other@example.com'], input('dot-ends'))).code, 0);
  const [ended] = await delivered('other', 'dot-ends');
  assert.ok(ended?.subarray(ended.indexOf('\r\n\r\n')).equals(Buffer.from('\r\n\r\nbefore\r\n')));
  for (const flag of ['-i', '-oi']) {
    assert.equal((await sendmail(path, [flag, 'other@example.com'], input(`dot-kept${flag}`))).code, 0);
    const [kept] = await delivered('other', `dot-kept${flag}`);
    assert.ok(kept?.subarray(kept.indexOf('\r\n\r\n')).equals(Buffer.from('\r\n\r\nbefore\r\n.\r\nafter\r\n')), `${flag}: lone dot line kept`);
  }
});

test('-t over STARTTLS: recipients from To, Cc and Bcc, Bcc removed from every copy', async () => {
  const path = await passwordConf('submission', `tlsPublicKey: ${serverPin}\n`);
  const msg = 'To: Other <other@example.com>\nCc: undisclosed:;\nBcc: mjl@example.com,\n  friend@remote.example\nSubject: bcc test\n\nbody\n';
  const r = await sendmail(path, ['-t', '-i', '-v'], msg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /logged in with SCRAM-SHA-256-PLUS/);
  for (const account of ['other', 'mjl']) {
    const [m] = await delivered(account, 'bcc test');
    assert.ok(m, `delivered to ${account}`);
    assert.doesNotMatch(headerOf(m), /^bcc:|friend@remote/im);
    assert.match(headerOf(m), /\r\nTo: Other <other@example\.com>\r\n/);
  }
  const q = (await f.store.queue.list()).find((x) => x.recipients.some((rc) => rc.address === 'friend@remote.example'));
  assert.ok(q, 'the remote Bcc recipient is queued');
});

test('-f sets the envelope sender; a sender the account may not use is refused with the reply (exit 77)', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const r = await sendmail(path, ['-f', 'postmaster@example.com', '-F', 'Post Master', 'someone@remote.example'], 'Subject: envelope from\n\nx\n');
  assert.equal(r.code, 0, r.stderr);
  const q = (await f.store.queue.list()).find((x) => x.recipients.some((rc) => rc.address === 'someone@remote.example'));
  assert.equal(q?.mailFrom, 'postmaster@example.com');
  const queued = Buffer.concat(await Array.fromAsync(await f.store.queue.openMessage(q!.id) as AsyncIterable<Buffer>)).toString('latin1');
  assert.match(queued, /\r\nFrom: Post Master <mjl@example\.com>\r\n/, 'an added From is the configured address with the -F name');
  const refused = await sendmail(path, ['-fother@example.com', 'other@example.com'], 'Subject: not mine\n\nx\n');
  assert.equal(refused.code, 77);
  assert.match(refused.stderr, /sender <other@example\.com>: the server replied 550 5\.7\.1 not an address of your account/);
});

test('a refused recipient: exit 67 with the reply; the others still get the message', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const r = await sendmail(path, ['nobody@example.com', 'other@example.com'], 'Subject: partly\n\nx\n');
  assert.equal(r.code, 67);
  assert.match(r.stderr, /recipient <nobody@example\.com> refused: 550 5\.1\.1 no such user/);
  assert.match(r.stderr, /message sent to the other 1 recipient/);
  assert.equal((await delivered('other', 'partly')).length, 1);
  const none = await sendmail(path, ['nobody@example.com'], 'Subject: nobody\n\nx\n');
  assert.equal(none.code, 67);
  assert.match(none.stderr, /550 5\.1\.1[\s\S]*message not sent/);
});

test('a client certificate (PEM with key and certificate) logs in with EXTERNAL', async () => {
  const kc = await makeSelfSigned({ names: ['mjl@example.com'], keyType: 'ecdsa-p256' });
  const certFile = join(f.dir, 'client-ecdsa.pem');
  await writeFile(certFile, kc.keyPEM + kc.certPEM, { mode: 0o600 });
  const cert = new X509Certificate(kc.certPEM);
  await f.store.auth.addTlsPublicKey({ fingerprint: publicKeyFingerprint(cert), name: 'ecdsa', account: 'mjl', loginAddress: 'mjl@example.com', noIMAPPreauth: false, certDER: cert.raw.toString('base64'), created: new Date().toISOString() });
  const path = await conf(`submission: 127.0.0.1:${f.port('submissions')}\nfrom: mjl@example.com\nclientCertFile: client-ecdsa.pem\ntlsPublicKey: ${serverPin}\n`);
  const r = await sendmail(path, ['-v', 'other@example.com'], 'Subject: cert pem\n\nx\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /logged in with EXTERNAL/);
  assert.equal((await delivered('other', 'cert pem')).length, 1);
});

test('an ed25519 key alone logs in with EXTERNAL over STARTTLS; --show-certificate prints the certificate to register', async () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(join(f.dir, 'client-ed25519.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const path = await conf(`submission: 127.0.0.1:${f.port('submission')}\ntls: starttls\nfrom: mjl@example.com\nclientCertFile: client-ed25519.pem\ntlsPublicKey: ${serverPin}\n`);
  const unregistered = await sendmail(path, ['other@example.com'], 'Subject: cert ed25519\n\nx\n');
  assert.equal(unregistered.code, 77, 'a key the server does not know is refused');
  assert.match(unregistered.stderr, /login with EXTERNAL: the server replied 535 5\.7\.8/);
  const shown = await sendmail(path, ['--show-certificate'], '');
  assert.equal(shown.code, 0, shown.stderr);
  const cert = new X509Certificate(shown.stdout);
  assert.equal(cert.publicKey.asymmetricKeyType, 'ed25519');
  assert.ok(cert.verify(cert.publicKey), 'self-signed with the key');
  assert.equal(publicKeyFingerprint(cert), publicKeyFingerprint(privateKey));
  assert.match(shown.stderr, new RegExp(`fingerprint: ${publicKeyFingerprint(privateKey)}`));
  await f.store.auth.addTlsPublicKey({ fingerprint: publicKeyFingerprint(cert), name: 'ed25519', account: 'mjl', loginAddress: 'mjl@example.com', noIMAPPreauth: false, certDER: cert.raw.toString('base64'), created: new Date().toISOString() });
  const r = await sendmail(path, ['-v', 'other@example.com'], 'Subject: cert ed25519\n\nx\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /logged in with EXTERNAL/);
  assert.equal((await delivered('other', 'cert ed25519')).length, 1);
});

test('config problems exit 78 before reading the message', async () => {
  const cases: Array<[string, RegExp]> = [
    [`submission: 127.0.0.1:465\nfrom: mjl@example.com\npassword: x\nbogus: 1\n`, /Unrecognized key/],
    [`submission: 127.0.0.1:465\nfrom: mjl@example.com\n`, /no credentials/],
    [`submission: mail.example.com\ntls: none\nfrom: mjl@example.com\npassword: x\n`, /only allowed to a loopback/],
    [`submission: 127.0.0.1\nfrom: mjl@example.com\nclientCertFile: missing.pem\n`, /reading clientCertFile/],
    [`submission: [\n`, /not valid YAML/],
  ];
  for (const [text, message] of cases) {
    const r = await sendmail(await conf(text), ['other@example.com'], 'Subject: x\n\nx\n');
    assert.equal(r.code, 78, text);
    assert.match(r.stderr, message);
  }
  const missing = await sendmail(join(f.dir, 'nonexistent.conf'), ['other@example.com'], '');
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /cannot read the submit config \(ENOENT\)/);
});

test('usage, login, TLS and connection failures have their sysexits codes', async () => {
  const ok = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const noRcpt = await sendmail(ok, [], 'Subject: x\n\nx\n');
  assert.equal(noRcpt.code, 64);
  assert.match(noRcpt.stderr, /no recipients/);
  assert.equal((await sendmail(ok, ['-N', 'sometimes', 'other@example.com'], '')).code, 64);
  assert.equal((await sendmail(ok, ['root'], 'Subject: x\n\nx\n')).code, 67, 'a bare local part without defaultDestination');
  const wrong = await sendmail(await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`).then(async (p) => conf((await readFile(p, 'utf8')).replace(testPassword, 'wrong password'))), ['other@example.com'], 'Subject: x\n\nx\n');
  assert.equal(wrong.code, 77);
  assert.match(wrong.stderr, /535 5\.7\.8/);
  const pin = await sendmail(await passwordConf('submissions', `tlsPublicKey: ${'A'.repeat(43)}\n`), ['other@example.com'], 'Subject: x\n\nx\n');
  assert.equal(pin.code, 69);
  assert.ok(pin.stderr.includes(`the server's public key ${serverPin} is not the pinned`));
  const untrusted = await sendmail(await passwordConf('submissions'), ['other@example.com'], 'Subject: x\n\nx\n');
  assert.equal(untrusted.code, 69, 'a self-signed certificate without tlsCAFile or pin');
  assert.match(untrusted.stderr, /certificate/);
  const refused = await sendmail(await conf(`submission: 127.0.0.1:1\nfrom: mjl@example.com\npassword: x\n`), ['other@example.com'], 'Subject: x\n\nx\n');
  assert.equal(refused.code, 75);
  assert.match(refused.stderr, /ECONNREFUSED/);
});

test('a recipient without a domain goes to defaultDestination', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\ndefaultDestination: other@example.com\n`);
  const r = await sendmail(path, ['-t'], 'To: root\nSubject: cron output\n\nx\n');
  assert.equal(r.code, 0, r.stderr);
  const [m] = await delivered('other', 'cron output');
  assert.ok(m);
  assert.match(headerOf(m), /\r\nTo: root\r\n/, 'the header is left as written');
});

test('-t with recipients as arguments too: all of them get the message, each once', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const r = await sendmail(path, ['-t', '-v', 'mjl@example.com', 'other@EXAMPLE.com'], 'To: other@example.com\nSubject: t and args\n\nx\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /sent to 2 recipient\(s\)/);
  assert.equal((await delivered('other', 't and args')).length, 1);
  assert.equal((await delivered('mjl', 't and args')).length, 1);
});

test('a body line over 998 octets (cron output) arrives quoted-printable and decodes to what was given; a bare CR arrives as CRLF', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const long = 'output '.repeat(300); // 2100 octets
  const r = await sendmail(path, ['-v', 'other@example.com'], `Subject: long line\n\n${long}\nlast\rline\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /line over 998 octets: sending it quoted-printable/);
  const [m] = await delivered('other', 'long line');
  assert.ok(m);
  assert.match(headerOf(m), /\r\nMIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n/);
  const body = m.subarray(m.indexOf('\r\n\r\n') + 4);
  assert.ok(body.toString('latin1').split('\r\n').every((l) => l.length <= 76), 'no line over 76 octets');
  assert.equal(decodeQuotedPrintable(body).toString(), `${long}\r\nlast\r\nline\r\n`);
});

test('refused before connecting, nothing delivered: a long line in a multipart message or a header (65), a control character in an address (64, 65), too much input (65)', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  const mime = await sendmail(path, ['other@example.com'], `Subject: refused mime\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n${'x'.repeat(1200)}\n--b--\n`);
  assert.equal(mime.code, 65);
  assert.match(mime.stderr, /body line 1 is 1200 octets, SMTP allows 998 \(RFC 5321 §4\.5\.3\.1\.6\); encode that MIME part/);
  const header = await sendmail(path, ['other@example.com'], `Subject: refused header ${'h'.repeat(1000)}\n\nx\n`);
  assert.equal(header.code, 65);
  assert.match(header.stderr, /header line 1 is \d+ octets/);
  const arg = await sendmail(path, ['"x\r\nRSET"@example.com', 'other@example.com'], 'Subject: refused arg\n\nx\n');
  assert.equal(arg.code, 64);
  assert.match(arg.stderr, /bad character in quoted string/);
  const field = await sendmail(path, ['-t'], 'To: other@example.com, "a\x01b"@example.com\nSubject: refused field\n\nx\n');
  assert.equal(field.code, 65);
  assert.match(field.stderr, /To field: .*nothing was sent/);
  const big = await sendmail(path, ['other@example.com'], Buffer.concat([Buffer.from('Subject: refused big\n\n'), Buffer.alloc(maxInputBytes, 'x')]));
  assert.equal(big.code, 65);
  assert.match(big.stderr, new RegExp(`larger than ${maxInputBytes} bytes`));
  for (const subject of ['refused mime', 'refused arg', 'refused field']) assert.equal((await delivered('other', subject)).length, 0, subject);
});

test('-V must be an RFC 3461 envelope id', async () => {
  const path = await passwordConf('submissions', `tlsPublicKey: ${serverPin}\n`);
  for (const v of ['x'.repeat(101), 'ümlaut', '']) {
    const r = await sendmail(path, ['-V', v, 'other@example.com'], 'Subject: envid\n\nx\n');
    assert.equal(r.code, 64, v);
    assert.match(r.stderr, /RFC 3461 §4\.4/);
  }
});

/** A scripted SMTP server on loopback for what ours never does: `reply` answers each command line; message lines are collected until ".". */
async function fakeServer(reply: (line: string) => string): Promise<{ port: number; lines: string[]; message: string[]; close(): Promise<void> }> {
  const lines: string[] = [];
  const message: string[] = []; // the lines after DATA, as sent (dot-stuffed)
  const server = createServer((sock) => {
    let buf = '';
    let inData = false;
    sock.write('220 fake ESMTP\r\n');
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            sock.write(`${reply('.')}\r\n`);
          } else message.push(line);
          continue;
        }
        lines.push(line);
        const r = reply(line);
        sock.write(`${r}\r\n`);
        if (r.startsWith('354')) inData = true;
        if (r.startsWith('221')) sock.end();
      }
    });
    sock.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { port: (server.address() as AddressInfo).port, lines, message, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const fakeConf = (port: number) => conf(`submission: 127.0.0.1:${port}\ntls: none\nfrom: mjl@example.com\nusername: mjl\npassword: secret\n`);

test('a server offering only PLAIN gets AUTH PLAIN; a recipient refused and the message then refused with 451: exit 75, every refusal on stderr', async () => {
  const s = await fakeServer((line) => {
    if (line.startsWith('EHLO')) return '250-fake\r\n250-PIPELINING\r\n250 AUTH PLAIN';
    if (line.startsWith('AUTH PLAIN ')) return Buffer.from(line.slice(11), 'base64').toString() === '\0mjl\0secret' ? '235 2.7.0 ok' : '535 5.7.8 no';
    if (line.startsWith('RCPT TO:<nobody@')) return '550 5.1.1 no such user';
    if (line === 'DATA') return '354 go';
    if (line === '.') return '451 4.3.0 try again later';
    if (line === 'QUIT') return '221 bye';
    return '250 ok';
  });
  try {
    const r = await sendmail(await fakeConf(s.port), ['-v', '-i', 'other@example.com', 'nobody@example.com'], 'Subject: fake\n\n.dot first\n.\nx\n');
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /logged in with PLAIN/);
    assert.match(r.stderr, /recipient <nobody@example\.com> refused: 550 5\.1\.1 no such user/);
    assert.match(r.stderr, /message refused: 451 4\.3\.0 try again later/);
    assert.deepEqual(s.lines.filter((l) => /^(MAIL|RCPT|DATA)/.test(l)), ['MAIL FROM:<mjl@example.com>', 'RCPT TO:<other@example.com>', 'RCPT TO:<nobody@example.com>', 'DATA'], 'no BODY=8BITMIME or SMTPUTF8 for a 7-bit message with ASCII addresses; no SIZE when not offered');
    assert.deepEqual(s.message.slice(-3), ['..dot first', '..', 'x'], 'RFC 5321 §4.5.2: lines starting with "." dot-stuffed');
  } finally {
    await s.close();
  }
});

test('SCRAM: a server-first whose nonce does not extend ours is cancelled with "*" and exits 76', async () => {
  const s = await fakeServer((line) => {
    if (line.startsWith('EHLO')) return '250-fake\r\n250 AUTH SCRAM-SHA-256 PLAIN';
    if (line.startsWith('AUTH SCRAM-SHA-256 ')) return `334 ${Buffer.from('r=notyours,s=QSXCR+Q6sek8bf92,i=4096').toString('base64')}`;
    if (line === '*') return '501 5.7.0 cancelled';
    if (line === 'QUIT') return '221 bye';
    return '250 ok';
  });
  try {
    const r = await sendmail(await fakeConf(s.port), ['other@example.com'], 'Subject: fake\n\nx\n');
    assert.equal(r.code, 76, r.stderr);
    assert.match(r.stderr, /login with SCRAM-SHA-256: the server's nonce does not extend ours/);
    assert.ok(s.lines.includes('*'), 'RFC 4954 §4: the exchange is cancelled');
    assert.ok(!s.lines.some((l) => l.startsWith('AUTH PLAIN') || l.startsWith('MAIL')), 'no fallback to PLAIN, nothing sent');
  } finally {
    await s.close();
  }
});
