// Logins tab: the account's recent logins over SMTP, IMAP and the web, successful and
// failed, newest first, 100 at a time.
import type { AccountApi, LoginHistoryEntry } from '../../src/webaccount/index.ts';
import { h } from '../lib/dom.ts';
import { button, fmtTime, section, table, type App, type Tab } from '../lib/ui.ts';

const pageSize = 100;

export function loginsTab(app: App<AccountApi>): Tab {
  return {
    id: 'logins',
    title: 'Logins',
    async render(main) {
      const list = h('div#login-history', null);
      const more = h('div.pager', null);
      const load = async (before?: number) => {
        const rows = await app.api.call('loginHistory', { limit: pageSize, ...(before === undefined ? {} : { before }) });
        if (before === undefined || rows.length > 0) list.append(historyTable(rows, before === undefined));
        more.replaceChildren();
        const last = rows.at(-1);
        if (rows.length === pageSize && last) more.append(button('Older logins', () => load(last.id)));
      };
      main.append(section('Login history',
        h('p.hint', null, 'Logins to this account by mail clients (SMTP, IMAP) and this page, with the network address they came from. A failed login you do not recognise may be someone guessing your password.'),
        list, more));
      await load();
    },
  };
}

function historyTable(rows: LoginHistoryEntry[], first: boolean): HTMLElement {
  const t = table(['Time', 'Protocol', 'Mechanism', 'IP address', 'Result', 'TLS', 'User name'], rows.map((r) => [
    fmtTime(r.time),
    r.protocol,
    r.mechanism,
    h('code', null, r.ip),
    h('span', { class: `badge ${r.result}` }, r.result === 'ok' ? 'ok' : r.result === 'badauth' ? 'wrong password' : r.result),
    r.tls || 'none',
    r.username,
  ]), first ? 'No logins recorded yet.' : 'No older logins.');
  t.querySelectorAll('tbody tr').forEach((tr, i) => {
    tr.setAttribute('data-protocol', rows[i]!.protocol);
    tr.setAttribute('data-result', rows[i]!.result);
  });
  return t;
}
