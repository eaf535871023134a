// The two structures ACME needs from us, written with our DER writer: the certificate
// signing request of an order (PKCS #10, RFC 2986) and the self-signed tls-alpn-01 challenge
// certificate (RFC 8737 §3). ECDSA P-256 keys, as src/acme makes them.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { bitString, explicit, implicitPrimitive, integer, octetString, oid, sequence, set, type Der } from './der.ts';
import { commonName, extension, pem, selfSignedCertificate, signatureAlgorithm, subjectAltName } from './x509.ts';

const generate = promisify(generateKeyPair);

function p256Key(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('an ECDSA P-256 key is needed');
  return key;
}

/** The subject (a CN when it fits X.520's ub-common-name of 64, RFC 5280 App. A) and the dNSName SAN (RFC 5280 §4.2.1.6) of host names (A-labels). */
function named(names: readonly string[]): { subject: Der; san: Der } {
  const cn = names[0] !== undefined && names[0].length <= 64 ? names[0] : undefined; // clients check the SAN, not the CN (RFC 6125 §6.4.4)
  return { subject: commonName(cn), san: subjectAltName(names.map((n) => implicitPrimitive(2, Buffer.from(n, 'ascii'))), cn === undefined) };
}

/** A CSR (PEM) for the names, signed by the key (ECDSA P-256, PEM): the names in an extensionRequest SAN (RFC 2986 §4.1, RFC 2985 §5.4.2). */
export function makeCsr(keyPEM: string, names: readonly string[]): string {
  const key = p256Key(keyPEM);
  const { subject, san } = named(names);
  const extensionRequest = sequence(oid('1.2.840.113549.1.9.14'), set(sequence(san))); // Attribute { extensionRequest, SET { Extensions } }
  const info = sequence(
    integer(0), // version v1
    subject,
    createPublicKey(key).export({ type: 'spki', format: 'der' }),
    explicit(0, extensionRequest), // attributes [0] IMPLICIT SET OF Attribute: with one Attribute, the same bytes as [0] around it
  );
  const alg = signatureAlgorithm('ecdsa-p256');
  return pem('CERTIFICATE REQUEST', sequence(info, alg.id, bitString(sign(alg.hash, info, key)))); // signature: DER Ecdsa-Sig-Value
}

/**
 * A fresh key and the self-signed certificate answering a tls-alpn-01 challenge for `name`:
 * the name as its only dNSName and the SHA-256 of the key authorization in a critical
 * id-pe-acmeIdentifier extension (RFC 8737 §3, §6.1).
 */
export async function makeTlsAlpnCertificate(name: string, keyAuthorization: string): Promise<{ keyPEM: string; certPEM: string }> {
  const { privateKey } = await generate('ec', { namedCurve: 'P-256' });
  const { subject, san } = named([name]);
  const digest = createHash('sha256').update(keyAuthorization, 'utf8').digest(); // Authorization ::= OCTET STRING (SIZE (32))
  const now = Date.now();
  const certPEM = selfSignedCertificate({
    key: privateKey,
    keyType: 'ecdsa-p256',
    subject,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + 7 * 24 * 60 * 60 * 1000),
    extensions: [san, extension('1.3.6.1.5.5.7.1.31', true, octetString(digest))],
  });
  return { keyPEM: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPEM };
}
