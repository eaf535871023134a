// The command parser (RFC 9051 §9 formal syntax) over a command as the reader assembled
// it: line fragments (bytes, no CRLF) with the literals between them. A cursor walks the
// parts; every method consumes exactly its production or throws a BAD ImapError, so a
// syntax error never leaves a half-understood command running.
import { bad } from './errors.ts';

/** A literal's bytes: in memory, or in a spool file when large (APPEND of big messages). */
export type Literal =
  | { kind: 'memory'; data: Buffer; binary: boolean }
  | { kind: 'file'; path: string; size: number; binary: boolean };

export type CommandPart = Buffer | Literal;

/** RFC 9051 §9 seq-number: a number, or "*" for the largest number in use. */
export type SeqNumber = number | '*';
/** RFC 9051 §9 sequence-set; "$" is the saved search result (RFC 5182). */
export type SequenceSet = { kind: 'set'; ranges: [SeqNumber, SeqNumber][] } | { kind: 'saved' };

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

// RFC 9051 §9 atom-specials: "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]"
const atomChar = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) atomChar[c] = 1;
for (const c of '(){%*"\\]') atomChar[c.charCodeAt(0)] = 0;
const astringChar = atomChar.slice();
astringChar[0x5d] = 1; // RFC 9051 §9 ASTRING-CHAR = ATOM-CHAR / resp-specials
for (let c = 0x80; c < 0x100; c++) astringChar[c] = 1; // UTF-8 in unquoted mailbox names and user names: clients send it (RFC 6855 §3); taken as Dovecot does
const listChar = astringChar.slice();
listChar[0x25] = 1; // list-wildcards "%" "*"
listChar[0x2a] = 1;
const tagChar = astringChar.slice();
tagChar[0x2b] = 0; // RFC 9051 §9 tag: ASTRING-CHAR except "+"

const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export function isLiteral(p: CommandPart | undefined): p is Literal {
  return p !== undefined && !Buffer.isBuffer(p);
}

export class Parser {
  readonly #parts: readonly CommandPart[];
  #i = 0; // index into parts
  #pos = 0; // offset into parts[#i] when it is text

  constructor(parts: readonly CommandPart[]) {
    this.#parts = parts;
    this.#skipEmpty();
  }

  // Moves past exhausted text parts so the cursor rests on a byte or a literal.
  #skipEmpty(): void {
    for (;;) {
      const p = this.#parts[this.#i];
      if (p === undefined || !Buffer.isBuffer(p) || this.#pos < p.length) return;
      this.#i++;
      this.#pos = 0;
    }
  }

  /** The next byte of text; undefined at a literal or at the end. */
  peek(): number | undefined {
    const p = this.#parts[this.#i];
    return p !== undefined && Buffer.isBuffer(p) ? p[this.#pos] : undefined;
  }

  /** The next `n` text bytes as latin1 (for case-insensitive keyword matching). */
  peekText(n: number): string {
    const p = this.#parts[this.#i];
    return p !== undefined && Buffer.isBuffer(p) ? p.subarray(this.#pos, this.#pos + n).toString('latin1') : '';
  }

  atEnd(): boolean {
    return this.#i >= this.#parts.length;
  }

  atLiteral(): boolean {
    return isLiteral(this.#parts[this.#i]);
  }

  #advance(n: number): void {
    this.#pos += n;
    this.#skipEmpty();
  }

  /** Where the cursor is, for error messages. */
  #context(): string {
    if (this.atEnd()) return 'at end of command';
    if (this.atLiteral()) return 'at a literal';
    const p = this.#parts[this.#i] as Buffer;
    return `at "${p.subarray(this.#pos, this.#pos + 20).toString('latin1').replace(/[^\x20-\x7e]/g, '?')}"`;
  }

  fail(expected: string): never {
    throw bad(`syntax error: expected ${expected} ${this.#context()}`);
  }

  /** Consumes text matching the sticky, ASCII-only pattern at the cursor; the match, or undefined. */
  match(re: RegExp): string | undefined {
    const p = this.#parts[this.#i];
    if (p === undefined || !Buffer.isBuffer(p)) return undefined;
    const text = p.subarray(this.#pos, this.#pos + 200).toString('latin1');
    const m = new RegExp(re.source, re.flags.includes('y') ? re.flags : re.flags + 'y').exec(text);
    if (!m || m[0].length === 0) return undefined;
    this.#advance(m[0].length);
    return m[0];
  }

  /** Consumes `c` if it is next. */
  take(c: string): boolean {
    if (this.peek() !== c.charCodeAt(0)) return false;
    this.#advance(1);
    return true;
  }

  expect(c: string): void {
    if (!this.take(c)) this.fail(`"${c}"`);
  }

  sp(): void {
    if (this.peek() !== SP) this.fail('a space');
    this.#advance(1);
  }

  /** Consumes a case-insensitive keyword if it comes next and is not followed by more atom characters. */
  takeKeyword(word: string): boolean {
    const t = this.peekText(word.length);
    if (t.toUpperCase() !== word.toUpperCase()) return false;
    const p = this.#parts[this.#i] as Buffer;
    const after = p[this.#pos + word.length];
    if (after !== undefined && atomChar[after] === 1 && atomChar[word.charCodeAt(word.length - 1)] === 1) return false;
    this.#advance(word.length);
    return true;
  }

  expectKeyword(word: string): void {
    if (!this.takeKeyword(word)) this.fail(word);
  }

  end(): void {
    if (!this.atEnd()) this.fail('end of command');
  }

  #run(table: Uint8Array): Buffer {
    const p = this.#parts[this.#i];
    if (p === undefined || !Buffer.isBuffer(p)) return Buffer.alloc(0);
    let e = this.#pos;
    while (e < p.length && table[p[e]!] === 1) e++;
    const r = p.subarray(this.#pos, e);
    this.#advance(e - this.#pos);
    return r;
  }

  /** RFC 9051 §9 atom, as text (atoms are ASCII). */
  atom(what = 'an atom'): string {
    const r = this.#run(atomChar);
    if (r.length === 0) this.fail(what);
    return r.toString('latin1');
  }

  /** RFC 9051 §9 tag. */
  tag(): string {
    const r = this.#run(tagChar);
    if (r.length === 0) this.fail('a tag');
    return r.toString('latin1');
  }

  /** RFC 9051 §9 number / number64 (no leading "+", at most 2^63-1; exact up to 2^53 here). */
  number(max = 0xffffffff): number {
    const r = this.#run(digits);
    if (r.length === 0) this.fail('a number');
    if (r.length > 19) throw bad('number too large');
    const n = Number(r.toString('latin1'));
    if (n > max) throw bad(`number out of range (max ${max})`);
    return n;
  }

  /** RFC 9051 §9 nz-number. */
  nzNumber(max = 0xffffffff): number {
    const n = this.number(max);
    if (n === 0) throw bad('number must not be zero');
    return n;
  }

  /** RFC 9051 §9 quoted: the unescaped bytes (UTF-8 allowed, RFC 9051 §4.3). */
  quoted(): Buffer {
    this.expect('"');
    const p = this.#parts[this.#i];
    if (p === undefined || !Buffer.isBuffer(p)) this.fail('the end of a quoted string');
    const out: number[] = [];
    let e = this.#pos;
    for (;;) {
      const c = p[e];
      if (c === undefined) throw bad('unterminated quoted string');
      if (c === DQUOTE) break;
      if (c === BACKSLASH) {
        const n = p[e + 1];
        if (n !== DQUOTE && n !== BACKSLASH) throw bad('invalid escape in quoted string'); // RFC 9051 §9 quoted-specials
        out.push(n);
        e += 2;
        continue;
      }
      if (c === 0 || c === 0x0d || c === 0x0a) throw bad('invalid character in quoted string'); // RFC 9051 §9 TEXT-CHAR
      out.push(c);
      e++;
    }
    this.#advance(e + 1 - this.#pos);
    return Buffer.from(out);
  }

  /** A literal at the cursor (the reader already took its bytes). */
  literal(): Literal {
    const p = this.#parts[this.#i];
    if (!isLiteral(p)) this.fail('a literal');
    this.#i++;
    this.#pos = 0;
    this.#skipEmpty();
    return p;
  }

  /** RFC 9051 §9 string (quoted or literal) as bytes; a file literal here is too big. */
  string(): Buffer {
    if (this.atLiteral()) return literalBytes(this.literal());
    if (this.peek() === DQUOTE) return this.quoted();
    this.fail('a string');
  }

  /** RFC 9051 §9 astring. */
  astring(): Buffer {
    if (this.atLiteral() || this.peek() === DQUOTE) return this.string();
    const r = this.#run(astringChar);
    if (r.length === 0) this.fail('an atom or string');
    return r;
  }

  /** RFC 9051 §9 nstring: NIL or a string. */
  nstring(): Buffer | null {
    if (this.takeKeyword('NIL')) return null;
    return this.string();
  }

  /** RFC 9051 §9 list-mailbox: 1*list-char / string. */
  listMailbox(): Buffer {
    if (this.atLiteral() || this.peek() === DQUOTE) return this.string();
    const r = this.#run(listChar);
    if (r.length === 0) this.fail('a mailbox pattern');
    return r;
  }

  /** RFC 9051 §9 flag (system flag, keyword, or `\*` in PERMANENTFLAGS only): as spelled. */
  flag(): string {
    if (this.take('\\')) {
      if (this.take('*')) return '\\*';
      return '\\' + this.atom('a flag name');
    }
    return this.atom('a flag');
  }

  /** A parenthesized list of flags, or with `allowBare` a flag list without parentheses (STORE, RFC 9051 §9 store-att-flags). */
  flagList(allowBare = false): string[] {
    const out: string[] = [];
    if (!this.take('(')) {
      if (!allowBare) this.fail('a flag list');
      out.push(this.flag());
      while (this.take(' ')) out.push(this.flag());
      return out;
    }
    if (this.take(')')) return out;
    do out.push(this.flag());
    while (this.take(' '));
    this.expect(')');
    return out;
  }

  /** Runs `item` over a parenthesized, space-separated list; empty lists only when `allowEmpty`. */
  list<T>(item: () => T, allowEmpty = false): T[] {
    this.expect('(');
    const out: T[] = [];
    if (this.take(')')) {
      if (!allowEmpty) this.fail('a list item');
      return out;
    }
    do out.push(item());
    while (this.take(' '));
    this.expect(')');
    return out;
  }

  /** RFC 9051 §9 sequence-set, with "$" (RFC 5182 §2) when allowed. */
  sequenceSet(allowSaved = true): SequenceSet {
    if (this.take('$')) {
      if (!allowSaved) this.fail('a sequence set');
      return { kind: 'saved' };
    }
    const ranges: [SeqNumber, SeqNumber][] = [];
    do {
      const a = this.#seqNumber();
      const b = this.take(':') ? this.#seqNumber() : a;
      ranges.push([a, b]);
    } while (this.take(','));
    return { kind: 'set', ranges };
  }

  #seqNumber(): SeqNumber {
    if (this.take('*')) return '*';
    if (this.peek() === undefined || !isDigit(this.peek()!)) this.fail('a sequence number');
    return this.nzNumber();
  }

  /** RFC 9051 §9 date (SEARCH): date-text or quoted date-text; a UTC midnight Date of that day. */
  date(): { year: number; month: number; day: number } {
    const q = this.take('"');
    const day = this.number(31);
    this.expect('-');
    const mon = months.indexOf(this.atomUntilDash().toLowerCase());
    if (mon < 0) throw bad('invalid month');
    this.expect('-');
    const year = this.number(9999);
    if (q) this.expect('"');
    if (day < 1 || year < 1000) throw bad('invalid date');
    return { year, month: mon, day };
  }

  private atomUntilDash(): string {
    const t = this.peekText(3);
    if (!/^[A-Za-z]{3}$/.test(t)) this.fail('a month');
    this.#advance(3);
    return t;
  }

  /** RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (APPEND). */
  dateTime(): Date {
    const q = this.quoted().toString('latin1');
    const m = /^([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(q);
    if (!m) throw bad('invalid date-time');
    const mon = months.indexOf(m[2]!.toLowerCase());
    const [day, year, h, mi, s, zh, zm] = [m[1]!, m[3]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!].map((x) => Number(x.trim())) as [number, number, number, number, number, number, number];
    if (mon < 0 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60 || zm > 59) throw bad('invalid date-time');
    const zone = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
    return new Date(Date.UTC(year, mon, day, h, mi, s) - zone * 60_000);
  }
}

const digits = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) digits[c] = 1;
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A literal's bytes in memory; a spooled one is only for message data (APPEND). */
export function literalBytes(l: Literal): Buffer {
  if (l.kind === 'file') throw bad('literal too large here', 'TOOBIG');
  return l.data;
}
