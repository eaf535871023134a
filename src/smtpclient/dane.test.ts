// DANE: TLSA lookups against a MemoryResolver (authentic, insecure, NXDOMAIN, SERVFAIL,
// CNAMEs), and verification of certificate chains made by openssl at test time, with the
// TLSA association data computed by openssl too; one real TLS handshake on 127.0.0.1 for
// the presented chain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { MemoryResolver, type TlsaRecord } from '../dns/index.ts';
import { tlsServer } from '../tls/testfixture.ts';
import { daneTlsOptions, isUsableTlsa, lookupTlsa, peerChain, verifyDane } from './dane.ts';

// ---- a test PKI ----

let dir = '';

function openssl(args: string[], input?: Buffer): Buffer {
  const r = spawnSync('openssl', args, { cwd: dir, ...(input ? { input } : {}) });
  if (r.error) throw r.error; // openssl is a test tool: missing is a failure
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
let serial = 1;

interface Issued { name: string; pem: string; key: string; cert: X509Certificate }

async function issued(name: string): Promise<Issued> {
  const pem = await readFile(join(dir, `${name}.pem`), 'utf8');
  return { name, pem, key: await readFile(join(dir, `${name}.key`), 'utf8'), cert: new X509Certificate(pem) };
}

async function makeCa(name: string, subject: string): Promise<Issued> {
  openssl(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3650', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  return issued(name);
}

/** A certificate signed by issuer. */
async function makeCert(name: string, issuer: Issued, o: { subject: string; extensions: string; days: number }): Promise<Issued> {
  openssl(['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', o.subject]);
  await writeFile(join(dir, `${name}.ext`), o.extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer.name}.pem`, '-CAkey', `${issuer.name}.key`, '-set_serial', String(serial++), '-days', String(o.days), '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  return issued(name);
}

// OpenSSL 3 adds an authorityKeyIdentifier by default; "none" leaves issuer name and signature to link the chain.
const serverExt = (...names: string[]) => `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=none\n`;

/** A TLSA record for a certificate, its data made by openssl (RFC 6698 §2.1: DER certificate or SubjectPublicKeyInfo, in full or SHA-256/512). */
function tlsa(usage: number, selector: 0 | 1, matchingType: 0 | 1 | 2, c: Issued): TlsaRecord {
  const der = selector === 0 ? openssl(['x509', '-in', `${c.name}.pem`, '-outform', 'DER']) : openssl(['pkey', '-pubin', '-outform', 'DER'], openssl(['x509', '-in', `${c.name}.pem`, '-noout', '-pubkey']));
  const data = matchingType === 0 ? der : openssl(['dgst', matchingType === 1 ? '-sha256' : '-sha512', '-binary'], der);
  return { usage, selector, matchingType, data };
}

let ca: Issued; // "CN=Mailcove DANE test CA"
let leaf: Issued; // mx.example.test, signed by ca, valid 30 days
let impostorCa: Issued; // the same subject as ca, another key
let impostorLeaf: Issued; // mx.example.test, signed by impostorCa
let wildcard: Issued; // *.example.test, signed by ca
let partialWildcard: Issued; // m*.example.test, signed by ca
let clientOnly: Issued; // mx.example.test, signed by ca, extended key usage clientAuth only
let root: Issued;
let intermediate: Issued; // signed by root
let deepLeaf: Issued; // mx.example.test, signed by intermediate
let underLeaf: Issued; // mx.example.test, signed by leaf, which is no CA

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailcove-dane-'));
  ca = await makeCa('ca', '/CN=Mailcove DANE test CA');
  leaf = await makeCert('leaf', ca, { subject: '/CN=mx.example.test', extensions: serverExt('mx.example.test'), days: 30 });
  impostorCa = await makeCa('impostor-ca', '/CN=Mailcove DANE test CA');
  impostorLeaf = await makeCert('impostor-leaf', impostorCa, { subject: '/CN=mx.example.test', extensions: serverExt('mx.example.test'), days: 30 });
  wildcard = await makeCert('wildcard', ca, { subject: '/CN=*.example.test', extensions: serverExt('*.example.test'), days: 30 });
  partialWildcard = await makeCert('partial-wildcard', ca, { subject: '/CN=m*.example.test', extensions: serverExt('m*.example.test'), days: 30 });
  clientOnly = await makeCert('client-only', ca, { subject: '/CN=mx.example.test', extensions: serverExt('mx.example.test').replace('serverAuth', 'clientAuth'), days: 30 });
  root = await makeCa('root', '/CN=Mailcove DANE test root');
  intermediate = await makeCert('intermediate', root, { subject: '/CN=Mailcove DANE test intermediate', extensions: 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nauthorityKeyIdentifier=none\n', days: 365 });
  deepLeaf = await makeCert('deep-leaf', intermediate, { subject: '/CN=mx.example.test', extensions: serverExt('mx.example.test'), days: 30 });
  underLeaf = await makeCert('under-leaf', leaf, { subject: '/CN=mx.example.test', extensions: serverExt('mx.example.test'), days: 30 });
});

after(() => rm(dir, { recursive: true, force: true }));

const mx = ['mx.example.test'];

// ---- verification ----

test('DANE-EE: the leaf public key (SHA-256) or the full certificate matches; names and dates are not checked', () => {
  for (const r of [tlsa(3, 1, 1, leaf), tlsa(3, 0, 0, leaf), tlsa(3, 0, 2, leaf), tlsa(3, 1, 0, leaf)]) {
    assert.deepEqual(verifyDane([leaf.cert, ca.cert], [r], mx), { ok: true, usage: 3, record: r }, `${r.selector} ${r.matchingType}`);
  }
  const r = tlsa(3, 1, 1, leaf);
  assert.equal(verifyDane([leaf.cert], [r], ['other.example.net']).ok, true, 'no name check (RFC 7672 §3.1.1)');
  assert.equal(verifyDane([leaf.cert], [r], mx, new Date(Date.now() + 90 * 86_400_000)).ok, true, 'no expiry check');
});

test('DANE-EE: another certificate, or only a chain certificate matching, is a validation-failure', () => {
  const r = verifyDane([impostorLeaf.cert, ca.cert], [tlsa(3, 1, 1, leaf)], mx);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.failure === 'validation-failure' && /no DANE-EE record matches/.test(r.message), JSON.stringify(r));
  assert.equal(verifyDane([leaf.cert, ca.cert], [tlsa(3, 1, 1, ca)], mx).ok, false, 'DANE-EE is for the leaf only');
  assert.equal(verifyDane([], [tlsa(3, 1, 1, leaf)], mx).ok, false);
});

test('DANE-TA: the leaf chains to the presented CA that matches the record, and is valid for the MX host', () => {
  for (const r of [tlsa(2, 0, 1, ca), tlsa(2, 1, 1, ca), tlsa(2, 0, 2, ca), tlsa(2, 0, 0, ca)]) {
    assert.deepEqual(verifyDane([leaf.cert, ca.cert], [r], mx), { ok: true, usage: 2, record: r });
  }
  // The names: the TLSA base domain may be the one the certificate has.
  assert.equal(verifyDane([leaf.cert, ca.cert], [tlsa(2, 0, 1, ca)], ['alias.example.net', 'MX.example.test.']).ok, true);
});

test('DANE-TA: a full trust-anchor key (2 1 0) authenticates a chain without the CA certificate', () => {
  assert.equal(verifyDane([leaf.cert], [tlsa(2, 1, 0, ca)], mx).ok, true);
  assert.equal(verifyDane([leaf.cert], [tlsa(2, 1, 1, ca)], mx).ok, false, 'a digest needs the certificate presented (RFC 7672 §3.1.2)');
});

test('DANE-TA: through an intermediate to the root, in the order presented or not', () => {
  const r = tlsa(2, 0, 1, root);
  assert.equal(verifyDane([deepLeaf.cert, intermediate.cert, root.cert], [r], mx).ok, true);
  assert.equal(verifyDane([deepLeaf.cert, root.cert, intermediate.cert], [r], mx).ok, true);
  assert.equal(verifyDane([deepLeaf.cert, root.cert], [r], mx).ok, false, 'the intermediate is missing');
  assert.equal(verifyDane([deepLeaf.cert, intermediate.cert], [tlsa(2, 1, 1, intermediate)], mx).ok, true, 'the intermediate as trust anchor');
  assert.equal(verifyDane([underLeaf.cert, leaf.cert, ca.cert], [tlsa(2, 0, 1, ca)], mx).ok, false, 'a certificate without CA:TRUE is no intermediate');
  assert.equal(verifyDane([underLeaf.cert, leaf.cert], [tlsa(2, 0, 1, leaf)], mx).ok, true, 'but it can be the trust anchor itself');
});

test('DANE-TA: a leaf for another name is certificate-host-mismatch', () => {
  const r = verifyDane([leaf.cert, ca.cert], [tlsa(2, 0, 1, ca)], ['mail.example.net']);
  assert.ok(!r.ok && r.failure === 'certificate-host-mismatch' && /not valid for mail\.example\.net/.test(r.message), JSON.stringify(r));
});

test('DANE-TA: a wildcard matches one whole left-most label only', () => {
  const r = tlsa(2, 0, 1, ca);
  assert.equal(verifyDane([wildcard.cert, ca.cert], [r], ['mx.example.test']).ok, true);
  const deeper = verifyDane([wildcard.cert, ca.cert], [r], ['a.mx.example.test']);
  assert.ok(!deeper.ok && deeper.failure === 'certificate-host-mismatch');
  assert.equal(verifyDane([wildcard.cert, ca.cert], [r], ['example.test']).ok, false);
  assert.equal(verifyDane([partialWildcard.cert, ca.cert], [r], ['mx.example.test']).ok, false, 'no partial-label wildcards');
});

test('DANE-TA: a leaf not signed by the trust anchor is a validation-failure, even under a CA of the same name', () => {
  const r = tlsa(2, 0, 1, ca);
  const forged = verifyDane([impostorLeaf.cert, ca.cert], [r], mx); // issuer name matches ca (and no key identifier says otherwise); the signature does not
  assert.ok(!forged.ok && forged.failure === 'validation-failure' && /does not chain to a DANE-TA trust anchor/.test(forged.message), JSON.stringify(forged));
  assert.equal(verifyDane([impostorLeaf.cert, impostorCa.cert], [r], mx).ok, false);
  assert.equal(verifyDane([impostorLeaf.cert], [tlsa(2, 1, 0, ca)], mx).ok, false);
});

test('DANE-TA: an expired leaf is certificate-expired', () => {
  const later = new Date(Date.now() + 60 * 86_400_000); // the leaf is valid for 30 days
  const r = verifyDane([leaf.cert, ca.cert], [tlsa(2, 0, 1, ca)], mx, later);
  assert.ok(!r.ok && r.failure === 'certificate-expired' && /expired/.test(r.message), JSON.stringify(r));
  const early = verifyDane([leaf.cert, ca.cert], [tlsa(2, 0, 1, ca)], mx, new Date(Date.now() - 86_400_000));
  assert.ok(!early.ok && early.failure === 'validation-failure' && /not valid before/.test(early.message));
});

test('DANE-TA: a leaf whose extended key usage excludes TLS servers is a validation-failure', () => {
  const r = verifyDane([clientOnly.cert, ca.cert], [tlsa(2, 0, 1, ca)], mx);
  assert.ok(!r.ok && r.failure === 'validation-failure' && /not for TLS servers/.test(r.message), JSON.stringify(r));
  assert.equal(verifyDane([clientOnly.cert, ca.cert], [tlsa(3, 1, 1, clientOnly)], mx).ok, true, 'DANE-EE does not look');
});

test('DANE-EE is tried before DANE-TA; with both, a matching EE record wins over a failing TA one', () => {
  const ee = tlsa(3, 1, 1, leaf);
  const r = verifyDane([leaf.cert, ca.cert], [tlsa(2, 0, 1, root), ee], ['wrong.example.net']);
  assert.deepEqual(r, { ok: true, usage: 3, record: ee });
});

test('usable records (RFC 7672 §3.1.3): DANE-TA/EE, selector 0/1, matching type 0/1/2 with the right length', () => {
  const sha256 = Buffer.alloc(32, 1);
  const sha512 = Buffer.alloc(64, 1);
  assert.equal(isUsableTlsa({ usage: 3, selector: 1, matchingType: 1, data: sha256 }), true);
  assert.equal(isUsableTlsa({ usage: 2, selector: 0, matchingType: 2, data: sha512 }), true);
  assert.equal(isUsableTlsa({ usage: 3, selector: 0, matchingType: 0, data: Buffer.from([0x30]) }), true);
  for (const r of [
    { usage: 0, selector: 1, matchingType: 1, data: sha256 }, // PKIX-TA
    { usage: 1, selector: 1, matchingType: 1, data: sha256 }, // PKIX-EE
    { usage: 4, selector: 1, matchingType: 1, data: sha256 },
    { usage: 3, selector: 2, matchingType: 1, data: sha256 },
    { usage: 3, selector: 1, matchingType: 3, data: sha256 },
    { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(31) },
    { usage: 3, selector: 1, matchingType: 2, data: sha256 },
    { usage: 3, selector: 1, matchingType: 0, data: Buffer.alloc(0) },
  ]) assert.equal(isUsableTlsa(r), false, JSON.stringify({ ...r, data: r.data.length }));
  // A PKIX-EE record that matches the leaf does not authenticate it.
  assert.equal(verifyDane([leaf.cert, ca.cert], [tlsa(1, 1, 1, leaf)], mx).ok, false);
});

// ---- lookups ----

const sha = Buffer.alloc(32, 7);
const usableRecord: TlsaRecord = { usage: 3, selector: 1, matchingType: 1, data: sha };
const pkixRecord: TlsaRecord = { usage: 1, selector: 1, matchingType: 1, data: sha };

test('lookup: authentic TLSA records at _25._tcp.<host>, with the unusable ones filtered', async () => {
  const r = new MemoryResolver()
    .add('mx.example.test', 'A', ['192.0.2.1'], { authentic: true })
    .add('_25._tcp.mx.example.test', 'TLSA', [usableRecord, pkixRecord], { authentic: true });
  assert.deepEqual(await lookupTlsa(r, 'mx.example.test'), { kind: 'records', records: [usableRecord, pkixRecord], usable: [usableRecord], baseDomain: 'mx.example.test' });
  const none = new MemoryResolver().add('mx.example.test', 'A', ['192.0.2.1'], { authentic: true }).add('_465._tcp.mx.example.test', 'TLSA', [usableRecord], { authentic: true });
  assert.equal((await lookupTlsa(none, 'mx.example.test', 465)).kind, 'records');
});

test('lookup: insecure TLSA records, or an insecure MX host address, are ignored', async () => {
  const insecureTlsa = new MemoryResolver()
    .add('mx.example.test', 'A', ['192.0.2.1'], { authentic: true })
    .add('_25._tcp.mx.example.test', 'TLSA', [usableRecord], { authentic: false });
  assert.deepEqual(await lookupTlsa(insecureTlsa, 'mx.example.test'), { kind: 'insecure' });
  const insecureHost = new MemoryResolver()
    .add('mx.example.test', 'A', ['192.0.2.1'], { authentic: false })
    .add('_25._tcp.mx.example.test', 'TLSA', [usableRecord], { authentic: true });
  assert.deepEqual(await lookupTlsa(insecureHost, 'mx.example.test'), { kind: 'insecure' });
  assert.ok(!insecureHost.queries.includes('_25._tcp.mx.example.test/TLSA'), 'no TLSA lookup for an insecure host');
});

test('lookup: NXDOMAIN or NODATA at the TLSA name is no DANE', async () => {
  const r = new MemoryResolver().add('mx.example.test', 'A', ['192.0.2.1'], { authentic: true });
  assert.deepEqual(await lookupTlsa(r, 'mx.example.test'), { kind: 'none' });
  r.add('_25._tcp.mx.example.test', 'TXT', [{ strings: [Buffer.from('x')], text: 'x' }], { authentic: true });
  assert.deepEqual(await lookupTlsa(r, 'mx.example.test'), { kind: 'none' });
  assert.deepEqual(await lookupTlsa(r, 'nonexistent.example.test'), { kind: 'none' });
});

test('lookup: SERVFAIL on the TLSA or address lookup is a temporary error (delivery deferred)', async () => {
  const r = new MemoryResolver().add('mx.example.test', 'A', ['192.0.2.1'], { authentic: true }).fail('_25._tcp.mx.example.test', 'TLSA', 'servfail');
  const t = await lookupTlsa(r, 'mx.example.test');
  assert.ok(t.kind === 'error' && t.temporary && /TLSA _25\._tcp\.mx\.example\.test: servfail/.test(t.message), JSON.stringify(t));
  const a = new MemoryResolver().fail('mx.example.test', 'AAAA', 'timeout');
  assert.equal((await lookupTlsa(a, 'mx.example.test')).kind, 'error');
});

test('lookup: an MX host that is a secure CNAME: TLSA at the expanded name first, then at the original (RFC 7672 §2.2.3)', async () => {
  const secure = () => new MemoryResolver()
    .add('mx.example.test', 'CNAME', ['mx1.provider.test'], { authentic: true })
    .add('mx1.provider.test', 'A', ['192.0.2.1'], { authentic: true });
  const atTarget = secure().add('_25._tcp.mx1.provider.test', 'TLSA', [usableRecord], { authentic: true }).add('_25._tcp.mx.example.test', 'TLSA', [pkixRecord], { authentic: true });
  const t = await lookupTlsa(atTarget, 'mx.example.test');
  assert.ok(t.kind === 'records' && t.baseDomain === 'mx1.provider.test' && t.usable.length === 1, JSON.stringify(t));

  const atOriginal = secure().add('_25._tcp.mx.example.test', 'TLSA', [usableRecord], { authentic: true });
  const o = await lookupTlsa(atOriginal, 'mx.example.test');
  assert.ok(o.kind === 'records' && o.baseDomain === 'mx.example.test', JSON.stringify(o));
  assert.deepEqual(atOriginal.queries.filter((q) => q.endsWith('/TLSA')), ['_25._tcp.mx1.provider.test/TLSA', '_25._tcp.mx.example.test/TLSA']);
});

test('lookup: a secure CNAME to an insecure target: TLSA at the original name only; an insecure CNAME: no DANE', async () => {
  const r = new MemoryResolver()
    .add('mx.example.test', 'CNAME', ['mx1.provider.test'], { authentic: true })
    .add('mx1.provider.test', 'A', ['192.0.2.1'], { authentic: false })
    .add('_25._tcp.mx1.provider.test', 'TLSA', [usableRecord], { authentic: false })
    .add('_25._tcp.mx.example.test', 'TLSA', [usableRecord], { authentic: true });
  const t = await lookupTlsa(r, 'mx.example.test');
  assert.ok(t.kind === 'records' && t.baseDomain === 'mx.example.test', JSON.stringify(t));
  assert.ok(!r.queries.includes('_25._tcp.mx1.provider.test/TLSA'));
  const insecure = new MemoryResolver()
    .add('mx.example.test', 'CNAME', ['mx1.provider.test'], { authentic: false })
    .add('mx1.provider.test', 'A', ['192.0.2.1'], { authentic: true })
    .add('_25._tcp.mx.example.test', 'TLSA', [usableRecord], { authentic: true });
  assert.deepEqual(await lookupTlsa(insecure, 'mx.example.test'), { kind: 'insecure' });
});

// ---- a real handshake ----

test('handshake: the chain a TLS server presents (leaf and CA), read with peerChain, verifies under DANE-TA and DANE-EE', async () => {
  const s = await tlsServer({ key: leaf.key, cert: leaf.pem + ca.pem });
  try {
    const { client } = await s.connect(daneTlsOptions('mx.example.test'));
    const chain = peerChain(client);
    assert.deepEqual(chain.map((c) => c.fingerprint256), [leaf.cert.fingerprint256, ca.cert.fingerprint256]);
    assert.equal(client.authorized, false, 'Node did not verify: the CA is not in its store');
    assert.deepEqual(verifyDane(chain, [tlsa(2, 0, 1, ca)], mx).ok, true);
    assert.deepEqual(verifyDane(chain, [tlsa(3, 1, 1, leaf)], mx).ok, true);
    assert.equal(verifyDane(chain, [tlsa(3, 1, 1, impostorLeaf)], mx).ok, false);
  } finally {
    await s.close();
  }
  const bare = await tlsServer({ key: leaf.key, cert: leaf.pem });
  try {
    const { client } = await bare.connect(daneTlsOptions('mx.example.test'));
    assert.deepEqual(peerChain(client).map((c) => c.fingerprint256), [leaf.cert.fingerprint256]);
  } finally {
    await bare.close();
  }
});
