// The SMTP server against clients we did not write: Python's smtplib, swaks, GNU SASL's
// gsasl, openssl s_client and nodemailer. Peers come from scripts/install-test-peers.sh;
// in CI (CI=true) a missing peer fails the test instead of skipping it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { smtpFixture, testPassword, domainsText } from '../src/smtpserver/testfixture.ts';
import { makeSelfSigned, publicKeyFingerprint } from '../src/tls/index.ts';
import { X509Certificate } from 'node:crypto';

function have(cmd: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!ok && process.env['CI'] === 'true') throw new Error(`${cmd} is not installed (scripts/install-test-peers.sh)`);
  return ok;
}

/** Runs a command without blocking the event loop (the server under test runs in this process). */
function run(cmd: string, args: string[], input?: string, timeoutMs = 30_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

const interopDomains = domainsText.replace("      '@example.org': {}\n", "      '@example.org': {}\n      jörg@example.com: {}\n");

test('Python smtplib: STARTTLS, AUTH PLAIN/LOGIN/CRAM-MD5, and an SMTPUTF8 message', { skip: !have('python3') }, async () => {
  const f = await smtpFixture({ domains: interopDomains });
  try {
    const script = `
import smtplib, ssl, sys
port, pw = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
for mech in ['PLAIN', 'LOGIN', 'CRAM-MD5']:
    s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example')
    s.starttls(context=ctx)
    s.ehlo('py.example')
    s.user, s.password = 'mjl@example.com', pw
    code, _ = s.auth(mech, getattr(s, 'auth_' + mech.lower().replace('-', '_')), initial_response_ok=(mech != 'LOGIN'))
    assert code == 235, code
    s.sendmail('mjl@example.com', ['other@example.com'], ('From: mjl@example.com\\r\\nSubject: py %s\\r\\n\\r\\nhi\\r\\n' % mech).encode())
    s.quit()
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example')
s.starttls(context=ctx)
s.login('mjl', pw)
msg = 'From: mjl@example.com\\r\\nTo: jörg@example.com\\r\\nSubject: grüße\\r\\n\\r\\nÄpfel\\r\\n'.encode('utf-8')
s.sendmail('mjl@example.com', ['jörg@example.com'], msg, mail_options=['SMTPUTF8'])
s.quit()
print('ok')
`;
    const r = await run('python3', ['-c', script, String(f.port('submission')), testPassword]);
    assert.equal(r.status, 0, r.stderr);
    const got = await f.messages('other');
    assert.equal(got.length, 4);
    assert.match(got[3]!, /Subject: grüße\r\n/);
    assert.match(got[3]!, /with UTF8SMTPSA /);
  } finally {
    await f.done();
  }
});

test('swaks: MX with pipelining; submission with STARTTLS + AUTH; submissions with implicit TLS', { skip: !have('swaks') }, async () => {
  const f = await smtpFixture();
  try {
    const common = ['--server', '127.0.0.1', '--helo', 'swaks.example', '--hide-all', '--timeout', '20'];
    const mx = await run('swaks', [...common, '--port', String(f.port('smtp')), '--pipeline', '--from', 'a@example.net', '--to', 'mjl@example.com', '--header', 'Subject: swaks mx']);
    assert.equal(mx.status, 0, mx.stdout + mx.stderr);
    const auth = ['--auth', 'PLAIN', '--auth-user', 'mjl@example.com', '--auth-password', testPassword, '--from', 'mjl@example.com', '--h-From', '<mjl@example.com>'];
    const sub = await run('swaks', [...common, '--port', String(f.port('submission')), '--tls', ...auth, '--to', 'other@example.com', '--header', 'Subject: swaks starttls']);
    assert.equal(sub.status, 0, sub.stdout + sub.stderr);
    const subs = await run('swaks', [...common, '--port', String(f.port('submissions')), '--tls-on-connect', ...auth, '--to', 'other@example.com', '--header', 'Subject: swaks tls']);
    assert.equal(subs.status, 0, subs.stdout + subs.stderr);
    const bad = await run('swaks', [...common, '--port', String(f.port('submissions')), '--tls-on-connect', '--auth', 'LOGIN', '--auth-user', 'mjl', '--auth-password', 'wrong', '--from', 'mjl@example.com', '--to', 'other@example.com']);
    assert.notEqual(bad.status, 0);
    assert.equal((await f.messages('mjl')).length, 1);
    const other = await f.messages('other');
    assert.equal(other.length, 2);
    assert.match(other[0]!, /Subject: swaks starttls/);
  } finally {
    await f.done();
  }
});

test('gsasl: SCRAM-SHA-256, SCRAM-SHA-256-PLUS over STARTTLS, and EXTERNAL with a client certificate', { skip: !have('gsasl') }, async () => {
  const f = await smtpFixture();
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-gsasl-'));
  try {
    const base = ['--smtp', '--connect', `127.0.0.1:${f.port('submission')}`, '--hostname', 'localhost', '--x509-ca-file=', '--starttls', '--quiet'];
    for (const [mech, extra] of [['SCRAM-SHA-256', ['--no-cb']], ['SCRAM-SHA-256-PLUS', []]] as const) {
      const r = await run('gsasl', [...base, ...extra, '--mechanism', mech, '-a', 'mjl@example.com', '-p', testPassword]);
      assert.equal(r.status, 0, `${mech}: ${r.stdout}${r.stderr}`);
    }
    const wrong = await run('gsasl', [...base, '--mechanism', 'SCRAM-SHA-256-PLUS', '-a', 'mjl@example.com', '-p', 'wrong password']);
    assert.notEqual(wrong.status, 0);
    const { keyPEM, certPEM } = await makeSelfSigned({ names: ['mjl@example.com'], keyType: 'rsa2048' });
    await writeFile(join(dir, 'key.pem'), keyPEM);
    await writeFile(join(dir, 'cert.pem'), certPEM);
    const cert = new X509Certificate(certPEM);
    await f.store.auth.addTlsPublicKey({ fingerprint: publicKeyFingerprint(cert), name: 'gsasl', account: 'mjl', loginAddress: 'mjl@example.com', noIMAPPreauth: false, certDER: cert.raw.toString('base64'), created: new Date().toISOString() });
    const ext = await run('gsasl', [...base, '--mechanism', 'EXTERNAL', '-z', '', '--x509-cert-file', join(dir, 'cert.pem'), '--x509-key-file', join(dir, 'key.pem')]);
    assert.equal(ext.status, 0, `EXTERNAL: ${ext.stdout}${ext.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await f.done();
  }
});

test('openssl s_client: STARTTLS with TLS 1.2 and 1.3, TLS 1.1 refused, AUTH EXTERNAL with a client certificate on submissions', { skip: !have('openssl') }, async () => {
  const f = await smtpFixture();
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-openssl-'));
  try {
    for (const v of ['1_2', '1_3']) {
      const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${f.port('smtp')}`, '-starttls', 'smtp', `-tls${v}`, '-servername', 'localhost', '-brief'], 'QUIT\r\n');
      assert.match(r.stderr + r.stdout, new RegExp(`Protocol version: TLSv${v.replace('_', '.')}`), r.stderr);
    }
    const old = await run('openssl', ['s_client', '-connect', `127.0.0.1:${f.port('submissions')}`, '-tls1_1', '-brief'], 'QUIT\r\n');
    assert.doesNotMatch(old.stderr + old.stdout, /Protocol version: TLSv1\.1/);
    const { keyPEM, certPEM } = await makeSelfSigned({ names: ['client'], keyType: 'ecdsa-p256' });
    await writeFile(join(dir, 'key.pem'), keyPEM);
    await writeFile(join(dir, 'cert.pem'), certPEM);
    const cert = new X509Certificate(certPEM);
    await f.store.auth.addTlsPublicKey({ fingerprint: publicKeyFingerprint(cert), name: 'openssl', account: 'mjl', loginAddress: 'mjl@example.com', noIMAPPreauth: false, certDER: cert.raw.toString('base64'), created: new Date().toISOString() });
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${f.port('submissions')}`, '-cert', join(dir, 'cert.pem'), '-key', join(dir, 'key.pem'), '-quiet', '-crlf', '-ign_eof'], 'EHLO ossl.example\nAUTH EXTERNAL =\nQUIT\n');
    assert.match(r.stdout, /AUTH [^\r\n]*EXTERNAL/);
    assert.match(r.stdout, /^235 2\.7\.0/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await f.done();
  }
});

test('nodemailer: submission over implicit TLS with DSN options, pipelined', async () => {
  const f = await smtpFixture();
  try {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: f.port('submissions'), secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'mjl@example.com', pass: testPassword } });
    const info = await transport.sendMail({
      from: 'Mjl <mjl@example.com>', to: ['other@example.com', 'friend@remote.example'], subject: 'from nodemailer', text: 'hello',
      dsn: { id: 'nm-1', return: 'headers', notify: ['success', 'failure'], recipient: 'mjl@example.com' },
    });
    assert.deepEqual(info.accepted.sort(), ['friend@remote.example', 'other@example.com']);
    transport.close();
    const [q] = await f.store.queue.list();
    assert.equal(q?.envid, 'nm-1');
    assert.equal(q?.ret, 'HDRS');
    assert.equal(q?.recipients[0]?.notify, 'SUCCESS,FAILURE');
    assert.equal((await f.messages('other')).length, 1);
  } finally {
    await f.done();
  }
});
