// ENVELOPE (RFC 9051 §7.5.2, §9 envelope) from src/mime's parsed envelope: raw header
// values (RFC 2047 words kept), NIL for absent fields, groups as RFC 9051 marks them.
import type { Address, Envelope } from '../../mime/index.ts';
import { concat, nstr } from '../encode.ts';

/**
 * RFC 9051 §9 env-from etc.: a list of addresses, NIL when none. A group is a start marker
 * (NIL NIL "name" NIL) and an end marker (NIL NIL NIL NIL); an address without a domain has
 * host "" (NIL would make it a group start).
 */
function addresses(list: readonly Address[] | null, utf8: boolean): Buffer | string {
  if (!list || list.length === 0) return 'NIL';
  const out: (Buffer | string)[] = ['('];
  for (const a of list) out.push('(', nstr(a.name, utf8), ' ', nstr(a.adl, utf8), ' ', nstr(a.mailbox, utf8), ' ', nstr(a.host, utf8), ')');
  out.push(')');
  return concat(out);
}

/** RFC 9051 §7.5.2 ENVELOPE; strings with 8-bit bytes are literals unless the session accepts UTF-8 (RFC 9051 §4.3). */
export function envelope(e: Envelope, utf8: boolean): Buffer {
  return concat([
    '(', nstr(e.date, utf8), ' ', nstr(e.subject, utf8), ' ',
    addresses(e.from, utf8), ' ', addresses(e.sender, utf8), ' ', addresses(e.replyTo, utf8), ' ', // RFC 9051 §7.5.2: sender and reply-to default to from (parseEnvelope)
    addresses(e.to, utf8), ' ', addresses(e.cc, utf8), ' ', addresses(e.bcc, utf8), ' ',
    nstr(e.inReplyTo, utf8), ' ', nstr(e.messageId, utf8), ')',
  ]);
}
