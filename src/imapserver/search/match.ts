// Evaluating SEARCH criteria against messages: flags, sizes, dates and sets from the row;
// headers and text from the message file (header block, and the decoded text of its text
// parts: transfer and charset decoding, never the raw base64). Matching is a
// case-insensitive substring match (RFC 9051 §6.4.4), on Unicode lower case.
import { buffer } from 'node:stream/consumers';
import type { Account, MessageMeta, MessageRow, Uid } from '../../store/index.ts';
import { decodeEncodedWords, decodePartText, parseAddressList, parseHeader, unfold, type HeaderField, type MimePart } from '../../mime/index.ts';
import type { SearchKey } from './keys.ts';

const day = 86_400_000;
const maxTextPart = 10 * 1024 * 1024; // octets of one part searched: a huge attachment-like text is cut

/** Lazily read content of one message. */
export class MessageContent {
  readonly #store: Account;
  readonly #row: MessageRow;
  #fields: HeaderField[] | undefined;
  #headerText: string | undefined;
  #body: string | undefined;

  constructor(store: Account, row: MessageRow) {
    this.#store = store;
    this.#row = row;
  }

  async #read(start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    return buffer(await this.#store.openMessage(this.#row.messageId, { start, end: end - 1 }));
  }

  async fields(): Promise<HeaderField[]> {
    this.#fields ??= parseHeader(await this.#read(0, this.#row.mimeIndex.root.bodyStart));
    return this.#fields;
  }

  /** The header with encoded words decoded, lower case. */
  async headerText(): Promise<string> {
    this.#headerText ??= (await this.fields()).map((f) => `${f.name}: ${decodeEncodedWords(unfold(f.value))}`).join('\n').toLowerCase();
    return this.#headerText;
  }

  /** The decoded text of every text part, nested messages included, lower case. */
  async bodyText(): Promise<string> {
    if (this.#body !== undefined) return this.#body;
    const texts: string[] = [];
    const walk = async (p: MimePart, top: boolean): Promise<void> => {
      if (p.children.length > 0) {
        for (const c of p.children) {
          if (p.type === 'message') texts.push(await this.#nestedHeader(c));
          await walk(c, false);
        }
        return;
      }
      if (p.type !== 'text' && !(top && p.type === 'multipart')) return;
      const body = await this.#read(p.bodyStart, Math.min(p.end, p.bodyStart + maxTextPart));
      texts.push(decodePartText(body, p));
    };
    await walk(this.#row.mimeIndex.root, true);
    this.#body = texts.join('\n').toLowerCase();
    return this.#body;
  }

  async #nestedHeader(m: MimePart): Promise<string> {
    return parseHeader(await this.#read(m.headerStart, m.bodyStart)).map((f) => `${f.name}: ${decodeEncodedWords(unfold(f.value))}`).join('\n').toLowerCase();
  }
}

/** Sets that keys refer to, resolved once per SEARCH: UIDs named by sequence-set and UID keys, \Recent. */
export interface SearchContext {
  sets: Map<SearchKey, Set<Uid>>;
  recent: ReadonlySet<Uid>;
  now: number;
}

const addressFields = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);

const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The day of a Date header, in the header's own time zone (RFC 9051 §6.4.4: "disregarding time and timezone"). */
function sentDay(fields: readonly HeaderField[]): number | undefined {
  const f = fields.find((x) => x.key === 'date');
  if (!f) return undefined;
  const m = /(\d{1,2})\s+([A-Za-z]{3})\w*\s+(\d{2,4})/.exec(unfold(f.value));
  if (!m) return undefined;
  const mon = months.indexOf(m[2]!.toLowerCase());
  if (mon < 0) return undefined;
  let year = Number(m[3]);
  if (year < 50) year += 2000; // RFC 5322 §4.3 obsolete two-digit years
  else if (year < 1000) year += 1900;
  return Date.UTC(year, mon, Number(m[1]));
}

function compareDay(t: number, op: 'before' | 'on' | 'since', dayStart: number): boolean {
  if (op === 'before') return t < dayStart;
  if (op === 'since') return t >= dayStart;
  return t >= dayStart && t < dayStart + day;
}

/** A message's day for internal/save dates (UTC, as this server reports dates). */
function dayOf(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

/**
 * Three-valued evaluation: true/false, or null when the answer needs the message content
 * and `content` is not given (a first pass over rows skips messages that cannot match).
 */
export async function evaluate(k: SearchKey, row: MessageMeta, ctx: SearchContext, content: MessageContent | undefined): Promise<boolean | null> {
  switch (k.k) {
    case 'all':
    case 'savedatesupported':
      return true;
    case 'flag': {
      const has = k.flag.startsWith('\\') ? row.flags.some((f) => f.toLowerCase() === k.flag.toLowerCase()) : row.keywords.some((w) => w.toLowerCase() === k.flag.toLowerCase());
      return has === k.set;
    }
    case 'recent':
      return ctx.recent.has(row.uid);
    case 'new':
      return ctx.recent.has(row.uid) && !row.flags.includes('\\Seen');
    case 'old':
      return !ctx.recent.has(row.uid);
    case 'seq':
    case 'uid':
      return ctx.sets.get(k)!.has(row.uid);
    case 'larger':
      return row.size > k.n;
    case 'smaller':
      return row.size < k.n;
    case 'older':
      return row.internalDate.getTime() <= ctx.now - k.seconds * 1000; // RFC 5032 §3
    case 'younger':
      return row.internalDate.getTime() >= ctx.now - k.seconds * 1000;
    case 'modseq':
      return row.modseq >= k.n; // RFC 7162 §3.1.5
    case 'date': {
      if (k.field === 'internal') return compareDay(dayOf(row.internalDate), k.op, k.day);
      if (k.field === 'saved') return compareDay(dayOf(row.saveDate), k.op, k.day);
      if (!content) return null;
      const d = sentDay(await content.fields());
      return d === undefined ? false : compareDay(d, k.op, k.day);
    }
    case 'header': {
      if (!content) return null;
      const want = k.value.toLowerCase();
      for (const f of await content.fields()) {
        if (f.key !== k.name) continue;
        if (want === '') return true; // RFC 9051 §6.4.4: an empty string matches any message with the field
        const raw = unfold(f.value);
        if (raw.toLowerCase().includes(want) || decodeEncodedWords(raw).toLowerCase().includes(want)) return true;
        // Address fields also match their parsed addresses, so comments and quoting do not hide an address (as Dovecot does).
        if (addressFields.has(k.name) && parseAddressList(f.value).some((a) => a.host !== null && `${a.nameText ?? ''} <${a.mailbox}@${a.host}>`.toLowerCase().includes(want))) return true;
      }
      return false;
    }
    case 'body':
      if (!content) return null;
      return (await content.bodyText()).includes(k.value.toLowerCase());
    case 'text': {
      if (!content) return null;
      const want = k.value.toLowerCase();
      return (await content.headerText()).includes(want) || (await content.bodyText()).includes(want);
    }
    case 'not': {
      const r = await evaluate(k.key, row, ctx, content);
      return r === null ? null : !r;
    }
    case 'or': {
      const a = await evaluate(k.a, row, ctx, content);
      if (a === true) return true;
      const b = await evaluate(k.b, row, ctx, content);
      if (b === true) return true;
      return a === null || b === null ? null : false;
    }
    case 'and': {
      let unknown = false;
      for (const x of k.keys) {
        const r = await evaluate(x, row, ctx, content);
        if (r === false) return false;
        if (r === null) unknown = true;
      }
      return unknown ? null : true;
    }
  }
}
