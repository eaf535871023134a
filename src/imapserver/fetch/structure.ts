// BODYSTRUCTURE, BODY and ENVELOPE (RFC 9051 §7.5.2) from the stored MIME index and the
// header bytes of the message and its encapsulated messages, and finding the part a
// section number names (RFC 9051 §6.4.5).
import type { MimePart, MimeParam, Address, Envelope } from '../../mime/index.ts';
import { parseEnvelope } from '../../mime/index.ts';
import { concat, nstr, str } from '../encode.ts';

/** Reads bytes [start, end) of the message. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

export function isMessagePart(p: MimePart): boolean {
  return p.type === 'message' && (p.subtype === 'rfc822' || p.subtype === 'global') && p.children.length === 1; // RFC 6532 §5 message/global like rfc822
}

function isMultipart(p: MimePart): boolean {
  return p.type === 'multipart' && p.children.length > 0;
}

/** The parts a message's body consists of: the children of a multipart body, else the message itself as its one part (RFC 9051 §6.4.5: part 1 of a non-multipart message is its body). */
function partsOf(message: MimePart): MimePart[] {
  return isMultipart(message) ? message.children : [message];
}

/**
 * The part a section path names, and the message node it is within; undefined if there
 * is no such part. `[]` names the message itself.
 */
export function resolvePart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let part: MimePart | undefined;
  for (const n of path) {
    if (!part) part = partsOf(root)[n - 1];
    else if (isMultipart(part)) part = part.children[n - 1];
    else if (isMessagePart(part)) part = partsOf(part.children[0]!)[n - 1];
    else return undefined;
    if (!part) return undefined;
  }
  return part ?? root;
}

const nil = 'NIL';

function params(list: readonly MimeParam[], utf8: boolean): Buffer | string {
  if (list.length === 0) return nil;
  const parts: (Buffer | string)[] = ['('];
  list.forEach((p, i) => parts.push(i ? ' ' : '', str(p.name, utf8), ' ', str(p.value, utf8)));
  parts.push(')');
  return concat(parts);
}

function disposition(p: MimePart, utf8: boolean): Buffer | string {
  if (!p.disposition) return nil;
  return concat(['(', str(p.disposition.type, utf8), ' ', params(p.disposition.params, utf8), ')']);
}

function language(p: MimePart, utf8: boolean): Buffer | string {
  if (!p.language || p.language.length === 0) return nil;
  if (p.language.length === 1) return str(p.language[0]!, utf8);
  return concat(['(', ...p.language.flatMap((l, i) => [i ? ' ' : '', str(l, utf8)]), ')']);
}

/** RFC 9051 §7.5.2 BODYSTRUCTURE (extensible) or BODY (not). */
export async function bodyStructure(part: MimePart, extensible: boolean, utf8: boolean, read: ReadRange): Promise<Buffer> {
  if (isMultipart(part)) {
    const out: (Buffer | string)[] = ['('];
    for (const c of part.children) out.push(await bodyStructure(c, extensible, utf8, read));
    out.push(' ', str(part.subtype, utf8));
    if (extensible) out.push(' ', params(part.params, utf8), ' ', disposition(part, utf8), ' ', language(part, utf8), ' ', nstr(part.location, utf8)); // RFC 9051 §9 body-ext-mpart
    out.push(')');
    return concat(out);
  }
  // A multipart whose boundary never appeared has no parts: shown as one text/plain part, as Dovecot does (a client cannot use a multipart without parts).
  const bad = part.type === 'multipart';
  const type = bad ? 'text' : part.type;
  const subtype = bad ? 'plain' : part.subtype;
  const ps = bad ? [] : part.params;
  const out: (Buffer | string)[] = ['(', str(type, utf8), ' ', str(subtype, utf8), ' ', params(ps, utf8), ' ', nstr(part.id, utf8), ' ', nstr(part.description, utf8), ' ', str(part.encoding ?? '7bit', utf8), ` ${part.size}`];
  if (!bad && isMessagePart(part)) {
    // RFC 9051 §9 body-type-msg: envelope, body of the encapsulated message, lines.
    const m = part.children[0]!;
    out.push(' ', envelope(parseEnvelope(await read(m.headerStart, m.bodyStart)), utf8), ' ', await bodyStructure(m, extensible, utf8, read), ` ${part.lines}`);
  } else if (type === 'text') out.push(` ${part.lines}`); // RFC 9051 §9 body-type-text
  if (extensible) out.push(' ', nstr(part.md5, utf8), ' ', disposition(part, utf8), ' ', language(part, utf8), ' ', nstr(part.location, utf8)); // RFC 9051 §9 body-ext-1part
  out.push(')');
  return concat(out);
}

function addresses(list: Address[] | null, utf8: boolean): Buffer | string {
  if (!list || list.length === 0) return nil;
  const out: (Buffer | string)[] = ['('];
  for (const a of list) out.push('(', nstr(a.name, utf8), ' ', nstr(a.adl, utf8), ' ', nstr(a.mailbox, utf8), ' ', nstr(a.host, utf8), ')');
  out.push(')');
  return concat(out);
}

/** RFC 9051 §7.5.2 ENVELOPE. */
export function envelope(e: Envelope, utf8: boolean): Buffer {
  return concat([
    '(', nstr(e.date, utf8), ' ', nstr(e.subject, utf8), ' ', addresses(e.from, utf8), ' ', addresses(e.sender, utf8), ' ', addresses(e.replyTo, utf8), ' ',
    addresses(e.to, utf8), ' ', addresses(e.cc, utf8), ' ', addresses(e.bcc, utf8), ' ', nstr(e.inReplyTo, utf8), ' ', nstr(e.messageId, utf8), ')',
  ]);
}
