// The server mechanisms: the RFC 5802 / RFC 7677 SCRAM examples as full exchanges, -PLUS
// with channel binding, PLAIN/LOGIN/CRAM-MD5/EXTERNAL, and every client mistake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { deriveCredentials, scramKeys, scramSaltedPassword, type StoredCredentials, type ScramHash } from './credentials.ts';
import { startSasl, offeredMechanisms } from './mechanisms.ts';
import { isSaslError, type SaslContext, type SaslStep } from './context.ts';
import { scramClient } from './scramclient.ts';
import { authFailureLimiter } from './limiter.ts';

const base = await deriveCredentials('pencil');

async function withScram(hash: ScramHash, salt: string, iterations: number): Promise<StoredCredentials> {
  const salted = await scramSaltedPassword(hash, 'pencil', Buffer.from(salt, 'base64'), iterations);
  const k = scramKeys(hash, salted);
  return { ...base, scram: { ...base.scram, [hash]: { salt, iterations, storedKey: k.storedKey.toString('base64'), serverKey: k.serverKey.toString('base64') } } };
}

function ctx(creds: StoredCredentials, extra: Partial<SaslContext> = {}): SaslContext {
  return { lookup: async (u) => (u === 'user' ? { account: 'acct', credentials: creds } : undefined), hostname: 'mail.example', ...extra };
}

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isSaslError(e)) return e.kind;
    throw e;
  }
}

const b = (s: string) => Buffer.from(s);

test('RFC 5802 §5 SCRAM-SHA-1 example exchange', async () => {
  const creds = await withScram('sha1', 'QSXCR+Q6sek8bf92', 4096);
  const x = startSasl('SCRAM-SHA-1', ctx(creds, { nonce: () => '3rfcNHYJY1ZVvWVs7j' }));
  const first = await x.step(b('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
  assert.deepEqual(first, { kind: 'challenge', data: b('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096') });
  const done = await x.step(b('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
  assert.deepEqual(done, { kind: 'success', account: 'acct', username: 'user', data: b('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=') });
});

test('RFC 7677 §3 SCRAM-SHA-256 example exchange', async () => {
  const creds = await withScram('sha256', 'W22ZaJ0SNY7soEsUEjb6gQ==', 4096);
  const x = startSasl('SCRAM-SHA-256', ctx(creds, { nonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' }));
  const first = await x.step(b('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.equal(first.kind === 'challenge' && first.data.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const done = await x.step(b('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
  assert.equal(done.kind === 'success' && done.data?.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

async function run(mech: string, c: SaslContext, client: ReturnType<typeof scramClient>): Promise<SaslStep> {
  const x = startSasl(mech, c);
  const first = await x.step(b(client.first()));
  assert.equal(first.kind, 'challenge');
  return x.step(b(await client.final(first.kind === 'challenge' ? first.data : Buffer.alloc(0))));
}

test('SCRAM-SHA-256-PLUS with tls-exporter binds to the connection; wrong or missing binding fails', async () => {
  const cb = Buffer.alloc(32, 7);
  const tls = { version: 'TLSv1.3', channelBinding: (t: string) => (t === 'tls-exporter' ? cb : undefined) };
  const c = ctx(base, { tls });
  const client = scramClient({ hash: 'sha256', username: 'user', password: 'pencil', channelBinding: { type: 'tls-exporter', data: cb } });
  const done = await run('SCRAM-SHA-256-PLUS', c, client);
  assert.equal(done.kind, 'success');
  assert.ok(done.kind === 'success' && client.verify(done.data!));
  assert.equal(await kind(run('SCRAM-SHA-256-PLUS', c, scramClient({ hash: 'sha256', username: 'user', password: 'pencil', channelBinding: { type: 'tls-exporter', data: Buffer.alloc(32, 8) } }))), 'authfailed');
  assert.equal(await kind(run('SCRAM-SHA-256-PLUS', c, scramClient({ hash: 'sha256', username: 'user', password: 'pencil', channelBinding: { type: 'tls-unique', data: cb } }))), 'authfailed'); // not available on TLS 1.3
  assert.equal(await kind(run('SCRAM-SHA-256-PLUS', c, scramClient({ hash: 'sha256', username: 'user', password: 'pencil' }))), 'authfailed'); // "n" with -PLUS
  assert.equal(await kind(startSasl('SCRAM-SHA-256-PLUS', c).step(b('p=tls-server-end-point,,n=user,r=x'))), 'authfailed'); // unsupported type
  assert.equal(await kind(startSasl('SCRAM-SHA-256', c).step(b('y,,n=user,r=x'))), 'authfailed'); // downgrade (RFC 5802 §6)
  assert.equal(await kind(startSasl('SCRAM-SHA-256', c).step(b('p=tls-exporter,,n=user,r=x'))), 'malformed');
});

test('SCRAM-SHA-1-PLUS with tls-unique on TLS 1.2', async () => {
  const cb = Buffer.alloc(12, 3);
  const c = ctx(base, { tls: { version: 'TLSv1.2', channelBinding: (t) => (t === 'tls-unique' ? cb : undefined) } });
  const client = scramClient({ hash: 'sha1', username: 'user', password: 'pencil', channelBinding: { type: 'tls-unique', data: cb } });
  const done = await run('SCRAM-SHA-1-PLUS', c, client);
  assert.ok(done.kind === 'success' && client.verify(done.data!));
  assert.ok(!client.verify(b('v=AAAA')));
});

test('SCRAM errors: bad proof, wrong nonce, unknown user, authzid mismatch, malformed messages', async () => {
  const c = ctx(base);
  assert.equal(await kind(run('SCRAM-SHA-1', c, scramClient({ hash: 'sha1', username: 'user', password: 'wrong' }))), 'authfailed');
  assert.equal(await kind(run('SCRAM-SHA-1', c, scramClient({ hash: 'sha1', username: 'nobody', password: 'pencil' }))), 'authfailed');
  assert.equal(await kind(run('SCRAM-SHA-1', c, scramClient({ hash: 'sha1', username: 'user', password: 'pencil', authzid: 'admin' }))), 'authfailed');
  const x = startSasl('SCRAM-SHA-256', c);
  await x.step(b('n,,n=user,r=abc'));
  assert.equal(await kind(x.step(b('c=biws,r=abcWRONG,p=AAAA'))), 'authfailed');
  for (const bad of ['', 'x,,n=user,r=a', 'n,,r=a,n=user', 'n,,m=ext,n=user,r=a', 'n,,n=us=er,r=a']) assert.equal(await kind(startSasl('SCRAM-SHA-256', c).step(b(bad))), 'malformed', bad);
  const y = startSasl('SCRAM-SHA-256', c);
  await y.step(b('n,,n=user,r=abc'));
  assert.equal(await kind(y.step(b('c=biws,r=abc'))), 'malformed');
  assert.equal(await kind(startSasl('PLAIN', c).step(Buffer.alloc(9000, 0x41))), 'malformed');
});

test('SCRAM does not reveal an unknown user at the first step: same shape, stable fake salt', async () => {
  const c = ctx(base);
  const serverFirst = async (user: string) => {
    const s = await startSasl('SCRAM-SHA-256', c).step(b(`n,,n=${user},r=abc`));
    assert.equal(s.kind, 'challenge');
    return s.kind === 'challenge' ? s.data.toString() : '';
  };
  const known = /^r=abc[^,]+,s=([A-Za-z0-9+/=]+),i=(\d+)$/.exec(await serverFirst('user'));
  const unknown1 = /^r=abc[^,]+,s=([A-Za-z0-9+/=]+),i=(\d+)$/.exec(await serverFirst('nobody'));
  const unknown2 = /^r=abc[^,]+,s=([A-Za-z0-9+/=]+),i=(\d+)$/.exec(await serverFirst('nobody'));
  assert.ok(known && unknown1 && unknown2);
  assert.equal(unknown1[2], known[2]); // same iteration count
  assert.equal(Buffer.from(unknown1[1]!, 'base64').length, Buffer.from(known[1]!, 'base64').length);
  assert.equal(unknown1[1], unknown2[1]); // a random salt per attempt would give the unknown user away
  assert.notEqual(unknown1[1], /s=([^,]+)/.exec(await serverFirst('other'))![1]);
});

test('PLAIN and LOGIN fail an unknown user like a wrong password', async () => {
  const c = ctx(base);
  assert.equal(await kind(startSasl('PLAIN', c).step(b('\0nobody\0pencil'))), 'authfailed');
  const l = startSasl('LOGIN', c);
  await l.step(b('nobody'));
  assert.equal(await kind(l.step(b('pencil'))), 'authfailed');
  const failing = ctx(base, { lookup: async () => { throw new Error('database locked'); } });
  assert.equal(await kind(startSasl('PLAIN', failing).step(b('\0user\0pencil'))), 'temporary');
});

test('PLAIN, LOGIN and CRAM-MD5 check the password; unknown mechanisms are unsupported', async () => {
  const c = ctx(base);
  assert.equal((await startSasl('PLAIN', c).step(b('\0user\0pencil'))).kind, 'success');
  assert.equal((await startSasl('PLAIN', c).step(b('user\0user\0pencil'))).kind, 'success');
  assert.equal(await kind(startSasl('PLAIN', c).step(b('admin\0user\0pencil'))), 'authfailed');
  assert.equal(await kind(startSasl('PLAIN', c).step(b('\0user\0wrong'))), 'authfailed');
  assert.equal(await kind(startSasl('PLAIN', c).step(b('nonul'))), 'malformed');
  const empty = startSasl('PLAIN', c);
  assert.deepEqual(await empty.step(undefined), { kind: 'challenge', data: Buffer.alloc(0) });
  assert.equal((await empty.step(b('\0user\0pencil'))).kind, 'success');
  const l = startSasl('LOGIN', c);
  assert.equal((await l.step(undefined)).kind, 'challenge');
  assert.equal((await l.step(b('user'))).kind, 'challenge');
  assert.equal((await l.step(b('pencil'))).kind, 'success');
  const cram = startSasl('CRAM-MD5', c);
  const ch = await cram.step(undefined);
  assert.ok(ch.kind === 'challenge' && /^<\d+\.\d+@mail\.example>$/.test(ch.data.toString()));
  const digest = createHmac('md5', 'pencil').update(ch.kind === 'challenge' ? ch.data : '').digest('hex');
  assert.equal((await cram.step(b(`user ${digest}`))).kind, 'success');
  const cram2 = startSasl('CRAM-MD5', c);
  await cram2.step(undefined);
  assert.equal(await kind(cram2.step(b(`user ${'0'.repeat(32)}`))), 'authfailed');
  const l2 = startSasl('LOGIN', c);
  assert.deepEqual(await l2.step(b('user')), { kind: 'challenge', data: b('Password:') }); // initial response is the user name
  assert.equal(await kind(l2.step(b('wrong'))), 'authfailed');
  const cram3 = startSasl('CRAM-MD5', c);
  await cram3.step(undefined);
  assert.equal(await kind(cram3.step(b(`nobody ${'0'.repeat(32)}`))), 'authfailed');
  assert.throws(() => startSasl('GSSAPI', c), (e: unknown) => isSaslError(e) && e.kind === 'unsupported');
});

test('EXTERNAL logs in by the TLS client key, optionally with a matching authzid', async () => {
  const withKey = ctx(base, { tls: { version: 'TLSv1.3', channelBinding: () => undefined, clientKeyFingerprint: 'fp1' }, lookupPublicKey: async (fp) => (fp === 'fp1' ? { account: 'acct', loginAddress: 'user@example.com' } : undefined) });
  assert.deepEqual(await startSasl('EXTERNAL', withKey).step(Buffer.alloc(0)), { kind: 'success', account: 'acct', username: 'user@example.com' });
  assert.equal((await startSasl('EXTERNAL', withKey).step(b('user@example.com'))).kind, 'success');
  assert.equal(await kind(startSasl('EXTERNAL', withKey).step(b('other@example.com'))), 'authfailed');
  assert.equal(await kind(startSasl('EXTERNAL', ctx(base)).step(Buffer.alloc(0))), 'authfailed');
});

test('offered mechanisms: -PLUS and EXTERNAL only with TLS, plaintext only when allowed', () => {
  assert.deepEqual(offeredMechanisms({ tls: false, allowPlaintext: false, external: false }), ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'CRAM-MD5']);
  assert.deepEqual(offeredMechanisms({ tls: true, allowPlaintext: true, external: true }), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'CRAM-MD5', 'PLAIN', 'LOGIN', 'EXTERNAL']);
});

test('failed logins: limited per network, reset by success', async () => {
  const l = authFailureLimiter({ delayMs: 0, limits: [{ windowMs: 60_000, limits: [2, 3, 10] }] });
  await l.failed('192.0.2.1');
  await l.failed('192.0.2.1');
  assert.equal(l.allowed('192.0.2.1'), false);
  assert.equal(l.allowed('192.0.2.2'), true);
  l.succeeded('192.0.2.1');
  assert.equal(l.allowed('192.0.2.1'), true);
});
