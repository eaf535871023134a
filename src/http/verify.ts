// The account surface's login check: an account name or address (from the live
// domains.conf) and its password, against the credentials in auth.db.
import type { DomainsConfig } from '../config/index.ts';
import { isStoredCredentials, loginAccount, verifyPassword } from '../sasl/index.ts';
import type { Store } from '../store/index.ts';
import type { LoginVerifier } from './api.ts';

/** domains() is called per login, so a reloaded domains.conf applies at once. */
export function accountVerifier(store: Store, domains: () => DomainsConfig): LoginVerifier {
  return async (username, password) => {
    const account = loginAccount(domains(), username);
    if (account === undefined) return undefined;
    const credentials = await store.auth.getCredentials(account);
    if (!isStoredCredentials(credentials)) return undefined;
    return (await verifyPassword(credentials, password)) ? account : undefined;
  };
}
