// The SaslContext every protocol server builds the same way: logins by account name or
// address from the live domains.conf, credentials and TLS client keys from the store, and
// the connection's TLS facts (channel binding, client key) when it has TLS.
import type { TLSSocket } from 'node:tls';
import { lookupAddress, type DomainsConfig } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { channelBinding, clientKeyFingerprint } from '../tls/index.ts';
import type { SaslContext } from './context.ts';
import { isStoredCredentials } from './credentials.ts';

/** The account a login name names: an account name, or an address delivering to an account. */
export function loginAccount(config: DomainsConfig, username: string): string | undefined {
  if (!username.includes('@')) return config.accounts[username] ? username : undefined;
  const t = lookupAddress(config, username);
  return t?.kind === 'account' ? t.account : undefined;
}

/** What a SASL exchange tried to log in as, for the login history (set as the mechanism looks up its user). */
export interface LoginTried { username: string; account: string }

export function loginContext(o: { store: Store; domains: DomainsConfig; hostname: string; tls?: { socket: TLSSocket; version: string } }): SaslContext & { tried: LoginTried } {
  const tried: LoginTried = { username: '', account: '' };
  const ctx: SaslContext & { tried: LoginTried } = {
    hostname: o.hostname,
    tried,
    lookup: async (username) => {
      const account = loginAccount(o.domains, username);
      tried.username = username;
      tried.account = account ?? '';
      if (!account) return undefined;
      const credentials = await o.store.auth.getCredentials(account);
      return isStoredCredentials(credentials) ? { account, credentials } : undefined;
    },
    lookupPublicKey: async (fingerprint) => {
      const k = await o.store.auth.getTlsPublicKey(fingerprint);
      if (k) Object.assign(tried, { username: k.loginAddress, account: k.account });
      return k ? { account: k.account, loginAddress: k.loginAddress } : undefined;
    },
  };
  const tls = o.tls;
  if (tls) {
    const fp = clientKeyFingerprint(tls.socket);
    ctx.tls = { version: tls.version, channelBinding: (type) => channelBinding(tls.socket, type), ...(fp ? { clientKeyFingerprint: fp } : {}) };
  }
  return ctx;
}
