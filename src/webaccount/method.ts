// What every account API method shares: the server parts it works on (AccountSurfaceDeps),
// a session (no account method answers without one; the session's account is the only one
// a method touches), and the translation of expected failures into user:error.
import type { z } from 'zod';
import type { Account as AccountConfig, Config, DomainsConfig } from '../config/index.ts';
import { ApiError, sessionMethod, type ApiCall, type ApiMethod } from '../http/index.ts';
import type { AuthFailureLimiter } from '../sasl/index.ts';
import type { Account, Store } from '../store/index.ts';

/** The running server's parts the account page shows and changes. */
export interface AccountSurfaceDeps {
  config: Config; // edits (full name) go through it; domains.conf is written atomically and live holders see the change at once
  store: Store;
  domains: () => DomainsConfig; // the live domains.conf
  authFailures: AuthFailureLimiter; // shared with SMTP and IMAP: web logins and wrong current passwords count
}

/** A session-only method whose handler's expected failures reach the user as user:error. */
export function accountMethod<I extends z.ZodType, O>(input: I, handler: (input: z.output<I>, call: ApiCall<'session'>) => Promise<O> | O): ApiMethod<I, O, 'session'> {
  return sessionMethod(input, handler);
}

/** The session's account in the live domains.conf; an account removed meanwhile has nothing to show. */
export function accountConfig(d: AccountSurfaceDeps, name: string): AccountConfig {
  const a = d.domains().accounts[name];
  if (!a) throw new ApiError('user:error', `account ${JSON.stringify(name)} no longer exists`);
  return a;
}

/** Runs f with the account's mail store open, closing it after. */
export async function withAccount<T>(d: AccountSurfaceDeps, name: string, f: (a: Account) => Promise<T>): Promise<T> {
  const a = await d.store.openAccount(name);
  try {
    return await f(a);
  } finally {
    await a.close();
  }
}
