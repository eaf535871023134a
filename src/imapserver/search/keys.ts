// SEARCH criteria (RFC 9051 §6.4.4 and §9 search-key; RFC 3501 rev1 keys; RFC 7162 MODSEQ;
// RFC 5032 WITHIN; RFC 8514 SAVEDATE; RFC 5182 "$"): parsing into a key tree, and what
// evaluating a tree needs (the row only, the header block, or the decoded text).
import { systemFlags } from '../../store/index.ts';
import { bad } from '../errors.ts';
import type { Parser, SequenceSet } from '../parser.ts';

export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { k: 'all' }
  | { k: 'flag'; flag: string; system: boolean; set: boolean } // flag: canonical system flag ("\Seen") or lowercased keyword
  | { k: 'recent' | 'new' | 'old' } // RFC 3501 §6.4.4; \Recent exists for rev1 sessions only
  | { k: 'seq'; set: SequenceSet } // sequence numbers, or "$" (RFC 5182 §2.1)
  | { k: 'uid'; set: SequenceSet }
  | { k: 'larger' | 'smaller'; n: number } // octets (RFC 9051 §2.3.4)
  | { k: 'date'; field: 'internal' | 'sent' | 'saved'; op: DateOp; day: number } // day: UTC midnight, ms since epoch
  | { k: 'older' | 'younger'; seconds: number } // RFC 5032 §3
  | { k: 'header'; name: string; value: string } // name lowercased; value lowercased (matching is case-insensitive)
  | { k: 'body' | 'text'; value: string } // lowercased
  | { k: 'modseq'; n: number } // RFC 7162 §3.1.5
  | { k: 'savedatesupported' } // RFC 8514 §4.3
  | { k: 'not'; key: SearchKey }
  | { k: 'or'; a: SearchKey; b: SearchKey }
  | { k: 'and'; keys: SearchKey[] };

export type SetKey = SearchKey & { k: 'seq' | 'uid' };

const flagKeys: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false], // RFC 9051 §6.4.4
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
  FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false],
};
const addressKeys = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']); // RFC 9051 §6.4.4: header fields by name
const dateKeys: Record<string, ['internal' | 'sent' | 'saved', DateOp]> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'], // RFC 9051 §6.4.4
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'], // RFC 9051 §6.4.4
  SAVEDBEFORE: ['saved', 'before'], SAVEDON: ['saved', 'on'], SAVEDSINCE: ['saved', 'since'], // RFC 8514 §4.3
};
const systemFlagByLower = new Map<string, string>(systemFlags.map((f) => [f.toLowerCase(), f]));

export interface KeyOptions {
  /** Decodes a search string (astring bytes) per the CHARSET; throws BAD when it cannot. */
  text(b: Buffer): string;
  /** Whether sequence-number keys are allowed (not in MULTISEARCH, RFC 7377 §2; not with UIDONLY, RFC 9586). "$" always is. */
  sequences: boolean;
}

const maxDepth = 100; // nesting of NOT, OR and parentheses: bounds the recursion of parsing and evaluating

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function flagKey(flag: string, set: boolean): SearchKey {
  if (flag.startsWith('\\')) {
    const canonical = systemFlagByLower.get(flag.toLowerCase());
    // \Recent is per session (rev1), not a stored flag: KEYWORD \Recent is RECENT.
    if (!canonical) {
      if (flag.toLowerCase() === '\\recent') return set ? { k: 'recent' } : { k: 'old' };
      throw bad(`unknown system flag ${flag.slice(0, 40)}`);
    }
    return { k: 'flag', flag: canonical, system: true, set };
  }
  return { k: 'flag', flag: flag.toLowerCase(), system: false, set };
}

function key(p: Parser, o: KeyOptions, depth: number): SearchKey {
  if (depth > maxDepth) throw bad('search criteria nested too deeply');
  const c = p.peek();
  if (c === 0x28) {
    // RFC 9051 §9: "(" search-key *(SP search-key) ")"
    const keys = p.list(() => keyList(p, o, depth + 1));
    return keys.length === 1 ? keys[0]! : { k: 'and', keys };
  }
  if (c === 0x24) return { k: 'seq', set: p.sequenceSet() }; // RFC 5182 §2.1: "$" is the saved result, by UID underneath
  if (c === 0x2a || isDigit(c)) {
    if (!o.sequences) throw bad('sequence numbers are not allowed here, use UID');
    return { k: 'seq', set: p.sequenceSet() };
  }
  const word = p.atom('a search key').toUpperCase();
  const flag = flagKeys[word];
  if (flag) return { k: 'flag', flag: flag[0], system: true, set: flag[1] };
  const date = dateKeys[word];
  if (date) {
    p.sp();
    let d: { year: number; month: number; day: number };
    try {
      d = p.date();
    } catch (e) {
      throw bad(`${word} needs a date as 1-Feb-2024 (${e instanceof Error ? e.message : String(e)})`); // RFC 9051 §9 date
    }
    return { k: 'date', field: date[0], op: date[1], day: Date.UTC(d.year, d.month, d.day) };
  }
  if (addressKeys.has(word)) {
    p.sp();
    return { k: 'header', name: word.toLowerCase(), value: o.text(p.astring()).toLowerCase() };
  }
  switch (word) {
    case 'ALL':
      return { k: 'all' };
    case 'RECENT':
      return { k: 'recent' }; // RFC 3501 §6.4.4
    case 'NEW':
      return { k: 'new' }; // RFC 3501 §6.4.4: RECENT UNSEEN
    case 'OLD':
      return { k: 'old' }; // RFC 3501 §6.4.4: NOT RECENT
    case 'KEYWORD':
    case 'UNKEYWORD':
      p.sp();
      return flagKey(p.flag(), word === 'KEYWORD'); // RFC 9051 §9 flag-keyword; a system flag is taken too, as clients send it
    case 'LARGER':
    case 'SMALLER':
      p.sp();
      return { k: word === 'LARGER' ? 'larger' : 'smaller', n: p.number(Number.MAX_SAFE_INTEGER) }; // RFC 9051 §9 number64
    case 'OLDER':
    case 'YOUNGER':
      p.sp();
      return { k: word === 'OLDER' ? 'older' : 'younger', seconds: p.nzNumber() }; // RFC 5032 §4: nz-number
    case 'HEADER': {
      p.sp();
      const name = p.astring().toString('latin1').toLowerCase(); // RFC 9051 §9 header-fld-name
      p.sp();
      return { k: 'header', name, value: o.text(p.astring()).toLowerCase() };
    }
    case 'BODY':
    case 'TEXT':
      p.sp();
      return { k: word === 'BODY' ? 'body' : 'text', value: o.text(p.astring()).toLowerCase() };
    case 'UID':
      p.sp();
      return { k: 'uid', set: p.sequenceSet() };
    case 'NOT':
      p.sp();
      return { k: 'not', key: key(p, o, depth + 1) };
    case 'OR': {
      p.sp();
      const a = key(p, o, depth + 1);
      p.sp();
      return { k: 'or', a, b: key(p, o, depth + 1) };
    }
    case 'MODSEQ': {
      // RFC 7162 §3.1.5: "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
      // Per-flag mod-sequences are not kept: the message's MODSEQ stands for every entry (§3.1.5 allows it).
      p.sp();
      if (p.peek() === 0x22) {
        p.quoted();
        p.sp();
        const t = p.atom('an entry type').toLowerCase();
        if (!['priv', 'shared', 'all'].includes(t)) throw bad('MODSEQ entry type must be priv, shared or all');
        p.sp();
      }
      return { k: 'modseq', n: p.number(Number.MAX_SAFE_INTEGER) };
    }
    case 'SAVEDATESUPPORTED':
      return { k: 'savedatesupported' }; // RFC 8514 §4.3
    default:
      throw bad(`unknown search key ${word.slice(0, 40)}`);
  }
}

/** One or more keys separated by spaces, ANDed (RFC 9051 §6.4.4). */
function keyList(p: Parser, o: KeyOptions, depth: number): SearchKey {
  const keys = [key(p, o, depth)];
  while (p.peek() === 0x20) {
    p.sp();
    keys.push(key(p, o, depth));
  }
  return keys.length === 1 ? keys[0]! : { k: 'and', keys };
}

/** RFC 9051 §9 search-program after the CHARSET: the criteria up to the end of the command. */
export function parseCriteria(p: Parser, o: KeyOptions): SearchKey {
  const k = keyList(p, o, 0);
  p.end();
  return k;
}

/** Every key of the tree, depth first. */
export function* walk(k: SearchKey): Generator<SearchKey> {
  yield k;
  if (k.k === 'not') yield* walk(k.key);
  else if (k.k === 'or') {
    yield* walk(k.a);
    yield* walk(k.b);
  } else if (k.k === 'and') for (const x of k.keys) yield* walk(x);
}

/** What evaluating a key can need beyond the message's row. */
export interface ContentNeeds {
  header: boolean; // header keys, SENT* dates, TEXT
  body: string[]; // BODY strings (lowercased)
  text: string[]; // TEXT strings (lowercased)
}

export function contentNeeds(k: SearchKey): ContentNeeds {
  const n: ContentNeeds = { header: false, body: [], text: [] };
  for (const x of walk(k)) {
    if (x.k === 'header' || (x.k === 'date' && x.field === 'sent')) n.header = true;
    else if (x.k === 'body') n.body.push(x.value);
    else if (x.k === 'text') {
      n.header = true;
      n.text.push(x.value);
    }
  }
  n.body = [...new Set(n.body)];
  n.text = [...new Set(n.text)];
  return n;
}

export function usesModseq(k: SearchKey): boolean {
  for (const x of walk(k)) if (x.k === 'modseq') return true;
  return false;
}

/** Whether the key refers to the saved result "$" (RFC 5182). */
export function usesSaved(k: SearchKey): boolean {
  for (const x of walk(k)) if ((x.k === 'seq' || x.k === 'uid') && x.set.kind === 'saved') return true;
  return false;
}

export function setKeys(k: SearchKey): SetKey[] {
  const out: SetKey[] = [];
  for (const x of walk(k)) if (x.k === 'seq' || x.k === 'uid') out.push(x);
  return out;
}

/** The keys that every match must satisfy: the key itself, or the members of top-level ANDs (parentheses included). */
export function conjuncts(k: SearchKey): SearchKey[] {
  return k.k === 'and' ? k.keys.flatMap(conjuncts) : [k];
}
