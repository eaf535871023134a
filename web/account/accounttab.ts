// Account tab: name, full name (saved to domains.conf), addresses, quota usage, and the
// password change (current password, new one twice, or a generated one shown once).
import type { AccountApi } from '../../src/webaccount/index.ts';
import { minPasswordLength } from '../../src/webaccount/limits.ts';
import { formFields, h, replace } from '../lib/dom.ts';
import { button, field, fmtBytes, fmtTime, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { generatePassword } from './password.ts';

export function accountTab(app: App<AccountApi>): Tab {
  return {
    id: 'account',
    title: 'Account',
    async render(main) {
      const a = await app.api.call('account', {});

      const fullName = h('input#full-name', { name: 'fullName', value: a.fullName, maxlength: 200, autocomplete: 'name', placeholder: 'e.g. Jane Doe' });
      const nameForm = form([field('Full name', fullName, 'Shown as the sender name of messages you send.'), h('button.primary', { type: 'submit', id: 'save-full-name' }, 'Save')], async () => {
        const r = await app.api.call('setFullName', { fullName: fullName.value });
        fullName.value = r.fullName;
        status(r.fullName === '' ? 'Full name removed.' : 'Full name saved.');
      });
      nameForm.id = 'full-name-form';

      const quota = a.quota.limit === null
        ? h('span#quota', { 'data-used': a.quota.used }, `${fmtBytes(a.quota.used)} used, no limit`)
        : h('span#quota.quota', { 'data-used': a.quota.used, 'data-limit': a.quota.limit },
          h('progress', { max: a.quota.limit, value: Math.min(a.quota.used, a.quota.limit) }),
          ` ${fmtBytes(a.quota.used)} of ${fmtBytes(a.quota.limit)} used (${Math.round((100 * a.quota.used) / Math.max(1, a.quota.limit))}%)`);

      main.append(
        section('Account',
          h('dl.kv', null,
            h('dt', null, 'Account'), h('dd#account-name', null, a.name),
            h('dt', null, 'Addresses'), h('dd', null, h('ul#addresses.addresses', null, a.addresses.map((x) => h('li', { 'data-address': x.address }, x.catchall ? `${x.address} (catch-all: every other address at ${x.address.slice(1)})` : x.address)))),
            h('dt', null, 'Storage'), h('dd', null, quota),
            h('dt', null, 'Password set'), h('dd#password-changed', null, a.passwordChanged ? fmtTime(a.passwordChanged) : 'unknown')),
          nameForm),
        passwordSection(app),
      );
    },
  };
}

function passwordSection(app: App<AccountApi>): HTMLElement {
  const current = h('input', { name: 'current', type: 'password', autocomplete: 'current-password', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: minPasswordLength });
  const repeat = h('input', { name: 'repeat', type: 'password', autocomplete: 'new-password', required: true, minlength: minPasswordLength });
  const generated = h('div#generated-password.generated', { hidden: true });
  const generate = button('Generate password', () => {
    const p = generatePassword();
    password.value = p;
    repeat.value = p;
    replace(generated,
      h('span', null, 'New password: '),
      h('code#generated-password-value', { 'data-password': p }, p),
      h('span.hint', null, ' Keep it in your password manager or write it down now: it is not shown again. Your mail clients need it too.'));
    generated.hidden = false;
  }, { title: 'Make a strong random password' });
  generate.id = 'generate-password';

  const f = form([
    field('Current password', current),
    field('New password', password, `At least ${minPasswordLength} characters.`),
    field('Repeat new password', repeat),
    h('div.row', null, generate, h('button.primary', { type: 'submit', id: 'change-password' }, 'Change password')),
    generated,
  ], async (el) => {
    const v = formFields(el);
    if (v['password'] !== v['repeat']) throw new Error('the new passwords differ');
    const r = await app.api.call('changePassword', { current: v['current'] ?? '', password: v['password'] ?? '' });
    el.reset();
    generated.hidden = true;
    replace(generated);
    status(`Password changed.${r.endedSessions > 0 ? ` ${r.endedSessions} other web session${r.endedSessions === 1 ? '' : 's'} ended.` : ''} Mail clients need the new password now.`);
  }, { class: 'form stacked' });
  f.id = 'password-form';
  return section('Change password', f);
}
