// Inbound checks against the in-memory resolver: the RFC 8463 example signatures, RFC 7208
// Appendix A SPF cases, our DKIM policy (l=, unsigned Subject), DMARC reject, hermetic
// mode (no DNS), and signing round trips including a 20 MiB message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  assert.match(res.headers, /dkim=pass header\.d=football\.example\.com header\.s=brisbane header\.a=ed25519-sha256/);
  const tampered = rfc8463.replace('Are you hungry yet?', 'Are you thirsty yet?');
  const bad = await checkInbound(input(await file(tampered), { resolver: r }));
  assert.deepEqual(bad.dkim.map((d) => d.result), ['fail', 'fail']);
});

/** RFC 7208 Appendix A.1 zone. */
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

test('RFC 7208 Appendix A.1 SPF examples', async () => {
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

test('SPF lookup limits: more than 10 DNS mechanisms or 2 void lookups is permerror (RFC 7208 §4.6.4)', async () => {
  const msg = await file('From: <joe@example.com>\r\n\r\nx\r\n');
  const r = new MemoryResolver().addTXT('example.com', `v=spf1 ${Array.from({ length: 11 }, (_, i) => `a:h${i}.example.com`).join(' ')} -all`);
  for (let i = 0; i < 11; i++) r.add(`h${i}.example.com`, 'A', ['198.51.100.1']);
  assert.equal((await checkInbound(input(msg, { resolver: r }))).spf.result, 'permerror');
  const v = new MemoryResolver().addTXT('example.com', 'v=spf1 a:v1.example.com a:v2.example.com a:v3.example.com -all');
  assert.equal((await checkInbound(input(msg, { resolver: v }))).spf.result, 'permerror');
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
  const { appendFile, readFile } = await import('node:fs/promises');
  await appendFile(signed, await readFile(path));
  const res = await checkInbound(input(signed, { resolver: r }));
  assert.equal(res.dkim[0]?.result, 'pass');
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
});
