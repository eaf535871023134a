// `mailcove config tlspubkey add|rm|list|gen`: TLS client public keys that log in to an
// account with SASL EXTERNAL. The rows are in commands.ts; the work is here.
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { lookupAddress, type Config } from '../config/index.ts';
import type { Store, TlsPublicKey } from '../store/index.ts';
import { makePkcs12, makeSelfSigned, publicKeyFingerprint } from '../tls/index.ts';
import { CommandError } from './command.ts';

/** Reads a certificate file, PEM or DER; of a PEM chain, the first (leaf) certificate. */
export async function readCertificate(path: string): Promise<X509Certificate> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    throw new CommandError(`reading ${path}: ${(e as Error).message}`);
  }
  try {
    return new X509Certificate(data); // node:crypto takes PEM and DER
  } catch {
    throw new CommandError(`${path}: not a PEM or DER certificate`);
  }
}

/** The account whose address the login address is (not a catch-all or an alias); returns the canonical address. */
export function accountOfLogin(config: Config, address: string): { account: string; loginAddress: string } {
  const t = lookupAddress(config.domains, address);
  if (!t || t.kind !== 'account' || t.address.startsWith('@')) throw new CommandError(`${JSON.stringify(address)} is not an address of an account`);
  return { account: t.account, loginAddress: t.address };
}

export interface KeyOptions { name?: string; noIMAPPreauth: boolean }

/** Registers the certificate's public key for the account of the login address; name defaults to the certificate's subject CN. */
export async function addTlsPublicKey(config: Config, store: Store, address: string, cert: X509Certificate, o: KeyOptions): Promise<TlsPublicKey> {
  const { account, loginAddress } = accountOfLogin(config, address);
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
  const key: TlsPublicKey = {
    fingerprint: publicKeyFingerprint(cert),
    name: o.name ?? cn ?? loginAddress,
    account,
    loginAddress,
    noIMAPPreauth: o.noIMAPPreauth,
    certDER: cert.raw.toString('base64'),
    created: new Date().toISOString(),
  };
  await store.auth.addTlsPublicKey(key); // StoreError ALREADYEXISTS
  return key;
}

/** One line per key: fingerprint, account, login address, IMAP preauth, name. */
export function formatTlsPublicKeys(keys: TlsPublicKey[]): string {
  return keys.map((k) => `${k.fingerprint}\t${k.account}\t${k.loginAddress}\t${k.noIMAPPreauth ? 'no-imap-preauth' : 'imap-preauth'}\t${k.name}\n`).join('');
}

export interface GeneratedKey { fingerprint: string; password: string; files: string[]; cert: X509Certificate }

/**
 * Writes PREFIX.key.pem (PKCS #8, mode 0600), PREFIX.crt.pem (self-signed, CN = login
 * address, ECDSA P-256, 10 years) and PREFIX.p12 (both, for mail clients) protected by a
 * new random password. Refuses to overwrite existing files.
 */
export async function generateTlsPublicKey(loginAddress: string, prefix: string): Promise<GeneratedKey> {
  const kc = await makeSelfSigned({ names: [loginAddress], keyType: 'ecdsa-p256' });
  const password = randomBytes(12).toString('base64url'); // 96 bits; some clients refuse an empty password
  const files = [`${prefix}.key.pem`, `${prefix}.crt.pem`, `${prefix}.p12`];
  const contents = [kc.keyPEM, kc.certPEM, makePkcs12({ ...kc, password, friendlyName: loginAddress })];
  try {
    for (const [i, f] of files.entries()) await writeFile(f, contents[i]!, { flag: 'wx', mode: i === 1 ? 0o644 : 0o600 });
  } catch (e) {
    throw new CommandError(`writing ${prefix}.*: ${(e as Error).message}`);
  }
  return { fingerprint: publicKeyFingerprint(createPrivateKey(kc.keyPEM)), password, files, cert: new X509Certificate(kc.certPEM) };
}
