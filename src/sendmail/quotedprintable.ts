// Quoted-printable encoding of bytes (RFC 2045 §6.7), for a plain-text message whose lines
// are too long for SMTP: libqp (a chosen dependency, DESIGN.md) encodes, CRLFs staying hard
// line breaks (rule 4), and wraps at 76 characters with soft breaks (rule 5). Its output is
// ASCII, so the string step loses nothing.
import libqp from 'libqp';

const maxEncodedLine = 76; // RFC 2045 §6.7 (5): encoded lines at most 76 characters, the "=" of a soft break included

/** Encodes a body with CRLF line ends; no line of the result exceeds 76 octets. */
export function encodeQuotedPrintable(body: Buffer): Buffer {
  return Buffer.from(libqp.wrap(libqp.encode(body), maxEncodedLine), 'ascii');
}
