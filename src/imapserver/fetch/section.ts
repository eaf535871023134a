// What a section of BODY[...] and BINARY[...] names (RFC 9051 §6.4.5): the part a part
// number refers to in the stored MIME index (nested message/rfc822 parts included), the
// byte range of the message file that holds it, and HEADER.FIELDS(.NOT) filtering.
import { parseHeader, type MimePart } from '../../mime/index.ts';
import type { Section } from './items.ts';

/** A message/rfc822 or message/global part whose encapsulated message was indexed (RFC 9051 §6.4.5, RFC 6532 §5). */
export function isMessagePart(p: MimePart): boolean {
  return p.type === 'message' && (p.subtype === 'rfc822' || p.subtype === 'global') && p.children.length === 1;
}

/**
 * The parts a message's body consists of (RFC 9051 §6.4.5): the children of a multipart
 * body, else the body itself as part 1. A multipart without parts (no boundary found, or
 * none given) has none: its BODYSTRUCTURE shows one empty text/plain part, as Dovecot's,
 * and fetching that part gives NIL.
 */
function partsOf(message: MimePart): readonly MimePart[] {
  return message.type === 'multipart' ? message.children : [message];
}

/**
 * The part a section path names (`[]`: the message itself), or undefined when there is no
 * such part. Part n of a message/rfc822 part is part n of its encapsulated message.
 */
export function resolvePart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let part: MimePart | undefined;
  for (const n of path) {
    if (!part) part = partsOf(root)[n - 1];
    else if (part.type === 'multipart') part = part.children[n - 1];
    else if (isMessagePart(part)) part = partsOf(part.children[0]!)[n - 1];
    else return undefined; // a leaf has no subparts
    if (!part) return undefined;
  }
  return part ?? root;
}

/** Where a section's bytes come from: a byte range [start, end) of the message file, or its header block filtered by field names. */
export type SectionSource =
  | { kind: 'range'; start: number; end: number }
  | { kind: 'fields'; header: MimePart; names: Set<string>; not: boolean }; // names lowercased

/** The source of a BODY[section] (RFC 9051 §6.4.5); undefined when the part does not exist or has no such section (answered NIL). */
export function sectionSource(root: MimePart, size: number, s: Section): SectionSource | undefined {
  if (s.path.length === 0 && s.text === '') return { kind: 'range', start: 0, end: size };
  const part = resolvePart(root, s.path);
  if (!part) return undefined;
  if (s.text === '') return { kind: 'range', start: part.bodyStart, end: part.end }; // the part's body; for a message/rfc822 part the whole encapsulated message
  if (s.text === 'MIME') return { kind: 'range', start: part.headerStart, end: part.bodyStart }; // RFC 9051 §6.4.5: the part's MIME header
  // HEADER, HEADER.FIELDS and TEXT: of the message itself, or of the message a message/rfc822 part encapsulates (RFC 9051 §6.4.5).
  let msg: MimePart;
  if (s.path.length === 0) msg = root;
  else if (isMessagePart(part)) msg = part.children[0]!;
  else return undefined;
  if (s.text === 'TEXT') return { kind: 'range', start: msg.bodyStart, end: msg.end };
  if (s.text === 'HEADER') return { kind: 'range', start: msg.headerStart, end: msg.bodyStart }; // with the blank line that ends it
  return { kind: 'fields', header: msg, names: new Set(s.fields.map((f) => f.toLowerCase())), not: s.text === 'HEADER.FIELDS.NOT' };
}

const crlf = Buffer.from('\r\n');

/**
 * The fields of a header block that are (or with `not`, are not) named, as written
 * (folding kept), followed by the blank line (RFC 9051 §6.4.5: the delimiting blank line
 * between the header and the body is included). Names compare case-insensitively.
 */
export function headerFields(header: Buffer, names: ReadonlySet<string>, not: boolean): Buffer {
  const out: Buffer[] = [];
  for (const f of parseHeader(header)) {
    if (names.has(f.key) === not) continue;
    const field = header.subarray(f.start, f.end);
    out.push(field);
    if (field[field.length - 1] !== 0x0a) out.push(crlf); // the last field of a header that ended without a line break
  }
  out.push(crlf);
  return Buffer.concat(out);
}
