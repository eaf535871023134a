// Making self-signed certificates with node:crypto and our DER writer (RFC 5280): for
// localserve and tests (server certificates) and `config tlspubkey gen` (client certificates).
import { generateKeyPair, randomBytes, sign, createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { bitString, explicit, implicitPrimitive, integer, octetString, oid, sequence, set, time, utf8String, nullValue, type Der } from './der.ts';

export type KeyType = 'ecdsa-p256' | 'rsa2048' | 'ed25519';

const generate = promisify(generateKeyPair);

async function newKey(keyType: KeyType): Promise<KeyObject> {
  if (keyType === 'ecdsa-p256') return (await generate('ec', { namedCurve: 'P-256' })).privateKey;
  if (keyType === 'rsa2048') return (await generate('rsa', { modulusLength: 2048 })).privateKey;
  return (await generate('ed25519')).privateKey;
}

/** The signature algorithm for a key (RFC 5280 §4.1.1.2) and how node:crypto signs with it. */
function signatureAlgorithm(keyType: KeyType): { id: Der; hash: string | null } {
  if (keyType === 'ecdsa-p256') return { id: sequence(oid('1.2.840.10045.4.3.2')), hash: 'sha256' }; // RFC 5758 §3.2 ecdsa-with-SHA256, no parameters
  if (keyType === 'rsa2048') return { id: sequence(oid('1.2.840.113549.1.1.11'), nullValue()), hash: 'sha256' }; // RFC 4055 §5 sha256WithRSAEncryption, NULL parameters
  return { id: sequence(oid('1.3.101.112')), hash: null }; // RFC 8410 §3 id-Ed25519, no parameters
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

function extension(id: string, critical: boolean, value: Der): Der {
  return sequence(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octetString(value)); // RFC 5280 §4.1: critical BOOLEAN DEFAULT FALSE
}

/** The KeyType of an existing private key, or undefined for kinds we do not sign with. */
function keyTypeOf(key: KeyObject): KeyType | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'rsa') return 'rsa2048';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  return undefined;
}

/**
 * Makes a key (or takes `key`) and a self-signed certificate. Subject CN is the first name;
 * names with an "@" become rfc822Name subject alternative names, others dNSName; ips become
 * iPAddress.
 */
export async function makeSelfSigned(o: { names: string[]; ips?: string[]; days?: number; keyType?: KeyType; key?: KeyObject }): Promise<{ keyPEM: string; certPEM: string }> {
  const keyType = o.key ? keyTypeOf(o.key) : o.keyType ?? 'ecdsa-p256';
  if (!keyType) throw new Error(`cannot sign with a ${o.key?.asymmetricKeyType} key`);
  const key = o.key ?? (await newKey(keyType));
  const alg = signatureAlgorithm(keyType);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = sequence(...(o.names[0] !== undefined ? [set(sequence(oid('2.5.4.3'), utf8String(o.names[0])))] : [])); // RFC 5280 §4.1.2.6, id-at-commonName
  const now = Date.now();
  const notBefore = new Date(now - 60 * 60 * 1000); // an hour back, for clocks a little behind
  const notAfter = new Date(now + (o.days ?? 3650) * 24 * 60 * 60 * 1000);
  const altNames = [
    ...o.names.filter((n) => /^[\x21-\x7e]+$/.test(n)).map((n) => implicitPrimitive(n.includes('@') ? 1 : 2, Buffer.from(n, 'ascii'))), // RFC 5280 §4.2.1.6: [1] rfc822Name, [2] dNSName; IA5String, so ASCII only
    ...(o.ips ?? []).map((ip) => implicitPrimitive(7, ipBytes(ip))), // [7] iPAddress
  ];
  const extensions = [
    ...(altNames.length ? [extension('2.5.29.17', false, sequence(...altNames))] : []), // subjectAltName
    extension('2.5.29.15', true, keyType === 'rsa2048' ? bitString(Buffer.from([0xa0]), 5) : bitString(Buffer.from([0x80]), 7)), // RFC 5280 §4.2.1.3 keyUsage: digitalSignature (+ keyEncipherment for RSA)
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))), // RFC 5280 §4.2.1.12: serverAuth, clientAuth
  ];
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // RFC 5280 §4.1.2.2: positive, at most 20 octets
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    alg.id,
    subject, // issuer = subject: self-signed
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(alg.hash, tbs, key); // ECDSA: DER Ecdsa-Sig-Value (RFC 5758 §3.2)
  const cert = sequence(tbs, alg.id, bitString(signature));
  const certPEM = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  return { keyPEM: key.export({ type: 'pkcs8', format: 'pem' }).toString(), certPEM };
}
