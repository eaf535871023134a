// TLS public keys of the account: client certificates whose public key logs in with SASL
// EXTERNAL (RFC 4422 Appendix A) as one of the account's addresses, optionally without IMAP
// PREAUTH. Keys are identified as the CLI does (src/tls publicKeyFingerprint: SHA-256 of
// the SubjectPublicKeyInfo); a method only sees and removes the session's account's keys.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { lookupAddress } from '../config/index.ts';
import { ApiError } from '../http/index.ts';
import type { TlsPublicKey } from '../store/index.ts';
import { publicKeyFingerprint } from '../tls/index.ts';
import { accountConfig, accountMethod, type AccountSurfaceDeps } from './method.ts';

export interface TlsKeyInfo {
  fingerprint: string; // base64url(SHA-256(SubjectPublicKeyInfo DER))
  name: string;
  loginAddress: string;
  noIMAPPreauth: boolean; // true: IMAP over implicit TLS does not answer PREAUTH for this key
  created: string; // ISO 8601
  subject: string; // of the uploaded certificate, e.g. "CN=laptop"
  keyType: string; // ed25519, rsa, ec, ...
  validTo: string; // of the certificate (the key is what counts; the dates are not checked at login)
}

const maxCertificateChars = 64 * 1024;

function info(k: TlsPublicKey): TlsKeyInfo {
  let subject = '';
  let keyType = '';
  let validTo = '';
  try {
    const c = new X509Certificate(Buffer.from(k.certDER, 'base64'));
    subject = c.subject.replaceAll('\n', ', ');
    keyType = c.publicKey.asymmetricKeyType ?? '';
    validTo = new Date(c.validTo).toISOString();
  } catch {
    // stored by an older version or damaged: the key still works, only these details are missing
  }
  return { fingerprint: k.fingerprint, name: k.name, loginAddress: k.loginAddress, noIMAPPreauth: k.noIMAPPreauth, created: k.created, subject, keyType, validTo };
}

/** The first certificate of the PEM text (a chain's leaf); node:crypto reads PEM (and DER). */
function parseCertificate(pem: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ApiError('user:error', 'not a PEM certificate: it starts with "-----BEGIN CERTIFICATE-----" (a private key is not needed and should not be uploaded)');
  try {
    return new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')));
  } catch (e) {
    throw new ApiError('user:error', `the certificate cannot be read: ${(e as Error).message}`);
  }
}

export function tlsKeyMethods(d: AccountSurfaceDeps) {
  return {
    tlsPublicKeys: accountMethod(z.object({}), async (_i, { session }): Promise<TlsKeyInfo[]> => (await d.store.auth.listTlsPublicKeys(session.account)).map(info)),

    addTlsPublicKey: accountMethod(
      z.object({
        certificate: z.string().min(1).max(maxCertificateChars),
        loginAddress: z.string().trim().min(1).max(320),
        name: z.string().trim().max(100).optional(),
        noIMAPPreauth: z.boolean().default(false),
      }),
      async (i, { session }): Promise<TlsKeyInfo> => {
        accountConfig(d, session.account);
        const cert = parseCertificate(i.certificate);
        // The login address must be one of this account's own addresses, not a catch-all (as `config tlspubkey add`).
        const t = lookupAddress(d.domains(), i.loginAddress);
        if (!t || t.kind !== 'account' || t.account !== session.account || t.address.startsWith('@')) throw new ApiError('user:error', `${JSON.stringify(i.loginAddress)} is not an address of this account`);
        const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
        const key: TlsPublicKey = {
          fingerprint: publicKeyFingerprint(cert),
          name: i.name || cn || t.address,
          account: session.account,
          loginAddress: t.address,
          noIMAPPreauth: i.noIMAPPreauth,
          certDER: cert.raw.toString('base64'),
          created: new Date().toISOString(),
        };
        const existing = await d.store.auth.getTlsPublicKey(key.fingerprint);
        if (existing) throw new ApiError('user:error', existing.account === session.account ? `this public key is already registered as ${JSON.stringify(existing.name)}` : 'this public key is already registered');
        await d.store.auth.addTlsPublicKey(key); // ALREADYEXISTS in a race: user:error
        return info(key);
      },
    ),

    removeTlsPublicKey: accountMethod(z.object({ fingerprint: z.string().min(1).max(100) }), async ({ fingerprint }, { session }) => {
      const k = await d.store.auth.getTlsPublicKey(fingerprint);
      if (!k || k.account !== session.account) throw new ApiError('user:error', 'no such TLS public key');
      await d.store.auth.removeTlsPublicKey(fingerprint);
      return {};
    }),
  };
}
