// The account surface's login check: an account name or address (from the live
// domains.conf) and its password, against the credentials in auth.db.
import type { DomainsConfig } from '../config/index.ts';
import { checkCredentials, isStoredCredentials, loginAccount } from '../sasl/index.ts';
import type { Store } from '../store/index.ts';
import type { LoginVerifier } from './api.ts';

/** domains() is called per login, so a reloaded domains.conf applies at once. */
export function accountVerifier(store: Store, domains: () => DomainsConfig): LoginVerifier {
  return async (username, password) => {
    const account = loginAccount(domains(), username);
    const credentials = account === undefined ? undefined : await store.auth.getCredentials(account);
    // An unknown account costs the same scrypt as a known one: timing does not tell which accounts exist.
    return (await checkCredentials(isStoredCredentials(credentials) ? credentials : undefined, password)) ? account : undefined;
  };
}
