// The login history: every SMTP, IMAP and web login attempt is written to auth.db for the
// account page's login history and the admin page's login attempts. Writing never holds up
// or fails a login: it is queued on the store's group commit, and a failure is logged.
import { logger } from '../log/index.ts';
import { countAuth } from '../metrics/index.ts';
import type { LoginAttempt, Store } from '../store/index.ts';

const log = logger('sasl');
const keepMs = 90 * 24 * 3600_000; // 90 days of history
const maxRows = 100_000; // bounds auth.db however busy the logins are
const pruneEvery = 1000; // attempts between prunes (per process)
let sincePrune = 0;

export type LoginResult = LoginAttempt['result'];

export function recordLogin(store: Store, a: Omit<LoginAttempt, 'id' | 'time'>): void {
  countAuth(a.protocol, a.result);
  store.auth.addLoginAttempt({ time: Date.now(), ...a }).catch((e: unknown) => log.error({ err: e, account: a.account, protocol: a.protocol }, 'recording a login attempt failed'));
  if (++sincePrune < pruneEvery) return;
  sincePrune = 0;
  store.auth.pruneLoginAttempts(Date.now() - keepMs, maxRows).catch((e: unknown) => log.error({ err: e }, 'pruning login attempts failed'));
}
