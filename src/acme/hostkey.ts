// The stable private key of a host name: every certificate for the name is issued for it,
// so a DANE TLSA record of the key (usage 3, selector 1, SHA-256) stays valid across renewals.
import { createHash, createPublicKey } from 'node:crypto';
import { ensureKey, acmePaths } from './files.ts';
import { acmeName } from './names.ts';

/** DER SubjectPublicKeyInfo of the host name's key; makes the key when it does not exist yet, so DNS records can be published before the first certificate. */
export async function hostKeySpki(o: { dataDir: string; provider: string; name: string }): Promise<Buffer> {
  const name = acmeName(o.name);
  if (!name) throw new Error(`not a host name: ${JSON.stringify(o.name)}`);
  const pem = await ensureKey(acmePaths(o.dataDir, o.provider).hostKey(name));
  return createPublicKey(pem).export({ type: 'spki', format: 'der' });
}

/** Hex SHA-256 of hostKeySpki: the data of a TLSA "3 1 1" record (RFC 6698 §2.1, RFC 7671 §5.1). */
export async function hostKeySpkiSha256(o: { dataDir: string; provider: string; name: string }): Promise<string> {
  return createHash('sha256').update(await hostKeySpki(o)).digest('hex');
}
