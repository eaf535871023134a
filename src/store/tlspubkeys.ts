// TLS public keys in auth.db: client certificates whose public key (SPKI fingerprint) logs
// in to an account with SASL EXTERNAL (RFC 4422 Appendix A), and may skip IMAP PREAUTH.
import { StoreError } from './errors.ts';
import { CommittedTable } from './table.ts';
import type { TlsPublicKey } from './types.ts';

/** Created on every open of auth.db (IF NOT EXISTS), so files made before this table get it too. */
export const tlsPublicKeysSchema = `
CREATE TABLE IF NOT EXISTS tls_public_keys (
  fingerprint TEXT PRIMARY KEY,   -- base64url(SHA-256(SubjectPublicKeyInfo DER))
  name TEXT NOT NULL,
  account TEXT NOT NULL,
  login_address TEXT NOT NULL,
  no_imap_preauth INTEGER NOT NULL,
  cert_der TEXT NOT NULL,         -- base64
  created TEXT NOT NULL           -- ISO 8601
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tls_public_keys_account ON tls_public_keys (account);
`;

interface Row { fingerprint: string; name: string; account: string; login_address: string; no_imap_preauth: number; cert_der: string; created: string }

const fromRow = (r: Row): TlsPublicKey => ({ fingerprint: r.fingerprint, name: r.name, account: r.account, loginAddress: r.login_address, noIMAPPreauth: r.no_imap_preauth !== 0, certDER: r.cert_der, created: r.created });

export class TlsPublicKeys extends CommittedTable {
  async add(k: TlsPublicKey): Promise<void> {
    await this.commit.write(() => {
      if (this.db.prepare('SELECT 1 FROM tls_public_keys WHERE fingerprint = ?').get(k.fingerprint)) throw new StoreError('ALREADYEXISTS', `TLS public key ${k.fingerprint} already exists`);
      this.db
        .prepare('INSERT INTO tls_public_keys (fingerprint, name, account, login_address, no_imap_preauth, cert_der, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(k.fingerprint, k.name, k.account, k.loginAddress, k.noIMAPPreauth ? 1 : 0, k.certDER, k.created);
    });
  }

  async get(fingerprint: string): Promise<TlsPublicKey | undefined> {
    const r = this.db.prepare('SELECT * FROM tls_public_keys WHERE fingerprint = ?').get(fingerprint) as Row | undefined;
    return r && fromRow(r);
  }

  async list(account?: string): Promise<TlsPublicKey[]> {
    const rows = (account === undefined
      ? this.db.prepare('SELECT * FROM tls_public_keys ORDER BY account, created, fingerprint').all()
      : this.db.prepare('SELECT * FROM tls_public_keys WHERE account = ? ORDER BY created, fingerprint').all(account)) as unknown as Row[];
    return rows.map(fromRow);
  }

  async remove(fingerprint: string): Promise<void> {
    await this.commit.write(() => {
      if (this.db.prepare('DELETE FROM tls_public_keys WHERE fingerprint = ?').run(fingerprint).changes === 0) throw new StoreError('NONEXISTENT', `no TLS public key ${fingerprint}`);
    });
  }
}
