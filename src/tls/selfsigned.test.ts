// makeSelfSigned: certificates that node:crypto, OpenSSL-backed TLS clients and the key accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { makeSelfSigned } from './selfsigned.ts';
import { tlsServer } from './testfixture.ts';

for (const keyType of ['ecdsa-p256', 'rsa2048', 'ed25519'] as const) {
  test(`a ${keyType} self-signed certificate is signed by its own key and names the given names and IPs`, async () => {
    const { keyPEM, certPEM } = await makeSelfSigned({ names: ['mail.example.com', 'localhost'], ips: ['127.0.0.1', '2001:db8::5'], keyType });
    const cert = new X509Certificate(certPEM);
    assert.ok(cert.verify(cert.publicKey));
    assert.ok(cert.checkPrivateKey(createPrivateKey(keyPEM)));
    assert.equal(cert.subject, 'CN=mail.example.com');
    assert.equal(cert.subjectAltName, 'DNS:mail.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:5');
    const years = (new Date(cert.validTo).getTime() - Date.now()) / (365.25 * 24 * 3600 * 1000);
    assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
  });
}

test('a self-signed certificate is valid for the given days and names an address as rfc822Name', async () => {
  const { certPEM } = await makeSelfSigned({ names: ['mjl@example.com'], days: 2 });
  const cert = new X509Certificate(certPEM);
  assert.equal(cert.subject, 'CN=mjl@example.com');
  assert.equal(cert.subjectAltName, 'email:mjl@example.com');
  const days = (new Date(cert.validTo).getTime() - Date.now()) / (24 * 3600 * 1000);
  assert.ok(days > 1.9 && days < 2.1);
});

test('a TLS client that trusts the self-signed certificate verifies it for its name', async (t) => {
  const { keyPEM, certPEM } = await makeSelfSigned({ names: ['mail.example.com'] });
  const srv = await tlsServer({ key: keyPEM, cert: certPEM });
  t.after(() => srv.close());
  const { client } = await srv.connect({ ca: certPEM, servername: 'mail.example.com', rejectUnauthorized: true });
  assert.ok(client.authorized);
  await assert.rejects(srv.connect({ ca: certPEM, servername: 'other.example.com', rejectUnauthorized: true }), /altnames/);
});

test('validity dates through 2049 are UTCTime, from 2050 GeneralizedTime (RFC 5280 §4.1.2.5)', async () => {
  const { certPEM } = await makeSelfSigned({ names: ['mail.example.com'], days: 40 * 366 });
  const cert = new X509Certificate(certPEM);
  const notAfter = cert.validToDate;
  assert.ok(notAfter.getUTCFullYear() >= 2050);
  const digits = notAfter.toISOString().slice(0, 19).replace(/[-:T]/g, '') + 'Z'; // YYYYMMDDHHMMSSZ
  assert.ok(cert.raw.includes(Buffer.concat([Buffer.from([0x18, 15]), Buffer.from(digits, 'ascii')])), 'notAfter as GeneralizedTime');
  const notBefore = new Date(cert.validFrom);
  assert.ok(cert.raw.includes(Buffer.concat([Buffer.from([0x17, 13]), Buffer.from(notBefore.toISOString().slice(2, 19).replace(/[-:T]/g, '') + 'Z', 'ascii')])), 'notBefore as UTCTime');
});
