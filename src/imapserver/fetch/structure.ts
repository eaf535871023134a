// BODYSTRUCTURE and BODY (RFC 9051 §7.5.2, §9 body) from the stored MIME index: what
// Dovecot sends for the same message, given the envelopes of the encapsulated messages
// (their header bytes are read by the caller).
import type { Envelope, MimeParam, MimePart } from '../../mime/index.ts';
import { concat, nstr, str } from '../encode.ts';
import { envelope } from './envelope.ts';
import { isMessagePart } from './section.ts';

const nil = 'NIL';

/** The encapsulated messages of message/rfc822 and message/global parts, depth first: whose envelopes BODYSTRUCTURE shows. */
export function encapsulatedMessages(part: MimePart, out: MimePart[] = []): MimePart[] {
  if (isMessagePart(part)) out.push(part.children[0]!);
  for (const c of part.children) encapsulatedMessages(c, out);
  return out;
}

// RFC 2231 §7 attribute-char: what may stay unescaped in an extended parameter value.
const attributeChar = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/**
 * A parameter for the response. The index holds values decoded to UTF-8 (RFC 2231
 * continuations and charsets undone). A session that accepts UTF-8 gets them so (RFC 9051
 * §4.3, RFC 6855 §3); another gets non-ASCII values back in RFC 2231 §4 form, `name*`
 * "utf-8''%C3%A9", as Dovecot passes them on, so the response stays 7-bit.
 */
function param(p: MimeParam, utf8: boolean): (Buffer | string)[] {
  if (utf8 || /^[\x00-\x7f]*$/.test(p.value)) return [str(p.name, utf8), ' ', str(p.value, utf8)];
  let v = "utf-8''";
  for (const b of Buffer.from(p.value, 'utf8')) {
    const c = String.fromCharCode(b);
    v += b < 0x80 && attributeChar.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return [str(p.name + '*', false), ' ', str(v, false)];
}

/** RFC 9051 §9 body-fld-param; a text part without charset gets ("charset" "us-ascii"), the RFC 2046 §4.1.2 default, as Dovecot adds it. */
function params(list: readonly MimeParam[], utf8: boolean, defaultCharset = false): Buffer | string {
  const all = defaultCharset && !list.some((p) => p.name === 'charset') ? [...list, { name: 'charset', value: 'us-ascii' }] : list;
  if (all.length === 0) return nil;
  const out: (Buffer | string)[] = ['('];
  all.forEach((p, i) => out.push(i ? ' ' : '', ...param(p, utf8)));
  out.push(')');
  return concat(out);
}

/** RFC 9051 §9 body-fld-dsp. */
function disposition(p: MimePart, utf8: boolean): Buffer | string {
  if (!p.disposition) return nil;
  return concat(['(', str(p.disposition.type, utf8), ' ', params(p.disposition.params, utf8), ')']);
}

/** RFC 9051 §9 body-fld-lang: always a list, as Dovecot writes it. */
function language(p: MimePart, utf8: boolean): Buffer | string {
  if (!p.language || p.language.length === 0) return nil;
  return concat(['(', ...p.language.flatMap((l, i) => [i ? ' ' : '', str(l, utf8)]), ')']);
}

/** RFC 9051 §9 body-ext-1part / body-ext-mpart after their first field: disposition, language, location. */
function extension(p: MimePart, utf8: boolean): (Buffer | string)[] {
  return [' ', disposition(p, utf8), ' ', language(p, utf8), ' ', nstr(p.location, utf8)];
}

// Dovecot's stand-in for the parts of a multipart that has none: one empty text/plain part (RFC 9051 §9 body-type-mpart needs 1*body).
const emptyBody = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const emptyBodyStructure = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

/**
 * RFC 9051 §7.5.2 BODYSTRUCTURE (`extensible`) or BODY (not) of a part. `envelopes` holds
 * the envelope of each encapsulated message (see encapsulatedMessages).
 */
export function bodyStructure(part: MimePart, o: { extensible: boolean; utf8: boolean; envelopes: ReadonlyMap<MimePart, Envelope> }): Buffer {
  const { extensible, utf8 } = o;
  if (part.type === 'multipart') {
    // RFC 9051 §9 body-type-mpart: the parts, the subtype, then (BODYSTRUCTURE) params, disposition, language, location.
    const out: (Buffer | string)[] = ['('];
    if (part.children.length === 0) out.push(extensible ? emptyBodyStructure : emptyBody);
    for (const c of part.children) out.push(bodyStructure(c, o));
    out.push(' ', str(part.subtype, utf8));
    if (extensible) out.push(' ', params(part.params, utf8), ...extension(part, utf8));
    out.push(')');
    return concat(out);
  }
  // RFC 9051 §9 body-type-1part: type, subtype, body-fields (params, id, description, encoding, octets), then per type.
  const text = part.type === 'text';
  const out: (Buffer | string)[] = [
    '(', str(part.type, utf8), ' ', str(part.subtype, utf8), ' ', params(part.params, utf8, text), ' ', nstr(part.id, utf8), ' ', nstr(part.description, utf8), ' ',
    str(part.encoding ?? '7bit', utf8), ` ${part.size}`,
  ];
  if (isMessagePart(part)) {
    // RFC 9051 §9 body-type-msg: envelope and body of the encapsulated message, and the part's lines.
    const m = part.children[0]!;
    const env = o.envelopes.get(m);
    if (!env) throw new Error('bodyStructure: envelope of an encapsulated message missing');
    out.push(' ', envelope(env, utf8), ' ', bodyStructure(m, o), ` ${part.lines}`);
  } else if (text) out.push(` ${part.lines}`); // RFC 9051 §9 body-type-text
  // An encoded or too deeply nested message/rfc822 has no indexed message: a basic part, as Dovecot shows it.
  if (extensible) out.push(' ', nstr(part.md5, utf8), ...extension(part, utf8)); // RFC 9051 §9 body-ext-1part
  out.push(')');
  return concat(out);
}
