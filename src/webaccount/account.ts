// Account methods: what the account is (name, full name, addresses, quota), the full name
// (written to domains.conf), and the password change, which asks for the current password
// as mail servers do and ends the account's other web sessions.
import { z } from 'zod';
import { setAccountSettings } from '../config/index.ts';
import { ApiError } from '../http/index.ts';
import { deriveCredentials, isStoredCredentials, verifyPassword } from '../sasl/index.ts';
import { minPasswordLength } from './limits.ts';
import { accountConfig, accountMethod, withAccount, type AccountSurfaceDeps } from './method.ts';

export interface AccountInfo {
  name: string; // the login name and data directory name
  domain: string; // default domain of the account
  fullName: string; // '' when not set
  addresses: Array<{ address: string; catchall: boolean }>; // canonical; '@domain' is the domain's catch-all
  quota: { used: number; limit: number | null }; // octets (RFC 9208 STORAGE); null: no limit
  passwordChanged: string; // ISO 8601, '' when unknown
}

// Display names go into From headers: no control characters (CR/LF would split the header).
const fullName = z.string().trim().max(200).regex(/^[^\p{Cc}]*$/u, 'the full name cannot have control characters');

export function accountMethods(d: AccountSurfaceDeps) {
  return {
    account: accountMethod(z.object({}), async (_i, { session }): Promise<AccountInfo> => {
      const a = accountConfig(d, session.account);
      const quota = await withAccount(d, session.account, (acc) => acc.quota());
      const creds = await d.store.auth.getCredentials(session.account);
      return {
        name: session.account,
        domain: a.domain,
        fullName: a.fullName ?? '',
        addresses: Object.keys(a.destinations).map((address) => ({ address, catchall: address.startsWith('@') })),
        quota: { used: quota.used, limit: quota.limit },
        passwordChanged: isStoredCredentials(creds) ? creds.changed : '',
      };
    }),

    setFullName: accountMethod(z.object({ fullName }), async ({ fullName }, { session }) => {
      accountConfig(d, session.account);
      await setAccountSettings(d.config, session.account, { fullName: fullName === '' ? null : fullName });
      return { fullName };
    }),

    changePassword: accountMethod(z.object({ current: z.string().max(1000), password: z.string().min(minPasswordLength, `a password has at least ${minPasswordLength} characters`).max(1000) }), async ({ current, password }, { session, sessions, http }) => {
      // A session alone could be a borrowed browser: the current password proves the person. Wrong
      // guesses count as failed logins, so a stolen session cannot be used to guess the password.
      if (!d.authFailures.allowed(http.clientIP)) throw new ApiError('user:error', 'too many failed logins, try again later', 429);
      const creds = await d.store.auth.getCredentials(session.account);
      if (!isStoredCredentials(creds) || !(await verifyPassword(creds, current))) {
        await d.authFailures.failed(http.clientIP);
        throw new ApiError('user:error', 'the current password is wrong'); // not badAuth: that would ask to log in again
      }
      if (current === password) throw new ApiError('user:error', 'the new password is the current one');
      await d.store.auth.setCredentials(session.account, await deriveCredentials(password)); // PasswordError: prohibited characters
      const ended = await sessions.invalidateOtherSessions(session.account, session.id);
      http.log.info({ account: session.account, endedSessions: ended }, 'password changed on the account page');
      return { endedSessions: ended };
    }),
  };
}
