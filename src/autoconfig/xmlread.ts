// Reading the small XML requests of clients (Microsoft autodiscover) without an XML
// library: elements, text, comments, CDATA and processing instructions, well-formedness
// checked, and no DTD at all, so no entity can be declared or expanded (no "billion
// laughs", no external entities). The input is bounded by the caller.
import { isXmlText } from './xml.ts';

/** An element by its local name (namespace prefixes dropped), with its text and child elements. */
export interface XmlElement {
  name: string; // local name: 'EMailAddress' for 'a:EMailAddress'
  text: string; // character data directly inside, entities decoded
  children: XmlElement[];
}

export class XmlReadError extends Error {
  override name = 'XmlReadError';
}

const maxDepth = 32;
const namePattern = /^[A-Za-z_:\u00C0-\uFFFD][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFD]*/u; // XML 1.0 §2.3 Name, simplified
const attributePattern = /^\s+([^\s=/>]+)\s*=\s*("[^"<]*"|'[^'<]*')/; // XML 1.0 §3.1 Attribute: no '<' in values

/** Character data with the predefined entities and character references decoded (XML 1.0 §4.1, §4.6); any other reference is refused. */
function decode(s: string): string {
  if (s.includes(']]>')) throw new XmlReadError('"]]>" in character data'); // XML 1.0 §2.4
  return s.replace(/&([^;&<\s]*);?/g, (ref, body: string) => {
    if (!ref.endsWith(';')) throw new XmlReadError(`unterminated reference ${JSON.stringify(ref.slice(0, 20))}`);
    const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (Object.hasOwn(predefined, body)) return predefined[body]!;
    const m = /^#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}))$/.exec(body);
    if (!m) throw new XmlReadError(`entity reference ${JSON.stringify(ref.slice(0, 20))} refused: only the predefined entities are known (no DTD)`);
    const cp = m[1] !== undefined ? Number(m[1]) : parseInt(m[2]!, 16);
    const c = cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
    if (c === '' || !isXmlText(c)) throw new XmlReadError(`character reference ${ref} is not an XML character`); // XML 1.0 §4.1 WFC: Legal Character
    return c;
  });
}

/** Parses a document into its root element. Throws XmlReadError when it is not well-formed or has a DOCTYPE. */
export function readXml(text: string): XmlElement {
  if (!isXmlText(text)) throw new XmlReadError('characters not allowed in XML'); // XML 1.0 §2.2
  let s = text.startsWith('\uFEFF') ? text.slice(1) : text; // byte order mark (XML 1.0 §4.3.3)
  let root: XmlElement | undefined;
  const open: Array<{ qname: string; element: XmlElement }> = [];
  while (s.length > 0) {
    const lt = s.indexOf('<');
    const chars = lt < 0 ? s : s.slice(0, lt);
    if (chars !== '') {
      const top = open.at(-1);
      if (top) top.element.text += decode(chars);
      else if (!/^[ \t\r\n]*$/.test(chars)) throw new XmlReadError('text outside the root element'); // XML 1.0 §2.1 document
      if (lt < 0) break;
      s = s.slice(lt);
    }
    if (s.startsWith('<!--')) {
      const end = s.indexOf('-->', 4);
      if (end < 0) throw new XmlReadError('unterminated comment');
      s = s.slice(end + 3); // XML 1.0 §2.5
    } else if (s.startsWith('<![CDATA[')) {
      const end = s.indexOf(']]>');
      const top = open.at(-1);
      if (end < 0 || !top) throw new XmlReadError('CDATA section outside an element or unterminated');
      top.element.text += s.slice(9, end); // XML 1.0 §2.7: no decoding inside
      s = s.slice(end + 3);
    } else if (s.startsWith('<!')) {
      throw new XmlReadError('DOCTYPE and other declarations are refused'); // XML 1.0 §2.8: a DTD could declare entities
    } else if (s.startsWith('<?')) {
      const end = s.indexOf('?>', 2);
      if (end < 0) throw new XmlReadError('unterminated processing instruction');
      s = s.slice(end + 2); // XML 1.0 §2.6 and the XML declaration (§2.8): nothing for us
    } else if (s.startsWith('</')) {
      const m = /^<\/([^\s>]+)\s*>/.exec(s);
      const top = open.pop();
      if (!m || !top || m[1] !== top.qname) throw new XmlReadError(`end tag ${JSON.stringify(s.slice(0, 40))} does not close ${top ? `<${top.qname}>` : 'any element'}`); // XML 1.0 §3 WFC: Element Type Match
      s = s.slice(m[0].length);
    } else {
      const name = namePattern.exec(s.slice(1));
      if (!name) throw new XmlReadError(`invalid tag ${JSON.stringify(s.slice(0, 40))}`);
      const qname = name[0];
      s = s.slice(1 + qname.length);
      const seen = new Set<string>();
      for (let a = attributePattern.exec(s); a; a = attributePattern.exec(s)) {
        if (seen.has(a[1]!)) throw new XmlReadError(`attribute ${a[1]} repeated`); // XML 1.0 §3.1 WFC: Unique Att Spec
        seen.add(a[1]!);
        decode(a[2]!.slice(1, -1)); // checked, not used
        s = s.slice(a[0].length);
      }
      const close = /^\s*(\/?)>/.exec(s);
      if (!close) throw new XmlReadError(`malformed start tag <${qname}`);
      s = s.slice(close[0].length);
      const element: XmlElement = { name: qname.slice(qname.indexOf(':') + 1), text: '', children: [] };
      const parent = open.at(-1);
      if (parent) parent.element.children.push(element);
      else if (root) throw new XmlReadError('more than one root element');
      else root = element;
      if (close[1] !== '/') {
        if (open.length >= maxDepth) throw new XmlReadError(`elements nested deeper than ${maxDepth}`);
        open.push({ qname, element });
      }
    }
  }
  if (open.length > 0) throw new XmlReadError(`element <${open.at(-1)!.qname}> not closed`);
  if (!root) throw new XmlReadError('no root element');
  return root;
}

/** The child elements with a local name. */
export function childrenNamed(e: XmlElement, name: string): XmlElement[] {
  return e.children.filter((c) => c.name === name);
}
