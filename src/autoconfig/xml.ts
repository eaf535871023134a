// Writing XML (the autoconfig, autodiscover and plist documents) so that no value can break
// it: a tagged template that escapes every interpolated value unless it is itself markup.

// XML 1.0 §2.2 Char: what a document may contain at all; anything else (NUL, most C0
// controls, U+FFFE/FFFF, lone surrogates) cannot be escaped either, only refused.
const xmlChars = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** Whether a string can appear in an XML document (XML 1.0 §2.2). */
export function isXmlText(s: string): boolean {
  return xmlChars.test(s);
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text or attribute value with the five markup characters as predefined entities (XML 1.0 §4.6). */
function escapeXml(s: string): string {
  if (!isXmlText(s)) throw new TypeError(`not XML text: ${JSON.stringify(s)}`);
  return s.replace(/[&<>"']/g, (c) => escapes[c]!);
}

/** Markup that is already XML: inserted as is by the template. */
export class Markup {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type XmlValue = string | number | Markup | readonly Markup[];

/** xml`<port>${port}</port>`: strings are escaped, numbers written in decimal, Markup inserted. */
export function xml(strings: TemplateStringsArray, ...values: XmlValue[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const s = v instanceof Markup ? v.text : typeof v === 'number' ? String(v) : typeof v === 'string' ? escapeXml(v) : v.map((m) => m.text).join('');
    out += s + (strings[i + 1] ?? '');
  });
  return new Markup(out);
}
