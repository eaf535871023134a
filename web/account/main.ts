// The account page (`/`): an account's own settings. Tabs: Account (full name, addresses,
// quota, password), TLS keys, Logins (history), Import/Export. Typed by the server's API
// table (src/webaccount AccountApi); styles are files, never inline (CSP style-src 'self').
import '../lib/style.css';
import './account.css';
import type { AccountApi } from '../../src/webaccount/index.ts';
import { startApp } from '../lib/ui.ts';
import { accountTab } from './accounttab.ts';
import { importExportTab } from './importexport.ts';
import { loginsTab } from './logins.ts';
import { tlsKeysTab } from './tlskeys.ts';

startApp<AccountApi>({
  title: 'Mailcove account',
  base: '/',
  usernameLabel: 'Email address or account name',
  tabs: (app) => [accountTab(app), tlsKeysTab(app), loginsTab(app), importExportTab(app)],
  whoami: async (api) => {
    const a = await api.call('account', {});
    const first = a.addresses.find((x) => !x.catchall)?.address;
    return first ? `${a.fullName || a.name} <${first}>` : a.name;
  },
});
