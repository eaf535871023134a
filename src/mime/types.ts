// The stored shapes of the MIME index: the part tree with byte offsets that IMAP
// BODYSTRUCTURE, BODY[section]<partial> and the envelope are served from. All plain
// JSON (numbers, strings, arrays, null) so the store can keep it as text.

/** One `name=value` parameter of Content-Type or Content-Disposition (RFC 2045 §5.1, RFC 2183). */
export interface MimeParam {
  name: string; // lowercased attribute name, RFC 2231 `*n*` suffixes removed
  value: string; // UTF-8; RFC 2231 continuations joined and charset-decoded; RFC 2047 words left raw
}

/** Why a part is best-effort rather than well-formed; the parser never throws instead. */
export type MimeDefect =
  | 'missing-close-boundary' // RFC 2046 §5.1.1: multipart ended without `--boundary--`
  | 'no-parts' // multipart whose boundary never appears
  | 'missing-boundary-param' // RFC 2046 §5.1.1: multipart without boundary, indexed as a leaf
  | 'header-truncated' // header block over the size limit: only its start is parsed
  | 'missing-header-separator' // header ended by a non-header line, not an empty line (RFC 5322 §2.1)
  | 'header-unterminated' // the input (or part) ended inside the header block
  | 'bad-content-type' // RFC 2045 §5.2: unparseable Content-Type, default used
  | 'too-deep' // nesting limit reached: multipart or message indexed as a leaf
  | 'too-many-parts'; // part limit reached: later parts are left in their parent's body

/** A node of the part tree. Offsets are absolute byte offsets in the message file. */
export interface MimePart {
  headerStart: number; // first byte of the header block
  bodyStart: number; // first byte after the empty line ending the header (RFC 5322 §2.1)
  end: number; // end of body, exclusive; the CRLF before a boundary is not in it (RFC 2046 §5.1.1)
  type: string; // lowercased media type, default "text" (RFC 2045 §5.2)
  subtype: string; // lowercased subtype, default "plain"
  params: MimeParam[]; // Content-Type parameters, in header order
  id: string | null; // Content-ID, raw (RFC 2045 §7)
  description: string | null; // Content-Description, unfolded raw (RFC 2045 §8; IMAP sends it raw)
  descriptionText: string | null; // Content-Description with RFC 2047 words decoded, for display
  encoding: string | null; // Content-Transfer-Encoding, lowercased (RFC 2045 §6.1); null if absent
  md5: string | null; // Content-MD5 (RFC 1864)
  disposition: { type: string; params: MimeParam[] } | null; // Content-Disposition (RFC 2183), type lowercased
  language: string[] | null; // Content-Language tags (RFC 3282)
  location: string | null; // Content-Location (RFC 2557)
  size: number; // body octets: end - bodyStart
  lines: number; // body lines (LF count, plus one for an unterminated last line); IMAP uses it for text/* and message/*
  children: MimePart[]; // multipart: the parts; message/rfc822 or message/global: the one encapsulated message
  defects: MimeDefect[]; // empty when well-formed
}

/** The index stored with each message file at delivery. */
export interface MessageIndex {
  version: 1;
  size: number; // octets of the whole message (RFC 9051 RFC822.SIZE)
  root: MimePart; // the message itself: headerStart 0, end = size
  parts: number; // number of nodes in the tree
}
