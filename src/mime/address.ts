// Address lists (RFC 5322 §3.4) with the obsolete syntax real mail carries (RFC 5322 §4.4:
// source routes, CFWS between words, empty list elements) and what broken mailers write
// (missing commas, bare names, `addr (Name)` comments), RFC 6532 UTF-8 included. The result
// has the shape IMAP ENVELOPE needs (RFC 9051 §7.5.2), group markers included.
import { decodeEncodedWords, unfold } from './header.ts';

/**
 * One address, or a group marker. A group start has `mailbox` = group name and `host` =
 * null; a group end has both null (RFC 9051 §7.5.2). Otherwise `host` is a string: ''
 * when the address had no domain, and `mailbox` is '' when it had no local part.
 */
export interface Address {
  name: string | null; // display name as written: unquoted, whitespace collapsed, RFC 2047 words kept (IMAP sends it so)
  nameText: string | null; // display name with RFC 2047 words decoded, for display
  adl: string | null; // obsolete source route (RFC 5322 §4.4 obs-route), e.g. "@a.example,@b.example"
  mailbox: string | null; // local part, unquoted (quoted-pair escapes removed)
  host: string | null; // domain; a domain literal keeps its brackets
}

type TokenKind = 'atom' | 'quoted' | 'literal' | 'special' | 'comment';

interface Token {
  kind: TokenKind;
  text: string; // atom text; quoted-string content unescaped; literal with brackets; the special char; comment content
  space: boolean; // whitespace or a comment came before it (word separation in phrases)
}

const SPECIALS = '<>@,;:.'; // RFC 5322 §3.2.3 specials that structure an address

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let space = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      space = true;
      i++;
    } else if (c === '(') {
      // RFC 5322 §3.2.2: comments nest and may hold quoted-pairs
      let depth = 0;
      let text = '';
      for (; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length) text += s[++i];
        else if (d === '(') {
          if (depth++ > 0) text += d;
        } else if (d === ')') {
          if (--depth === 0) break;
          text += d;
        } else text += d;
      }
      i++;
      tokens.push({ kind: 'comment', text: text.trim(), space });
      space = true;
    } else if (c === '"') {
      let text = '';
      for (i++; i < s.length && s[i] !== '"'; i++) text += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i]; // RFC 5322 §3.2.4
      i++;
      tokens.push({ kind: 'quoted', text, space });
      space = false;
    } else if (c === '[') {
      const close = s.indexOf(']', i);
      const end = close < 0 ? s.length : close + 1;
      tokens.push({ kind: 'literal', text: s.slice(i, end), space }); // RFC 5322 §3.4.1 domain-literal
      i = end;
      space = false;
    } else if (SPECIALS.includes(c)) {
      tokens.push({ kind: 'special', text: c, space });
      i++;
      space = false;
    } else {
      let j = i + 1;
      while (j < s.length && !' \t\r\n()"[<>@,;:.'.includes(s[j]!)) j++;
      tokens.push({ kind: 'atom', text: s.slice(i, j), space }); // atext, plus 8-bit/UTF-8 (RFC 6532 §3.2) and stray bytes
      i = j;
      space = false;
    }
  }
  return tokens;
}

function isWord(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === 'atom' || t.kind === 'quoted');
}

function isSpecial(t: Token | undefined, c: string): boolean {
  return t !== undefined && t.kind === 'special' && t.text === c;
}

class AddressParser {
  private readonly tokens: Token[];
  private pos = 0;
  private comment: string | null = null; // last comment passed, a display name for `addr (Name)`
  readonly out: Address[] = [];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  /** The next non-comment token; comments passed are remembered. */
  private peek(): Token | undefined {
    while (this.tokens[this.pos]?.kind === 'comment') {
      const text = this.tokens[this.pos]!.text;
      if (text !== '') this.comment = text;
      this.pos++;
    }
    return this.tokens[this.pos];
  }

  list(): void {
    while (this.peek() !== undefined) {
      const t = this.peek()!;
      if (isSpecial(t, ',') || isSpecial(t, ';') || isSpecial(t, '>')) this.pos++; // RFC 5322 §4.4: obs empty list elements
      else this.address(true);
    }
  }

  /** Phrase words up to a structuring special (RFC 5322 §3.2.5, obs-phrase allows "."). */
  private phrase(): Token[] {
    const words: Token[] = [];
    for (let t = this.peek(); t && (isWord(t) || isSpecial(t, '.')); t = this.peek()) {
      words.push(t);
      this.pos++;
    }
    return words;
  }

  private address(allowGroup: boolean): void {
    const start = this.pos;
    this.comment = null;
    const words = this.phrase();
    const next = this.peek();
    if (isSpecial(next, ':') && allowGroup) {
      this.pos++;
      this.out.push(makeAddress(null, null, joinPhrase(words), null)); // RFC 5322 §3.4 group start
      for (let t = this.peek(); t && !isSpecial(t, ';'); t = this.peek()) {
        if (isSpecial(t, ',') || isSpecial(t, ':') || isSpecial(t, '>')) this.pos++;
        else this.address(false);
      }
      if (isSpecial(this.peek(), ';')) this.pos++;
      this.out.push(makeAddress(null, null, null, null)); // group end
    } else if (isSpecial(next, '<')) {
      this.angle(words.length > 0 ? joinPhrase(words) : null);
    } else if (isSpecial(next, '@')) {
      // addr-spec without angle brackets. Broken mailers write `Name user@host`: whitespace-
      // separated words before the last one are then taken as the display name.
      let split = words.length - 1;
      while (split > 0 && (!words[split]!.space || isSpecial(words[split - 1], '.') || isSpecial(words[split], '.'))) split--;
      const name = split > 0 ? joinPhrase(words.slice(0, split)) : null;
      const local = joinDotted(words.slice(split));
      this.pos++;
      const host = this.domain();
      this.peek(); // take in a trailing comment
      this.mailbox(name ?? this.comment, null, local, host);
    } else if (words.length > 0) {
      this.peek();
      this.out.push(makeAddress(this.comment, null, joinDotted(words), '')); // no domain: a bare local part or name
    }
    if (this.pos === start) this.pos++; // a token that cannot start an address (":" in a group, a literal): skip it
  }

  /** `<` [obs-route] addr-spec `>` (RFC 5322 §3.4, §4.4). */
  private angle(name: string | null): void {
    this.pos++; // "<"
    const route: string[] = [];
    while (isSpecial(this.peek(), '@')) {
      this.pos++;
      route.push('@' + this.domain()); // RFC 5322 §4.4 obs-domain-list
      while (isSpecial(this.peek(), ',')) this.pos++;
      if (isSpecial(this.peek(), ':')) {
        this.pos++;
        break;
      }
    }
    const local = joinDotted(this.phrase());
    let host = '';
    if (isSpecial(this.peek(), '@')) {
      this.pos++;
      host = this.domain();
    }
    // Anything left before ">" is damage; skip it, but not past an address separator.
    for (let t = this.peek(); t && !isSpecial(t, '>') && !isSpecial(t, ',') && !isSpecial(t, ';'); t = this.peek()) this.pos++;
    if (isSpecial(this.peek(), '>')) this.pos++;
    this.mailbox(name, route.length > 0 ? route.join(',') : null, local, host);
  }

  /** Adds a mailbox, unless it is pure noise (no name, route, local part or domain: a stray "<>" or "@"). */
  private mailbox(name: string | null, adl: string | null, local: string, host: string): void {
    if (name === null && adl === null && local === '' && host === '') return;
    this.out.push(makeAddress(name, adl, local, host));
  }

  /** A domain: dot-atom or literal; a word after whitespace without a "." starts the next address (missing comma). */
  private domain(): string {
    let host = '';
    let prev: Token | undefined;
    for (let t = this.peek(); t; t = this.peek()) {
      const wordLike = t.kind === 'atom' || t.kind === 'literal';
      if (!wordLike && !isSpecial(t, '.')) break;
      if (wordLike && prev && !isSpecial(prev, '.') && t.space) break;
      host += t.text;
      prev = t;
      this.pos++;
    }
    return host;
  }
}

/** Display-name words joined as read: one space where whitespace separated them. */
function joinPhrase(words: readonly Token[]): string {
  let s = '';
  for (const w of words) s += (s !== '' && w.space ? ' ' : '') + w.text;
  return s;
}

/** Local-part words and dots joined without the CFWS obs-local-part allows between them (RFC 5322 §4.4). */
function joinDotted(words: readonly Token[]): string {
  return words.map((w) => w.text).join('');
}

function makeAddress(name: string | null, adl: string | null, mailbox: string | null, host: string | null): Address {
  const n = name === null || name === '' ? null : name;
  return { name: n, nameText: n === null ? null : decodeEncodedWords(n), adl, mailbox, host };
}

/**
 * Parses an address-list (or mailbox-list) header value. A Buffer is unfolded and read as
 * UTF-8 when valid (RFC 6532), else windows-1252. Never throws: damaged input gives the
 * addresses that could be read.
 */
export function parseAddressList(value: Buffer | string): Address[] {
  const text = typeof value === 'string' ? value : unfold(value);
  const parser = new AddressParser(tokenize(text));
  try {
    parser.list();
  } catch {
    // Defensive only: the parser has no throwing paths; keep what was read.
  }
  return parser.out;
}
