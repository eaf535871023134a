// The TLS client certificate sendmail logs in with (SASL EXTERNAL): a PEM file with a
// private key and its certificate chain, or an ed25519 private key alone, for which a
// minimal self-signed certificate is made in memory. The server identifies the client by
// the public key only (src/tls publicKeyFingerprint), so names and dates do not matter.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { makeSelfSigned } from '../tls/index.ts';

export interface ClientCertificate {
  keyPEM: string;
  certPEM: string; // chain, leaf first
  key: KeyObject;
  generated: boolean; // made here for a key that came without a certificate
}

interface PemBlock { label: string; text: string }

function pemBlocks(pem: string): PemBlock[] {
  return [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g)].map((m) => ({ label: m[1]!, text: m[0] + '\n' })); // RFC 7468 §2
}

/** Reads the key and certificate from a PEM file; names the problem when the file is not usable. */
export async function loadClientCertificate(file: Buffer, commonName: string): Promise<ClientCertificate> {
  const blocks = pemBlocks(file.toString('utf8'));
  const keys = blocks.filter((b) => /(^| )PRIVATE KEY$/.test(b.label));
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (keys.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) throw new Error('the private key is encrypted; store it unencrypted (and readable only by who may send)');
  if (keys.length !== 1) throw new Error(`expected one PEM private key, found ${keys.length}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(keys[0]!.text);
  } catch (e) {
    throw new Error(`private key: ${(e as Error).message}`);
  }
  if (certs.length === 0) {
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a private key without certificate must be ed25519 (this one is ${key.asymmetricKeyType}); add its certificate to the file`);
    return { keyPEM: keys[0]!.text, certPEM: (await makeSelfSigned({ names: [commonName], key, days: 1 })).certPEM, key, generated: true };
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0]!.text);
  } catch (e) {
    throw new Error(`certificate: ${(e as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error('the first certificate is not for the private key');
  return { keyPEM: keys[0]!.text, certPEM: certs.map((c) => c.text).join(''), key, generated: false };
}
