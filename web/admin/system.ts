// Logins and Log levels tabs: recent login attempts of every account and protocol (newest
// first, paged back by id), and the log level of each module, changed at once.
import type { AdminApi } from '../../src/webadmin/index.ts';
import { h } from '../lib/dom.ts';
import { errorText, field, fmtTime, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { badge, dataTable, select } from './widgets.ts';

const loginView = { account: '', pages: [] as number[] }; // pages: the `before` id of each page shown after the first

export function loginsTab(app: App<AdminApi>): Tab {
  return {
    id: 'logins',
    title: 'Logins',
    async render(main) {
      const v = loginView;
      const before = v.pages.at(-1);
      const r = await app.api.call('loginAttempts', { ...(v.account ? { account: v.account } : {}), limit: 50, ...(before !== undefined ? { before } : {}) });
      const account = h('input', { name: 'account', value: v.account, size: 14 });
      const filter = form([field('Account', account), h('button', { type: 'submit' }, 'Filter')], async () => {
        v.account = account.value.trim();
        v.pages = [];
        app.refresh();
      });
      filter.id = 'login-filter';
      const newer = h('button', { type: 'button', 'data-page': 'prev', disabled: v.pages.length === 0 }, '← Newer');
      const older = h('button', { type: 'button', 'data-page': 'next', disabled: !r.more }, 'Older →');
      newer.addEventListener('click', () => {
        v.pages.pop();
        app.refresh();
      });
      older.addEventListener('click', () => {
        const last = r.attempts.at(-1);
        if (last) v.pages.push(last.id);
        app.refresh();
      });
      main.append(
        section('Login attempts',
          filter,
          dataTable(['Time', 'Account', 'User name', 'IP', 'Protocol', 'Mechanism', 'TLS', 'Result'], r.attempts.map((a) => ({
            attrs: { 'data-login': String(a.id), 'data-result': a.result },
            cells: [fmtTime(a.time), a.account || h('span.hint', null, 'unknown'), h('span.addr', null, a.username), a.ip, a.protocol, a.mechanism, a.tls || 'none', badge(a.result, a.result)],
          })), { empty: 'No login attempts.', id: 'login-list' }),
          h('div.pager', null, newer, older)),
      );
    },
  };
}

export function logLevelsTab(app: App<AdminApi>): Tab {
  return {
    id: 'loglevels',
    title: 'Log levels',
    async render(main) {
      const api = app.api;
      const r = await api.call('logLevels', {});
      const set = async (module: string, level: string) => {
        const l = r.choices.find((c) => c === level);
        if (!l) throw new Error(`unknown level ${level}`);
        await api.call('logLevelSet', { module, level: l });
        status(`Log level of ${module || 'all modules'} set to ${l}.`);
        app.refresh();
      };
      const rows = Object.entries(r.levels).map(([module, level]) => {
        const s = select('level', r.choices, level);
        s.addEventListener('change', () => void set(module, s.value).catch((e: unknown) => status(errorText(e), 'error')));
        return { attrs: { 'data-module': module }, cells: [module === '' ? h('em', null, 'default (all other modules)') : h('code', null, module), s] };
      });
      const module = select('module', r.modules.filter((m) => !(m in r.levels)));
      const level = select('level', r.choices, 'debug');
      const add = form([field('Module', module), field('Level', level), h('button', { type: 'submit' }, 'Set')], () => set(module.value, level.value));
      add.id = 'loglevel-add';
      main.append(
        section('Log levels',
          h('p.hint', null, 'Changes apply at once and last until a restart; then logLevel and moduleLogLevels of mailcove.conf apply.'),
          dataTable(['Module', 'Level'], rows, { id: 'loglevel-list' })),
        section('Set a module\'s own level', module.options.length ? add : h('p.empty', null, 'Every module has its own level.')),
      );
    },
  };
}
