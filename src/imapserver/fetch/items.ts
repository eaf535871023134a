// FETCH data items (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ, RFC 8514 SAVEDATE,
// RFC 8970 PREVIEW) and the FETCH modifiers (RFC 7162 CHANGEDSINCE and VANISHED): parsing.
import { bad } from '../errors.ts';
import type { Parser } from '../parser.ts';

export type SectionText = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface Section {
  path: number[]; // part numbers, [] for the message
  text: SectionText;
  fields: string[]; // HEADER.FIELDS (.NOT): names as the client wrote them
}

export interface Partial {
  origin: number;
  length: number;
}

export type FetchItem =
  | { kind: 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'MODSEQ' | 'SAVEDATE' | 'PREVIEW' }
  /** BODY[...] and the RFC822 forms; `label` is how the response names it. */
  | { kind: 'section'; peek: boolean; section: Section; partial: Partial | undefined; label: string }
  | { kind: 'binary'; peek: boolean; path: number[]; partial: Partial | undefined }
  | { kind: 'binary.size'; path: number[] };

export interface FetchRequest {
  items: FetchItem[];
  changedSince: number | undefined;
  vanished: boolean;
}

const macros: Record<string, FetchItem['kind'][]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'], // RFC 9051 §6.4.5
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const simple = new Set(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'MODSEQ', 'SAVEDATE', 'PREVIEW']);

function path(p: Parser): number[] {
  const out: number[] = [];
  const m = p.match(/[1-9][0-9]*(\.[1-9][0-9]*)*/);
  if (m) for (const n of m.split('.')) out.push(Number(n));
  return out;
}

function sectionSpec(p: Parser): Section {
  p.expect('[');
  const s: Section = { path: path(p), text: '', fields: [] };
  if (s.path.length > 0 && !p.take('.')) {
    p.expect(']');
    return s;
  }
  const t = p.match(/HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME/i)?.toUpperCase() as SectionText | undefined;
  if (t === undefined) {
    if (s.path.length > 0) p.fail('HEADER, TEXT or MIME');
    p.expect(']');
    return s;
  }
  if (t === 'MIME' && s.path.length === 0) throw bad('MIME needs a part number'); // RFC 9051 §6.4.5
  s.text = t;
  if (t === 'HEADER.FIELDS' || t === 'HEADER.FIELDS.NOT') {
    p.sp();
    s.fields = p.list(() => p.astring().toString('latin1'));
  }
  p.expect(']');
  return s;
}

function partial(p: Parser): Partial | undefined {
  if (!p.take('<')) return undefined;
  const origin = p.number();
  p.expect('.');
  const length = p.nzNumber();
  p.expect('>');
  return { origin, length };
}

function sectionLabel(s: Section): string {
  let l = s.path.join('.');
  if (s.text) l += (l ? '.' : '') + s.text;
  if (s.fields.length > 0) l += ` (${s.fields.join(' ')})`;
  return `BODY[${l}]`;
}

function item(p: Parser): FetchItem {
  const name = p.match(/[A-Za-z0-9.]+/)?.toUpperCase();
  if (!name) p.fail('a fetch item');
  if (name === 'BODY' || name === 'BODY.PEEK') {
    if (p.peek() !== 0x5b) {
      if (name === 'BODY.PEEK') p.fail('"["');
      return { kind: 'BODY' };
    }
    const section = sectionSpec(p);
    const part = partial(p);
    return { kind: 'section', peek: name === 'BODY.PEEK', section, partial: part, label: sectionLabel(section) };
  }
  if (name === 'BINARY' || name === 'BINARY.PEEK' || name === 'BINARY.SIZE') {
    // RFC 3516 §4.1: section-binary = "[" [section-part] "]"
    p.expect('[');
    const pth = path(p);
    p.expect(']');
    if (name === 'BINARY.SIZE') return { kind: 'binary.size', path: pth };
    return { kind: 'binary', peek: name === 'BINARY.PEEK', path: pth, partial: partial(p) };
  }
  if (name === 'RFC822') return { kind: 'section', peek: false, section: { path: [], text: '', fields: [] }, partial: undefined, label: 'RFC822' }; // RFC 3501 §6.4.5
  if (name === 'RFC822.HEADER') return { kind: 'section', peek: true, section: { path: [], text: 'HEADER', fields: [] }, partial: undefined, label: 'RFC822.HEADER' };
  if (name === 'RFC822.TEXT') return { kind: 'section', peek: false, section: { path: [], text: 'TEXT', fields: [] }, partial: undefined, label: 'RFC822.TEXT' };
  if (name === 'PREVIEW') {
    // RFC 8970 §3: PREVIEW or PREVIEW (LAZY); we always compute it.
    if (p.peekText(2) === ' (' && /^ \(lazy\)/i.test(p.peekText(7))) p.match(/ \(LAZY\)/i);
    return { kind: 'PREVIEW' };
  }
  if (!simple.has(name)) throw bad(`unknown fetch item ${name.slice(0, 40)}`);
  return { kind: name as 'UID' };
}

/** RFC 9051 §9 fetch: the items after the sequence set, and RFC 4466 fetch-modifiers. */
export function parseFetch(p: Parser): FetchRequest {
  let items: FetchItem[];
  const macro = p.match(/(ALL|FAST|FULL)(?=$|[ )])/i)?.toUpperCase();
  if (macro) items = macros[macro]!.map((kind) => ({ kind }) as FetchItem);
  else if (p.peek() === 0x28) items = p.list(() => item(p));
  else items = [item(p)];
  const req: FetchRequest = { items, changedSince: undefined, vanished: false };
  if (p.take(' ')) {
    p.list(() => {
      if (p.takeKeyword('CHANGEDSINCE')) {
        p.sp();
        req.changedSince = p.number(Number.MAX_SAFE_INTEGER); // RFC 7162 §3.1.4.1
      } else if (p.takeKeyword('VANISHED')) req.vanished = true; // RFC 7162 §3.2.6
      else p.fail('CHANGEDSINCE or VANISHED');
    });
    if (req.vanished && req.changedSince === undefined) throw bad('VANISHED needs CHANGEDSINCE'); // RFC 7162 §3.2.6
  }
  p.end();
  return req;
}
