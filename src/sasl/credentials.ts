// Stored credentials for an account, derived once when a password is set (never the
// plaintext): an scrypt hash for PLAIN/LOGIN/web login, SCRAM salted keys per hash
// (RFC 5802 §3, RFC 7677), and HMAC-MD5 inner/outer states for CRAM-MD5 (RFC 2195,
// RFC 2104 §4). Passwords are normalised first (RFC 8265 OpaqueString via SASLprep).
import { createHash, createHmac, pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslprep } from '@mongodb-js/saslprep';
import { md5Resume, md5StateAfterBlock, type Md5State } from './md5.ts';

const scryptAsync = promisify(scrypt) as (password: Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = 'sha1' | 'sha256';

/** SCRAM server-side secrets (RFC 5802 §3): enough to verify a client proof, not to log in elsewhere. */
export interface ScramCredentials {
  salt: string; // base64
  iterations: number; // PBKDF2 rounds, RFC 7677 §4: at least 4096
  storedKey: string; // base64 H(ClientKey)
  serverKey: string; // base64 HMAC(SaltedPassword, "Server Key")
}

/** An scrypt password hash with its parameters (cost N, block size r, parallelism p). */
export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: string; // base64
  hash: string; // base64
}

/** What is stored per account; JSON-serialisable. */
export interface StoredCredentials {
  version: 1;
  scrypt: ScryptHash;
  scram: Record<ScramHash, ScramCredentials>;
  cramMD5: { ipad: number[]; opad: number[] }; // MD5 chaining states after key^ipad / key^opad
  changed: string; // ISO time the password was set
}

export class PasswordError extends Error {
  override name = 'PasswordError';
}

const scryptParams = { N: 1 << 15, r: 8, p: 1 };
const scramIterations = 4096;

/**
 * Normalises a password per RFC 8265 §4.2 (OpaqueString), in practice SASLprep (RFC 4013),
 * which SCRAM requires (RFC 5802 §2.2). Rejects prohibited characters and empty results.
 */
export function normalizePassword(password: string): string {
  let out: string;
  try {
    out = saslprep(password);
  } catch (e) {
    throw new PasswordError(`password has a prohibited character: ${(e as Error).message}`);
  }
  if (out.length === 0) throw new PasswordError('password is empty'); // RFC 8265 §4.2.2
  return out;
}

const hashLen: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

/** SaltedPassword := Hi(Normalize(password), salt, i) (RFC 5802 §3). */
export async function scramSaltedPassword(hash: ScramHash, normalized: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(normalized, 'utf8'), salt, iterations, hashLen[hash], hash);
}

/** StoredKey and ServerKey from a SaltedPassword (RFC 5802 §3). */
export function scramKeys(hash: ScramHash, salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  return { clientKey, storedKey: createHash(hash).update(clientKey).digest(), serverKey: createHmac(hash, salted).update('Server Key').digest() };
}

async function deriveScram(hash: ScramHash, normalized: string): Promise<ScramCredentials> {
  const salt = randomBytes(16);
  const salted = await scramSaltedPassword(hash, normalized, salt, scramIterations);
  const { storedKey, serverKey } = scramKeys(hash, salted);
  return { salt: salt.toString('base64'), iterations: scramIterations, storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
}

/** HMAC-MD5 key pads (RFC 2104 §2): keys over 64 bytes are hashed first. */
function hmacPads(key: Buffer): { ipad: Buffer; opad: Buffer } {
  const k = Buffer.alloc(64);
  (key.length > 64 ? createHash('md5').update(key).digest() : key).copy(k);
  const ipad = Buffer.alloc(64);
  const opad = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) { ipad[i] = k[i]! ^ 0x36; opad[i] = k[i]! ^ 0x5c; }
  return { ipad, opad };
}

async function deriveScrypt(normalized: string): Promise<ScryptHash> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(Buffer.from(normalized, 'utf8'), salt, 32, { ...scryptParams, maxmem: 64 * 1024 * 1024 });
  return { ...scryptParams, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

/** Only the scrypt hash of a new password: for a password checked in plaintext only (the admin's). */
export async function hashPassword(password: string): Promise<ScryptHash> {
  return deriveScrypt(normalizePassword(password));
}

/** Derives everything stored for a new password. Slow on purpose (scrypt, PBKDF2), off the event loop. */
export async function deriveCredentials(password: string, now = new Date()): Promise<StoredCredentials> {
  const normalized = normalizePassword(password);
  const [scryptHash, sha1, sha256] = await Promise.all([deriveScrypt(normalized), deriveScram('sha1', normalized), deriveScram('sha256', normalized)]);
  const pads = hmacPads(Buffer.from(normalized, 'utf8'));
  return {
    version: 1,
    scrypt: scryptHash,
    scram: { sha1, sha256 },
    cramMD5: { ipad: md5StateAfterBlock(pads.ipad), opad: md5StateAfterBlock(pads.opad) },
    changed: now.toISOString(),
  };
}

/** Checks a plaintext password (PLAIN, LOGIN, web login) against the scrypt hash in constant time. */
export async function verifyPassword(creds: StoredCredentials, password: string): Promise<boolean> {
  return verifyScrypt(creds.scrypt, password);
}

/** Checks a plaintext password against an scrypt hash in constant time. */
export async function verifyScrypt(h: ScryptHash, password: string): Promise<boolean> {
  let normalized: string;
  try {
    normalized = normalizePassword(password);
  } catch {
    return false;
  }
  const want = Buffer.from(h.hash, 'base64');
  const got = await scryptAsync(Buffer.from(normalized, 'utf8'), Buffer.from(h.salt, 'base64'), want.length, { N: h.N, r: h.r, p: h.p, maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(want, got);
}

/** HMAC-MD5(password, challenge) from the stored pad states, as CRAM-MD5 needs (RFC 2195 §2). */
export function cramMD5Digest(creds: StoredCredentials, challenge: Buffer): Buffer {
  const inner = md5Resume(creds.cramMD5.ipad as Md5State, 64, challenge);
  return md5Resume(creds.cramMD5.opad as Md5State, 64, inner);
}

/** Whether a JSON value read back from storage has the shape of StoredCredentials. */
export function isStoredCredentials(v: unknown): v is StoredCredentials {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Partial<StoredCredentials>;
  return c.version === 1 && typeof c.scrypt?.hash === 'string' && typeof c.scram?.sha256?.storedKey === 'string' && Array.isArray(c.cramMD5?.ipad);
}
