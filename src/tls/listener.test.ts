// loadListenerTls: kept self-signed certificates, certificate files chosen by SNI, TLS versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:tls';
import { keepDefaultCertificate, loadListenerTls, TlsError } from './listener.ts';
import { makeSelfSigned } from './selfsigned.ts';
import { tlsServer } from './testfixture.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const selfSignedTls = { selfSigned: true, minVersion: 'TLSv1.2' } as const;

test('a self-signed certificate is made once, kept with a 0600 key, and reused on restart', async (t) => {
  const dataDir = await tempDir(t);
  const o = { tls: selfSignedTls, hostname: 'mail.example.com', ips: ['127.0.0.1', '::'], configDir: dataDir, dataDir };
  const first = await loadListenerTls(o);
  const cert = new X509Certificate(String(first.serverOptions().cert));
  assert.ok(cert.checkHost('mail.example.com'));
  assert.ok(cert.checkHost('localhost'));
  assert.ok(cert.checkIP('127.0.0.1'));
  assert.equal(new X509Certificate(String((await loadListenerTls(o)).serverOptions().cert)).fingerprint256, cert.fingerprint256);
  assert.equal((await stat(join(dataDir, 'tls', 'selfsigned-mail.example.com.key.pem'))).mode & 0o777, 0o600);
});

test('two listeners starting together share one self-signed certificate', async (t) => {
  const dataDir = await tempDir(t);
  const o = { tls: selfSignedTls, hostname: 'mail.example.com', ips: ['127.0.0.1'], configDir: dataDir, dataDir };
  const [a, b] = await Promise.all([loadListenerTls(o), loadListenerTls(o)]);
  assert.equal(a.serverOptions().cert, b.serverOptions().cert);
});

test('a kept self-signed certificate is made again when it does not cover a new listener IP', async (t) => {
  const dataDir = await tempDir(t);
  const o = { tls: selfSignedTls, hostname: 'mail.example.com', ips: ['127.0.0.1'], configDir: dataDir, dataDir };
  const before = new X509Certificate(String((await loadListenerTls(o)).serverOptions().cert));
  const after = new X509Certificate(String((await loadListenerTls({ ...o, ips: ['127.0.0.1', '127.0.0.2'] })).serverOptions().cert));
  assert.notEqual(after.fingerprint256, before.fingerprint256);
  assert.ok(after.checkIP('127.0.0.2'));
});

test('SNI chooses the certificate for the server name, and the hostname\'s for unknown or absent names', async (t) => {
  const dir = await tempDir(t);
  for (const [name, names] of [['mail', ['mail.example.com']], ['other', ['other.example.org', '*.other.example.org']]] as const) {
    const kc = await makeSelfSigned({ names: [...names] });
    await writeFile(join(dir, `${name}.key.pem`), kc.keyPEM);
    await writeFile(join(dir, `${name}.crt.pem`), kc.certPEM);
  }
  const tls = await loadListenerTls({
    tls: { keyCerts: [{ certFile: 'other.crt.pem', keyFile: 'other.key.pem' }, { certFile: join(dir, 'mail.crt.pem'), keyFile: 'mail.key.pem' }], minVersion: 'TLSv1.2' },
    hostname: 'mail.example.com', ips: ['127.0.0.1'], configDir: dir, dataDir: dir,
  });
  const srv = await tlsServer(tls.serverOptions());
  t.after(() => srv.close());
  const peer = async (servername?: string): Promise<string> => (await srv.connect(servername ? { servername } : {})).client.getPeerX509Certificate()!.subject;
  assert.equal(await peer('other.example.org'), 'CN=other.example.org');
  assert.equal(await peer('IMAP.Other.Example.org.'), 'CN=other.example.org');
  assert.equal(await peer('mail.example.com'), 'CN=mail.example.com');
  assert.equal(await peer('unknown.example.net'), 'CN=mail.example.com');
  assert.equal(await peer(), 'CN=mail.example.com');
});

test('TLS 1.1 is refused, TLS 1.2 and 1.3 are accepted', async (t) => {
  const dataDir = await tempDir(t);
  const tls = await loadListenerTls({ tls: selfSignedTls, hostname: 'localhost', ips: ['127.0.0.1'], configDir: dataDir, dataDir });
  const srv = await tlsServer(tls.serverOptions());
  t.after(() => srv.close());
  await assert.rejects(srv.connect({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }), /protocol version/); // the client could (SECLEVEL=0); the server refuses
  assert.equal((await srv.connect({ maxVersion: 'TLSv1.2' })).server.getProtocol(), 'TLSv1.2');
  assert.equal((await srv.connect()).server.getProtocol(), 'TLSv1.3');
});

test('minVersion TLSv1.3 refuses TLS 1.2', async (t) => {
  const dataDir = await tempDir(t);
  const tls = await loadListenerTls({ tls: { ...selfSignedTls, minVersion: 'TLSv1.3' }, hostname: 'localhost', ips: ['127.0.0.1'], configDir: dataDir, dataDir });
  const srv = await tlsServer(tls.serverOptions());
  t.after(() => srv.close());
  await assert.rejects(srv.connect({ maxVersion: 'TLSv1.2' }));
});

test('missing files, a key that does not match its certificate and an ACME provider not loaded are TlsErrors that say what is wrong', async (t) => {
  const dir = await tempDir(t);
  const a = await makeSelfSigned({ names: ['a.example'] });
  const b = await makeSelfSigned({ names: ['b.example'] });
  await writeFile(join(dir, 'a.crt.pem'), a.certPEM);
  await writeFile(join(dir, 'b.key.pem'), b.keyPEM);
  const base = { hostname: 'a.example', ips: ['127.0.0.1'], configDir: dir, dataDir: dir };
  await assert.rejects(loadListenerTls({ ...base, tls: { keyCerts: [{ certFile: 'nope.crt.pem', keyFile: 'b.key.pem' }], minVersion: 'TLSv1.2' } }), (e) => e instanceof TlsError && /nope\.crt\.pem.*ENOENT/.test(e.message));
  await assert.rejects(loadListenerTls({ ...base, tls: { keyCerts: [{ certFile: 'a.crt.pem', keyFile: 'b.key.pem' }], minVersion: 'TLSv1.2' } }), (e) => e instanceof TlsError && /a\.crt\.pem with b\.key\.pem/.test(e.message));
  await assert.rejects(loadListenerTls({ ...base, tls: { acme: 'letsencrypt', minVersion: 'TLSv1.2' } }), (e) => e instanceof TlsError && e.message === 'acme: provider "letsencrypt" is not loaded');
});

test('keepDefaultCertificate: a server made once serves the new default certificate to a client without SNI after a change (an ACME renewal)', async (t) => {
  const certs = [await makeSelfSigned({ names: ['mail.example.com'] }), await makeSelfSigned({ names: ['mail.example.com'] })];
  let current = 0;
  const listeners = new Set<() => void>();
  const config = {
    sniCallback: () => {},
    serverOptions: () => ({ key: certs[current]!.keyPEM, cert: certs[current]!.certPEM }),
    onDefaultChange: (fn: () => void) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () => {},
  };
  const server = createServer(config.serverOptions(), (s) => s.end());
  server.once('close', keepDefaultCertificate(server, config));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const peer = async () => {
    const s = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, rejectUnauthorized: false }); // an IP: no SNI (RFC 6066 §3)
    await once(s, 'secureConnect');
    const fp = s.getPeerX509Certificate()!.fingerprint256;
    s.destroy();
    return fp;
  };
  const fingerprint = (i: number) => new X509Certificate(certs[i]!.certPEM).fingerprint256;
  assert.equal(await peer(), fingerprint(0));
  current = 1;
  for (const fn of listeners) fn();
  assert.equal(await peer(), fingerprint(1));
  server.close();
  await once(server, 'close');
  assert.equal(listeners.size, 0, 'closing the server unsubscribes');
});
