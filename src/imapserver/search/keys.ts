// SEARCH criteria (RFC 9051 §6.4.4 and §9 search-key, RFC 3501 rev1 keys, RFC 7162 MODSEQ,
// RFC 5032 WITHIN, RFC 8514 SAVEDATE, RFC 5182 "$"): parsing into a key tree.
import { bad } from '../errors.ts';
import type { Parser, SequenceSet } from '../parser.ts';

export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { k: 'all' }
  | { k: 'flag'; flag: string; set: boolean } // system flag or keyword
  | { k: 'recent' | 'new' | 'old' }
  | { k: 'seq'; set: SequenceSet }
  | { k: 'uid'; set: SequenceSet }
  | { k: 'larger' | 'smaller'; n: number }
  | { k: 'date'; field: 'internal' | 'sent' | 'saved'; op: DateOp; day: number } // day: UTC midnight, ms
  | { k: 'older' | 'younger'; seconds: number }
  | { k: 'header'; name: string; value: string } // name lowercased
  | { k: 'body' | 'text'; value: string }
  | { k: 'modseq'; n: number }
  | { k: 'savedatesupported' }
  | { k: 'not'; key: SearchKey }
  | { k: 'or'; a: SearchKey; b: SearchKey }
  | { k: 'and'; keys: SearchKey[] };

const flagKeys: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false],
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
  FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false],
};
const headerKeys = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const dateKeys: Record<string, ['internal' | 'sent' | 'saved', DateOp]> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
  SAVEDBEFORE: ['saved', 'before'], SAVEDON: ['saved', 'on'], SAVEDSINCE: ['saved', 'since'], // RFC 8514 §4.2
};

export interface KeyOptions {
  /** Decodes a search string (astring bytes) per the CHARSET. */
  text(b: Buffer): string;
  /** Whether sequence-number keys are allowed (not in MULTISEARCH, RFC 7377 §2; not with UIDONLY, RFC 9586). */
  sequences: boolean;
}

function key(p: Parser, o: KeyOptions, depth: number): SearchKey {
  if (depth > 100) throw bad('search criteria nested too deeply');
  if (p.peek() === 0x28) {
    const keys = p.list(() => keyList(p, o, depth + 1));
    return keys.length === 1 ? keys[0]! : { k: 'and', keys };
  }
  if (p.peek() === 0x24 || p.peek() === 0x2a || (p.peek() !== undefined && p.peek()! >= 0x30 && p.peek()! <= 0x39)) {
    if (!o.sequences) throw bad('sequence numbers are not allowed here');
    return { k: 'seq', set: p.sequenceSet() };
  }
  const word = p.atom('a search key').toUpperCase();
  const flag = flagKeys[word];
  if (flag) return { k: 'flag', flag: flag[0], set: flag[1] };
  const date = dateKeys[word];
  if (date) {
    p.sp();
    const d = p.date();
    return { k: 'date', field: date[0], op: date[1], day: Date.UTC(d.year, d.month, d.day) };
  }
  if (headerKeys.has(word)) {
    p.sp();
    return { k: 'header', name: word.toLowerCase(), value: o.text(p.astring()) };
  }
  switch (word) {
    case 'ALL':
      return { k: 'all' };
    case 'RECENT':
      return { k: 'recent' };
    case 'NEW':
      return { k: 'new' }; // RFC 3501 §6.4.4: RECENT UNSEEN
    case 'OLD':
      return { k: 'old' };
    case 'KEYWORD':
    case 'UNKEYWORD':
      p.sp();
      return { k: 'flag', flag: p.flag(), set: word === 'KEYWORD' };
    case 'LARGER':
    case 'SMALLER':
      p.sp();
      return { k: word === 'LARGER' ? 'larger' : 'smaller', n: p.number(Number.MAX_SAFE_INTEGER) };
    case 'OLDER':
    case 'YOUNGER':
      p.sp();
      return { k: word === 'OLDER' ? 'older' : 'younger', seconds: p.nzNumber() }; // RFC 5032 §3
    case 'HEADER': {
      p.sp();
      const name = p.astring().toString('latin1').toLowerCase();
      p.sp();
      return { k: 'header', name, value: o.text(p.astring()) };
    }
    case 'BODY':
    case 'TEXT':
      p.sp();
      return { k: word === 'BODY' ? 'body' : 'text', value: o.text(p.astring()) };
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
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer
      p.sp();
      if (p.peek() === 0x22) {
        p.quoted();
        p.sp();
        const t = p.atom('an entry type').toLowerCase();
        if (!['priv', 'shared', 'all'].includes(t)) throw bad('entry type must be priv, shared or all');
        p.sp();
      }
      return { k: 'modseq', n: p.number(Number.MAX_SAFE_INTEGER) };
    }
    case 'SAVEDATESUPPORTED':
      return { k: 'savedatesupported' }; // RFC 8514 §4.2
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

export function parseCriteria(p: Parser, o: KeyOptions): SearchKey {
  return keyList(p, o, 0);
}

/** Whether evaluating the key needs message content (headers or body). */
export function needsContent(k: SearchKey): boolean {
  switch (k.k) {
    case 'header':
    case 'body':
    case 'text':
      return true;
    case 'date':
      return k.field === 'sent';
    case 'not':
      return needsContent(k.key);
    case 'or':
      return needsContent(k.a) || needsContent(k.b);
    case 'and':
      return k.keys.some(needsContent);
    default:
      return false;
  }
}

export function usesModseq(k: SearchKey): boolean {
  if (k.k === 'modseq') return true;
  if (k.k === 'not') return usesModseq(k.key);
  if (k.k === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.k === 'and') return k.keys.some(usesModseq);
  return false;
}
