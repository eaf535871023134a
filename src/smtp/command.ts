// SMTP command-line grammar (RFC 5321 §4.1): the verb, EHLO/HELO arguments, MAIL FROM and
// RCPT TO paths with RFC 6531 UTF-8 local parts and IDNA domains, and the ESMTP
// parameters of SIZE, BODY, SMTPUTF8, DSN, REQUIRETLS, FUTURERELEASE and AUTH.
import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { SmtpError } from './reply.ts';
import { utf8AddrXtextDecode, xtextDecode } from './xtext.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a command line (without CRLF) into the uppercased verb and its arguments (UTF-8, RFC 6531 §3.3). */
export function parseCommand(line: Buffer): { verb: string; args: string } {
  let end = 0;
  while (end < line.length && isAlpha(line[end]!)) end++;
  if (end === 0 || end > 16 || (end < line.length && line[end] !== 0x20)) throw new SmtpError(500, '5.5.2', 'syntax error in command'); // RFC 5321 §4.1.1: verb = 4 alphabetic characters (extensions: more)
  const verb = line.toString('latin1', 0, end).toUpperCase();
  let args: string;
  try {
    args = utf8.decode(line.subarray(Math.min(end + 1, line.length)));
  } catch {
    throw new SmtpError(500, '5.5.2', 'command is not valid UTF-8'); // RFC 6531 §3.3: only UTF-8 beyond ASCII
  }
  return { verb, args: args.replace(/[ \t]+$/, '') };
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** EHLO/HELO argument (RFC 5321 §4.1.1.1): a domain or address literal. Lenient: any one printable word is taken, as real clients send odd names. */
export function parseHelo(args: string): string {
  const a = args.trim();
  if (a === '' || /[\s\x00-\x1f\x7f]/.test(a)) throw new SmtpError(501, '5.5.4', 'syntax: EHLO domain'); // RFC 5321 §4.1.1.1
  return a;
}

/** RFC 5321 §4.1.2 Mailbox, with RFC 6531 UTF-8 local parts and IDNA domains. */
export interface SmtpPath {
  localpart: string; // unquoted form as UTF-8 (quoted-string content unescaped)
  domain: string; // lowercase U-label, or an address literal '[1.2.3.4]' / '[IPv6:...]'; '' for "<postmaster>"
  asciiDomain: string; // A-label form for DNS, or the literal
  address: string; // localpart@domain for lookups (localpart quoted when needed)
  utf8: boolean; // non-ASCII in the localpart or the domain as sent (an A-label is ASCII): needs SMTPUTF8
}

export interface MailParams {
  size?: number; // RFC 1870
  body?: '7BIT' | '8BITMIME' | 'BINARYMIME'; // RFC 6152, RFC 3030
  smtputf8: boolean; // RFC 6531 §3.4
  ret?: 'FULL' | 'HDRS'; // RFC 3461 §4.3
  envid?: string; // RFC 3461 §4.4, xtext-decoded
  auth?: string; // RFC 4954 §5, xtext-decoded ('<>' allowed)
  requireTLS: boolean; // RFC 8689 §3
  holdFor?: number; // RFC 4865 HOLDFOR, seconds
  holdUntil?: Date; // RFC 4865 HOLDUNTIL
}

export interface RcptParams {
  notify?: 'NEVER' | Array<'SUCCESS' | 'FAILURE' | 'DELAY'>; // RFC 3461 §4.1
  orcpt?: { addrType: string; address: string }; // RFC 3461 §4.2, RFC 6533 §3
}

export interface ParseOptions {
  smtputf8?: boolean; // RCPT: the transaction's MAIL had SMTPUTF8
  extensions: ReadonlySet<string>; // parameter keywords accepted in this session
}

// RFC 5321 §4.1.2 atext, widened by RFC 6531 §3.3 with UTF8-non-ascii.
const atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\u{10FFFF}]+";
const dotString = new RegExp(`^${atom}(?:\\.${atom})*`, 'u');
const nonAscii = /[^\x00-\x7f]/;

class PathSyntax extends Error {}

/** Parses "<...>" at the start of s; returns the path (null for "<>") and the rest. */
function parsePath(s: string, allowNull: boolean, allowPostmaster: boolean): { path: SmtpPath | null; rest: string } {
  if (!s.startsWith('<')) throw new PathSyntax('path must be in angle brackets'); // RFC 5321 §4.1.2 Path
  let p = 1;
  if (s[p] === '>') {
    if (!allowNull) throw new PathSyntax('empty path');
    return { path: null, rest: s.slice(2) };
  }
  if (s[p] === '@') {
    const colon = s.indexOf(':', p); // RFC 5321 §4.1.2 A-d-l: source route, accepted and ignored (Appendix C)
    if (colon < 0 || !/^@[^,:<>@\s]+(?:,@[^,:<>@\s]+)*$/.test(s.slice(p, colon))) throw new PathSyntax('bad source route');
    p = colon + 1;
  }
  let localpart: string;
  if (s[p] === '"') {
    // RFC 5321 §4.1.2 Quoted-string; RFC 6531 §3.3 allows UTF-8 in qtextSMTP
    let out = '';
    p++;
    for (;;) {
      const c = s[p];
      if (c === undefined) throw new PathSyntax('unterminated quoted string');
      if (c === '"') { p++; break; }
      if (c === '\\') {
        const n = s[p + 1];
        if (n === undefined || !/[\x20-\x7e]/.test(n)) throw new PathSyntax('bad quoted pair'); // quoted-pairSMTP = %d92 %d32-126
        out += n;
        p += 2;
        continue;
      }
      if (!/[\x20\x21\x23-\x5b\x5d-\x7e]|[^\x00-\x7f]/u.test(c)) throw new PathSyntax('bad character in quoted string');
      out += c;
      p += c.length;
    }
    localpart = out;
  } else {
    const m = dotString.exec(s.slice(p));
    if (!m) throw new PathSyntax('bad local part');
    localpart = m[0];
    p += m[0].length;
  }
  if (s[p] !== '@') {
    if (allowPostmaster && s[p] === '>' && localpart.toLowerCase() === 'postmaster') return { path: { localpart, domain: '', asciiDomain: '', address: 'postmaster', utf8: false }, rest: s.slice(p + 1) }; // RFC 5321 §4.1.1.3, §4.5.1
    throw new PathSyntax('missing @domain');
  }
  p++;
  const close = s.indexOf('>', p);
  if (close < 0) throw new PathSyntax('missing >');
  const rawDomain = s.slice(p, close);
  const { domain, asciiDomain } = parseDomain(rawDomain);
  return { path: { localpart, domain, asciiDomain, address: `${quoteLocalpart(localpart)}@${domain}`, utf8: nonAscii.test(localpart) || nonAscii.test(rawDomain) }, rest: s.slice(close + 1) };
}

/** A local part as a path writes it: a Dot-string as is, anything else as a Quoted-string (RFC 5321 §4.1.2; RFC 6531 §3.3 UTF-8). */
export function quoteLocalpart(localpart: string): string {
  return dotString.exec(localpart)?.[0] === localpart ? localpart : `"${localpart.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The path for an address found in parts (by a message-header parser), for a client that
 * writes MAIL FROM or RCPT TO: checked with the grammar this server reads, so no CR, LF or
 * other control character, and no malformed domain, can reach a command line (RFC 5321
 * §4.1.2). Throws an Error naming the problem.
 */
export function mailboxPath(localpart: string, domain: string): SmtpPath {
  if (localpart === '') throw new Error('empty local part'); // "" is grammatical (RFC 5321 §4.1.2 Quoted-string) but names no mailbox; a header parser gives it for "@domain"
  const { path, rest } = parsePath(`<${quoteLocalpart(localpart)}@${domain}>`, false, false);
  if (rest !== '' || path === null) throw new Error('bad domain'); // a ">" inside the domain
  return path;
}

function parseDomain(d: string): { domain: string; asciiDomain: string } {
  if (d.startsWith('[')) {
    // RFC 5321 §4.1.3 address literals
    if (!d.endsWith(']')) throw new PathSyntax('bad address literal');
    const inner = d.slice(1, -1);
    if (isIP(inner) === 4) return { domain: d, asciiDomain: d };
    if (/^IPv6:/i.test(inner) && isIP(inner.slice(5)) === 6) return { domain: `[IPv6:${inner.slice(5).toLowerCase()}]`, asciiDomain: `[IPv6:${inner.slice(5).toLowerCase()}]` };
    throw new PathSyntax('bad address literal');
  }
  if (d === '' || d.length > 255 || /[\s<>@,;:"\\[\]()]/.test(d) || d.startsWith('.') || d.endsWith('.') || d.includes('..')) throw new PathSyntax('bad domain');
  const ascii = domainToASCII(d.normalize('NFC')); // RFC 5890 IDNA; '' when not a valid name
  if (ascii === '' || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(ascii)) throw new PathSyntax('bad domain'); // RFC 5321 §4.1.2 sub-domain (LDH)
  const unicode = domainToUnicode(ascii);
  if (/(^|\.)xn--/.test(unicode)) throw new PathSyntax('bad IDNA A-label'); // RFC 5891 §5.4: an A-label must decode to a valid U-label
  return { domain: unicode, asciiDomain: ascii };
}

/** Splits "KEY=value KEY2" parameters (RFC 5321 §4.1.2 Mail-parameters). */
function parseParams(s: string, o: ParseOptions): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const t = s.trim();
  if (s !== '' && !s.startsWith(' ')) throw new SmtpError(501, '5.5.4', 'parameters must follow the path after a space');
  if (t === '') return out;
  for (const p of t.split(/ +/)) {
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? undefined : p.slice(eq + 1);
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) throw new SmtpError(501, '5.5.4', `bad parameter ${JSON.stringify(p)}`); // esmtp-keyword
    if (value !== undefined && !/^[\x21-\x3c\x3e-\x7e\u0080-\u{10FFFF}]+$/u.test(value)) throw new SmtpError(501, '5.5.4', `bad value for ${key}`); // esmtp-value; RFC 6531 §3.3
    if (!o.extensions.has(key)) throw new SmtpError(555, '5.5.4', `parameter ${key} not supported`); // RFC 5321 §4.1.1.11
    if (out.has(key)) throw new SmtpError(501, '5.5.4', `duplicate parameter ${key}`);
    out.set(key, value);
  }
  return out;
}

function need(key: string, v: string | undefined): string {
  if (v === undefined) throw new SmtpError(501, '5.5.4', `${key} needs a value`);
  return v;
}

function noValue(key: string, v: string | undefined): void {
  if (v !== undefined) throw new SmtpError(501, '5.5.4', `${key} takes no value`);
}

function decoded(key: string, v: string, decode: (s: string) => string): string {
  try {
    return decode(v);
  } catch {
    throw new SmtpError(501, '5.5.4', `bad xtext in ${key}`);
  }
}

function pathArgs(args: string, keyword: 'FROM' | 'TO'): string {
  const m = new RegExp(`^${keyword}: ?`, 'i').exec(args); // RFC 5321 §4.1.1.2: no space after the colon; one is common and tolerated
  if (!m) throw new SmtpError(501, '5.5.4', `syntax: ${keyword === 'FROM' ? 'MAIL FROM:<address>' : 'RCPT TO:<address>'}`);
  return args.slice(m[0].length);
}

/** "FROM:<path>" (null path allowed) or "TO:<path>" (<postmaster> allowed); the path's syntax errors get the sender or recipient code. */
function keywordPath(args: string, keyword: 'FROM' | 'TO'): { path: SmtpPath | null; rest: string } {
  const from = keyword === 'FROM';
  try {
    return parsePath(pathArgs(args, keyword), from, !from);
  } catch (e) {
    if (!(e instanceof PathSyntax)) throw e;
    if (from) throw new SmtpError(501, '5.1.7', `bad sender address: ${e.message}`); // RFC 3463 §3.2 X.1.7 bad sender's mailbox address syntax
    throw new SmtpError(501, '5.1.3', `bad recipient address: ${e.message}`); // RFC 3463 §3.2 X.1.3 bad destination mailbox address syntax
  }
}

/** The args of MAIL ("FROM:<path> params"). */
export function parseMailFrom(args: string, o: ParseOptions): { path: SmtpPath | null; params: MailParams } {
  const parsed = keywordPath(args, 'FROM');
  const raw = parseParams(parsed.rest, o);
  const params: MailParams = { smtputf8: false, requireTLS: false };
  for (const [key, v] of raw) {
    switch (key) {
      case 'SIZE': { // RFC 1870 §3: size-value = 1*20DIGIT
        const s = need(key, v);
        if (!/^\d{1,20}$/.test(s)) throw new SmtpError(501, '5.5.4', 'SIZE must be a number');
        params.size = Number(s);
        break;
      }
      case 'BODY': { // RFC 6152 §2, RFC 3030 §3
        const b = need(key, v).toUpperCase();
        if (b !== '7BIT' && b !== '8BITMIME' && b !== 'BINARYMIME') throw new SmtpError(501, '5.5.4', 'BODY must be 7BIT, 8BITMIME or BINARYMIME');
        params.body = b;
        break;
      }
      case 'SMTPUTF8': noValue(key, v); params.smtputf8 = true; break; // RFC 6531 §3.4
      case 'REQUIRETLS': noValue(key, v); params.requireTLS = true; break; // RFC 8689 §3
      case 'RET': { // RFC 3461 §4.3
        const r = need(key, v).toUpperCase();
        if (r !== 'FULL' && r !== 'HDRS') throw new SmtpError(501, '5.5.4', 'RET must be FULL or HDRS');
        params.ret = r;
        break;
      }
      case 'ENVID': { // RFC 3461 §4.4: at most 100 characters
        const e = decoded(key, need(key, v), xtextDecode);
        if (e.length > 100) throw new SmtpError(501, '5.5.4', 'ENVID longer than 100 characters');
        params.envid = e;
        break;
      }
      case 'AUTH': params.auth = decoded(key, need(key, v), xtextDecode); break; // RFC 4954 §5
      case 'HOLDFOR': { // RFC 4865 §3: future-release-integer
        const h = need(key, v);
        if (!/^\d{1,9}$/.test(h)) throw new SmtpError(501, '5.5.4', 'HOLDFOR must be a number of seconds');
        params.holdFor = Number(h);
        break;
      }
      case 'HOLDUNTIL': { // RFC 4865 §3 (errata 2040): RFC 3339 §5.6 date-time; past or too far ahead is the session's call (max-future-release)
        const h = need(key, v);
        const m = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.exec(h);
        const d = m ? new Date(h) : new Date(NaN);
        if (!m || Number.isNaN(d.getTime()) || Number(m[3]) > new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate()) throw new SmtpError(501, '5.5.4', 'HOLDUNTIL must be an RFC 3339 date-time');
        params.holdUntil = d;
        break;
      }
      default: throw new SmtpError(555, '5.5.4', `parameter ${key} not supported for MAIL`);
    }
  }
  if (params.holdFor !== undefined && params.holdUntil !== undefined) throw new SmtpError(501, '5.5.4', 'HOLDFOR and HOLDUNTIL together'); // RFC 4865 §3: one hold-param
  if (parsed.path?.utf8 && !params.smtputf8) throw new SmtpError(553, '5.6.7', 'non-ASCII address needs SMTPUTF8'); // RFC 6531 §3.7.4.1
  return { path: parsed.path, params };
}

/** The args of RCPT ("TO:<path> params"); "<postmaster>" without domain is allowed (RFC 5321 §4.1.1.3). */
export function parseRcptTo(args: string, o: ParseOptions): { path: SmtpPath; params: RcptParams } {
  const parsed = keywordPath(args, 'TO');
  const path = parsed.path!;
  if (path.utf8 && !o.smtputf8) throw new SmtpError(553, '5.6.7', 'non-ASCII address needs SMTPUTF8 in MAIL FROM'); // RFC 6531 §3.7.4.1
  const params: RcptParams = {};
  for (const [key, v] of parseParams(parsed.rest, o)) {
    if (key === 'NOTIFY') { // RFC 3461 §4.1
      const parts = need(key, v).toUpperCase().split(',');
      if (parts.includes('NEVER')) {
        if (parts.length !== 1) throw new SmtpError(501, '5.5.4', 'NOTIFY=NEVER cannot be combined');
        params.notify = 'NEVER';
      } else {
        if (parts.some((p) => p !== 'SUCCESS' && p !== 'FAILURE' && p !== 'DELAY') || new Set(parts).size !== parts.length) throw new SmtpError(501, '5.5.4', 'NOTIFY must be NEVER or SUCCESS, FAILURE, DELAY');
        params.notify = parts as Array<'SUCCESS' | 'FAILURE' | 'DELAY'>;
      }
    } else if (key === 'ORCPT') { // RFC 3461 §4.2: addr-type ";" xtext; RFC 6533 §3: utf-8-addr-xtext
      const value = need(key, v);
      const semi = value.indexOf(';');
      const addrType = value.slice(0, semi);
      if (semi <= 0 || !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/.test(addrType)) throw new SmtpError(501, '5.5.4', 'ORCPT must be addr-type;address');
      const isUtf8 = addrType.toLowerCase() === 'utf-8';
      params.orcpt = { addrType, address: decoded(key, value.slice(semi + 1), isUtf8 ? utf8AddrXtextDecode : xtextDecode) };
    } else throw new SmtpError(555, '5.5.4', `parameter ${key} not supported for RCPT`);
  }
  return { path, params };
}
