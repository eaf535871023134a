// Inbound checks against the in-memory resolver: the RFC 8463 example signatures, RFC 7208
// Appendix B SPF examples, our DKIM policy (l=, unsigned Subject), DMARC reject, hermetic
// mode (no DNS), and signing round trips including a 20 MiB message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { MemoryResolver, NoResolver } from '../dns/index.ts';
import { checkInbound, dkimSign, generateDkimKey, type InboundCheckInput } from './index.ts';

const dir = await mkdtemp(join(tmpdir(), 'mailcove-mailauth-'));
let n = 0;
async function file(data: string | Buffer): Promise<string> {
  const p = join(dir, `m${n++}`);
  await writeFile(p, data);
  return p;
}
test.after(() => rm(dir, { recursive: true, force: true }));

function input(messagePath: string, o: Partial<InboundCheckInput>): InboundCheckInput {
  return { remoteIP: '192.0.2.10', ehlo: 'mail.example.com', mailFrom: 'joe@example.com', messagePath, hostname: 'mx.mailcove.example', resolver: new MemoryResolver(), ...o };
}

// RFC 8463 Appendix A
const rfc8463 = [
  'DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;', ' d=football.example.com; i=@football.example.com;', ' q=dns/txt; s=brisbane; t=1528637909; h=from : to :',
  ' subject : date : message-id : from : subject : date;', ' bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;', ' b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus',
  ' Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==', 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;', ' d=football.example.com; i=@football.example.com;',
  ' q=dns/txt; s=test; t=1528637909; h=from : to : subject :', ' date : message-id : from : subject : date;', ' bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;',
  ' b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3', ' DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz', ' dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=',
  'From: Joe SixPack <joe@football.example.com>', 'To: Suzie Q <suzie@shopping.example.net>', 'Subject: Is dinner ready?', 'Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)',
  'Message-ID: <20030712040037.46341.5F8J@football.example.com>', '', 'Hi.', '', 'We lost the game.  Are you hungry yet?', '', 'Joe.', '',
].join('\r\n');

test('RFC 8463 Appendix A: the ed25519 and the RSA signature both verify', async () => {
  const r = new MemoryResolver()
    .addTXT('brisbane._domainkey.football.example.com', 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=')
    .addTXT('test._domainkey.football.example.com', 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB');
  const res = await checkInbound(input(await file(rfc8463), { resolver: r, mailFrom: 'joe@football.example.com' }));
  assert.deepEqual(res.dkim.map((d) => [d.selector, d.algorithm, d.result]), [['brisbane', 'ed25519-sha256', 'pass'], ['test', 'rsa-sha256', 'pass']]);
  assert.deepEqual(res.verifiedDomains, ['football.example.com']);
  assert.match(res.headers, /^Authentication-Results: mx\.mailcove\.example;\r\n\tiprev=/);
  assert.match(res.headers.replace(/\r\n(?=[ \t])/g, ''), /dkim=pass header\.d=football\.example\.com header\.s=brisbane header\.a=ed25519-sha256/);
  const tampered = rfc8463.replace('Are you hungry yet?', 'Are you thirsty yet?');
  const bad = await checkInbound(input(await file(tampered), { resolver: r }));
  assert.deepEqual(bad.dkim.map((d) => d.result), ['fail', 'fail']);
});

/** RFC 7208 Appendix B.1 zone. */
function appendixA(spf: string): MemoryResolver {
  const r = new MemoryResolver()
    .add('example.com', 'MX', [{ preference: 10, exchange: 'mail-a.example.com' }, { preference: 20, exchange: 'mail-b.example.com' }])
    .add('example.com', 'A', ['192.0.2.10', '192.0.2.11'])
    .add('amy.example.com', 'A', ['192.0.2.65'])
    .add('bob.example.com', 'A', ['192.0.2.66'])
    .add('mail-a.example.com', 'A', ['192.0.2.129'])
    .add('mail-b.example.com', 'A', ['192.0.2.130'])
    .add('www.example.com', 'CNAME', ['example.com'])
    .add('mail-c.example.org', 'A', ['192.0.2.140'])
    .add('example.org', 'MX', [{ preference: 10, exchange: 'mail-c.example.org' }]);
  for (const [ip, name] of [['192.0.2.10', 'example.com'], ['192.0.2.11', 'example.com'], ['192.0.2.65', 'amy.example.com'], ['192.0.2.66', 'bob.example.com'], ['192.0.2.129', 'mail-a.example.com'], ['192.0.2.130', 'mail-b.example.com'], ['192.0.2.140', 'mail-c.example.org'], ['10.0.0.4', 'bob.example.com']] as const) {
    r.add(`${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR', [name]);
  }
  return r.addTXT('example.com', spf);
}

test('RFC 7208 Appendix B.1 SPF examples', async () => {
  const msg = await file('From: <joe@example.com>\r\nSubject: spf\r\n\r\nx\r\n');
  const cases: Array<[string, string, string]> = [
    ['v=spf1 +all', '192.0.2.200', 'pass'],
    ['v=spf1 a -all', '192.0.2.10', 'pass'], ['v=spf1 a -all', '192.0.2.11', 'pass'], ['v=spf1 a -all', '192.0.2.65', 'fail'],
    ['v=spf1 a:example.org -all', '192.0.2.10', 'fail'],
    ['v=spf1 mx -all', '192.0.2.129', 'pass'], ['v=spf1 mx -all', '192.0.2.130', 'pass'], ['v=spf1 mx -all', '192.0.2.10', 'fail'],
    ['v=spf1 mx:example.org -all', '192.0.2.140', 'pass'], ['v=spf1 mx:example.org -all', '192.0.2.129', 'fail'],
    ['v=spf1 mx mx:example.org -all', '192.0.2.140', 'pass'], ['v=spf1 mx mx:example.org -all', '192.0.2.130', 'pass'],
    ['v=spf1 mx/30 mx:example.org/30 -all', '192.0.2.131', 'pass'], ['v=spf1 mx/30 mx:example.org/30 -all', '192.0.2.143', 'pass'], ['v=spf1 mx/30 mx:example.org/30 -all', '192.0.2.132', 'fail'],
    ['v=spf1 ptr -all', '192.0.2.65', 'pass'], ['v=spf1 ptr -all', '192.0.2.140', 'fail'], ['v=spf1 ptr -all', '10.0.0.4', 'fail'],
    ['v=spf1 ip4:192.0.2.128/28 -all', '192.0.2.65', 'fail'], ['v=spf1 ip4:192.0.2.128/28 -all', '192.0.2.129', 'pass'],
    ['v=spf1 ~all', '192.0.2.1', 'softfail'], ['v=spf1 ?all', '192.0.2.1', 'neutral'], ['v=spf1 include:nothing.example -all', '192.0.2.1', 'permerror'],
  ];
  for (const [spf, ip, want] of cases) {
    const res = await checkInbound(input(msg, { resolver: appendixA(spf), remoteIP: ip }));
    assert.equal(res.spf.result, want, `${spf} for ${ip}`);
  }
});

test('SPF lookup limits: 10 DNS mechanisms and 2 void lookups are evaluated, one more is permerror (RFC 7208 §4.6.4)', async () => {
  const msg = await file('From: <joe@example.com>\r\n\r\nx\r\n');
  const mechanisms = (count: number) => {
    const r = new MemoryResolver().addTXT('example.com', `v=spf1 ${Array.from({ length: count }, (_, i) => `a:h${i}.example.com`).join(' ')} -all`);
    for (let i = 0; i < count; i++) r.add(`h${i}.example.com`, 'A', ['198.51.100.1']);
    return r;
  };
  assert.equal((await checkInbound(input(msg, { resolver: mechanisms(10) }))).spf.result, 'fail');
  assert.equal((await checkInbound(input(msg, { resolver: mechanisms(11) }))).spf.result, 'permerror');
  const voids = (count: number) => new MemoryResolver().addTXT('example.com', `v=spf1 ${Array.from({ length: count }, (_, i) => `a:v${i}.example.com`).join(' ')} -all`);
  assert.equal((await checkInbound(input(msg, { resolver: voids(2) }))).spf.result, 'fail');
  assert.equal((await checkInbound(input(msg, { resolver: voids(3) }))).spf.result, 'permerror');
});

test('RFC 7208 Appendix B.2 multiple domains: include of two domains, redirect to a shared record', async () => {
  const msg = await file('From: <user@example.org>\r\n\r\nx\r\n');
  const r = appendixA('v=spf1 a -all')
    .addTXT('example.net', 'v=spf1 ip4:198.51.100.0/24 -all')
    .addTXT('example.org', 'v=spf1 include:example.com include:example.net -all')
    .addTXT('la.example.org', 'v=spf1 redirect=example.org');
  const cases: Array<[string, string, string]> = [
    ['user@example.org', '192.0.2.10', 'pass'], ['user@example.org', '198.51.100.7', 'pass'], ['user@example.org', '203.0.113.1', 'fail'],
    ['user@la.example.org', '198.51.100.7', 'pass'], ['user@la.example.org', '203.0.113.1', 'fail'],
  ];
  for (const [mailFrom, ip, want] of cases) assert.equal((await checkInbound(input(msg, { resolver: r, mailFrom, remoteIP: ip }))).spf.result, want, `${mailFrom} from ${ip}`);
});

test('RFC 7208 Appendix B.3 DNSBL style: exists with %{l1r+}, %{ir} and %{d} macros', async () => {
  const msg = await file('From: <x@example.com>\r\n\r\nx\r\n');
  const r = appendixA('v=spf1 mx include:mobile-users._spf.%{d} include:remote-users._spf.%{d} -all')
    .addTXT('mobile-users._spf.example.com', 'v=spf1 exists:%{l1r+}.%{d}')
    .addTXT('remote-users._spf.example.com', 'v=spf1 exists:%{ir}.%{l1r+}.%{d}')
    .add('mary.mobile-users._spf.example.com', 'A', ['127.0.0.2'])
    .add('fred.mobile-users._spf.example.com', 'A', ['127.0.0.2'])
    .add('15.15.168.192.joel.remote-users._spf.example.com', 'A', ['127.0.0.2'])
    .add('16.15.168.192.joel.remote-users._spf.example.com', 'A', ['127.0.0.2']);
  const cases: Array<[string, string, string]> = [
    ['mary@example.com', '203.0.113.9', 'pass'], ['fred+bulk@example.com', '203.0.113.9', 'pass'], // %{l1r+}: "fred" of "fred+bulk" (RFC 7208 §7.3)
    ['joel@example.com', '192.168.15.15', 'pass'], ['joel@example.com', '192.168.15.16', 'pass'], ['joel@example.com', '192.168.15.17', 'fail'],
    ['alice@example.com', '192.0.2.129', 'pass'], ['alice@example.com', '203.0.113.9', 'fail'],
  ];
  for (const [mailFrom, ip, want] of cases) assert.equal((await checkInbound(input(msg, { resolver: r, mailFrom, remoteIP: ip }))).spf.result, want, `${mailFrom} from ${ip}`);
});

test('RFC 7208 Appendix B.4 multiple requirements: -include of an address range and of a ptr check', async () => {
  const msg = await file('From: <joe@example.com>\r\n\r\nx\r\n');
  const zone = (ptrRecord: string) => appendixA('v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all')
    .addTXT('ip4._spf.example.com', 'v=spf1 -ip4:192.0.2.0/24 +all')
    .addTXT('ptr._spf.example.com', ptrRecord);
  // As printed, "-ptr" compares with the current domain ptr._spf.example.com (RFC 7208 §5.5), so every host fails.
  for (const ip of ['192.0.2.65', '192.0.2.200', '203.0.113.1']) assert.equal((await checkInbound(input(msg, { resolver: zone('v=spf1 -ptr +all'), remoteIP: ip }))).spf.result, 'fail', ip);
  // With the domain named, the intended policy: in 192.0.2.0/24 and a validated name in example.com.
  const intended = zone('v=spf1 -ptr:example.com +all');
  const cases: Array<[string, string]> = [['192.0.2.65', 'pass'], ['192.0.2.200', 'fail'], ['10.0.0.4', 'fail']];
  for (const [ip, want] of cases) assert.equal((await checkInbound(input(msg, { resolver: intended, remoteIP: ip }))).spf.result, want, ip);
});

test('added header fields are folded at whitespace to 78 characters and unfold to the same text', async () => {
  const long = 'some-long-subdomain.example-organisation.com';
  const r = new MemoryResolver().addTXT(long, 'v=spf1 ip4:192.0.2.10 -all').addTXT(`_dmarc.${long}`, 'v=DMARC1; p=reject');
  const key = await keyed('ed25519', 'selector-2026-long', long, r);
  const body = `From: <joe@${long}>\r\nSubject: fold\r\n\r\nb\r\n`;
  const sig = await dkimSign(await file(body), [{ domain: long, selector: 'selector-2026-long', privateKeyPEM: key, canonicalization: 'relaxed/relaxed', dontSealHeaders: true }]);
  const res = await checkInbound(input(await file(sig + body), { resolver: r, mailFrom: `joe@${long}`, ehlo: `mail.${long}` }));
  assert.equal(res.dkim[0]?.result, 'pass');
  const lines = res.headers.replace(/\r\n$/, '').split('\r\n');
  assert.ok(lines.every((l) => l.length <= 78), lines.filter((l) => l.length > 78).join('\n'));
  assert.deepEqual(res.headers.match(/^[A-Za-z-]+:/gm), ['Authentication-Results:', 'Received-SPF:']);
  assert.match(res.headers.replace(/\r\n(?=[ \t])/g, ''), new RegExp(`dkim=pass header\\.d=${long.replace(/\./g, '\\.')} header\\.s=selector-2026-long header\\.a=ed25519-sha256;`));
});

async function keyed(kind: 'rsa' | 'ed25519', selector: string, domain: string, r: MemoryResolver): Promise<string> {
  const k = await generateDkimKey(kind, 1024);
  r.addTXT(`${selector}._domainkey.${domain}`, k.dnsRecord);
  return k.privateKeyPEM;
}

test('dkimSign with RSA and ed25519 verifies; DMARC passes aligned and rejects a spoof with p=reject', async () => {
  const r = new MemoryResolver().addTXT('_dmarc.example.com', 'v=DMARC1; p=reject').addTXT('example.com', 'v=spf1 -all');
  const rsa = await keyed('rsa', 'r1', 'example.com', r);
  const ed = await keyed('ed25519', 'e1', 'example.com', r);
  const msg = await file('From: Joe <joe@example.com>\r\nTo: <x@example.net>\r\nSubject: signed\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n');
  const sigs = await dkimSign(msg, [
    { domain: 'example.com', selector: 'r1', privateKeyPEM: rsa, canonicalization: 'relaxed/relaxed', dontSealHeaders: false },
    { domain: 'example.com', selector: 'e1', privateKeyPEM: ed, canonicalization: 'simple/simple', dontSealHeaders: true, expirationSeconds: 3600 },
  ]);
  assert.equal(sigs.match(/^DKIM-Signature:/gm)?.length, 2);
  assert.match(sigs, /a=ed25519-sha256/);
  assert.equal(sigs.match(/\bx=\d+/g)?.length, 1); // RFC 6376 §3.5: only the second signer expires
  assert.match(sigs.split(/^(?=DKIM-Signature:)/m)[1] ?? '', /s=e1;[^]*x=\d+/);
  const signed = await file(sigs + 'From: Joe <joe@example.com>\r\nTo: <x@example.net>\r\nSubject: signed\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n');
  const ok = await checkInbound(input(signed, { resolver: r }));
  assert.deepEqual(ok.dkim.map((d) => d.result), ['pass', 'pass']);
  assert.equal(ok.spf.result, 'fail');
  assert.equal(ok.dmarc.result, 'pass');
  assert.equal(ok.dmarc.reject, false);
  const spoof = await checkInbound(input(await file('From: Joe <joe@example.com>\r\nSubject: spoof\r\n\r\nbody\r\n'), { resolver: r }));
  assert.equal(spoof.dmarc.result, 'fail');
  assert.equal(spoof.dmarc.policy, 'reject');
  assert.equal(spoof.dmarc.reject, true);
  assert.match(spoof.headers, /dmarc=fail \(p=reject\) header\.from=example\.com/);
});

test('signatures with l= or without Subject count as dkim=policy and do not make DMARC pass', async () => {
  const r = new MemoryResolver().addTXT('_dmarc.example.com', 'v=DMARC1; p=reject');
  const key = await keyed('ed25519', 's1', 'example.com', r);
  const body = 'From: <joe@example.com>\r\nSubject: hi\r\n\r\nbody\r\n';
  const noSubject = await dkimSign(await file(body), [{ domain: 'example.com', selector: 's1', privateKeyPEM: key, canonicalization: 'relaxed/relaxed', headers: ['From'], dontSealHeaders: true }]);
  const res = await checkInbound(input(await file(noSubject + body), { resolver: r }));
  assert.equal(res.dkim[0]?.result, 'policy');
  assert.equal(res.dmarc.result, 'fail');
  assert.deepEqual(res.verifiedDomains, []);
  const { dkimSign: rawSign } = await import('mailauth');
  const opts = { signingDomain: 'example.com', selector: 's1', privateKey: key, algorithm: 'ed25519-sha256', maxBodyLength: 4 };
  const withL = await rawSign(body, { ...opts, signatureData: [opts] });
  assert.match(withL.signatures, /l=4/);
  const l = await checkInbound(input(await file(withL.signatures + body), { resolver: r }));
  assert.equal(l.dkim[0]?.result, 'policy');
});

test('without DNS (localserve) every check is none or temperror and nothing throws', async () => {
  const res = await checkInbound(input(await file(rfc8463), { resolver: new NoResolver() }));
  assert.equal(res.iprev.result, 'temperror');
  assert.ok(['none', 'temperror'].includes(res.spf.result), res.spf.result);
  assert.ok(res.dkim.every((d) => ['none', 'temperror', 'neutral'].includes(d.result)), JSON.stringify(res.dkim));
  assert.ok(['none', 'temperror'].includes(res.dmarc.result), res.dmarc.result);
  assert.equal(res.dmarc.reject, false);
});

test('a 20 MiB message is signed and verified streaming', async () => {
  const r = new MemoryResolver();
  const key = await keyed('rsa', 'big', 'example.com', r);
  const path = join(dir, 'big');
  const h = await open(path, 'w');
  await h.write('From: <joe@example.com>\r\nSubject: big\r\n\r\n');
  const line = Buffer.from(`${'y'.repeat(998)}\r\n`);
  const block = Buffer.concat(Array.from({ length: 1024 }, () => line));
  for (let i = 0; i < 20; i++) await h.write(block);
  await h.close();
  const before = process.memoryUsage().rss;
  const sigs = await dkimSign(path, [{ domain: 'example.com', selector: 'big', privateKeyPEM: key, canonicalization: 'relaxed/relaxed', dontSealHeaders: false }]);
  const signed = join(dir, 'big-signed');
  await writeFile(signed, sigs);
  await pipeline(createReadStream(path), createWriteStream(signed, { flags: 'a' })); // the test itself does not hold the message either
  const res = await checkInbound(input(signed, { resolver: r }));
  assert.equal(res.dkim[0]?.result, 'pass');
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
});
