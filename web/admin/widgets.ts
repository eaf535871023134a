// Building blocks of the admin views beyond web/lib's: tables whose rows carry data-*
// attributes (hooks for tests and for finding a row), a pager, status badges, selects,
// a list input, a password generator, and moving to another view with a message.
import { h, type Child } from '../lib/dom.ts';
import { status } from '../lib/ui.ts';

export interface Row {
  attrs?: Record<string, string>; // e.g. { 'data-domain': 'example.com' }
  cells: readonly Child[];
}

/** A table; `empty` is shown instead when there are no rows. */
export function dataTable(headers: readonly string[], rows: readonly Row[], o: { empty?: string; class?: string; id?: string } = {}): HTMLElement {
  if (rows.length === 0) return h('p.empty', o.id ? { id: o.id } : null, o.empty ?? 'None.');
  return h('table', { class: o.class, id: o.id },
    h('thead', null, h('tr', null, headers.map((x) => h('th', null, x)))),
    h('tbody', null, rows.map((r) => h('tr', r.attrs ?? null, r.cells.map((c) => h('td', null, c))))));
}

/** "21–40 of 123" with previous and next; go(offset) shows another page. */
export function pager(p: { total: number; offset: number; shown: number; limit: number }, go: (offset: number) => void): HTMLElement {
  const prev = h('button', { type: 'button', 'data-page': 'prev', disabled: p.offset === 0 }, '← Previous');
  const next = h('button', { type: 'button', 'data-page': 'next', disabled: p.offset + p.shown >= p.total }, 'Next →');
  prev.addEventListener('click', () => go(Math.max(0, p.offset - p.limit)));
  next.addEventListener('click', () => go(p.offset + p.limit));
  const range = p.total === 0 ? '0 of 0' : `${p.offset + 1}–${p.offset + p.shown} of ${p.total}`;
  return h('div.pager', null, prev, h('span.range', null, range), next);
}

export function badge(text: string, kind: string = text): HTMLElement {
  return h('span.badge', { class: kind, 'data-status': kind }, text);
}

/** A select of values (or [value, label] pairs), `value` chosen. */
export function select(name: string, options: ReadonlyArray<string | readonly [string, string]>, value = ''): HTMLSelectElement {
  const s = h('select', { name },
    options.map((o) => {
      const [v, label] = typeof o === 'string' ? [o, o] : o;
      return h('option', { value: v, selected: v === value }, label);
    }));
  s.value = value;
  return s;
}

/** Addresses typed in one field, separated by commas, spaces or new lines. */
export function listValue(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}

/** A random password of 18 characters from an alphabet without look-alikes (about 104 bits). */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out: string[] = [];
  const bytes = new Uint8Array(64);
  while (out.length < 18) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) if (b < 4 * alphabet.length && out.length < 18) out.push(alphabet[b % alphabet.length]!); // no modulo bias
  }
  return out.join('');
}

/** A password input with a button that fills in a generated password and shows it. */
export function passwordInput(name: string, required: boolean): { input: HTMLInputElement; field: HTMLElement } {
  const input = h('input', { name, type: 'password', autocomplete: 'new-password', required, minlength: 1 });
  const gen = h('button', { type: 'button', 'data-action': 'generate-password' }, 'Generate');
  gen.addEventListener('click', () => {
    input.type = 'text';
    input.value = generatePassword();
  });
  return { input, field: h('span.row', null, input, gen) };
}

/** A datetime-local input's value as ms since epoch, in the browser's time zone; undefined when empty. */
export function localTime(value: string): number | undefined {
  if (value === '') return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** Shows another view (a different fragment) and then the message, which the tab switch would otherwise clear. */
export function navigate(hash: string, message?: string): void {
  if (message) window.addEventListener('hashchange', () => status(message), { once: true });
  location.hash = hash;
}
