// DANE for SMTP (RFC 7672, on RFC 6698/7671): finding the TLSA records of an MX host, and
// verifying the certificate chain an SMTP server presented against them. Relies on the
// Resolver's DNSSEC `authentic` flag; the TLS connection itself is the SMTP client's.
//
// The TLS handshake for DANE is made with `rejectUnauthorized: false` and the chain is
// checked by verifyDane after the handshake, before any SMTP command is sent. Node offers
// no hook for this: checkServerIdentity is only called once OpenSSL verified the chain
// against the WebPKI store, which DANE-EE with a self-signed certificate or DANE-TA with a
// private CA never passes, and a WebPKI chain is not what DANE asks for anyway (RFC 7672 §3).
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { ConnectionOptions, DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { DnsError, type Resolver, type TlsaRecord } from '../dns/index.ts';

export type TlsaLookup =
  | { kind: 'none' } // NXDOMAIN/NODATA, authentic denial or not: no DANE
  | { kind: 'insecure' } // answer not DNSSEC-authentic: ignored, RFC 7672 §2.2
  | { kind: 'records'; records: TlsaRecord[]; usable: TlsaRecord[]; baseDomain: string } // usable empty: TLS still required, unauthenticated (RFC 7672 §2.2)
  | { kind: 'error'; temporary: true; message: string }; // servfail etc.: delivery to this host must be deferred, RFC 7672 §2.2

/**
 * Whether a TLSA record can be used for SMTP (RFC 7672 §3.1.3): DANE-TA(2) or DANE-EE(3)
 * only (PKIX-TA(0) and PKIX-EE(1) are not for SMTP), selector Cert(0) or SPKI(1), matching
 * type Full(0), SHA2-256(1) or SHA2-512(2) with data of the digest's length.
 */
export function isUsableTlsa(r: TlsaRecord): boolean {
  if (r.usage !== 2 && r.usage !== 3) return false; // RFC 7672 §3.1.3
  if (r.selector !== 0 && r.selector !== 1) return false; // RFC 6698 §2.1.2
  if (r.matchingType === 0) return r.data.length > 0; // RFC 6698 §2.1.3
  if (r.matchingType === 1) return r.data.length === 32; // SHA-256
  if (r.matchingType === 2) return r.data.length === 64; // SHA-512
  return false;
}

/**
 * The TLSA records for an SMTP server (RFC 7672 §2.2): TLSA `_<port>._tcp.<host>`.
 *
 * The caller must call this only when the MX lookup (or, for a domain without MX records,
 * its address lookup) was DNSSEC-authentic: with an insecure MX RRset an attacker picks the
 * host, so its TLSA records prove nothing (RFC 7672 §2.2.1).
 *
 * The host's own address records decide the candidate TLSA base domains (RFC 7672 §2.2.3):
 * when they are insecure DANE does not apply (`insecure`); when the host is a CNAME
 * with a secure chain, TLSA records are looked for at the expanded name first, then at the
 * original; when the chain is insecure but the host's own CNAME record is secure, only at
 * the original name. The address lookup is the one the connection needs, so a caching
 * resolver answers it once.
 */
export async function lookupTlsa(resolver: Resolver, host: string, port = 25): Promise<TlsaLookup> {
  const temporary = (e: DnsError): TlsaLookup => ({ kind: 'error', temporary: true, message: e.message });
  let bases: string[];
  try {
    const addr = await resolver.lookupIP(host);
    if (addr.authentic) bases = addr.cnames.length > 0 ? [addr.finalName, addr.name] : [addr.name];
    else if (addr.cnames.length > 0 && (await resolver.lookupCNAME(host)).authentic) bases = [addr.name];
    else return { kind: 'insecure' };
  } catch (e) {
    if (!(e instanceof DnsError)) throw e;
    if (e.kind === 'nxdomain' || e.kind === 'badname') return { kind: 'none' }; // no such host: there is nothing to connect to either
    return temporary(e);
  }
  for (const base of bases) {
    let r;
    try {
      r = await resolver.lookupTLSA(`_${port}._tcp.${base}`); // RFC 6698 §3; CNAMEs followed, authentic only if the whole chain is
    } catch (e) {
      if (!(e instanceof DnsError)) throw e;
      if (e.kind === 'nxdomain' || e.kind === 'badname') continue;
      return temporary(e); // RFC 7672 §2.2: a failed TLSA lookup (SERVFAIL, bogus, timeout) defers delivery to this host
    }
    if (r.records.length === 0) continue; // NODATA
    if (!r.authentic) return { kind: 'insecure' }; // RFC 7672 §2.2: insecure TLSA records are ignored
    return { kind: 'records', records: r.records, usable: r.records.filter(isUsableTlsa), baseDomain: base };
  }
  return { kind: 'none' };
}

/**
 * TLS options for the STARTTLS of a DANE connection: SNI with the TLSA base domain (RFC 7672
 * §8.1), and no verification by Node (see the top of this file); verifyDane does it.
 */
export function daneTlsOptions(baseDomain: string): ConnectionOptions {
  return { servername: baseDomain, rejectUnauthorized: false, minVersion: 'TLSv1.2' };
}

/**
 * The certificates the server presented, leaf first, from getPeerCertificate(true). Node
 * links that chain by issuer (and may end it with an issuer from the local trust store);
 * a self-issued certificate, which links to itself, ends it. Empty when the server sent no
 * certificate, or on a resumed session where Node has none to give: verifyDane then fails,
 * so DANE connections should not resume sessions.
 */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c && Buffer.isBuffer(c.raw) && chain.length < 16) {
    const der = c.raw.toString('base64');
    if (seen.has(der)) break; // self-issued: issuerCertificate points back
    seen.add(der);
    chain.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return chain;
}

export type DaneFailure = 'validation-failure' | 'certificate-host-mismatch' | 'certificate-expired'; // RFC 8460 §4.3.2 result types
export type DaneVerification = { ok: true; usage: 2 | 3; record: TlsaRecord } | { ok: false; failure: DaneFailure; message: string };

/** The data a record's selector picks from a certificate (RFC 6698 §2.1.2). */
function selected(cert: X509Certificate, selector: number): Buffer | undefined {
  try {
    return selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined; // a key type node:crypto cannot export: it matches nothing
  }
}

/** Whether a certificate matches a record (RFC 6698 §2.1.3). */
function certMatches(r: TlsaRecord, cert: X509Certificate): boolean {
  const data = selected(cert, r.selector);
  if (!data) return false;
  const value = r.matchingType === 0 ? data : createHash(r.matchingType === 1 ? 'sha256' : 'sha512').update(data).digest();
  return value.equals(r.data);
}

/**
 * The trust anchor's key from a DANE-TA record that holds it in full: 2 1 0 (SPKI) or
 * 2 0 0 (certificate). Only these let the server leave the TA certificate out of its chain
 * (RFC 7672 §3.1.2); digests need the presented certificate.
 */
function anchorKey(r: TlsaRecord): KeyObject | undefined {
  if (r.matchingType !== 0) return undefined;
  try {
    return r.selector === 1 ? createPublicKey({ key: r.data, format: 'der', type: 'spki' }) : new X509Certificate(r.data).publicKey;
  } catch {
    return undefined;
  }
}

function signedBy(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.verify(key);
  } catch {
    return false;
  }
}

const maxChainDepth = 8;

/**
 * A path from the leaf through presented certificates to a DANE-TA anchor, each signed by
 * the next (issuer name and signature), intermediates being CAs (RFC 5280 §4.2.1.9). Tried
 * in every order, so chains sent out of order or with extra certificates still work.
 * `certs` are the certificates below the anchor, whose dates count; the leaf is always one,
 * also when it matches the record itself.
 */
function trustPath(chain: X509Certificate[], anchors: Array<{ record: TlsaRecord; key: KeyObject | undefined }>): { record: TlsaRecord; certs: X509Certificate[] } | undefined {
  const search = (cert: X509Certificate, below: X509Certificate[]): { record: TlsaRecord; certs: X509Certificate[] } | undefined => {
    const path = [...below, cert];
    for (const a of anchors) {
      if (certMatches(a.record, cert)) return { record: a.record, certs: below.length > 0 ? below : path };
      if (a.key && signedBy(cert, a.key)) return { record: a.record, certs: path };
    }
    if (below.length > 0 && !cert.ca) return undefined; // not the anchor, so an intermediate: must be a CA
    if (path.length >= maxChainDepth) return undefined;
    for (const issuer of chain) {
      if (path.includes(issuer) || !cert.checkIssued(issuer) || !signedBy(cert, issuer.publicKey)) continue;
      const found = search(issuer, path);
      if (found) return found;
    }
    return undefined;
  };
  return chain[0] ? search(chain[0], []) : undefined;
}

function describe(cert: X509Certificate): string {
  return `${cert.subject.replace(/\n/g, ', ') || '(no subject)'}, sha256 ${cert.fingerprint256}`;
}

const serverAuth = '1.3.6.1.5.5.7.3.1'; // RFC 5280 §4.2.1.12 id-kp-serverAuth
const anyExtendedKeyUsage = '2.5.29.37.0';

/**
 * Checks the presented chain (leaf first) against the usable TLSA records (RFC 7672 §3).
 * - DANE-EE(3): the leaf's certificate or public key matches; nothing else is checked, no
 *   names, no dates (RFC 7672 §3.1.1).
 * - DANE-TA(2): a presented certificate matches (or, for a record with the full key, signs
 *   the chain), the leaf chains to it by issuer and signature, the leaf and intermediates
 *   are within their validity period, the leaf may be used for TLS servers, and one of its
 *   names matches one of `names` (RFC 7672 §3.1.2, §3.2.2, §3.2.3): the MX host name and the
 *   TLSA base domain, DNS-IDs first with the subject CN only when there are none, a
 *   wildcard only as the whole left-most label.
 * DANE-EE records are tried first: they are the common case and need no path.
 */
export function verifyDane(chain: X509Certificate[], usable: TlsaRecord[], names: string[], now: Date = new Date()): DaneVerification {
  const fail = (failure: DaneFailure, message: string): DaneVerification => ({ ok: false, failure, message });
  const leaf = chain[0];
  if (!leaf) return fail('validation-failure', 'the server presented no certificate');
  for (const r of usable) if (r.usage === 3 && certMatches(r, leaf)) return { ok: true, usage: 3, record: r };

  const anchors = usable.filter((r) => r.usage === 2).map((record) => ({ record, key: anchorKey(record) }));
  if (anchors.length === 0) return fail('validation-failure', `no DANE-EE record matches the server certificate (${describe(leaf)})`);
  const path = trustPath(chain, anchors);
  if (!path) return fail('validation-failure', `the server certificate (${describe(leaf)}) does not chain to a DANE-TA trust anchor in the TLSA records`);

  const eku: readonly string[] | undefined = leaf.keyUsage; // node: the extended key usage OIDs; undefined without the extension
  if (eku && !eku.includes(serverAuth) && !eku.includes(anyExtendedKeyUsage)) return fail('validation-failure', `the server certificate (${describe(leaf)}) is not for TLS servers (extended key usage ${eku.join(', ')})`);

  const refs = names.map((n) => (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase()).filter((n) => n !== '');
  const matched = refs.some((n) => leaf.checkHost(n, { subject: 'default', wildcards: true, partialWildcards: false, multiLabelWildcards: false, singleLabelSubdomains: false }) !== undefined); // RFC 7672 §3.2.3, RFC 6125 §6.4.3
  if (!matched) return fail('certificate-host-mismatch', `the server certificate (${describe(leaf)}) is not valid for ${refs.join(' or ')}`);

  for (const c of path.certs) {
    if (now > c.validToDate) return fail('certificate-expired', `certificate ${describe(c)} expired ${c.validToDate.toISOString()}`);
    if (now < c.validFromDate) return fail('validation-failure', `certificate ${describe(c)} is not valid before ${c.validFromDate.toISOString()}`);
  }
  return { ok: true, usage: 2, record: path.record };
}
