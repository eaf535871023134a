// Admin methods for accounts and their addresses: list, add (config and mail store, with an
// optional first password, as `config account add` + `setaccountpassword`), remove (config,
// store, credentials, TLS keys), addresses, full name, quota, password reset and the login
// switch. A password reset or a disabled login ends the account's web sessions.
import { z } from 'zod';
import { addAccount, addAddress, removeAccount, removeAddress, setAccountSettings, type DomainsConfig } from '../config/index.ts';
import { ApiError } from '../http/index.ts';
import { logger } from '../log/index.ts';
import { deriveCredentials, isStoredCredentials } from '../sasl/index.ts';
import { isStoreError, type Account as MailAccount, type Store } from '../store/index.ts';
import { adminMethod, type AdminSurfaceDeps } from './method.ts';

const log = logger('webadmin');

const accountName = z.string().min(1).max(64);
const address = z.string().trim().min(1).max(320);
const password = z.string().min(1).max(1000);

export interface AccountSummary {
  name: string;
  domain: string;
  fullName: string;
  addresses: string[]; // canonical; '@domain' is a catch-all
  quotaBytes: number; // 0: no limit
  loginDisabled: string; // the message shown at login; '' when logins work
}

export interface AccountDetail extends AccountSummary {
  description: string;
  aliases: string[]; // aliases with one of the addresses as member
  hasPassword: boolean;
  mailData: boolean; // the account exists in the message store
  quotaUsedBytes?: number; // RFC 9208 STORAGE usage, when the store has the account
}

function existing(c: DomainsConfig, name: string) {
  const a = c.accounts[name];
  if (!a) throw new ApiError('user:error', `no account ${JSON.stringify(name)}`);
  return a;
}

function summary(c: DomainsConfig, name: string): AccountSummary {
  const a = existing(c, name);
  return { name, domain: a.domain, fullName: a.fullName ?? '', addresses: Object.keys(a.destinations), quotaBytes: a.quotaBytes ?? 0, loginDisabled: a.loginDisabled ?? '' };
}

/**
 * Removes the mail data of removed accounts. An account still open (an IMAP session, a
 * delivery within the last minute) cannot be removed at once; it is tried again every few
 * seconds for a while, unless the account has been added again meanwhile.
 */
export class DataRemovals {
  readonly #store: Store;
  readonly #domains: () => DomainsConfig;
  readonly #timers = new Set<NodeJS.Timeout>();
  static readonly retryMs = 5_000;
  static readonly tries = 120; // 10 minutes

  constructor(store: Store, domains: () => DomainsConfig) {
    this.#store = store;
    this.#domains = domains;
  }

  /** True when the data is gone now; false when it will be removed once the account is closed. */
  async remove(name: string): Promise<boolean> {
    if (!(await this.#store.listAccounts()).includes(name)) return true;
    try {
      await this.#store.removeAccount(name);
      return true;
    } catch (e) {
      if (!isStoreError(e, 'INUSE')) throw e;
      this.#later(name, 1);
      return false;
    }
  }

  #later(name: string, n: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#domains().accounts[name]) return; // added again: the data is the new account's
      this.#store.removeAccount(name).then(
        () => log.info({ account: name }, 'mail data of removed account removed'),
        (e: unknown) => {
          if (isStoreError(e, 'NONEXISTENT')) return;
          if (isStoreError(e, 'INUSE') && n < DataRemovals.tries) return this.#later(name, n + 1);
          log.error({ err: e, account: name }, 'removing the mail data of a removed account failed; remove its folder by hand');
        },
      );
    }, DataRemovals.retryMs);
    t.unref();
    this.#timers.add(t);
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

export function accountMethods(d: AdminSurfaceDeps, removals: DataRemovals) {
  const endSessions = (name: string) => d.store.auth.removeOtherWebSessions(name);

  /** Runs fn with the account's mail store open; undefined when the store has no such account. */
  async function withMailData<T>(name: string, fn: (a: MailAccount) => Promise<T>): Promise<T | undefined> {
    if (!(await d.store.listAccounts()).includes(name)) return undefined;
    const a = await d.store.openAccount(name);
    try {
      return await fn(a);
    } finally {
      await a.close();
    }
  }

  return {
    accounts: adminMethod(z.object({}), (): AccountSummary[] => {
      const c = d.domains();
      return Object.keys(c.accounts).sort().map((name) => summary(c, name));
    }),

    account: adminMethod(z.object({ name: accountName }), async ({ name }): Promise<AccountDetail> => {
      const c = d.domains();
      const s = summary(c, name);
      const quota = await withMailData(name, (a) => a.quota());
      return {
        ...s,
        description: c.accounts[name]?.description ?? '',
        aliases: Object.entries(c.aliases).filter(([, al]) => al.members.some((m) => s.addresses.includes(m))).map(([x]) => x).sort(),
        hasPassword: isStoredCredentials(await d.store.auth.getCredentials(name)),
        mailData: quota !== undefined,
        ...(quota ? { quotaUsedBytes: quota.used } : {}),
      };
    }),

    /** Adds the account to domains.conf and creates its mailboxes; with a password, logins work at once. */
    accountAdd: adminMethod(
      z.object({ name: accountName, address, fullName: z.string().max(200).optional(), password: password.optional() }),
      async ({ name, address: addr, fullName, password: pw }) => {
        const creds = pw === undefined ? undefined : await deriveCredentials(pw); // an unusable password refuses before anything changes
        await addAccount(d.config, { name, address: addr, fullName });
        if (!(await d.store.listAccounts()).includes(name)) await d.store.createAccount(name);
        if (creds) await d.store.auth.setCredentials(name, creds);
        return { name };
      },
    ),

    /** Removes the account from domains.conf, then its messages, credentials, TLS public keys and web sessions. */
    accountRemove: adminMethod(z.object({ name: accountName }), async ({ name }) => {
      await removeAccount(d.config, name); // refused (nothing changed) while an alias has one of its addresses as member
      await d.store.auth.removeLogins(name); // credentials, TLS public keys and web sessions
      return { dataRemoved: await removals.remove(name) };
    }),

    /** 'local@domain', a bare localpart at the account's domain, or '@domain' (catch-all). */
    addressAdd: adminMethod(z.object({ account: accountName, address }), async ({ account, address: addr }) => {
      await addAddress(d.config, account, addr);
      return {};
    }),

    addressRemove: adminMethod(z.object({ address }), async ({ address: addr }) => {
      await removeAddress(d.config, addr);
      return {};
    }),

    accountSetFullName: adminMethod(z.object({ name: accountName, fullName: z.string().max(200) }), async ({ name, fullName }) => {
      await setAccountSettings(d.config, name, { fullName: fullName.trim() || null });
      return {};
    }),

    /** The limit in domains.conf and in the store, which enforces it (RFC 9208); 0: no limit. */
    accountSetQuota: adminMethod(z.object({ name: accountName, quotaBytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER) }), async ({ name, quotaBytes }) => {
      await setAccountSettings(d.config, name, { quotaBytes: quotaBytes || null });
      await withMailData(name, (a) => a.setQuota(quotaBytes || null));
      return {};
    }),

    /** Sets a new password and ends the account's web sessions (a reset usually means the old one is known to others). */
    accountSetPassword: adminMethod(z.object({ name: accountName, password }), async ({ name, password: pw }) => {
      existing(d.domains(), name);
      await d.store.auth.setCredentials(name, await deriveCredentials(pw));
      return { sessionsEnded: await endSessions(name) };
    }),

    /** Logins (SMTP, IMAP, web) fail with the message; mail is still delivered. Web sessions end. */
    accountDisableLogin: adminMethod(z.object({ name: accountName, message: z.string().trim().min(1).max(500) }), async ({ name, message }) => {
      await setAccountSettings(d.config, name, { loginDisabled: message });
      return { sessionsEnded: await endSessions(name) };
    }),

    accountEnableLogin: adminMethod(z.object({ name: accountName }), async ({ name }) => {
      await setAccountSettings(d.config, name, { loginDisabled: null });
      return {};
    }),
  };
}
