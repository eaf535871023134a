// The account page (`/`, DESIGN.md Web; issue 6): its typed API (account, full name,
// password, TLS public keys, login history, export, import status), the upload and event
// routes of the import, and the frontend bundle (web/account). Logins by account name or
// address with the account's password; sessions persist in auth.db; every web login is
// written to the login history.
import { ApiError, apiEndpoint, accountVerifier, defineApi, frontendFiles, Sessions, storeSessionBackend, surfaceHandler, type LoginVerifier, type SurfaceHandler } from '../http/index.ts';
import { loginAccount, recordLogin } from '../sasl/index.ts';
import { accountMethods } from './account.ts';
import { exportMethods } from './export.ts';
import { ImportJobs } from './import.ts';
import { loginMethods } from './logins.ts';
import type { AccountSurfaceDeps } from './method.ts';
import { tlsKeyMethods } from './tlskeys.ts';

export type { AccountSurfaceDeps } from './method.ts';
export type { AccountInfo } from './account.ts';
export type { TlsKeyInfo } from './tlskeys.ts';
export type { LoginHistoryEntry } from './logins.ts';
export type { MailboxSummary } from './export.ts';
export type { ImportEvent, ImportStatus } from './import.ts';
// The limits and choices (./limits.ts) are imported by the frontend from that file itself: it has no server imports.

const accountCookieName = 'mailcove-account';
const accountPageTitle = 'Mailcove account';

function accountApi(d: AccountSurfaceDeps, imports: ImportJobs) {
  return defineApi({
    ...accountMethods(d),
    ...tlsKeyMethods(d),
    ...loginMethods(d),
    ...exportMethods(d),
    ...imports.methods(),
  });
}

/** The API table's type: the frontend's ApiClient<AccountApi> is typed by it. */
export type AccountApi = ReturnType<typeof accountApi>;

export async function accountSurface(d: AccountSurfaceDeps): Promise<{ handler: SurfaceHandler; close(): Promise<void> }> {
  const sessions = new Sessions({ cookieName: accountCookieName, backend: storeSessionBackend(d.store.auth, 'account') });
  const imports = await ImportJobs.start(d, sessions);
  const verifyPassword = accountVerifier(d.store, d.domains);
  const verify: LoginVerifier = async (username, password) => {
    const account = await verifyPassword(username, password);
    const disabled = account === undefined ? undefined : d.domains().accounts[account]?.loginDisabled;
    // As SMTP and IMAP refuse it (RFC 5530 AUTHORIZATIONFAILED): the right password, but the admin's message instead of a session.
    if (disabled) throw new ApiError('user:error', `login disabled: ${disabled}`, 403);
    return account;
  };
  const api = apiEndpoint({
    surface: 'account',
    api: accountApi(d, imports),
    sessions,
    verify,
    authFailures: d.authFailures,
    onLogin: ({ username, account, ip, result, secure }) => {
      const named = account ?? loginAccount(d.domains(), username) ?? '';
      // api.ts reports a verifier's exception as 'error'; a disabled login is what it is.
      const disabled = result === 'error' && named !== '' && d.domains().accounts[named]?.loginDisabled !== undefined;
      recordLogin(d.store, { username, account: named, ip, protocol: 'web-account', mechanism: 'password', result: disabled ? 'disabled' : result, tls: secure ? 'TLS' : '' });
    },
  });
  const pages = surfaceHandler({ api, files: await frontendFiles('account', accountPageTitle) });
  const handler: SurfaceHandler = async (c) => {
    if (c.path === 'import') return imports.upload(c);
    if (c.path === 'events/import') return imports.events(c);
    return pages(c);
  };
  return { handler, close: () => imports.close() };
}
