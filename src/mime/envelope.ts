// The ENVELOPE of a message (RFC 9051 §7.5.2), built from its header bytes (read from the
// stored offsets, so no re-parse of the body): raw values for IMAP, decoded ones for display.
import { parseAddressList } from './address.ts';
import type { Address } from './address.ts';
import { decodeEncodedWords, parseHeader, unfold } from './header.ts';
import type { HeaderField } from './header.ts';

/**
 * ENVELOPE data. `null` is IMAP NIL. Strings are the unfolded, trimmed header values as
 * written, RFC 2047 words kept (RFC 9051 §7.5.2 sends them undecoded); `subjectText` and
 * each address's `nameText` are decoded for display. 8-bit bytes are read as UTF-8 when
 * valid (RFC 6532), else windows-1252.
 */
export interface Envelope {
  date: string | null; // Date, raw
  subject: string | null; // Subject, raw
  subjectText: string | null; // Subject with RFC 2047 words decoded
  from: Address[] | null;
  sender: Address[] | null; // defaults to from when absent or empty (RFC 9051 §7.5.2)
  replyTo: Address[] | null; // defaults to from when absent or empty (RFC 9051 §7.5.2)
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null; // In-Reply-To, raw
  messageId: string | null; // Message-ID, raw
}

function first(fields: readonly HeaderField[], key: string): HeaderField | undefined {
  return fields.find((f) => f.key === key); // RFC 5322 §3.6: each of these occurs at most once; the first wins
}

function text(fields: readonly HeaderField[], key: string): string | null {
  const f = first(fields, key);
  return f ? unfold(f.value) : null;
}

function addresses(fields: readonly HeaderField[], key: string): Address[] | null {
  const f = first(fields, key);
  if (!f) return null;
  const list = parseAddressList(f.value);
  return list.length > 0 ? list : null; // an empty field is NIL, as an absent one
}

/** Builds the envelope from a header block (the bytes from headerStart to bodyStart, or more: parsing stops at the empty line). Never throws. */
export function parseEnvelope(header: Buffer): Envelope {
  const fields = parseHeader(header);
  const from = addresses(fields, 'from');
  const subject = text(fields, 'subject');
  return {
    date: text(fields, 'date'),
    subject,
    subjectText: subject === null ? null : decodeEncodedWords(subject),
    from,
    sender: addresses(fields, 'sender') ?? from, // RFC 9051 §7.5.2
    replyTo: addresses(fields, 'reply-to') ?? from, // RFC 9051 §7.5.2
    to: addresses(fields, 'to'),
    cc: addresses(fields, 'cc'),
    bcc: addresses(fields, 'bcc'),
    inReplyTo: text(fields, 'in-reply-to'),
    messageId: text(fields, 'message-id'),
  };
}
