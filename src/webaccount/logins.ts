// The account's login history: recent SMTP, IMAP and web logins, successful or not, newest
// first, from auth.db (recorded by src/sasl recordLogin).
import { z } from 'zod';
import { accountMethod, type AccountSurfaceDeps } from './method.ts';

export interface LoginHistoryEntry {
  id: number; // pass as `before` for the next page
  time: number; // ms since epoch
  username: string; // as the client gave it
  ip: string;
  protocol: string; // smtp, submission, imap, web-account, ...
  mechanism: string; // PLAIN, SCRAM-SHA-256, EXTERNAL, password (web), ...
  result: string; // ok, badauth, disabled, malformed, ratelimited, error
  tls: string; // TLS version, '' without TLS
}

export function loginMethods(d: AccountSurfaceDeps) {
  return {
    loginHistory: accountMethod(z.object({ limit: z.number().int().min(1).max(500).default(100), before: z.number().int().positive().optional() }), async ({ limit, before }, { session }): Promise<LoginHistoryEntry[]> => {
      const rows = await d.store.auth.listLoginAttempts({ account: session.account, limit, ...(before === undefined ? {} : { before }) });
      return rows.map(({ id, time, username, ip, protocol, mechanism, result, tls }) => ({ id, time, username, ip, protocol, mechanism, result, tls }));
    }),
  };
}
