// The admin page (/admin/): domains, accounts, aliases, the queue and its history, hold
// rules, suppression lists, login attempts and log levels, over the typed admin API
// (src/webadmin). One tab per view; a tab's further fragment parts select an item
// (#domains/example.com, #accounts/mjl, #aliases/team@example.com).
import '../lib/style.css';
import './admin.css';
import type { AdminApi } from '../../src/webadmin/index.ts';
import { startApp } from '../lib/ui.ts';
import { accountsTab } from './accounts.ts';
import { aliasesTab } from './aliases.ts';
import { domainsTab } from './domains.ts';
import { loginsTab, logLevelsTab } from './system.ts';
import { overviewTab } from './overview.ts';
import { queueTab, retiredTab } from './queue.ts';
import { holdRulesTab, suppressionsTab } from './rules.ts';

startApp<AdminApi>({
  title: 'Mailcove admin',
  base: location.pathname.replace(/[^/]*$/, ''), // the surface's path, '/admin/' unless configured otherwise
  usernameLabel: 'User',
  adminUsername: 'admin',
  tabs: (app) => [overviewTab(app), domainsTab(app), accountsTab(app), aliasesTab(app), queueTab(app), retiredTab(app), holdRulesTab(app), suppressionsTab(app), loginsTab(app), logLevelsTab(app)],
  whoami: async (api) => `admin · ${(await api.call('overview', {})).hostname}`,
});
