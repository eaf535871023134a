// Our DKIM signer: every canonicalization and body edge case verifies with mailauth's
// verifier, and oversigning makes an added From/Subject break the signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryResolver } from '../dns/index.ts';
import { checkInbound, dkimSign, generateDkimKey } from './index.ts';

const r = new MemoryResolver();
const rsa = await generateDkimKey('rsa', 1024);
const ed = await generateDkimKey('ed25519');
r.addTXT('rsa._domainkey.example.com', rsa.dnsRecord).addTXT('ed._domainkey.example.com', ed.dnsRecord);

async function verify(message: string): Promise<string[]> {
  const res = await checkInbound({ remoteIP: '192.0.2.1', ehlo: 'x', mailFrom: 'a@example.com', messagePath: '', message: Buffer.from(message), hostname: 'mx', resolver: r });
  return res.dkim.map((d) => d.result);
}

const bodies = ['', '\r\n', 'line\r\n', 'no final crlf', 'trailing\r\n\r\n\r\n', ' spaces  \t and\ttabs \r\n\r\nmore  \r\n', '\r\n\r\nleading blank lines\r\n'];

test('every canonicalization and body edge case verifies, for RSA and Ed25519', async () => {
  for (const c of ['relaxed/relaxed', 'relaxed/simple', 'simple/relaxed', 'simple/simple']) {
    for (const body of bodies) {
      const msg = `From: Joe <a@example.com>\r\nSubject:  folded\r\n  subject\t line\r\nTo: <b@example.net>\r\n\r\n${body}`;
      const sigs = await dkimSign(Buffer.from(msg), [
        { domain: 'example.com', selector: 'rsa', privateKeyPEM: rsa.privateKeyPEM, canonicalization: c, dontSealHeaders: false },
        { domain: 'example.com', selector: 'ed', privateKeyPEM: ed.privateKeyPEM, canonicalization: c, dontSealHeaders: true, expirationSeconds: 600 },
      ]);
      assert.deepEqual(await verify(sigs + msg), ['pass', 'pass'], `${c} ${JSON.stringify(body)}`);
    }
  }
});

test('oversigning: the h= list names each signed field once more, so an added Subject breaks the signature', async () => {
  const msg = 'From: <a@example.com>\r\nSubject: original\r\n\r\nbody\r\n';
  const sealed = await dkimSign(Buffer.from(msg), [{ domain: 'example.com', selector: 'ed', privateKeyPEM: ed.privateKeyPEM, canonicalization: 'relaxed/relaxed', dontSealHeaders: false, headers: ['From', 'Subject', 'Reply-To'] }]);
  assert.match(sealed.replace(/\r\n\t/g, ''), /h=From:From:Subject:Subject:Reply-To;/);
  assert.deepEqual(await verify(sealed + msg), ['pass']);
  assert.deepEqual(await verify(sealed + 'Subject: injected\r\n' + msg), ['fail']);
  const open = await dkimSign(Buffer.from(msg), [{ domain: 'example.com', selector: 'ed', privateKeyPEM: ed.privateKeyPEM, canonicalization: 'relaxed/relaxed', dontSealHeaders: true, headers: ['From', 'Subject', 'Reply-To'] }]);
  assert.match(open.replace(/\r\n\t/g, ''), /h=From:Subject;/);
  assert.deepEqual(await verify(open + 'Reply-To: <x@evil.example>\r\n' + msg), ['pass']); // not sealed: an added field does not break it
});

test('a message without From cannot be signed', async () => {
  await assert.rejects(dkimSign(Buffer.from('Subject: x\r\n\r\nbody\r\n'), [{ domain: 'example.com', selector: 'ed', privateKeyPEM: ed.privateKeyPEM, canonicalization: 'relaxed/relaxed', dontSealHeaders: false }]), { name: 'DkimSignError' });
});
