// Web sessions in auth.db: server-side sessions of the account page (and later webmail),
// so a login survives a restart. Only the SHA-256 of a session id is stored: a copy of
// auth.db does not hand out working cookies. Expiry policy is the web layer's (src/http).
import { CommittedTable } from './table.ts';
import type { WebSession } from './types.ts';

/** Auth migration 3 (issue 6). */
export const webSessionsSchema = `
CREATE TABLE web_sessions (
  id_hash TEXT PRIMARY KEY,       -- base64url(SHA-256(session id)); the id itself is only in the cookie
  surface TEXT NOT NULL,          -- 'account', later 'webmail': a session is valid on its own surface only
  account TEXT NOT NULL,
  csrf_token TEXT NOT NULL,       -- required with every API call; useless without the cookie
  created INTEGER NOT NULL,       -- ms since epoch; bounds the session's total lifetime
  last_used INTEGER NOT NULL      -- ms since epoch; bounds idle time
) WITHOUT ROWID;
CREATE INDEX web_sessions_account ON web_sessions (account);
`;

interface Row { id_hash: string; surface: string; account: string; csrf_token: string; created: number; last_used: number }

const fromRow = (r: Row): WebSession => ({ idHash: r.id_hash, surface: r.surface, account: r.account, csrfToken: r.csrf_token, created: r.created, lastUsed: r.last_used });

export class WebSessions extends CommittedTable {
  async create(s: WebSession): Promise<void> {
    await this.commit.write(() => void this.db
      .prepare('INSERT INTO web_sessions (id_hash, surface, account, csrf_token, created, last_used) VALUES (?, ?, ?, ?, ?, ?)')
      .run(s.idHash, s.surface, s.account, s.csrfToken, s.created, s.lastUsed));
  }

  async get(idHash: string): Promise<WebSession | undefined> {
    const r = this.db.prepare('SELECT * FROM web_sessions WHERE id_hash = ?').get(idHash) as Row | undefined;
    return r && fromRow(r);
  }

  async touch(idHash: string, lastUsed: number): Promise<void> {
    await this.commit.write(() => void this.db.prepare('UPDATE web_sessions SET last_used = ? WHERE id_hash = ?').run(lastUsed, idHash));
  }

  async remove(idHash: string): Promise<void> {
    await this.commit.write(() => void this.db.prepare('DELETE FROM web_sessions WHERE id_hash = ?').run(idHash));
  }

  /** Removes the account's sessions on every surface except keepIdHash (if given); returns how many. */
  async removeOthers(account: string, keepIdHash?: string): Promise<number> {
    return this.commit.write(() => Number(this.db.prepare('DELETE FROM web_sessions WHERE account = ? AND id_hash != ?').run(account, keepIdHash ?? '').changes));
  }

  /** Removes sessions last used before idleBefore or created before createdBefore (ms since epoch); returns how many. */
  async prune(idleBefore: number, createdBefore: number): Promise<number> {
    return this.commit.write(() => Number(this.db.prepare('DELETE FROM web_sessions WHERE last_used < ? OR created < ?').run(idleBefore, createdBefore).changes));
  }
}
