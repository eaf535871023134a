// Where ACME keeps its state: <dataDir>/acme/<provider>/ holds the account key and
// registration, one stable private key per host name, and the certificates. Keys are 0600.
import { mkdir, readFile } from 'node:fs/promises';
import { createPrivateKey, generateKeyPair } from 'node:crypto';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../config/index.ts';

const generate = promisify(generateKeyPair);

export interface AcmePaths {
  dir: string; // <dataDir>/acme/<provider>
  accountKey: string; // PEM, PKCS #8
  account: string; // JSON: AccountRegistration
  hostKey(name: string): string; // PEM, PKCS #8; never replaced once made
  certificate(name: string): string; // PEM chain as issued, leaf first
}

// Host names are file names below: only LDH labels (RFC 1035 §2.3.1, A-labels included), lowercase.
const hostnamePattern = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export function isAcmeHostname(name: string): boolean {
  return hostnamePattern.test(name);
}

export function acmePaths(dataDir: string, provider: string): AcmePaths {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(provider)) throw new Error(`ACME provider name ${JSON.stringify(provider)} cannot be a directory name`);
  const dir = join(dataDir, 'acme', provider);
  const named = (sub: string, suffix: string) => (name: string) => {
    if (!isAcmeHostname(name)) throw new Error(`not a host name: ${JSON.stringify(name)}`);
    return join(dir, sub, `${name}${suffix}`);
  };
  return {
    dir,
    accountKey: join(dir, 'account.key.pem'),
    account: join(dir, 'account.json'),
    hostKey: named('keys', '.key.pem'),
    certificate: named('certs', '.crt.pem'),
  };
}

/** A file's text, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Replaces a file atomically (fsynced), creating its directory (0700) first. */
export async function writeAcmeFile(path: string, data: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, data, mode);
}

const making = new Map<string, Promise<string>>(); // one maker per key file in this process

/**
 * The ECDSA P-256 private key (PEM) in a file, made when missing. A key, once written, is
 * never replaced: the file is created by link(2), which fails when another writer was first,
 * so a TLSA record (RFC 6698, 3 1 1) or an account made with the key stays valid.
 */
export function ensureKey(path: string): Promise<string> {
  const pending = making.get(path);
  if (pending) return pending;
  const p = (async () => {
    const existing = await readOptional(path);
    if (existing !== undefined) return checkedKey(existing, path);
    const { privateKey } = await generate('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    if (!(await writeFileAtomic(path, pem, 0o600, { replace: false }))) return checkedKey(await readFile(path, 'utf8'), path); // another process made it first: theirs stands
    return pem;
  })();
  making.set(path, p);
  void p.then(() => making.delete(path), () => making.delete(path));
  return p;
}

function checkedKey(pem: string, path: string): string {
  try {
    createPrivateKey(pem);
  } catch (e) {
    throw new Error(`${path}: not a private key: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return pem;
}
