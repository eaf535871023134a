// FETCH data items (RFC 9051 §6.4.5, RFC 3501 RFC822.*, RFC 3516 BINARY, RFC 7162 MODSEQ,
// RFC 8514 SAVEDATE, RFC 8970 PREVIEW) and the FETCH modifiers (RFC 4466 §2.4; RFC 7162
// CHANGEDSINCE and VANISHED): parsing, and the label each item is answered under.
import { bad } from '../errors.ts';
import type { Parser } from '../parser.ts';

export type SectionText = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

/** RFC 9051 §9 section-spec. */
export interface Section {
  path: number[]; // part numbers, [] for the message
  text: SectionText; // '' for the whole part (or message)
  fields: string[]; // HEADER.FIELDS (.NOT): names as the client wrote them
}

/** RFC 9051 §9 partial: `<origin.length>`. */
export interface Partial {
  origin: number;
  length: number; // > 0 (nz-number64)
}

export type SimpleItem = 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'MODSEQ' | 'SAVEDATE' | 'PREVIEW';

export type FetchItem =
  | { kind: SimpleItem }
  /** BODY[...] and the RFC822 forms; `label` is how the response names it. */
  | { kind: 'section'; peek: boolean; section: Section; partial: Partial | undefined; label: string }
  | { kind: 'binary'; peek: boolean; path: number[]; partial: Partial | undefined }
  | { kind: 'binary.size'; path: number[] };

export interface FetchRequest {
  items: FetchItem[]; // without duplicates
  changedSince: number | undefined; // RFC 7162 §3.1.4.1
  vanished: boolean; // RFC 7162 §3.2.6
}

const macros: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'], // RFC 9051 §6.4.5
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const simple = new Set<string>(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'MODSEQ', 'SAVEDATE', 'PREVIEW']);
const maxNumber64 = Number.MAX_SAFE_INTEGER; // RFC 9051 §9 number64 is 63-bit; exact up to 2^53 here

/** RFC 9051 §9 section-part: nz-number *("." nz-number). */
function path(p: Parser): number[] {
  const out: number[] = [];
  const m = p.match(/[1-9][0-9]*(\.[1-9][0-9]*)*/);
  if (m) {
    for (const n of m.split('.')) {
      if (n.length > 10 || Number(n) > 0xffffffff) throw bad('part number too large'); // RFC 9051 §9 nz-number
      out.push(Number(n));
    }
  }
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
  if (t === 'MIME' && s.path.length === 0) throw bad('MIME needs a part number'); // RFC 9051 §9 section-spec: MIME only in section-text
  s.text = t;
  if (t === 'HEADER.FIELDS' || t === 'HEADER.FIELDS.NOT') {
    p.sp();
    s.fields = p.list(() => p.astring().toString('latin1')); // RFC 9051 §9 header-list: 1*header-fld-name
  }
  p.expect(']');
  return s;
}

function partial(p: Parser): Partial | undefined {
  if (!p.take('<')) return undefined;
  const origin = p.number(maxNumber64);
  p.expect('.');
  const length = p.nzNumber(maxNumber64); // RFC 9051 §9 partial: nz-number64
  p.expect('>');
  return { origin, length };
}

const atomSafe = /^[!#$&'+,\-.0-9:;<=>?@A-Z^_`a-z|~]+$/; // RFC 9051 §9 ATOM-CHAR without "[" (no ambiguity inside a section)

/** RFC 9051 §7.5.2: the response names a section as requested; header names as the client spelled them, quoted where not an atom. */
export function sectionLabel(s: Section): string {
  let l = s.path.join('.');
  if (s.text) l += (l ? '.' : '') + s.text;
  if (s.text === 'HEADER.FIELDS' || s.text === 'HEADER.FIELDS.NOT') l += ` (${s.fields.map((f) => (atomSafe.test(f) ? f : `"${f.replace(/["\\]/g, '\\$&')}"`)).join(' ')})`;
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
  if (name === 'RFC822') return { kind: 'section', peek: false, section: { path: [], text: '', fields: [] }, partial: undefined, label: 'RFC822' }; // RFC 3501 §6.4.5: BODY[]
  if (name === 'RFC822.HEADER') return { kind: 'section', peek: true, section: { path: [], text: 'HEADER', fields: [] }, partial: undefined, label: 'RFC822.HEADER' }; // BODY.PEEK[HEADER]
  if (name === 'RFC822.TEXT') return { kind: 'section', peek: false, section: { path: [], text: 'TEXT', fields: [] }, partial: undefined, label: 'RFC822.TEXT' }; // BODY[TEXT]
  if (name === 'PREVIEW') {
    // RFC 8970 §4: PREVIEW or PREVIEW (LAZY); the preview is always computed, so LAZY changes nothing.
    // "PREVIEW (" may also be the fetch modifiers of a single-item FETCH: only "(LAZY" is taken.
    if (/^ \(lazy[ )]/i.test(p.peekText(8))) {
      p.sp();
      p.list(() => p.expectKeyword('LAZY'));
    }
    return { kind: 'PREVIEW' };
  }
  if (!simple.has(name)) throw bad(`unknown fetch item ${name.slice(0, 40)}`);
  return { kind: name as SimpleItem };
}

/** The key under which an item is answered: a second request for it is dropped (BODY[1] and BODY.PEEK[1] are one). */
function itemKey(i: FetchItem): string {
  switch (i.kind) {
    case 'section':
      return `${i.label}<${i.partial?.origin ?? ''}.${i.partial?.length ?? ''}>`;
    case 'binary':
      return `BINARY[${i.path.join('.')}]<${i.partial?.origin ?? ''}.${i.partial?.length ?? ''}>`;
    case 'binary.size':
      return `BINARY.SIZE[${i.path.join('.')}]`;
    default:
      return i.kind;
  }
}

/** RFC 9051 §9 fetch: the items after the sequence set, and RFC 4466 §2.4 fetch-modifiers. */
export function parseFetch(p: Parser): FetchRequest {
  let items: FetchItem[];
  const macro = p.match(/(ALL|FAST|FULL)(?=$|[ )])/i)?.toUpperCase();
  if (macro) items = macros[macro]!.map((kind) => ({ kind }));
  else if (p.peek() === 0x28) items = p.list(() => item(p));
  else items = [item(p)];
  items = dedupe(items);
  const req: FetchRequest = { items, changedSince: undefined, vanished: false };
  if (p.take(' ')) {
    p.list(() => {
      if (p.takeKeyword('CHANGEDSINCE')) {
        if (req.changedSince !== undefined) throw bad('CHANGEDSINCE given twice'); // RFC 4466 §2.4: each modifier once
        p.sp();
        req.changedSince = p.number(maxNumber64); // RFC 7162 §7 mod-sequence-valzer: 0 allowed
      } else if (p.takeKeyword('VANISHED')) {
        if (req.vanished) throw bad('VANISHED given twice');
        req.vanished = true; // RFC 7162 §3.2.6
      } else p.fail('CHANGEDSINCE or VANISHED');
    });
    if (req.vanished && req.changedSince === undefined) throw bad('VANISHED needs CHANGEDSINCE'); // RFC 7162 §3.2.6
  }
  p.end();
  return req;
}

/** Drops repeated items; when BODY[x] and BODY.PEEK[x] are both asked, the one answer sets \Seen (the client asked for it). */
function dedupe(items: readonly FetchItem[]): FetchItem[] {
  const byKey = new Map<string, FetchItem>();
  for (const i of items) {
    const k = itemKey(i);
    const kept = byKey.get(k);
    if (!kept) byKey.set(k, { ...i });
    else if ((kept.kind === 'section' || kept.kind === 'binary') && (i.kind === 'section' || i.kind === 'binary') && !i.peek) kept.peek = false;
  }
  return [...byKey.values()];
}

/** Whether fetching the item sets \Seen (RFC 9051 §6.4.5: BODY[...] and BINARY[...] without .PEEK; RFC 3501 RFC822 and RFC822.TEXT). */
export function setsSeen(i: FetchItem): boolean {
  return (i.kind === 'section' || i.kind === 'binary') && !i.peek;
}

/** Whether an item needs the MIME index; requests without such items read the store's cheaper metadata rows. */
export function needsIndex(i: FetchItem): boolean {
  return !['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ', 'SAVEDATE'].includes(i.kind);
}
