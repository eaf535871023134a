// Domains tab: the list with an add form, and per domain (#domains/<name>) its settings,
// catch-all, DKIM selectors with key generation, the addresses at it, the DNS records it
// needs (to copy) and the live DNS check with a status per record.
import type { ApiResponse } from '../../src/http/index.ts';
import type { AdminApi } from '../../src/webadmin/index.ts';
import { h, replace } from '../lib/dom.ts';
import { button, errorText, field, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { badge, dataTable, listValue, navigate, select } from './widgets.ts';

type Api = App<AdminApi>['api'];
type DnsCheck = ApiResponse<AdminApi['dnsCheck']>;

const domainLink = (name: string) => h('a', { href: `#domains/${encodeURIComponent(name)}` }, name);

export function domainsTab(app: App<AdminApi>): Tab {
  return {
    id: 'domains',
    title: 'Domains',
    render: (main, args) => (args[0] ? domainPage(app, main, args[0]) : domainList(app, main)),
  };
}

async function domainList(app: App<AdminApi>, main: HTMLElement): Promise<void> {
  const list = await app.api.call('domains', {});
  const name = h('input', { name: 'name', required: true, placeholder: 'example.com', autocomplete: 'off' });
  const separators = h('input', { name: 'separators', placeholder: '+', size: 6 });
  const description = h('input', { name: 'description' });
  const add = form([field('Domain', name), field('Sub-address separators', separators, "default '+'"), field('Description', description), h('button.primary', { type: 'submit' }, 'Add domain')], async () => {
    const sep = listValue(separators.value);
    const r = await app.api.call('domainAdd', { name: name.value, ...(description.value ? { description: description.value } : {}), ...(sep.length ? { separators: sep } : {}) });
    navigate(`#domains/${encodeURIComponent(r.name)}`, `Domain ${r.name} added.`);
  });
  add.id = 'domain-add';
  main.append(
    section('Domains',
      dataTable(['Domain', 'Description', 'Accounts', 'Addresses', 'Aliases', 'DKIM selectors', 'Catch-all'],
        list.map((d) => ({
          attrs: { 'data-domain': d.name },
          cells: [domainLink(d.name), d.description, d.accounts, d.addresses, d.aliases, d.dkimSelectors, d.catchall ? h('a', { href: `#accounts/${encodeURIComponent(d.catchall)}` }, d.catchall) : ''],
        })),
        { empty: 'No domains yet.', id: 'domain-list' })),
    section('Add a domain', h('p.hint', null, 'Then add accounts at it, generate a DKIM key, and publish the DNS records shown on its page.'), add),
  );
}

async function domainPage(app: App<AdminApi>, main: HTMLElement, name: string): Promise<void> {
  const api = app.api;
  const [d, accounts] = await Promise.all([api.call('domain', { name }), api.call('accounts', {})]);
  main.dataset['domain'] = d.name;

  // Settings
  const description = h('input', { name: 'description', value: d.description });
  const separators = h('input', { name: 'separators', value: d.separators.join(' '), size: 8 });
  const settings = form([field('Description', description), field('Sub-address separators', separators, "RFC 5233, e.g. '+' or '+ -'; empty: the default '+'"), h('button', { type: 'submit' }, 'Save')], async () => {
    await api.call('domainSettings', { name: d.name, description: description.value, separators: listValue(separators.value) });
    status('Settings saved.');
    app.refresh();
  });
  settings.id = 'domain-settings';

  // Catch-all
  const catchallAccount = select('account', accounts.map((a) => a.name), d.catchall ?? accounts[0]?.name ?? '');
  const catchall = d.catchall
    ? h('div.row', null, h('span', null, 'Mail to unknown addresses at ', d.name, ' goes to account '), h('a', { href: `#accounts/${encodeURIComponent(d.catchall)}` }, d.catchall), button('Remove catch-all', async () => {
      await api.call('domainCatchallRemove', { domain: d.name });
      status('Catch-all removed.');
      app.refresh();
    }, { kind: 'danger' }))
    : form([h('p.hint', null, 'No catch-all: mail to unknown addresses is refused.'), field('Deliver unknown addresses to account', catchallAccount), h('button', { type: 'submit' }, 'Set catch-all')], async () => {
      await api.call('domainCatchallSet', { domain: d.name, account: catchallAccount.value });
      status(`Catch-all set to account ${catchallAccount.value}.`);
      app.refresh();
    });

  // DKIM
  const year = new Date().getFullYear();
  const taken = new Set(d.dkim.map((s) => s.selector));
  const suggestion = [...'abcdefghijklmnopqrstuvwxyz'].map((c) => `${year}${c}`).find((s) => !taken.has(s)) ?? '';
  const selector = h('input', { name: 'selector', value: suggestion, required: true, size: 10 });
  const kind = select('kind', [['rsa', 'RSA 2048'], ['ed25519', 'Ed25519 (RFC 8463)']], 'rsa');
  const sign = h('input', { type: 'checkbox', name: 'sign', checked: true });
  const dkimForm = form([field('Selector', selector), field('Key type', kind), h('label.check', null, sign, 'Sign outgoing mail with it'), h('button', { type: 'submit' }, 'Generate key')], async () => {
    const r = await api.call('dkimGenerate', { domain: d.name, selector: selector.value, kind: kind.value === 'ed25519' ? 'ed25519' : 'rsa', sign: sign.checked });
    status(`DKIM key ${r.file} made; publish its record (below) before mail is signed with it.`);
    app.refresh();
  });
  dkimForm.id = 'dkim-generate';

  // DNS records and check
  const records = h('div#dns-records', null, h('p.hint', null, 'Loading…'));
  const check = h('div#dns-check', null);
  const checkButton = button('Check DNS', async () => {
    replace(check, h('p.hint', null, 'Looking up records…'));
    renderCheck(check, await api.call('dnsCheck', { domain: d.name }));
  }, { kind: 'primary' });
  checkButton.id = 'dns-check-button';

  const remove = button('Remove domain', async () => {
    await api.call('domainRemove', { name: d.name });
    navigate('#domains', `Domain ${d.name} removed.`);
  }, { kind: 'danger', confirm: `Remove domain ${d.name} from domains.conf? Its DKIM key files stay.` });
  remove.id = 'domain-remove';

  main.append(
    h('div.page-head', null, h('h2', null, d.name, d.ascii !== d.name ? h('span.hint', null, ` (${d.ascii})`) : null), h('a.back', { href: '#domains' }, '← All domains')),
    section('Settings', settings),
    section('Catch-all', h('div#catchall', null, catchall)),
    section('DKIM',
      dataTable(['Selector', 'Key file', 'Algorithm', 'Signing'], d.dkim.map((s) => ({ attrs: { 'data-selector': s.selector }, cells: [h('code', null, s.selector), h('code', null, s.privateKeyFile), `${s.hash}, ${s.canonicalization}`, s.signing ? badge('signing', 'ok') : badge('not signing', 'off')] })), { empty: 'No DKIM keys: outgoing mail is not signed.', id: 'dkim-selectors' }),
      h('h3', null, 'New key'),
      dkimForm),
    section('Addresses at this domain',
      dataTable(['Address', 'Delivered to'], d.addressList.map((a) => ({
        attrs: { 'data-address': a.address },
        cells: [h('code', null, a.address.startsWith('@') ? `${a.address} (catch-all)` : a.address), a.account ? h('a', { href: `#accounts/${encodeURIComponent(a.account)}` }, `account ${a.account}`) : h('a', { href: `#aliases/${encodeURIComponent(a.alias ?? '')}` }, 'alias')],
      })), { empty: 'No addresses yet: add them to an account on the Accounts tab.' })),
    section('DNS records', records),
    section('DNS check', h('p.hint', null, 'Looks up every record above now and compares it with what is expected.'), checkButton, check),
    section('Remove', h('p.hint', null, 'Only a domain without accounts, addresses and aliases can be removed.'), remove),
  );
  void loadRecords(api, d.name, records);
}

async function loadRecords(api: Api, domain: string, el: HTMLElement): Promise<void> {
  try {
    const r = await api.call('dnsRecords', { domain });
    const zone = h('pre#dns-zone', null, r.zone);
    const copy = button('Copy', async () => {
      await navigator.clipboard.writeText(r.zone);
      status('DNS records copied.');
    });
    replace(el,
      h('div.zone-head', null, h('span.hint', null, `Create these ${r.records.length} records in the zone of ${r.domain}. Those of the mail host ${r.hostname} are the same for every domain and needed once.`), copy),
      zone,
      h('details', null, h('summary', null, 'As a table'),
        dataTable(['Purpose', 'Name', 'Type', 'Value'], r.records.map((s) => ({ attrs: { 'data-record': `${s.name} ${s.type}` }, cells: [s.purpose, h('code', null, `${s.name}.`), s.type, h('code.value', null, s.value)] })), { class: 'records' })));
  } catch (e) {
    replace(el, h('p.status.error', null, errorText(e)));
  }
}

function renderCheck(el: HTMLElement, r: DnsCheck): void {
  const counts = new Map<string, number>();
  for (const c of r.results) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const bad = r.results.length - (counts.get('correct') ?? 0);
  replace(el,
    h('p', { class: bad ? 'check-summary bad' : 'check-summary good', 'data-bad': String(bad) },
      bad ? `${bad} of ${r.results.length} records need attention` : `All ${r.results.length} records correct`,
      ` (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}).`),
    dataTable(['Status', 'Record', 'Expected value', 'Remark'], r.results.map((c) => ({
      attrs: { 'data-record': `${c.spec.name} ${c.spec.type}`, 'data-status': c.status },
      cells: [
        badge(c.status),
        [h('code', null, `${c.spec.name}. ${c.spec.type}`), h('div.hint', null, c.spec.purpose)],
        [h('code.value.expected', null, c.spec.value), c.status === 'correct' ? null : h('div.found', null, h('span.hint', null, 'found: '), c.found.length ? h('code.value', null, c.found.join('\n')) : h('span.hint', null, 'nothing'))],
        c.message,
      ],
    })), { class: 'records check' }));
}
