// Client public-key fingerprints, channel binding (RFC 9266 tls-exporter, RFC 5929
// tls-unique) and the Received-header description, seen from both ends of real connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createHash } from 'node:crypto';
import { once } from 'node:events';
import { channelBinding, clientKeyFingerprint, describeTls, publicKeyFingerprint } from './identity.ts';
import { makeSelfSigned } from './selfsigned.ts';
import { tlsServer } from './testfixture.ts';

const server = await makeSelfSigned({ names: ['localhost'] });
const serverOptions = { key: server.keyPEM, cert: server.certPEM, requestCert: true, rejectUnauthorized: false };

test('the server sees the client certificate\'s public-key fingerprint; none without a certificate', async (t) => {
  const srv = await tlsServer(serverOptions);
  t.after(() => srv.close());
  const client = await makeSelfSigned({ names: ['mjl@example.com'], keyType: 'ed25519' });
  const expected = publicKeyFingerprint(new X509Certificate(client.certPEM));
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    const { server: s } = await srv.connect({ key: client.keyPEM, cert: client.certPEM, maxVersion });
    assert.equal(clientKeyFingerprint(s), expected, maxVersion);
  }
  assert.equal(clientKeyFingerprint((await srv.connect()).server), undefined);
});

test('a public-key fingerprint is base64url SHA-256 of the SubjectPublicKeyInfo, the same from the certificate and the key', async () => {
  const kc = await makeSelfSigned({ names: ['mjl@example.com'] });
  const cert = new X509Certificate(kc.certPEM);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(publicKeyFingerprint(cert), createHash('sha256').update(spki).digest('base64url'));
  assert.equal(publicKeyFingerprint(createPrivateKey(kc.keyPEM)), publicKeyFingerprint(cert));
});

test('tls-exporter on TLS 1.3 is what the client exports itself; tls-unique is undefined there', async (t) => {
  const srv = await tlsServer(serverOptions);
  t.after(() => srv.close());
  const { client, server: s } = await srv.connect();
  assert.equal(s.getProtocol(), 'TLSv1.3');
  const cb = channelBinding(s, 'tls-exporter');
  assert.equal(cb?.length, 32);
  assert.deepEqual(cb, client.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)));
  assert.deepEqual(channelBinding(client, 'tls-exporter', 'client'), cb);
  assert.equal(channelBinding(s, 'tls-unique'), undefined);
  const other = await srv.connect();
  assert.notDeepEqual(channelBinding(other.server, 'tls-exporter'), cb, 'unique per connection');
});

test('tls-unique on TLS 1.2 is the client\'s Finished in a full handshake; tls-exporter is undefined there', async (t) => {
  const srv = await tlsServer(serverOptions);
  t.after(() => srv.close());
  const { client, server: s } = await srv.connect({ maxVersion: 'TLSv1.2' });
  const cb = channelBinding(s, 'tls-unique');
  assert.ok(cb && cb.length === 12); // RFC 5246 §7.4.9: verify_data is 12 octets
  assert.deepEqual(cb, client.getFinished());
  assert.deepEqual(channelBinding(client, 'tls-unique', 'client'), cb);
  assert.equal(channelBinding(s, 'tls-exporter'), undefined);
});

test('tls-unique on a resumed TLS 1.2 session is the server\'s Finished, which is sent first there', async (t) => {
  const srv = await tlsServer(serverOptions);
  t.after(() => srv.close());
  const first = await srv.connect({ maxVersion: 'TLSv1.2' });
  const session = first.client.getSession() ?? (await once(first.client, 'session'))[0] as Buffer;
  const { client, server: s } = await srv.connect({ maxVersion: 'TLSv1.2', session });
  assert.ok(s.isSessionReused());
  const cb = channelBinding(s, 'tls-unique');
  assert.deepEqual(cb, client.getPeerFinished());
  assert.deepEqual(cb, s.getFinished());
  assert.deepEqual(channelBinding(client, 'tls-unique', 'client'), cb);
});

test('describeTls names the version and the IANA cipher suite', async (t) => {
  const srv = await tlsServer(serverOptions);
  t.after(() => srv.close());
  assert.match(describeTls((await srv.connect()).server), /^TLS1\.3 TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
  assert.match(describeTls((await srv.connect({ maxVersion: 'TLSv1.2' })).server), /^TLS1\.2 TLS_ECDHE_ECDSA_WITH_\w+$/);
});
