// The stub resolver against real DNS software on loopback ports: nsd serves zones signed
// at test time with ldns-signzone, unbound validates them (trust anchors for the test
// zones only) and sets the AD bit. Skips when the peers are missing, unless CI=true.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDnsError, type StubResolver } from '../src/dns/index.ts';
import { missingDnsPeers as missing, startDnsServers, type DnsServers } from './dnsservers.ts';

const skip = missing.length > 0 && process.env['CI'] !== 'true'
  ? `DNS test peers missing (${missing.join(', ')}): run scripts/install-test-peers.sh`
  : false;
if (missing.length > 0 && process.env['CI'] === 'true') {
  test('DNS test peers are installed (CI=true)', () => assert.fail(`missing: ${missing.join(', ')}`));
}

const records = ['@ IN MX 10 mail', 'mail IN A 192.0.2.10', '@ IN TXT "v=spf1 " "-all"'];
let servers: DnsServers | undefined;
let resolver: StubResolver;

before(async () => {
  if (skip || missing.length > 0) return;
  servers = await startDnsServers([
    { name: 'signed.mcove', records, sign: true },
    { name: 'bogus.mcove', records, sign: { inception: '20000101000000', expiration: '20000201000000' } }, // expired signatures: validation fails (RFC 4035 §5.3.1)
    { name: 'unsigned.mcove', records },
  ]);
  resolver = servers.resolver;
});

after(() => servers?.stop());

test('a signed zone validates: authentic answers', { skip }, async () => {
  const mx = await resolver.lookupMX('signed.mcove');
  assert.deepEqual(mx.records, [{ preference: 10, exchange: 'mail.signed.mcove' }]);
  assert.equal(mx.authentic, true);
  const txt = await resolver.lookupTXT('signed.mcove');
  assert.equal(txt.records[0]?.text, 'v=spf1 -all');
  assert.equal(txt.authentic, true);
});

test('an unsigned zone answers, but not authentic', { skip }, async () => {
  const a = await resolver.lookupA('mail.unsigned.mcove');
  assert.deepEqual(a.records, ['192.0.2.10']);
  assert.equal(a.authentic, false);
});

test('a zone with broken (expired) signatures is SERVFAIL', { skip }, async () => {
  await assert.rejects(resolver.lookupA('mail.bogus.mcove'), (e) => isDnsError(e, 'servfail'));
});

test('a missing name in the signed zone is NXDOMAIN', { skip }, async () => {
  await assert.rejects(resolver.lookupA('nope.signed.mcove'), (e) => isDnsError(e, 'nxdomain'));
});
