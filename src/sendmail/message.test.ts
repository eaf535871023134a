// Reading and preparing the message without a server: the "." rule across chunks, line
// ends, header sections that end early or are missing, Bcc removal, -t addresses; and the
// client certificate file forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { makeSelfSigned } from '../tls/index.ts';
import { readMessage, toCrlf } from './input.ts';
import { addressesOf, prepareMessage } from './message.ts';
import { loadClientCertificate } from './clientcert.ts';

const chunks = (...parts: string[]) => parts.map((p) => Buffer.from(p));
const read = async (dotEnds: boolean, ...parts: string[]) => (await readMessage(chunks(...parts), { dotEnds })).toString();

test('a line "." ends the input, also split over chunks and with CRLF; not with dotEnds off', async () => {
  assert.equal(await read(true, 'a\n.\nb\n'), 'a\n');
  assert.equal(await read(true, 'a\n', '.', '\nb\n'), 'a\n');
  assert.equal(await read(true, 'a\r\n.', '\r', '\nb'), 'a\r\n');
  assert.equal(await read(true, '.\nall gone'), '');
  assert.equal(await read(true, 'a\n.'), 'a\n', 'an unterminated "." at the end');
  assert.equal(await read(true, 'a\n..\n.b\nb.\n'), 'a\n..\n.b\nb.\n', 'other lines with dots stay');
  assert.equal(await read(false, 'a\n.\nb\n'), 'a\n.\nb\n');
});

test('line ends become CRLF; existing CRLFs and all other bytes stay', () => {
  assert.equal(toCrlf(Buffer.from('a\nb\r\nc')).toString(), 'a\r\nb\r\nc\r\n');
  assert.equal(toCrlf(Buffer.from('a\r\n')).toString(), 'a\r\n');
  assert.equal(toCrlf(Buffer.from('a\r')).toString(), 'a\r\n');
  assert.equal(toCrlf(Buffer.alloc(0)).length, 0);
  assert.deepEqual([...toCrlf(Buffer.from([0xff, 0x0a, 0x00]))], [0xff, 0x0d, 0x0a, 0x00, 0x0d, 0x0a]);
});

const now = new Date('2026-03-01T10:00:00Z');
const prepare = (s: string, extract = true) => prepareMessage(Buffer.from(s), { from: 'me@example.com', extractRecipients: extract, now });

test('Bcc fields (folded too) are removed and their addresses taken with -t; groups give their members', () => {
  const p = prepare('To: a@x.example, "B b" <b@y.example>\r\nBcc: c@z.example,\r\n d@z.example\r\nCc: list: e@x.example;, undisclosed:;\r\nSubject: s\r\nDate: x\r\nMessage-ID: <1@x>\r\nFrom: me@example.com\r\n\r\nBcc: in the body\r\n');
  assert.deepEqual(p.headerRecipients, ['a@x.example', 'b@y.example', 'c@z.example', 'd@z.example', 'e@x.example']);
  assert.equal(p.message.toString(), 'To: a@x.example, "B b" <b@y.example>\r\nCc: list: e@x.example;, undisclosed:;\r\nSubject: s\r\nDate: x\r\nMessage-ID: <1@x>\r\nFrom: me@example.com\r\n\r\nBcc: in the body\r\n');
  assert.deepEqual(prepare('Bcc: c@z.example\r\n\r\nx\r\n', false).headerRecipients, [], 'without -t no header addresses, Bcc still removed');
});

test('a message without a header section gets From, Date and Message-ID and an empty line before its text', () => {
  const p = prepare('just text, no headers\r\nSubject: not a header here\r\n');
  assert.match(p.message.toString(), /^From: me@example\.com\r\nDate: Sun, 1 Mar 2026 10:00:00 \+0000\r\nMessage-ID: <[\w-]{22}@example\.com>\r\n\r\njust text, no headers\r\nSubject: not a header here\r\n$/);
  const h = prepare('Subject: only a header\r\n').message.toString();
  assert.match(h, /^Subject: only a header\r\nFrom: [^\r]+\r\nDate: [^\r]+\r\nMessage-ID: [^\r]+\r\n\r\n$/);
  const named = prepareMessage(Buffer.from('Subject: s\r\n\r\n'), { from: 'me@example.com', fromName: 'Jörg Ä. "J"', extractRecipients: false, now });
  assert.match(named.message.toString(), /\r\nFrom: =\?utf-8\?b\?[A-Za-z0-9+/=]+\?= =\?utf-8\?b\?[A-Za-z0-9+/=]+\?= <me@example\.com>\r\n/);
});

test('addresses: display names, comments and quoted local parts, bare local parts', () => {
  assert.deepEqual(addressesOf('"x y"@example.com, Name <a.b@example.com> (c), root'), ['"x y"@example.com', 'a.b@example.com', 'root']);
  assert.deepEqual(addressesOf('jörg@exämple.com'), ['jörg@exämple.com']);
});

test('client certificate files: key with certificate, ed25519 key alone; other forms refused', async () => {
  const kc = await makeSelfSigned({ names: ['me@example.com'], keyType: 'ecdsa-p256' });
  assert.equal((await loadClientCertificate(Buffer.from(kc.certPEM + kc.keyPEM), 'me')).generated, false, 'order does not matter');
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const made = await loadClientCertificate(Buffer.from(ed), 'me@example.com');
  assert.equal(made.generated, true);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await assert.rejects(loadClientCertificate(Buffer.from(rsa), 'me'), /must be ed25519/);
  await assert.rejects(loadClientCertificate(Buffer.from(ed + kc.certPEM), 'me'), /not for the private key/);
  await assert.rejects(loadClientCertificate(Buffer.from(kc.certPEM), 'me'), /found 0/);
});
