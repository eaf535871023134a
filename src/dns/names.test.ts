// Name normalisation, reverse names, and the hermetic resolver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeName, reverseName, NoResolver, isDnsError } from './index.ts';

test('names are lowercased, lose the trailing dot, and U-labels become A-labels', () => {
  assert.equal(normalizeName('Mail.Example.COM.'), 'mail.example.com');
  assert.equal(normalizeName('bücher.example'), 'xn--bcher-kva.example');
});

test('names breaking RFC 1035 §2.3.4 limits are badname errors', () => {
  assert.throws(() => normalizeName('a..example'), (e) => isDnsError(e, 'badname'));
  assert.throws(() => normalizeName(`${'a'.repeat(64)}.example`), (e) => isDnsError(e, 'badname'));
});

test('reverse names for IPv4 and IPv6 (RFC 1035 §3.5, RFC 3596 §2.5)', () => {
  assert.equal(reverseName('192.0.2.1'), '1.2.0.192.in-addr.arpa');
  assert.equal(reverseName('2001:db8::1'), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
});

test('NoResolver fails every lookup with notconfigured and counts attempts', async () => {
  const r = new NoResolver();
  await assert.rejects(r.lookupMX('example.com'), (e) => isDnsError(e, 'notconfigured') && e.temporary);
  await assert.rejects(r.lookupIP('example.com'), (e) => isDnsError(e, 'notconfigured'));
  assert.ok(r.queryCount >= 2);
});
