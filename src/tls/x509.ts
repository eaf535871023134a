// The X.509 pieces our self-signed certificates (selfsigned.ts), the ACME CSR and the
// tls-alpn-01 certificate (acmecerts.ts) share (RFC 5280), written with der.ts.
import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, explicit, integer, nullValue, octetString, oid, sequence, set, time, utf8String, type Der } from './der.ts';

export type KeyType = 'ecdsa-p256' | 'rsa2048' | 'ed25519';

/** The signature algorithm for a key (RFC 5280 §4.1.1.2) and how node:crypto signs with it. */
export function signatureAlgorithm(keyType: KeyType): { id: Der; hash: string | null } {
  if (keyType === 'ecdsa-p256') return { id: sequence(oid('1.2.840.10045.4.3.2')), hash: 'sha256' }; // RFC 5758 §3.2 ecdsa-with-SHA256, no parameters
  if (keyType === 'rsa2048') return { id: sequence(oid('1.2.840.113549.1.1.11'), nullValue()), hash: 'sha256' }; // RFC 4055 §5 sha256WithRSAEncryption, NULL parameters
  return { id: sequence(oid('1.3.101.112')), hash: null }; // RFC 8410 §3 id-Ed25519, no parameters
}

/** RFC 5280 §4.1: Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Der): Der {
  return sequence(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octetString(value)); // DER: a FALSE default is left out (X.690 §11.5)
}

/** A Name of one commonName (RFC 5280 §4.1.2.6, id-at-commonName), or the empty Name. */
export function commonName(cn: string | undefined): Der {
  return sequence(...(cn !== undefined ? [set(sequence(oid('2.5.4.3'), utf8String(cn)))] : []));
}

/** RFC 5280 §4.2.1.6 subjectAltName of GeneralNames; critical when the subject is the empty Name, as that section requires. */
export function subjectAltName(names: readonly Der[], emptySubject: boolean): Der {
  return extension('2.5.29.17', emptySubject, sequence(...names));
}

/** RFC 7468 §2: base64 in lines of 64 characters between the labelled lines. */
export function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

/** A v3 certificate signed by its own key (issuer = subject), with a random positive serial; PEM. */
export function selfSignedCertificate(o: { key: KeyObject; keyType: KeyType; subject: Der; notBefore: Date; notAfter: Date; extensions: readonly Der[] }): string {
  const alg = signatureAlgorithm(o.keyType);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // RFC 5280 §4.1.2.2: positive, at most 20 octets
  const tbs = sequence(
    explicit(0, integer(2)), // v3 (RFC 5280 §4.1.2.1)
    integer(serial),
    alg.id,
    o.subject, // issuer (RFC 5280 §4.1.2.4)
    sequence(time(o.notBefore), time(o.notAfter)), // RFC 5280 §4.1.2.5
    o.subject,
    createPublicKey(o.key).export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...o.extensions)),
  );
  const signature = sign(alg.hash, tbs, o.key); // ECDSA: DER Ecdsa-Sig-Value (RFC 5758 §3.2)
  return pem('CERTIFICATE', sequence(tbs, alg.id, bitString(signature)));
}
