// The SCRAM client: the RFC 7677 §3 example from the client's side, the server-first
// messages it refuses to answer, the server's error, and the gs2 flags it sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSaslError } from './context.ts';
import { maxScramIterations, scramClient } from './scramclient.ts';

const b = (s: string) => Buffer.from(s);

async function kind(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    if (isSaslError(e)) return e.kind;
    throw e;
  }
}

test('RFC 7677 §3 SCRAM-SHA-256 example: client-first, client-final with proof, server signature verified', async () => {
  const c = scramClient({ hash: 'sha256', username: 'user', password: 'pencil', nonce: 'rOprNGfwEbeRWgbNEkqO' });
  assert.equal(c.first(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const final = await c.final(b('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
  assert.equal(final, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.equal(c.verify(b('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')), true);
  assert.equal(c.verify(b('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')), false, 'another signature: the server does not know the password');
  assert.equal(await kind(() => c.verify(b('e=invalid-proof'))), 'authfailed', 'RFC 5802 §7 server-error');
});

test('a server-first that does not extend our nonce, lacks a salt, has a bad count or a mandatory extension is refused', async () => {
  const first = (s: string) => kind(scramClient({ hash: 'sha256', username: 'user', password: 'pencil', nonce: 'abc' }).final(b(s)));
  assert.equal(await first('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096'), 'ok');
  assert.equal(await first('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=future'), 'ok', 'extensions after i= are allowed');
  for (const bad of ['r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096', 'r=abc,s=QSXCR+Q6sek8bf92,i=4096', 'r=abcdef,s=,i=4096', 'r=abcdef,s=not base64!,i=4096', 'r=abcdef,s=QSXCR+Q6sek8bf92,i=0', 'r=abcdef,s=QSXCR+Q6sek8bf92,i=-1', `r=abcdef,s=QSXCR+Q6sek8bf92,i=${maxScramIterations + 1}`, 's=QSXCR+Q6sek8bf92,r=abcdef,i=4096', '']) {
    assert.equal(await first(bad), 'malformed', bad);
  }
  assert.equal(await first('m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096'), 'unsupported');
});

test('gs2 header: p= with channel binding, y when we could bind but no -PLUS was offered, n otherwise; authzid escaped', () => {
  const o = { hash: 'sha256' as const, username: 'u=1,2', password: 'p', nonce: 'n' };
  assert.equal(scramClient({ ...o, channelBinding: { type: 'tls-exporter', data: Buffer.alloc(32) } }).first(), 'p=tls-exporter,,n=u=3D1=2C2,r=n');
  assert.equal(scramClient({ ...o, couldBind: true }).first(), 'y,,n=u=3D1=2C2,r=n');
  assert.equal(scramClient({ ...o, authzid: 'a,b' }).first(), 'n,a=a=2Cb,n=u=3D1=2C2,r=n');
});
