// makeCsr and makeTlsAlpnCertificate: structures OpenSSL accepts, with the names and the
// acmeIdentifier extension RFC 8737 asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { makeCsr, makeTlsAlpnCertificate } from './acmecerts.ts';

test('a CSR is signed by its key and requests the names as subject alternative names (RFC 2986)', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = makeCsr(key, ['mail.example.com']);
  const text = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: csr, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  assert.match(text, /Subject: CN\s?=\s?mail\.example\.com/);
  assert.match(text, /X509v3 Subject Alternative Name:\s*\n\s*DNS:mail\.example\.com\n/);
  assert.throws(() => makeCsr(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ['x.example']), /P-256/);
});

test('a tls-alpn-01 certificate names only the identifier and carries the key authorization digest in a critical acmeIdentifier (RFC 8737 §3)', async () => {
  const { keyPEM, certPEM } = await makeTlsAlpnCertificate('mail.example.com', 'token.thumbprint');
  const cert = new X509Certificate(certPEM);
  assert.ok(cert.verify(cert.publicKey));
  assert.equal(cert.subjectAltName, 'DNS:mail.example.com');
  assert.ok(cert.checkPrivateKey(createPrivateKey(keyPEM)));
  // Extension ::= SEQUENCE { extnID id-pe-acmeIdentifier, critical TRUE, extnValue OCTET STRING { Authorization ::= OCTET STRING (SIZE (32)) } }
  const digest = createHash('sha256').update('token.thumbprint').digest();
  const extension = Buffer.concat([Buffer.from('3031' + '06082b0601050507011f' + '0101ff' + '0422' + '0420', 'hex'), digest]);
  assert.ok(cert.raw.includes(extension));
});

test('a name longer than a commonName may be (64) leaves the subject empty and makes the SAN critical (RFC 5280 §4.2.1.6)', async () => {
  const long = `${'a'.repeat(63)}.${'b'.repeat(20)}.example`;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const text = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: makeCsr(key, [long]), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  assert.match(text, /Subject:\s*\n/);
  assert.match(text, new RegExp(`X509v3 Subject Alternative Name: critical\\s*\\n\\s*DNS:${long.replace(/\./g, '\\.')}\\n`));
  const cert = new X509Certificate((await makeTlsAlpnCertificate(long, 'token.thumbprint')).certPEM);
  assert.ok(!cert.subject, cert.subject);
  assert.equal(cert.subjectAltName, `DNS:${long}`);
  assert.ok(cert.verify(cert.publicKey));
});
