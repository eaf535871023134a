// SPF, DKIM, DMARC and ARC end to end through real DNS: nsd serves a DNSSEC-signed and an
// unsigned zone, unbound validates; results resting on validated answers say so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealMessage } from 'mailauth';
import { checkInbound, dkimSign, generateDkimKey } from '../src/mailauth/index.ts';
import { missingDnsPeers as missing, startDnsServers, type DnsServers } from './dnsservers.ts';

const skip = missing.length > 0 && process.env['CI'] !== 'true' ? `DNS test peers missing (${missing.join(', ')})` : false;

let servers: DnsServers | undefined;
let dir = '';
const keys: Record<string, string> = {};

/** A TXT record value as zone-file character-strings of at most 255 octets (RFC 1035 §3.3). */
function txt(value: string): string {
  return (value.match(/.{1,200}/g) ?? []).map((p) => `"${p}"`).join(' ');
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'mailcove-mailauth-dns-'));
  const e1 = await generateDkimKey('ed25519');
  const u1 = await generateDkimKey('ed25519');
  const arc = await generateDkimKey('rsa', 2048);
  keys['e1'] = e1.privateKeyPEM;
  keys['u1'] = u1.privateKeyPEM;
  keys['arc'] = arc.privateKeyPEM;
  servers = await startDnsServers([
    { name: 'signed.mcove', sign: true, records: ['@ IN TXT "v=spf1 ip4:127.0.0.1 -all"', '_dmarc IN TXT "v=DMARC1; p=reject"', `e1._domainkey IN TXT ${txt(e1.dnsRecord)}`, `arc._domainkey IN TXT ${txt(arc.dnsRecord)}`] },
    { name: 'unsigned.mcove', records: ['@ IN TXT "v=spf1 -all"', '_dmarc IN TXT "v=DMARC1; p=reject"', `u1._domainkey IN TXT ${txt(u1.dnsRecord)}`] },
  ]);
});

after(async () => {
  await servers?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function message(text: string, signer?: { domain: string; selector: string }): Promise<string> {
  const plain = join(dir, `m${n++}`);
  await writeFile(plain, text);
  if (!signer) return plain;
  const sig = await dkimSign(plain, [{ ...signer, privateKeyPEM: keys[signer.selector]!, canonicalization: 'relaxed/relaxed', dontSealHeaders: false }]);
  const signed = join(dir, `m${n++}`);
  await writeFile(signed, sig + text);
  return signed;
}

const body = (from: string, subject: string) => `From: <${from}>\r\nTo: <mjl@example.com>\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject}@test>\r\n\r\nhello\r\n`;

test('signed zone: SPF and DKIM pass on DNSSEC-authentic answers, DMARC passes, the header says dnssec', { skip }, async () => {
  const path = await message(body('a@signed.mcove', 'signed'), { domain: 'signed.mcove', selector: 'e1' });
  const r = await checkInbound({ remoteIP: '127.0.0.1', ehlo: 'mail.signed.mcove', mailFrom: 'a@signed.mcove', messagePath: path, hostname: 'mx.test', resolver: servers!.resolver });
  assert.deepEqual([r.spf.result, r.spf.authentic], ['pass', true]);
  assert.deepEqual([r.dkim[0]?.result, r.dkim[0]?.authentic], ['pass', true]);
  assert.equal(r.dmarc.result, 'pass');
  assert.match(r.headers, /spf=pass \(dnssec\) smtp\.mailfrom=a@signed\.mcove/);
  assert.match(r.headers, /dkim=pass \(dnssec\) header\.d=signed\.mcove header\.s=e1/);
  assert.match(r.headers, /Received-SPF: pass/);
});

test('unsigned zone: DKIM passes without dnssec, SPF fails, DMARC passes on DKIM alignment', { skip }, async () => {
  const path = await message(body('a@unsigned.mcove', 'unsigned'), { domain: 'unsigned.mcove', selector: 'u1' });
  const r = await checkInbound({ remoteIP: '127.0.0.1', ehlo: 'mail.unsigned.mcove', mailFrom: 'a@unsigned.mcove', messagePath: path, hostname: 'mx.test', resolver: servers!.resolver });
  assert.deepEqual([r.dkim[0]?.result, r.dkim[0]?.authentic], ['pass', false]);
  assert.equal(r.spf.result, 'fail');
  assert.equal(r.dmarc.result, 'pass');
  assert.doesNotMatch(r.headers, /dnssec/);
});

test('a spoofed From of a p=reject domain fails DMARC and is to be rejected', { skip }, async () => {
  const path = await message(body('ceo@signed.mcove', 'spoof'));
  const r = await checkInbound({ remoteIP: '192.0.2.99', ehlo: 'evil.example', mailFrom: 'x@evil.example', messagePath: path, hostname: 'mx.test', resolver: servers!.resolver });
  assert.equal(r.dmarc.result, 'fail');
  assert.equal(r.dmarc.reject, true);
});

test('an ARC-sealed message verifies: arc=pass', { skip }, async () => {
  const text = body('a@unsigned.mcove', 'forwarded');
  const seal = await sealMessage(Buffer.from(text), { signingDomain: 'signed.mcove', selector: 'arc', privateKey: keys['arc']!, authResults: 'mx.signed.mcove; spf=pass smtp.mailfrom=a@unsigned.mcove', cv: 'none' } as Parameters<typeof sealMessage>[1]);
  assert.match(seal.toString(), /ARC-Seal:/);
  const path = join(dir, 'sealed');
  await writeFile(path, Buffer.concat([seal, Buffer.from(text)]));
  const r = await checkInbound({ remoteIP: '127.0.0.1', ehlo: 'mx.signed.mcove', mailFrom: '', messagePath: path, hostname: 'mx.test', resolver: servers!.resolver });
  assert.equal(r.arc.result, 'pass');
  assert.match(r.headers, /arc=pass/);
});
