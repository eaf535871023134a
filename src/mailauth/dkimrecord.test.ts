// dkimRecordForKey: the TXT record of an existing key file is the one generateDkimKey
// printed when it made the key (RSA and ed25519), and other key types are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { dkimRecordForKey, generateDkimKey } from './index.ts';

test('the record derived from a private key equals the one printed when the key was made', async () => {
  for (const kind of ['rsa', 'ed25519'] as const) {
    const k = await generateDkimKey(kind, 1024);
    assert.equal(dkimRecordForKey(k.privateKeyPEM), k.dnsRecord, kind);
  }
});

test('an EC key is not a DKIM key', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => dkimRecordForKey(privateKey), /RSA or ed25519, not ec/);
});
