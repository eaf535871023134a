// Login attempts in auth.db: every SMTP, IMAP and web login, successful or not, for the
// account page's login history and the admin page's login attempts. Bounded: rows older
// than the keep period are pruned, and at most maxRows are kept in all.
import { CommittedTable } from './table.ts';
import type { LoginAttempt } from './types.ts';

/** Auth migration 4 (issue 6). */
export const loginAttemptsSchema = `
CREATE TABLE login_attempts (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,          -- ms since epoch
  account TEXT NOT NULL,          -- '' when the user name names no account
  username TEXT NOT NULL,         -- as the client gave it (capped)
  ip TEXT NOT NULL,
  protocol TEXT NOT NULL,         -- smtp, submission, imap, web-account, web-admin
  mechanism TEXT NOT NULL,        -- PLAIN, SCRAM-SHA-256, LOGIN, password (web), ...
  result TEXT NOT NULL,           -- ok, badauth, disabled, malformed, ratelimited, error
  tls TEXT NOT NULL               -- TLS version, '' without TLS
);
CREATE INDEX login_attempts_account ON login_attempts (account, time);
CREATE INDEX login_attempts_time ON login_attempts (time);
`;

interface Row { id: number; time: number; account: string; username: string; ip: string; protocol: string; mechanism: string; result: string; tls: string }

const fromRow = (r: Row): LoginAttempt => ({ id: r.id, time: r.time, account: r.account, username: r.username, ip: r.ip, protocol: r.protocol, mechanism: r.mechanism, result: r.result as LoginAttempt['result'], tls: r.tls });

export class LoginAttempts extends CommittedTable {
  async add(a: Omit<LoginAttempt, 'id'>): Promise<void> {
    await this.commit.write(() => void this.db
      .prepare('INSERT INTO login_attempts (time, account, username, ip, protocol, mechanism, result, tls) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.time, a.account, a.username.slice(0, 256), a.ip, a.protocol, a.mechanism, a.result, a.tls));
  }

  /** Newest first; of one account, or of all. `before` (an id) pages back. */
  async list(o: { account?: string; limit: number; before?: number }): Promise<LoginAttempt[]> {
    const before = o.before ?? Number.MAX_SAFE_INTEGER;
    const rows = o.account === undefined
      ? this.db.prepare('SELECT * FROM login_attempts WHERE id < ? ORDER BY id DESC LIMIT ?').all(before, o.limit)
      : this.db.prepare('SELECT * FROM login_attempts WHERE account = ? AND id < ? ORDER BY id DESC LIMIT ?').all(o.account, before, o.limit);
    return (rows as unknown as Row[]).map(fromRow);
  }

  /** Removes attempts before `before` (ms since epoch) and all but the newest maxRows; returns how many. */
  async prune(before: number, maxRows: number): Promise<number> {
    return this.commit.write(() => {
      const old = Number(this.db.prepare('DELETE FROM login_attempts WHERE time < ?').run(before).changes);
      const over = Number(this.db.prepare('DELETE FROM login_attempts WHERE id <= (SELECT id FROM login_attempts ORDER BY id DESC LIMIT 1 OFFSET ?)').run(maxRows).changes);
      return old + over;
    });
  }
}
