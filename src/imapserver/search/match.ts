// Evaluating SEARCH criteria against what is known of a message: its row (flags, sizes,
// dates, UID, MODSEQ), then if needed its header block, then if needed what the decoded
// text of its parts contains. Evaluation is three-valued: null means "needs more than is
// known", so a search reads content only for messages the cheap keys left undecided, and
// the body only when the header did not decide. Strings match as case-insensitive
// substrings (RFC 9051 §6.4.4), on Unicode lower case.
import { decodeEncodedWords, parseAddressList, unfold, type HeaderField } from '../../mime/index.ts';
import type { MessageMeta, Uid } from '../../store/index.ts';
import type { SearchKey, SetKey } from './keys.ts';
import { contains, type UidRanges } from '../uidranges.ts';

const dayMs = 86_400_000;

/** What a search resolved once, for every message: the UIDs its set keys name, \Recent, the time. */
export interface SearchContext {
  sets: ReadonlyMap<SetKey, UidRanges>;
  recent: ReadonlySet<Uid>; // RFC 3501 §2.3.2: this session's \Recent (empty for IMAP4rev2 and other mailboxes)
  now: number; // ms; one clock reading per search, for OLDER/YOUNGER (RFC 5032)
}

const addressFields = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);
const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A message's header block, parsed, with decoded forms computed on first use. */
export class HeaderFacts {
  readonly fields: readonly HeaderField[];
  #decoded = new Map<HeaderField, string[]>();
  #text: string | undefined;

  constructor(fields: readonly HeaderField[]) {
    this.fields = fields;
  }

  /** The lowercased forms a field's value matches against: raw unfolded, RFC 2047 decoded, and for address fields each parsed address. */
  #forms(f: HeaderField): string[] {
    let forms = this.#decoded.get(f);
    if (!forms) {
      const raw = unfold(f.value);
      forms = [raw.toLowerCase()];
      const decoded = decodeEncodedWords(raw).toLowerCase();
      if (decoded !== forms[0]) forms.push(decoded);
      // Address fields also match their parsed addresses, so comments, quoting and encoded display names do not hide an address (as Dovecot does).
      if (addressFields.has(f.key)) for (const a of parseAddressList(f.value)) if (a.host !== null) forms.push(`${a.nameText ?? ''} <${a.mailbox ?? ''}@${a.host}>`.toLowerCase());
      this.#decoded.set(f, forms);
    }
    return forms;
  }

  /** RFC 9051 §6.4.4 HEADER: a field with this name whose value contains `want` (lowercased); "" matches any such field. */
  matches(name: string, want: string): boolean {
    for (const f of this.fields) {
      if (f.key !== name) continue;
      if (want === '') return true;
      if (this.#forms(f).some((x) => x.includes(want))) return true;
    }
    return false;
  }

  /** The whole header, encoded words decoded, lowercased (TEXT). */
  get text(): string {
    this.#text ??= headerText(this.fields);
    return this.#text;
  }

  /** The day of the Date field in its own zone, UTC midnight ms; undefined when absent or unreadable. */
  get sentDay(): number | undefined {
    const f = this.fields.find((x) => x.key === 'date');
    return f ? sentDay(unfold(f.value)) : undefined;
  }
}

/** Header fields as text for TEXT: "Name: value" lines with encoded words decoded, lowercased. */
export function headerText(fields: readonly HeaderField[]): string {
  return fields.map((f) => `${f.name}: ${decodeEncodedWords(unfold(f.value))}`).join('\n').toLowerCase();
}

/**
 * RFC 9051 §6.4.4 SENT*: the Date field's day "disregarding time and timezone", so the day
 * as the sender wrote it (RFC 5322 §3.3 date-time; obsolete two-digit years per §4.3).
 */
export function sentDay(value: string): number | undefined {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{2,4})\b/.exec(value);
  if (!m) return undefined;
  const mon = months.indexOf(m[2]!.toLowerCase());
  const day = Number(m[1]);
  if (mon < 0 || day < 1 || day > 31) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
  else if (m[3]!.length === 3) year += 1900;
  return Date.UTC(year, mon, day);
}

/** Which BODY and TEXT strings the decoded content contains (found by content.ts). */
export interface TextFacts {
  body: ReadonlySet<string>; // BODY strings found in the text parts (nested messages' headers included)
  text: ReadonlySet<string>; // TEXT strings found in any header block or text part
}

/** What is known of one message. */
export interface Facts {
  row: MessageMeta;
  header?: HeaderFacts;
  text?: TextFacts;
}

function compareDay(t: number, op: 'before' | 'on' | 'since', dayStart: number): boolean {
  if (op === 'before') return t < dayStart;
  if (op === 'since') return t >= dayStart;
  return t >= dayStart && t < dayStart + dayMs;
}

/** The UTC day of an instant: internal and save dates are compared in UTC, the zone this server reports them in. */
function utcDay(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

/** Three-valued: true or false, or null when deciding needs facts not given. */
export function evaluate(k: SearchKey, f: Facts, ctx: SearchContext): boolean | null {
  const row = f.row;
  switch (k.k) {
    case 'all':
    case 'savedatesupported': // RFC 8514 §4.3: every mailbox keeps save dates
      return true;
    case 'flag': {
      const has = k.system ? row.flags.includes(k.flag as MessageMeta['flags'][number]) : row.keywords.some((w) => w.toLowerCase() === k.flag);
      return has === k.set;
    }
    case 'recent':
      return ctx.recent.has(row.uid);
    case 'new':
      return ctx.recent.has(row.uid) && !row.flags.includes('\\Seen'); // RFC 3501 §6.4.4
    case 'old':
      return !ctx.recent.has(row.uid);
    case 'seq':
    case 'uid':
      return contains(ctx.sets.get(k)!, row.uid);
    case 'larger':
      return row.size > k.n;
    case 'smaller':
      return row.size < k.n;
    case 'older':
      return row.internalDate.getTime() <= ctx.now - k.seconds * 1000; // RFC 5032 §3
    case 'younger':
      return row.internalDate.getTime() >= ctx.now - k.seconds * 1000;
    case 'modseq':
      return row.modseq >= k.n; // RFC 7162 §3.1.5: "equal to or greater than"
    case 'date': {
      if (k.field === 'internal') return compareDay(utcDay(row.internalDate), k.op, k.day);
      if (k.field === 'saved') return compareDay(utcDay(row.saveDate), k.op, k.day);
      if (!f.header) return null;
      const d = f.header.sentDay;
      return d === undefined ? false : compareDay(d, k.op, k.day); // no readable Date field: sent on no day
    }
    case 'header':
      return f.header ? f.header.matches(k.name, k.value) : null;
    case 'body':
      return f.text ? f.text.body.has(k.value) : null;
    case 'text':
      if (f.header && f.header.text.includes(k.value)) return true;
      return f.text ? f.text.text.has(k.value) : null;
    case 'not': {
      const r = evaluate(k.key, f, ctx);
      return r === null ? null : !r;
    }
    case 'or': {
      const a = evaluate(k.a, f, ctx);
      if (a === true) return true;
      const b = evaluate(k.b, f, ctx);
      if (b === true) return true;
      return a === null || b === null ? null : false;
    }
    case 'and': {
      let unknown = false;
      for (const x of k.keys) {
        const r = evaluate(x, f, ctx);
        if (r === false) return false;
        if (r === null) unknown = true;
      }
      return unknown ? null : true;
    }
  }
}
