// The admin password of the admin web page: only its scrypt hash is stored, as one line in
// PHC string format ("$scrypt$ln=15,r=8,p=1$salt$hash", unpadded base64), in the file named
// by adminPasswordFile of mailcove.conf (default "adminpasswd" beside it), mode 0600.
// Only the scrypt hash, not the SCRAM/CRAM-MD5 secrets of accounts: the admin logs in over
// the web with the plaintext password only, and CRAM-MD5 states would be password-equivalent.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic, type StaticConfig } from '../config/index.ts';
import { hashPassword, verifyScrypt, type ScryptHash } from './credentials.ts';

export const defaultAdminPasswordFile = 'adminpasswd';

/** The file holding the admin password hash; relative names are relative to the config directory. */
export function adminPasswordPath(configDir: string, s: Pick<StaticConfig, 'adminPasswordFile'>): string {
  return resolve(configDir, s.adminPasswordFile ?? defaultAdminPasswordFile);
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('base64').replace(/=+$/, ''); // PHC: base64 without padding

function formatPhc(h: ScryptHash): string {
  return `$scrypt$ln=${Math.log2(h.N)},r=${h.r},p=${h.p}$${b64(h.salt)}$${b64(h.hash)}`;
}

function parsePhc(line: string): ScryptHash | undefined {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(line.trim());
  if (!m) return undefined;
  return { N: 2 ** Number(m[1]), r: Number(m[2]), p: Number(m[3]), salt: m[4]!, hash: m[5]! };
}

/** Sets the admin password (normalised like account passwords, RFC 8265); throws PasswordError for an unusable one. */
export async function setAdminPassword(configDir: string, s: Pick<StaticConfig, 'adminPasswordFile'>, password: string): Promise<string> {
  const path = adminPasswordPath(configDir, s);
  await writeFileAtomic(path, formatPhc(await hashPassword(password)) + '\n', 0o600);
  return path;
}

/**
 * Whether password is the admin password. False when none was set (no file: nobody can log
 * in as admin). A file that is not a hash written by setadminpassword is an error, not a
 * wrong password, so that the admin finds it in the log rather than guessing.
 */
export async function verifyAdminPassword(configDir: string, s: Pick<StaticConfig, 'adminPasswordFile'>, password: string): Promise<boolean> {
  const path = adminPasswordPath(configDir, s);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const h = parsePhc(text.split('\n')[0] ?? '');
  if (!h) throw new Error(`${path}: not an admin password hash; set one with mailcove setadminpassword`);
  return verifyScrypt(h, password);
}
