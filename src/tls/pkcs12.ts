// PKCS #12 files (RFC 7292) holding one private key and its certificate, for importing a
// TLS client certificate into mail clients. The key bag is encrypted by node:crypto
// (PKCS #8 EncryptedPrivateKeyInfo, PBES2/PBKDF2/AES-256-CBC, RFC 8018); the integrity
// MAC is HMAC-SHA-256 with the PKCS #12 key derivation (RFC 7292 Appendix B).
import { createHash, createHmac, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { bmpString, explicit, integer, nullValue, octetString, oid, sequence, set, type Der } from './der.ts';

const oids = {
  data: '1.2.840.113549.1.7.1', // RFC 2315 §8 (PKCS #7 data)
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2', // RFC 7292 §4.2.2
  certBag: '1.2.840.113549.1.12.10.1.3', // RFC 7292 §4.2.3
  x509Certificate: '1.2.840.113549.1.9.22.1', // RFC 7292 §4.2.3
  friendlyName: '1.2.840.113549.1.9.20', // RFC 2985 §5.5.1
  localKeyId: '1.2.840.113549.1.9.21', // RFC 2985 §5.5.2
  sha256: '2.16.840.1.101.3.4.2.1', // RFC 5754 §2.2
};

const macIterations = 2048;

/** RFC 7292 Appendix B.2: derives n bytes for purpose id (3 = MAC key) with SHA-256 (u = 32, v = 64). */
export function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, n: number): Buffer {
  const u = 32;
  const v = 64;
  const pw = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]); // B.1: BMPString with two zero bytes at the end
  const fill = (b: Buffer): Buffer => { const out = Buffer.alloc(v * Math.ceil(b.length / v)); for (let i = 0; i < out.length; i++) out[i] = b[i % b.length]!; return out; };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([fill(salt), fill(pw)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < n; produced += u) {
    let a = createHash('sha256').update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash('sha256').update(a).digest();
    out.push(a);
    const b = fill(a);
    for (let j = 0; j < i.length; j += v) {
      // I_j = (I_j + B + 1) mod 2^(8v)
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

function safeBag(bagId: string, value: Der, attributes: Der[]): Der {
  return sequence(oid(bagId), explicit(0, value), set(...attributes)); // RFC 7292 §4.2 SafeBag
}

const dataContentInfo = (content: Buffer): Der => sequence(oid(oids.data), explicit(0, octetString(content))); // RFC 2315 ContentInfo

/**
 * Packs a key and its certificate (PEM) into a PKCS #12 file protected by `password`.
 * The certificate bag is not encrypted (it is public); the key bag is.
 */
export function makePkcs12(o: { keyPEM: string; certPEM: string; password: string; friendlyName: string }): Buffer {
  const cert = new X509Certificate(o.certPEM);
  const localKeyId = createHash('sha256').update(cert.raw).digest().subarray(0, 20); // links the two bags
  const attributes = [
    sequence(oid(oids.friendlyName), set(bmpString(o.friendlyName))),
    sequence(oid(oids.localKeyId), set(octetString(localKeyId))),
  ];
  const encryptedKey = createPrivateKey(o.keyPEM).export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: o.password });
  const certBag = sequence(oid(oids.x509Certificate), explicit(0, octetString(cert.raw))); // RFC 7292 §4.2.3 CertBag
  const authenticatedSafe = sequence(
    dataContentInfo(sequence(safeBag(oids.certBag, certBag, attributes))), // SafeContents
    dataContentInfo(sequence(safeBag(oids.pkcs8ShroudedKeyBag, encryptedKey, attributes))),
  );
  const salt = randomBytes(16);
  const macKey = pkcs12Kdf(o.password, salt, 3, macIterations, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest(); // RFC 7292 §5.1: over the content of authSafe
  const macData = sequence(sequence(sequence(oid(oids.sha256), nullValue()), octetString(mac)), octetString(salt), integer(macIterations)); // RFC 7292 §4 MacData
  return sequence(integer(3), dataContentInfo(authenticatedSafe), macData); // RFC 7292 §4 PFX, version 3
}
