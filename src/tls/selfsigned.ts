// Making self-signed certificates with node:crypto and our DER writer (RFC 5280): for
// localserve and tests (server certificates) and `config tlspubkey gen` (client certificates).
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { bitString, implicitPrimitive, oid, sequence } from './der.ts';
import { commonName, extension, selfSignedCertificate, subjectAltName, type KeyType } from './x509.ts';

export type { KeyType } from './x509.ts';

const generate = promisify(generateKeyPair);

async function newKey(keyType: KeyType): Promise<KeyObject> {
  if (keyType === 'ecdsa-p256') return (await generate('ec', { namedCurve: 'P-256' })).privateKey;
  if (keyType === 'rsa2048') return (await generate('rsa', { modulusLength: 2048 })).privateKey;
  return (await generate('ed25519')).privateKey;
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
  const now = Date.now();
  const altNames = [
    ...o.names.filter((n) => /^[\x21-\x7e]+$/.test(n)).map((n) => implicitPrimitive(n.includes('@') ? 1 : 2, Buffer.from(n, 'ascii'))), // RFC 5280 §4.2.1.6: [1] rfc822Name, [2] dNSName; IA5String, so ASCII only
    ...(o.ips ?? []).map((ip) => implicitPrimitive(7, ipBytes(ip))), // [7] iPAddress
  ];
  const extensions = [
    ...(altNames.length ? [subjectAltName(altNames, o.names[0] === undefined)] : []),
    extension('2.5.29.15', true, keyType === 'rsa2048' ? bitString(Buffer.from([0xa0]), 5) : bitString(Buffer.from([0x80]), 7)), // RFC 5280 §4.2.1.3 keyUsage: digitalSignature (+ keyEncipherment for RSA)
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))), // RFC 5280 §4.2.1.12: serverAuth, clientAuth
  ];
  const certPEM = selfSignedCertificate({
    key,
    keyType,
    subject: commonName(o.names[0]), // todo: RFC 5280 App. A ub-common-name is 64; src/cli/tlspubkey and src/webaccount read the login address back from a CN of any length
    notBefore: new Date(now - 60 * 60 * 1000), // an hour back, for clocks a little behind
    notAfter: new Date(now + (o.days ?? 3650) * 24 * 60 * 60 * 1000),
    extensions,
  });
  return { keyPEM: key.export({ type: 'pkcs8', format: 'pem' }).toString(), certPEM };
}
