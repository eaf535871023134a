import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { cramMD5Digest, deriveCredentials, isStoredCredentials, normalizePassword, PasswordError, scramKeys, scramSaltedPassword, verifyPassword, type ScramHash } from './index.ts';

// Recomputes ClientProof and ServerSignature of an RFC example exchange from the
// derived keys (RFC 5802 §3): proves the stored form is enough for the server.
async function scramProofs(hash: ScramHash, password: string, salt: string, authMessage: string): Promise<{ proof: string; signature: string }> {
  const salted = await scramSaltedPassword(hash, normalizePassword(password), Buffer.from(salt, 'base64'), 4096);
  const { clientKey, storedKey, serverKey } = scramKeys(hash, salted);
  const clientSignature = createHmac(hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ clientSignature[i]!));
  assert.deepEqual(createHash(hash).update(proof.map((b, i) => b ^ clientSignature[i]!)).digest(), storedKey, 'server recovers StoredKey from the proof');
  return { proof: proof.toString('base64'), signature: createHmac(hash, serverKey).update(authMessage).digest('base64') };
}

test('SCRAM-SHA-1 keys reproduce the RFC 5802 §5 example exchange', async () => {
  const am = 'n=user,r=fyko+d2lbbFgONRv9qkxdawL,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j';
  const r = await scramProofs('sha1', 'pencil', 'QSXCR+Q6sek8bf92', am);
  assert.equal(r.proof, 'v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
  assert.equal(r.signature, 'rmF9pqV8S7suAoZWja4dJRkFsKQ=');
});

test('SCRAM-SHA-256 keys reproduce the RFC 7677 §3 example exchange', async () => {
  const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const am = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
  const r = await scramProofs('sha256', 'pencil', 'W22ZaJ0SNY7soEsUEjb6gQ==', am);
  assert.equal(r.proof, 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.equal(r.signature, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

test('CRAM-MD5 from stored HMAC states matches the RFC 2195 §2 example', async () => {
  const creds = await deriveCredentials('tanstaaftanstaaf');
  const digest = cramMD5Digest(creds, Buffer.from('<1896.697170952@postoffice.reston.mci.net>'));
  assert.equal(digest.toString('hex'), 'b913a602c7eda7a495b4e6e7334d3890');
});

test('CRAM-MD5 states agree with HMAC-MD5 for long keys and long challenges', async () => {
  const password = 'x'.repeat(100); // over the 64-byte block: hashed first (RFC 2104 §2)
  const creds = await deriveCredentials(password);
  const challenge = Buffer.alloc(300, 0xab);
  assert.deepEqual(cramMD5Digest(creds, challenge), createHmac('md5', password).update(challenge).digest());
});

test('stored credentials hold no plaintext and verify only the right password', async () => {
  const creds = await deriveCredentials('correct horse battery staple');
  assert.ok(isStoredCredentials(JSON.parse(JSON.stringify(creds))));
  assert.ok(!JSON.stringify(creds).includes('horse'));
  assert.equal(await verifyPassword(creds, 'correct horse battery staple'), true);
  assert.equal(await verifyPassword(creds, 'correct horse battery stapl'), false);
});

test('passwords are normalised (SASLprep): non-ASCII spaces map to space, prohibited characters are refused', async () => {
  const creds = await deriveCredentials('pass\u00A0word');
  assert.equal(await verifyPassword(creds, 'pass word'), true);
  assert.throws(() => normalizePassword('bad\u0007'), PasswordError);
  assert.throws(() => normalizePassword(''), PasswordError);
});
