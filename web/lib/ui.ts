// The shell every page shares: a header with the account and logout, tabs switched by the
// URL fragment (#domains, #queue/...), the login dialog, and a status line for errors and
// confirmations. Views are functions that fill an element and may re-run themselves.
import { h, replace, type Child } from './dom.ts';
import { ApiClient, type LoginPrompt } from './api.ts';
import type { Api } from '../../src/http/index.ts';

export interface Tab {
  id: string; // fragment: #id
  title: string;
  /** Fills main; `args` are the fragment's further parts (#queue/123 → ['123']). */
  render(main: HTMLElement, args: string[]): Promise<void> | void;
}

let statusEl: HTMLElement | undefined;

/** Shows an error (red) or a message (green) in the status line until the next one. */
export function status(message: string, kind: 'ok' | 'error' = 'ok'): void {
  if (!statusEl) return;
  replace(statusEl, message);
  statusEl.className = `status ${kind}`;
  statusEl.hidden = message === '';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e); // ApiCallError is one, with the server's message
}

/** A button that runs an async action, disabled while it runs; errors go to the status line. */
export function button(label: string, action: () => Promise<unknown> | unknown, o: { kind?: 'primary' | 'danger'; confirm?: string; title?: string } = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', class: o.kind ?? '', title: o.title });
  b.textContent = label;
  b.addEventListener('click', () => void run(b, async () => {
    if (o.confirm && !window.confirm(o.confirm)) return;
    await action();
  }));
  return b;
}

/** Runs an action for a button or form: disabled meanwhile, errors shown. */
export async function run(el: HTMLButtonElement | HTMLFormElement, action: () => Promise<unknown>): Promise<void> {
  const controls = el instanceof HTMLFormElement ? [...el.querySelectorAll('button')] : [el];
  for (const c of controls) c.disabled = true;
  try {
    await action();
  } catch (e) {
    status(errorText(e), 'error');
  } finally {
    for (const c of controls) c.disabled = false;
  }
}

/** A form whose submit runs an action with the form's fields. */
export function form(children: Child[], onSubmit: (f: HTMLFormElement) => Promise<unknown>, o: { class?: string } = {}): HTMLFormElement {
  const f = h('form', { class: o.class ?? 'form' }, children);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    void run(f, () => onSubmit(f));
  });
  return f;
}

/** A labelled input. */
export function field(label: string, input: HTMLElement, hint?: string): HTMLLabelElement {
  return h('label.field', null, h('span.label', null, label), input, hint ? h('span.hint', null, hint) : null);
}

export function table(headers: readonly string[], rows: readonly (readonly Child[])[], empty = 'None.'): HTMLElement {
  if (rows.length === 0) return h('p.empty', null, empty);
  return h('table', null, h('thead', null, h('tr', null, headers.map((x) => h('th', null, x)))), h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', null, h('h2', null, title), children);
}

export function fmtTime(t: number | string | Date | undefined): string {
  if (t === undefined || t === '') return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** The URL fragment decoded; a malformed escape (#%E0, typed or pasted) is taken as it stands. */
function fragment(): string {
  const raw = location.hash.slice(1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The login dialog: resolves with what was typed. */
function loginPrompt(title: string, usernameLabel: string, fixedUsername?: string): LoginPrompt {
  return (error) => new Promise((resolve) => {
    const username = h('input', { name: 'username', autocomplete: 'username', required: true, value: fixedUsername ?? '', type: fixedUsername ? 'hidden' : 'text' });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const dialog = h('dialog#login', null);
    const f = h('form.login', { method: 'dialog' },
      h('h1', null, title),
      error ? h('p.status.error', { role: 'alert' }, error) : null,
      fixedUsername ? username : field(usernameLabel, username),
      field('Password', password),
      h('button.primary', { type: 'submit' }, 'Log in'));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      dialog.close();
      dialog.remove();
      resolve({ username: username.value, password: password.value });
    });
    dialog.addEventListener('cancel', (e) => e.preventDefault()); // no way around the login
    dialog.appendChild(f);
    document.body.appendChild(dialog);
    dialog.showModal();
    (fixedUsername ? password : username).focus();
  });
}

export interface App<A extends Api> {
  api: ApiClient<A>;
  /** Re-renders the current tab. */
  refresh(): void;
}

/**
 * Starts a page: login when needed, then the tabs. `loadHeader` is called after login for
 * the text beside the logout button (e.g. the account's address).
 */
export function startApp<A extends Api>(o: { title: string; base: string; usernameLabel: string; adminUsername?: string; tabs: (app: App<A>) => Tab[]; whoami: (api: ApiClient<A>) => Promise<string> }): void {
  const api = new ApiClient<A>(o.base, loginPrompt(o.title, o.usernameLabel, o.adminUsername));
  const who = h('span.who', null);
  const nav = h('nav', null);
  const main = h('main', null);
  statusEl = h('div.status', { role: 'status', hidden: true });
  const app: App<A> = { api, refresh: () => void show() };
  const tabs = o.tabs(app);
  const logout = button('Log out', async () => {
    await api.logout();
    replace(main);
    replace(who);
    status('Logged out.');
    await start();
  });
  document.title = o.title;
  document.body.replaceChildren(h('header', null, h('h1', null, o.title), h('div.session', null, who, logout)), nav, statusEl, main);

  async function show(): Promise<void> {
    const [id = '', ...args] = fragment().split('/');
    const tab = tabs.find((t) => t.id === id) ?? tabs[0]!;
    replace(nav, tabs.map((t) => h('a', { href: `#${t.id}`, class: t === tab ? 'active' : '', 'aria-current': t === tab ? 'page' : undefined }, t.title)));
    const content = h('div.tab', { 'data-tab': tab.id });
    replace(main, content);
    try {
      await tab.render(content, args);
    } catch (e) {
      status(errorText(e), 'error');
    }
  }
  async function start(): Promise<void> {
    try {
      replace(who, await o.whoami(api)); // logs in first when there is no session
    } catch (e) {
      status(errorText(e), 'error');
      return;
    }
    await show();
  }
  window.addEventListener('hashchange', () => {
    status('');
    void show();
  });
  void start();
}
