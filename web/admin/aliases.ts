// Aliases tab: the list with an add form (members and flags), and per alias
// (#aliases/<address>) its members to remove and add, and its removal.
import type { AdminApi } from '../../src/webadmin/index.ts';
import { h } from '../lib/dom.ts';
import { button, field, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { badge, dataTable, listValue, navigate } from './widgets.ts';

const aliasLink = (address: string) => h('a', { href: `#aliases/${encodeURIComponent(address)}` }, address);

function flags(a: { postPublic: boolean; listMembers: boolean; allowMsgFrom: boolean }): HTMLElement[] {
  return [a.postPublic && badge('public', 'flag'), a.listMembers && badge('members listed', 'flag'), a.allowMsgFrom && badge('send as alias', 'flag')].filter((x) => x !== false);
}

/** A datalist of every account address, for member inputs. */
async function addressOptions(app: App<AdminApi>, id: string): Promise<HTMLDataListElement> {
  const accounts = await app.api.call('accounts', {});
  return h('datalist', { id }, accounts.flatMap((a) => a.addresses.filter((x) => !x.startsWith('@')).map((x) => h('option', { value: x }))));
}

export function aliasesTab(app: App<AdminApi>): Tab {
  return {
    id: 'aliases',
    title: 'Aliases',
    render: (main, args) => (args[0] ? aliasPage(app, main, args[0]) : aliasList(app, main)),
  };
}

async function aliasList(app: App<AdminApi>, main: HTMLElement): Promise<void> {
  const [list, options] = await Promise.all([app.api.call('aliases', {}), addressOptions(app, 'member-addresses')]);
  const address = h('input', { name: 'address', required: true, placeholder: 'team@example.com', autocomplete: 'off', size: 28 });
  const members = h('input', { name: 'members', required: true, placeholder: 'mjl@example.com, bob@example.com', list: 'member-addresses', size: 40, autocomplete: 'off' });
  const postPublic = h('input', { type: 'checkbox', name: 'postPublic' });
  const listMembers = h('input', { type: 'checkbox', name: 'listMembers' });
  const allowMsgFrom = h('input', { type: 'checkbox', name: 'allowMsgFrom' });
  const add = form([
    field('Alias address', address),
    field('Members', members, 'account addresses, separated by commas or spaces'),
    h('div.checks', null,
      h('label.check', null, postPublic, 'Anyone may send to it (not only members)'),
      h('label.check', null, listMembers, 'Members can see the other members'),
      h('label.check', null, allowMsgFrom, 'Members may send as the alias')),
    h('button.primary', { type: 'submit' }, 'Add alias'),
  ], async () => {
    await app.api.call('aliasAdd', { address: address.value, members: listValue(members.value), postPublic: postPublic.checked, listMembers: listMembers.checked, allowMsgFrom: allowMsgFrom.checked });
    status(`Alias ${address.value} added.`);
    app.refresh();
  }, { class: 'form stacked' });
  add.id = 'alias-add';
  main.append(
    section('Aliases and lists',
      dataTable(['Alias', 'Members', 'Flags'], list.map((a) => ({ attrs: { 'data-alias': a.address }, cells: [aliasLink(a.address), h('span.members', null, a.members.join(', ')), flags(a)] })), { empty: 'No aliases yet.', id: 'alias-list' })),
    section('Add an alias', options, add),
  );
}

async function aliasPage(app: App<AdminApi>, main: HTMLElement, address: string): Promise<void> {
  const api = app.api;
  const [list, options] = await Promise.all([api.call('aliases', {}), addressOptions(app, 'member-addresses')]);
  const a = list.find((x) => x.address === address || x.address === address.toLowerCase());
  if (!a) {
    main.append(h('p.status.error', null, `No alias ${address}.`), h('a.back', { href: '#aliases' }, '← All aliases'));
    return;
  }
  main.dataset['alias'] = a.address;
  const done = (message: string) => {
    status(message);
    app.refresh();
  };
  const members = h('input', { name: 'members', required: true, list: 'member-addresses', size: 40, autocomplete: 'off' });
  const add = form([field('Add members', members, 'account addresses, separated by commas or spaces'), h('button', { type: 'submit' }, 'Add')], async () => {
    const m = listValue(members.value);
    await api.call('aliasAddMembers', { address: a.address, members: m });
    done(`${m.length === 1 ? `${m[0]} is` : `${m.length} addresses are`} now member of ${a.address}.`);
  });
  add.id = 'member-add';
  const remove = button('Remove alias', async () => {
    await api.call('aliasRemove', { address: a.address });
    navigate('#aliases', `Alias ${a.address} removed.`);
  }, { kind: 'danger', confirm: `Remove alias ${a.address}? Mail to it will be refused.` });
  remove.id = 'alias-remove';
  main.append(
    h('div.page-head', null, h('h2', null, `Alias ${a.address}`), h('a.back', { href: '#aliases' }, '← All aliases')),
    section('Flags', h('p', null, flags(a).length ? flags(a) : h('span.hint', null, 'None: only members may send to it; members do not see each other.')), h('p.hint', null, 'Flags are chosen when the alias is added.')),
    section('Members',
      dataTable(['Member', ''], a.members.map((m) => ({
        attrs: { 'data-member': m },
        cells: [h('code', null, m), a.members.length > 1 ? button('Remove', async () => {
          await api.call('aliasRemoveMembers', { address: a.address, members: [m] });
          done(`${m} removed from ${a.address}.`);
        }, { kind: 'danger' }) : h('span.hint', null, 'the last member stays')],
      })), { id: 'member-list' }),
      options,
      add),
    section('Remove', remove),
  );
}
