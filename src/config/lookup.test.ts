// Delivery lookups: exact address, sub-address, catch-all, alias; case and IDNA folding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDomains, lookupAddress } from './index.ts';
import { domainsText } from './testfixture.ts';

test('lookupAddress finds accounts and aliases by canonical address, sub-address and catch-all', () => {
  const text = domainsText.replace('        mailbox: Info\n', '        mailbox: Info\n      "@xn--bcher-kva.example": {mailbox: Other}\n') + 'aliases:\n  team@example.com:\n    members: [mjl@example.com]\n';
  const r = parseDomains('domains.conf', text);
  assert.ok(r.ok, r.ok ? '' : r.problems.map((p) => p.message).join());
  const c = r.value;
  assert.deepEqual(lookupAddress(c, 'MJL@EXAMPLE.COM'), { kind: 'account', account: 'mjl', address: 'mjl@example.com', destination: c.accounts['mjl']?.destinations['mjl@example.com'] });
  assert.equal(lookupAddress(c, 'team@example.com')?.kind, 'alias');
  // example.com sets no separator: '+' by default.
  assert.equal(lookupAddress(c, 'mjl+x@example.com')?.address, 'mjl@example.com');
  assert.equal(lookupAddress(c, 'mjl-x@example.com'), undefined);
  assert.equal(lookupAddress(c, 'nobody@example.com'), undefined);
  assert.equal(lookupAddress(c, 'mjl@example.org'), undefined);
  // bücher.example: '+' separator and a catch-all; the A-label form finds the same.
  const info = lookupAddress(c, 'Info+lists@xn--bcher-kva.example');
  assert.ok(info?.kind === 'account' && info.address === 'info@bücher.example' && info.destination.mailbox === 'Info');
  const other = lookupAddress(c, 'anyone@BÜCHER.example');
  assert.ok(other?.kind === 'account' && other.address === '@bücher.example' && other.destination.mailbox === 'Other');
  assert.equal(lookupAddress(c, 'not an address'), undefined);
});

test('several sub-addressing separators, or none', () => {
  const text = domainsText.replace('  example.com: {}  # the main domain', '  example.com:\n    localpartCatchallSeparator: [+, "-"]').replace('  Bücher.Example:\n    localpartCatchallSeparator: +', '  Bücher.Example:\n    localpartCatchallSeparator: []');
  const r = parseDomains('domains.conf', text);
  assert.ok(r.ok, r.ok ? '' : r.problems.map((p) => p.message).join());
  assert.equal(lookupAddress(r.value, 'mjl-news@example.com')?.address, 'mjl@example.com');
  assert.equal(lookupAddress(r.value, 'mjl+news@example.com')?.address, 'mjl@example.com');
  assert.equal(lookupAddress(r.value, 'info+x@bücher.example'), undefined);
});
