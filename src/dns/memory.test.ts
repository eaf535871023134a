// The in-memory resolver: records with authentic marks, NXDOMAIN vs NODATA, injected
// failures, CNAME following and the query log tests use to assert (no) DNS use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryResolver, isDnsError } from './index.ts';

test('records come back by name and type, names normalised', async () => {
  const r = new MemoryResolver()
    .add('Example.Test.', 'MX', [{ preference: 10, exchange: 'mail.example.test' }], { authentic: true, ttl: 60 })
    .add('mail.example.test', 'A', ['192.0.2.1'])
    .add('mail.example.test', 'AAAA', ['2001:db8::1'])
    .addTXT('example.test', `v=spf1 ${'a'.repeat(300)} -all`);
  const mx = await r.lookupMX('EXAMPLE.test');
  assert.deepEqual(mx.records, [{ preference: 10, exchange: 'mail.example.test' }]);
  assert.equal(mx.authentic, true);
  assert.equal(mx.ttl, 60);
  assert.equal((await r.lookupA('mail.example.test')).authentic, false); // default: not authentic
  assert.deepEqual((await r.lookupIP('mail.example.test')).records, ['2001:db8::1', '192.0.2.1']);
  const txt = (await r.lookupTXT('example.test')).records[0];
  assert.equal(txt?.strings.length, 2); // split at 255 bytes like the wire format
  assert.ok(txt?.text.startsWith('v=spf1 aaa'));
});

test('a missing name is NXDOMAIN; a present name without the type is NODATA', async () => {
  const r = new MemoryResolver().add('a.b.example.test', 'A', ['192.0.2.1']);
  await assert.rejects(r.lookupA('nope.example.test'), (e) => isDnsError(e, 'nxdomain'));
  assert.deepEqual((await r.lookupMX('a.b.example.test')).records, []);
  assert.deepEqual((await r.lookupA('b.example.test')).records, []); // empty non-terminal (RFC 8020)
});

test('injected failures per name and type', async () => {
  const r = new MemoryResolver().add('example.test', 'A', ['192.0.2.1']).fail('example.test', 'TXT', 'servfail').fail('down.test', '*', 'timeout');
  await assert.rejects(r.lookupTXT('example.test'), (e) => isDnsError(e, 'servfail') && e.temporary);
  assert.deepEqual((await r.lookupA('example.test')).records, ['192.0.2.1']);
  await assert.rejects(r.lookupMX('down.test'), (e) => isDnsError(e, 'timeout'));
});

test('CNAMEs are followed and authentic only if every step is', async () => {
  const r = new MemoryResolver()
    .add('www.example.test', 'CNAME', ['host.example.test'], { authentic: false })
    .add('host.example.test', 'A', ['192.0.2.1'], { authentic: true });
  const a = await r.lookupA('www.example.test');
  assert.deepEqual(a.records, ['192.0.2.1']);
  assert.deepEqual(a.cnames, ['host.example.test']);
  assert.equal(a.finalName, 'host.example.test');
  assert.equal(a.authentic, false);
  assert.equal((await r.lookupA('host.example.test')).authentic, true);
  assert.deepEqual((await r.lookupCNAME('www.example.test')).records, ['host.example.test']);
});

test('the query log records every lookup', async () => {
  const r = new MemoryResolver().add('example.test', 'A', ['192.0.2.1']);
  assert.equal(r.queryCount, 0);
  await r.lookupA('Example.Test');
  await r.lookupPTR('192.0.2.1').catch(() => undefined);
  assert.deepEqual(r.queries, ['example.test/A', '1.2.0.192.in-addr.arpa/PTR']);
});
