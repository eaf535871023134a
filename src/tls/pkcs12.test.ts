// PKCS #12 files open in OpenSSL with their password, hold the key and certificate given,
// and refuse a wrong password (the MAC check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { makePkcs12 } from './pkcs12.ts';
import { makeSelfSigned } from './selfsigned.ts';
import { publicKeyFingerprint } from './identity.ts';

function openssl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw r.error; // openssl is a test peer: missing is a failure
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const keyType of ['ecdsa-p256', 'rsa2048', 'ed25519'] as const) {
  test(`openssl reads the ${keyType} key and certificate from a PKCS #12 file with its password`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mailcove-p12-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const kc = await makeSelfSigned({ names: ['mjl@example.com'], keyType });
    const file = join(dir, 'mjl.p12');
    await writeFile(file, makePkcs12({ ...kc, password: 'pässword', friendlyName: 'mjl@example.com' }));
    const r = openssl(['pkcs12', '-in', file, '-nodes', '-passin', 'pass:pässword']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /friendlyName: mjl@example\.com/);
    const cert = new X509Certificate(r.stdout);
    assert.equal(cert.fingerprint256, new X509Certificate(kc.certPEM).fingerprint256);
    const key = createPrivateKey(r.stdout.slice(r.stdout.indexOf('-----BEGIN PRIVATE KEY-----')));
    assert.equal(publicKeyFingerprint(key), publicKeyFingerprint(cert));
    assert.notEqual(openssl(['pkcs12', '-in', file, '-nodes', '-passin', 'pass:wrong']).status, 0);
  });
}
