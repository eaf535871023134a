// The two structures ACME needs from us, written with our DER writer: the certificate
// signing request of an order (PKCS #10, RFC 2986) and the self-signed tls-alpn-01 challenge
// certificate (RFC 8737 §3). ECDSA P-256 keys, as src/acme makes them.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { bitString, explicit, implicitPrimitive, integer, octetString, oid, sequence, set, time, utf8String, type Der } from './der.ts';

const generate = promisify(generateKeyPair);

const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2')); // RFC 5758 §3.2: no parameters

function p256Key(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('an ECDSA P-256 key is needed');
  return key;
}

function extension(id: string, critical: boolean, value: Der): Der {
  return sequence(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octetString(value)); // RFC 5280 §4.1: critical BOOLEAN DEFAULT FALSE
}

/** RFC 5280 §4.2.1.6: dNSName [2] IA5String entries. */
function subjectAltName(names: readonly string[]): Der {
  return extension('2.5.29.17', false, sequence(...names.map((n) => implicitPrimitive(2, Buffer.from(n, 'ascii')))));
}

/** A Name with a CN when it fits (X.520 ub-common-name: 64); the SAN is what clients check (RFC 6125 §6.4.4). */
function subject(name: string | undefined): Der {
  return sequence(...(name !== undefined && name.length <= 64 ? [set(sequence(oid('2.5.4.3'), utf8String(name)))] : []));
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

/** A CSR (PEM) for the names, signed by the key (ECDSA P-256, PEM): the names in an extensionRequest SAN (RFC 2986 §4.1, RFC 2985 §5.4.2). */
export function makeCsr(keyPEM: string, names: readonly string[]): string {
  const key = p256Key(keyPEM);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const extensionRequest = sequence(oid('1.2.840.113549.1.9.14'), set(sequence(subjectAltName(names))));
  const info = sequence(
    integer(0), // version v1
    subject(names[0]),
    spki,
    explicit(0, extensionRequest), // attributes [0] IMPLICIT SET OF Attribute, here one
  );
  const signature = sign('sha256', info, key); // DER Ecdsa-Sig-Value
  return pem('CERTIFICATE REQUEST', sequence(info, ecdsaWithSha256, bitString(signature)));
}

/**
 * A fresh key and the self-signed certificate answering a tls-alpn-01 challenge for `name`:
 * the name as its only dNSName and the SHA-256 of the key authorization in a critical
 * id-pe-acmeIdentifier extension (RFC 8737 §3, §6.1).
 */
export async function makeTlsAlpnCertificate(name: string, keyAuthorization: string): Promise<{ keyPEM: string; certPEM: string }> {
  const { privateKey } = await generate('ec', { namedCurve: 'P-256' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(keyAuthorization, 'utf8').digest();
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // RFC 5280 §4.1.2.2: positive
  const now = Date.now();
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    ecdsaWithSha256,
    subject(name), // issuer = subject: self-signed
    sequence(time(new Date(now - 60 * 60 * 1000)), time(new Date(now + 7 * 24 * 60 * 60 * 1000))),
    subject(name),
    spki,
    explicit(3, sequence(subjectAltName([name]), extension('1.3.6.1.5.5.7.1.31', true, octetString(digest)))),
  );
  const cert = sequence(tbs, ecdsaWithSha256, bitString(sign('sha256', tbs, privateKey)));
  return { keyPEM: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPEM: pem('CERTIFICATE', cert) };
}
