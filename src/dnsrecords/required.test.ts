// requiredRecords from a config: the full set for a domain with every feature configured,
// the smaller set of a bare domain, A-labels for an IDN domain, TLSA from the kept
// self-signed certificate, and a clear error for an unreadable DKIM key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StaticConfig } from '../config/index.ts';
import { makeSelfSigned } from '../tls/index.ts';
import { DnsRecordsError, hostKeySpkis, requiredRecords, zoneLines } from './index.ts';
import { recordsFixture } from './testfixture.ts';

test('a domain with DKIM, DMARC, TLSRPT, MTA-STS, autoconfig, ACME and a certificate needs these records', async (t) => {
  const f = await recordsFixture();
  t.after(() => f.cleanup());
  const configDir = dirname(f.staticPath);
  const tlsaSpki = await hostKeySpkis({ static: f.config.static, configDir, dataDir: f.config.paths.dataDir });
  const specs = await requiredRecords({ domain: 'example.mcove', config: f.config.domains, static: f.config.static, configDir, tlsaSpki });
  const lines = zoneLines(specs).filter((l) => !l.startsWith(';'));
  const spki = new X509Certificate(await readFile(join(f.dir, 'mail.crt.pem'))).publicKey.export({ type: 'spki', format: 'der' });
  const expected: Array<string | RegExp> = [
    'example.mcove. IN MX 10 mail.example.mcove.',
    'mail.example.mcove. IN A 192.0.2.10', // 127.0.0.1 and 10.1.2.3 are not published
    'mail.example.mcove. IN AAAA 2001:db8::10',
    'example.mcove. IN TXT "v=spf1 mx ~all"',
    'mail.example.mcove. IN TXT "v=spf1 a -all"',
    /^2026a\._domainkey\.example\.mcove\. IN TXT "v=DKIM1; k=rsa; h=sha256; p=[A-Za-z0-9+/]+" "[A-Za-z0-9+/=]+"$/, // 2048-bit key: two strings (RFC 1035 §3.3.14)
    /^2026e\._domainkey\.example\.mcove\. IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$/,
    '_dmarc.example.mcove. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.mcove"',
    '_smtp._tls.example.mcove. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.mcove"',
    '_smtp._tls.mail.example.mcove. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.mcove"',
    '_mta-sts.example.mcove. IN TXT "v=STSv1; id=20260101T000000"',
    'mta-sts.example.mcove. IN CNAME mail.example.mcove.',
    'autoconfig.example.mcove. IN CNAME mail.example.mcove.',
    '_autodiscover._tcp.example.mcove. IN SRV 0 1 443 mail.example.mcove.',
    '_submissions._tcp.example.mcove. IN SRV 0 1 465 mail.example.mcove.',
    '_submission._tcp.example.mcove. IN SRV 0 0 0 .',
    '_imaps._tcp.example.mcove. IN SRV 0 1 993 mail.example.mcove.',
    '_imap._tcp.example.mcove. IN SRV 0 0 0 .',
    '_pop3s._tcp.example.mcove. IN SRV 0 0 0 .',
    '_pop3._tcp.example.mcove. IN SRV 0 0 0 .',
    'example.mcove. IN CAA 0 issue "letsencrypt.org"',
    `_25._tcp.mail.example.mcove. IN TLSA 3 1 1 ${createHash('sha256').update(spki).digest('hex')}`,
  ];
  assert.equal(lines.length, expected.length, lines.join('\n'));
  expected.forEach((e, i) => (typeof e === 'string' ? assert.equal(lines[i], e) : assert.match(lines[i]!, e)));
  assert.ok(specs.every((s) => s.purpose !== ''), 'every record says what it is for');
  assert.match(specs.find((s) => s.name.startsWith('2026e.'))!.purpose, /not signing/);
});

test('a bare domain needs MX, SPF and DMARC p=reject without rua; SRV says what is served', async (t) => {
  const f = await recordsFixture();
  t.after(() => f.cleanup());
  const st: StaticConfig = { ...f.config.static, acme: {}, listeners: { l: { ...f.config.static.listeners['public']!, ips: ['0.0.0.0'], tls: undefined, autoconfigHTTPS: { enabled: false, port: 443 }, imaps: { enabled: false, port: 993 }, imap: { enabled: true, port: 143 } } } };
  const specs = await requiredRecords({ domain: 'bare.mcove', config: { domains: { 'bare.mcove': { localpartCaseSensitive: false } }, accounts: {}, aliases: {} }, static: st, configDir: f.dir });
  assert.deepEqual(zoneLines(specs).filter((l) => !l.startsWith(';')), [
    'bare.mcove. IN MX 10 mail.example.mcove.',
    'bare.mcove. IN TXT "v=spf1 mx ~all"',
    'mail.example.mcove. IN TXT "v=spf1 a -all"',
    '_dmarc.bare.mcove. IN TXT "v=DMARC1; p=reject"',
    '_submissions._tcp.bare.mcove. IN SRV 0 1 465 mail.example.mcove.',
    '_submission._tcp.bare.mcove. IN SRV 0 0 0 .',
    '_imaps._tcp.bare.mcove. IN SRV 0 0 0 .',
    '_imap._tcp.bare.mcove. IN SRV 10 1 143 mail.example.mcove.',
    '_pop3s._tcp.bare.mcove. IN SRV 0 0 0 .',
    '_pop3._tcp.bare.mcove. IN SRV 0 0 0 .',
  ]);
});

test('an IDN domain gets A-label names and reporting URIs', async (t) => {
  const f = await recordsFixture({ domain: 'bücher.mcove' });
  t.after(() => f.cleanup());
  const specs = await requiredRecords({ domain: 'bücher.mcove', config: f.config.domains, static: f.config.static, configDir: f.dir });
  assert.ok(specs.every((s) => /^[\x21-\x7e]+$/.test(s.name) && /^[\x20-\x7e]+$/.test(s.value)), 'names and values are ASCII');
  assert.equal(specs.find((s) => s.name === '_dmarc.xn--bcher-kva.mcove')?.value, '"v=DMARC1; p=reject; rua=mailto:dmarc-reports@xn--bcher-kva.mcove"');
  assert.equal(specs[0]?.value, '10 mail.xn--bcher-kva.mcove.');
});

test('TLSA comes from the self-signed certificate the server keeps, once it exists', async (t) => {
  const f = await recordsFixture();
  t.after(() => f.cleanup());
  const st: StaticConfig = { ...f.config.static, listeners: { l: { ...f.config.static.listeners['public']!, tls: { selfSigned: true, minVersion: 'TLSv1.2' } } } };
  const o = { static: st, configDir: f.dir, dataDir: f.config.paths.dataDir };
  assert.deepEqual(await hostKeySpkis(o), []);
  const made = await makeSelfSigned({ names: ['mail.example.mcove'] });
  await mkdir(join(f.config.paths.dataDir, 'tls'), { recursive: true });
  await writeFile(join(f.config.paths.dataDir, 'tls', 'selfsigned-mail.example.mcove.crt.pem'), made.certPEM);
  const spkis = await hostKeySpkis(o);
  assert.equal(spkis.length, 1);
  assert.deepEqual(spkis[0], new X509Certificate(made.certPEM).publicKey.export({ type: 'spki', format: 'der' }));
});

test('an unreadable DKIM key file is a DnsRecordsError naming the file', async (t) => {
  const f = await recordsFixture();
  t.after(() => f.cleanup());
  await rm(join(f.dir, 'dkim', '2026e.pem'));
  await assert.rejects(requiredRecords({ domain: 'example.mcove', config: f.config.domains, static: f.config.static, configDir: f.dir }), (e: Error) => e instanceof DnsRecordsError && /2026e\.pem/.test(e.message));
});
