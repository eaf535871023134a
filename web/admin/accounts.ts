// Accounts tab: the list with an add form, and per account (#accounts/<name>) its
// addresses, full name, quota and usage, password reset, login switch and removal.
import type { AdminApi } from '../../src/webadmin/index.ts';
import { h } from '../lib/dom.ts';
import { button, field, fmtBytes, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { badge, dataTable, navigate, passwordInput } from './widgets.ts';

const accountLink = (name: string) => h('a', { href: `#accounts/${encodeURIComponent(name)}` }, name);
const mib = 1024 * 1024;

export function accountsTab(app: App<AdminApi>): Tab {
  return {
    id: 'accounts',
    title: 'Accounts',
    render: (main, args) => (args[0] ? accountPage(app, main, args[0]) : accountList(app, main)),
  };
}

async function accountList(app: App<AdminApi>, main: HTMLElement): Promise<void> {
  const [list, domains] = await Promise.all([app.api.call('accounts', {}), app.api.call('domains', {})]);
  const name = h('input', { name: 'name', required: true, placeholder: 'mjl', autocomplete: 'off' }); // the server says what an account name may hold
  const address = h('input', { name: 'address', required: true, placeholder: `mjl@${domains[0]?.name ?? 'example.com'}`, autocomplete: 'off', size: 28 });
  const fullName = h('input', { name: 'fullName', autocomplete: 'off' });
  const pw = passwordInput('password', false);
  const add = form([
    field('Account name', name, 'login name and folder name'),
    field('First address', address),
    field('Full name', fullName),
    field('Password', pw.field, 'optional; set later otherwise'),
    h('button.primary', { type: 'submit' }, 'Add account'),
  ], async () => {
    const r = await app.api.call('accountAdd', { name: name.value, address: address.value, ...(fullName.value ? { fullName: fullName.value } : {}), ...(pw.input.value ? { password: pw.input.value } : {}) });
    navigate(`#accounts/${encodeURIComponent(r.name)}`, `Account ${r.name} added.`);
  });
  add.id = 'account-add';
  main.append(
    section('Accounts',
      dataTable(['Account', 'Domain', 'Addresses', 'Full name', 'Quota', 'Login'], list.map((a) => ({
        attrs: { 'data-account': a.name },
        cells: [accountLink(a.name), a.domain, h('span.addresses', null, a.addresses.join(', ')), a.fullName, a.quotaBytes ? fmtBytes(a.quotaBytes) : 'no limit', a.loginDisabled ? badge('disabled', 'disabled') : badge('enabled', 'ok')],
      })), { empty: 'No accounts yet.', id: 'account-list' })),
    section('Add an account', domains.length ? add : h('p.empty', null, 'Add a domain first.')),
  );
}

async function accountPage(app: App<AdminApi>, main: HTMLElement, name: string): Promise<void> {
  const api = app.api;
  const a = await api.call('account', { name });
  main.dataset['account'] = a.name;
  const done = (message: string) => {
    status(message);
    app.refresh();
  };

  // Addresses
  const newAddress = h('input', { name: 'address', required: true, placeholder: `info@${a.domain} or @${a.domain}`, size: 30, autocomplete: 'off' });
  const addAddress = form([field('New address', newAddress, `a bare localpart is at ${a.domain}; @domain is the catch-all`), h('button', { type: 'submit' }, 'Add address')], async () => {
    await api.call('addressAdd', { account: a.name, address: newAddress.value });
    done(`Address ${newAddress.value} added.`);
  });
  addAddress.id = 'address-add';

  // Full name
  const fullName = h('input', { name: 'fullName', value: a.fullName, size: 30 });
  const nameForm = form([field('Full name', fullName, 'shown in the From of sent mail'), h('button', { type: 'submit' }, 'Save')], async () => {
    await api.call('accountSetFullName', { name: a.name, fullName: fullName.value });
    done('Full name saved.');
  });

  // Quota
  const quota = h('input', { name: 'quota', type: 'number', min: 0, step: 'any', value: a.quotaBytes ? String(Math.round((a.quotaBytes / mib) * 100) / 100) : '0', size: 10 });
  const quotaForm = form([field('Quota in MiB', quota, '0: no limit'), h('button', { type: 'submit' }, 'Set quota')], async () => {
    const bytes = Math.round(Number(quota.value) * mib);
    if (!Number.isFinite(bytes) || bytes < 0) throw new Error('the quota is a number of MiB, 0 for no limit');
    await api.call('accountSetQuota', { name: a.name, quotaBytes: bytes });
    done(bytes ? `Quota set to ${fmtBytes(bytes)}.` : 'Quota removed.');
  });
  quotaForm.id = 'quota-form';

  // Password
  const pw = passwordInput('password', true);
  const pwForm = form([field('New password', pw.field), h('button', { type: 'submit' }, 'Set password')], async () => {
    const r = await api.call('accountSetPassword', { name: a.name, password: pw.input.value });
    done(`Password of ${a.name} set${r.sessionsEnded ? `; ${r.sessionsEnded} web session(s) ended` : ''}.`);
  });
  pwForm.id = 'password-form';

  // Login switch
  const message = h('input', { name: 'message', required: true, size: 40, placeholder: 'Account closed; contact the postmaster.' });
  const login = a.loginDisabled
    ? h('div', null, h('p', null, badge('login disabled', 'disabled'), ' with the message: ', h('q', null, a.loginDisabled)), button('Enable login', async () => {
      await api.call('accountEnableLogin', { name: a.name });
      done('Login enabled.');
    }))
    : form([field('Message shown at login', message, 'logins (SMTP, IMAP, web) fail; mail is still delivered'), h('button.danger', { type: 'submit' }, 'Disable login')], async () => {
      await api.call('accountDisableLogin', { name: a.name, message: message.value });
      done('Login disabled.');
    });

  const remove = button('Remove account', async () => {
    const r = await api.call('accountRemove', { name: a.name });
    navigate('#accounts', r.dataRemoved ? `Account ${a.name} and its messages removed.` : `Account ${a.name} removed; its messages are removed once no connection uses them.`);
  }, { kind: 'danger', confirm: `Remove account ${a.name} with all its messages? This cannot be undone.` });
  remove.id = 'account-remove';

  const used = a.quotaUsedBytes === undefined ? 'no mail data' : `${fmtBytes(a.quotaUsedBytes)}${a.quotaBytes ? ` of ${fmtBytes(a.quotaBytes)} (${Math.round((a.quotaUsedBytes / a.quotaBytes) * 100)}%)` : ''}`;
  main.append(
    h('div.page-head', null, h('h2', null, `Account ${a.name}`), h('a.back', { href: '#accounts' }, '← All accounts')),
    section('Summary', h('dl#account-info.kv', null,
      h('dt', null, 'Domain'), h('dd', null, h('a', { href: `#domains/${encodeURIComponent(a.domain)}` }, a.domain)),
      h('dt', null, 'Full name'), h('dd', null, a.fullName || '–'),
      h('dt', null, 'Storage used'), h('dd', { 'data-field': 'usage' }, used),
      h('dt', null, 'Password'), h('dd', { 'data-field': 'password' }, a.hasPassword ? 'set' : badge('not set: cannot log in', 'missing')),
      h('dt', null, 'Login'), h('dd', { 'data-field': 'login' }, a.loginDisabled ? badge('disabled', 'disabled') : badge('enabled', 'ok')),
      h('dt', null, 'Member of'), h('dd', null, a.aliases.length ? a.aliases.map((x, i) => [i ? ', ' : '', h('a', { href: `#aliases/${encodeURIComponent(x)}` }, x)]) : '–'))),
    section('Addresses',
      dataTable(['Address', ''], a.addresses.map((x) => ({
        attrs: { 'data-address': x },
        cells: [h('code', null, x.startsWith('@') ? `${x} (catch-all)` : x), a.addresses.length > 1 ? button('Remove', async () => {
          await api.call('addressRemove', { address: x });
          done(`Address ${x} removed.`);
        }, { kind: 'danger' }) : h('span.hint', null, 'the last address stays')],
      })), { id: 'address-list' }),
      addAddress),
    section('Full name', nameForm),
    section('Quota', quotaForm),
    section('Password', h('p.hint', null, 'Setting a password ends the account\'s web sessions.'), pwForm),
    section('Login', h('div#login-switch', null, login)),
    section('Remove', h('p.hint', null, 'Removes the account from domains.conf, its messages, credentials and TLS keys.'), remove),
  );
}
