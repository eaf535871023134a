// A tiny element builder for the web pages: h('tag.class', {attrs, on: handlers}, children).
// No framework: each view builds its DOM and replaces it when its data changes. Text is set
// with text nodes, never innerHTML, so server data cannot inject markup.

export type Child = Node | string | number | false | null | undefined | readonly Child[];

export interface Props {
  [attr: string]: string | number | boolean | undefined | ((e: Event) => void) | Record<string, (e: Event) => void>;
}

/** `tag` may carry classes and an id: 'button.primary', 'div#login.box'. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K | `${K}.${string}` | `${K}#${string}`, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const m = /^([a-z0-9]+)(#[\w-]+)?((?:\.[\w-]+)*)$/.exec(tag);
  if (!m) throw new Error(`bad tag ${tag}`);
  const el = document.createElement(m[1]!) as HTMLElementTagNameMap[K];
  if (m[2]) el.id = m[2].slice(1);
  if (m[3]) el.className = m[3].slice(1).replaceAll('.', ' ');
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === false) continue;
    if (k === 'on' && typeof v === 'object') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (typeof v === 'function') {
      el.addEventListener(k.replace(/^on/, ''), v as (e: Event) => void);
    } else if (k === 'value' && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) {
      el.value = String(v);
    } else if (k === 'checked' && el instanceof HTMLInputElement) {
      el.checked = v === true;
    } else if (k === 'class') {
      el.className = [el.className, String(v)].filter(Boolean).join(' ');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the element's content. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The form's fields as strings (checkboxes as 'on' when checked, absent when not). */
export function formFields(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v;
  return out;
}
