// Hold rules and Suppressions tabs: rules that hold matching queue entries (account, sender
// domain, recipient domain; empty matches anything), and each account's suppression list
// (recipients not sent to; filled by repeated permanent failures or by hand).
import type { AdminApi } from '../../src/webadmin/index.ts';
import { h } from '../lib/dom.ts';
import { button, field, fmtTime, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { badge, dataTable, select } from './widgets.ts';

export function holdRulesTab(app: App<AdminApi>): Tab {
  return {
    id: 'holdrules',
    title: 'Hold rules',
    async render(main) {
      const api = app.api;
      const [rules, accounts] = await Promise.all([api.call('holdRules', {}), api.call('accounts', {})]);
      const account = select('account', [['', 'any account'], ...accounts.map((a) => a.name)]);
      const sender = h('input', { name: 'senderDomain', placeholder: 'any', size: 20 });
      const recipient = h('input', { name: 'recipientDomain', placeholder: 'any', size: 20 });
      const add = form([field('Account', account), field('Sender domain', sender), field('Recipient domain', recipient), h('button.primary', { type: 'submit' }, 'Add rule')], async () => {
        const r = await api.call('holdRuleAdd', { account: account.value, senderDomain: sender.value, recipientDomain: recipient.value });
        status(`Hold rule ${r.id} added; queued entries it matches are held.`);
        app.refresh();
      });
      add.id = 'holdrule-add';
      main.append(
        section('Hold rules',
          h('p.hint', null, 'New and queued messages matching a rule are held until released on the Queue tab. An empty field matches anything.'),
          dataTable(['ID', 'Account', 'Sender domain', 'Recipient domain', 'Added', ''], rules.map((r) => ({
            attrs: { 'data-rule': String(r.id) },
            cells: [r.id, r.account || h('span.hint', null, 'any'), r.senderDomain || h('span.hint', null, 'any'), r.recipientDomain || h('span.hint', null, 'any'), fmtTime(r.created), button('Remove', async () => {
              await api.call('holdRuleRemove', { id: r.id });
              status(`Hold rule ${r.id} removed; entries it held stay held until released.`);
              app.refresh();
            }, { kind: 'danger' })],
          })), { empty: 'No hold rules.', id: 'holdrule-list' })),
        section('Add a hold rule', add),
      );
    },
  };
}

const suppressionView = { account: '' };

export function suppressionsTab(app: App<AdminApi>): Tab {
  return {
    id: 'suppressions',
    title: 'Suppressions',
    async render(main) {
      const api = app.api;
      const v = suppressionView;
      const [list, accounts] = await Promise.all([api.call('suppressions', v.account ? { account: v.account } : {}), api.call('accounts', {})]);
      const names = accounts.map((a) => a.name);
      const filter = select('account', [['', 'all accounts'], ...names], v.account);
      filter.addEventListener('change', () => {
        v.account = filter.value;
        app.refresh();
      });
      filter.id = 'suppression-filter';
      const account = select('account', names, v.account || names[0] || '');
      const address = h('input', { name: 'address', required: true, placeholder: 'someone@example.org', size: 28 });
      const reason = h('input', { name: 'reason', size: 28 });
      const add = form([field('Account', account), field('Address', address), field('Reason', reason), h('button.primary', { type: 'submit' }, 'Suppress')], async () => {
        await api.call('suppressionAdd', { account: account.value, address: address.value, ...(reason.value ? { reason: reason.value } : {}) });
        status(`${address.value} suppressed for ${account.value}.`);
        app.refresh();
      });
      add.id = 'suppression-add';
      main.append(
        section('Suppression lists',
          h('p.hint', null, 'Mail from an account to a suppressed address fails at once. Addresses are added after repeated permanent failures, or here.'),
          h('div.row', null, field('Show', filter)),
          dataTable(['Account', 'Address', 'Reason', 'Added', ''], list.map((s) => ({
            attrs: { 'data-account': s.account, 'data-address': s.address },
            cells: [s.account, h('span.addr', null, s.address), [s.manual ? badge('by hand', 'flag') : badge('automatic', 'flag'), ' ', s.reason], fmtTime(s.created), button('Remove', async () => {
              await api.call('suppressionRemove', { account: s.account, address: s.address });
              status(`${s.address} no longer suppressed for ${s.account}.`);
              app.refresh();
            }, { kind: 'danger' })],
          })), { empty: 'No suppressed addresses.', id: 'suppression-list' })),
        section('Suppress an address', names.length ? add : h('p.empty', null, 'No accounts.')),
      );
    },
  };
}
