// What sendmail does to the message it is given: the header section found (a line that is
// not a header field ends it, as with a message that has no headers at all), Bcc fields
// removed, the -t recipients read from To, Cc and Bcc, Date, Message-ID and From added
// when missing (RFC 5322 §3.6: Date and From are required, Message-ID should be there), and
// lines over 998 octets dealt with. Bytes stay bytes: fields are copied as found.
import { isAscii, isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { formatDate, headerValue, parseAddressList, parseHeader, parseStructuredValue, type HeaderField } from '../mime/index.ts';
import { mailboxPath, quoteLocalpart } from '../smtp/index.ts';
import { encodeQuotedPrintable } from './quotedprintable.ts';
import { EX_DATAERR, SendmailError } from './sysexits.ts';

const LF = 0x0a;
const CR = 0x0d;
const maxLineOctets = 998; // RFC 5321 §4.5.3.1.6, RFC 5322 §2.1.1: a line without its CRLF

export interface PreparedMessage {
  message: Buffer; // CRLF line ends; Bcc removed; Date, Message-ID, From added when missing; no line over 998 octets
  headerSize: number; // octets of the header section with its empty line
  headerRecipients: string[]; // with extractRecipients: To, Cc and Bcc addresses (as addressesOf gives them)
  quotedPrintable: boolean; // the body had a line over 998 octets and was encoded
}

/** A line that starts a header field: field name, optional WSP, colon (RFC 5322 §2.2, §3.6.8, obsolete WSP §4.5). todo: src/mime fieldColon, once src/mime exports it. */
function isFieldLine(line: Buffer): boolean {
  return /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(line.toString('latin1', 0, Math.min(line.length, 1000)));
}

/** Splits the message into its header section and its body, the empty line between them dropped. */
function splitHeader(m: Buffer): { header: Buffer; body: Buffer } {
  let inField = false;
  for (let pos = 0; pos < m.length; ) {
    const lf = m.indexOf(LF, pos);
    const next = lf < 0 ? m.length : lf + 1;
    const content = m.subarray(pos, lf > pos && m[lf - 1] === CR ? lf - 1 : lf < 0 ? m.length : lf);
    if (content.length === 0) return { header: m.subarray(0, pos), body: m.subarray(next) }; // RFC 5322 §2.1
    const continuation = inField && (content[0] === 0x20 || content[0] === 0x09); // RFC 5322 §2.2.3 folding
    if (!continuation && !isFieldLine(content)) return { header: m.subarray(0, pos), body: m.subarray(pos) }; // no empty line: one is added
    inField = true;
    pos = next;
  }
  return { header: m, body: Buffer.alloc(0) };
}

/** The first line (1-based) longer than 998 octets without its CRLF, and its length. */
function longLine(b: Buffer): { line: number; octets: number } | undefined {
  let line = 1;
  for (let pos = 0; pos < b.length; line++) {
    const lf = b.indexOf(LF, pos);
    const end = lf < 0 ? b.length : lf;
    const octets = end - pos - (end > pos && b[end - 1] === CR ? 1 : 0);
    if (octets > maxLineOctets) return { line, octets };
    pos = end + 1;
  }
  return undefined;
}

/**
 * An address as a path holds it: "local@domain" checked by the SMTP grammar (so nothing a
 * header or argument holds can break a command line), the domain as A-label when the local
 * part is ASCII (RFC 5890; then no SMTPUTF8 is needed). Throws an Error naming the problem.
 */
function smtpAddress(localpart: string, domain: string): string {
  const p = mailboxPath(localpart, domain);
  return /[^\x00-\x7f]/.test(p.localpart) ? p.address : `${quoteLocalpart(p.localpart)}@${p.asciiDomain}`;
}

/** The addresses of an address-list value or argument, "local@domain" or a bare local part (cron's "root"); group markers dropped. Throws an Error for an address SMTP cannot carry. */
export function addressesOf(value: Buffer | string): string[] {
  const out: string[] = [];
  for (const a of parseAddressList(value)) {
    if (a.host === null || a.mailbox === null) continue; // RFC 9051 §7.5.2 group markers
    const written = a.host === '' ? a.mailbox : `${a.mailbox}@${a.host}`;
    try {
      if (a.host !== '') out.push(smtpAddress(a.mailbox, a.host));
      else if (a.mailbox.includes('@')) throw new Error('not an address'); // a quoted "x@y" without a domain: the result must tell bare local parts by their lack of "@"
      else out.push(mailboxPath(a.mailbox, 'localhost').localpart); // checked like any local part; goes to defaultDestination
    } catch (e) {
      throw new Error(`${JSON.stringify(written)}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** A display name as a phrase: atoms, a quoted string, or RFC 2047 encoded words for non-ASCII, one a line (RFC 2047 §2: lines with encoded words at most 76 characters). */
function phrase(name: string): string {
  if (/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$/.test(name)) return name; // RFC 5322 §3.2.3 atext words
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/["\\]/g, '\\$&')}"`; // RFC 5322 §3.2.4
  const chars = [...name];
  const words: string[] = [];
  for (let i = 0; i < chars.length; i += 10) words.push(`=?utf-8?b?${Buffer.from(chars.slice(i, i + 10).join('')).toString('base64')}?=`); // RFC 2047 §2: at most 75 characters a word
  return words.join('\r\n '); // RFC 5322 §2.2.3 folding between words
}

/**
 * Whether the body is one text part in an identity encoding (RFC 2045 §6.2: 7bit, 8bit,
 * binary; none given is 7bit), which can be sent quoted-printable instead with no other
 * change, as an 8BITMIME downgrade does (RFC 6152 §3). A multipart or message/* body we do
 * not rewrite. Without Content-Type the body is text/plain (RFC 2045 §5.2).
 */
function reencodable(fields: HeaderField[]): boolean {
  const type = headerValue(fields, 'content-type');
  const encoding = headerValue(fields, 'content-transfer-encoding')?.toLowerCase();
  return (type === null || parseStructuredValue(type).value.startsWith('text/')) && (encoding === undefined || encoding === '7bit' || encoding === '8bit' || encoding === 'binary');
}

/** The charset of a plain-text body we encode: what its bytes are (RFC 2046 §4.1.2); unknown-8bit (RFC 1428 §3) when not UTF-8. */
function charsetOf(body: Buffer): string {
  return isAscii(body) ? 'us-ascii' : isUtf8(body) ? 'utf-8' : 'unknown-8bit';
}

/**
 * Prepares the message (already with CRLF line ends) for submission. `from` is the
 * configured address, for the From field and the Message-ID's domain. A body line over 998
 * octets (RFC 5321 §4.5.3.1.6) in a single text part, as cron and scripts write, is fixed by
 * sending the body quoted-printable (RFC 2045 §6.7); in a header or a multipart message
 * (whose parts we do not rewrite) it is a SendmailError (EX_DATAERR).
 */
export function prepareMessage(raw: Buffer, o: { from: string; fromName?: string; extractRecipients: boolean; now: Date }): PreparedMessage {
  const { header, body } = splitHeader(raw);
  const fields = parseHeader(header);
  const headerRecipients: string[] = [];
  if (o.extractRecipients) {
    for (const f of fields) {
      if (f.key !== 'to' && f.key !== 'cc' && f.key !== 'bcc') continue; // todo: Resent-To/Cc/Bcc when Resent- fields are present (RFC 5322 §3.6.6)
      try {
        headerRecipients.push(...addressesOf(f.value));
      } catch (e) {
        throw new SendmailError(EX_DATAERR, `${f.name} field: ${(e as Error).message}; nothing was sent`);
      }
    }
  }
  const long = longLine(body);
  if (long && !reencodable(fields)) throw new SendmailError(EX_DATAERR, `body line ${long.line} is ${long.octets} octets, SMTP allows 998 (RFC 5321 §4.5.3.1.6); encode that MIME part (quoted-printable or base64); nothing was sent`);
  const dropped = (f: HeaderField) => f.key === 'bcc' || (long !== undefined && f.key === 'content-transfer-encoding'); // RFC 5322 §3.6.3: Bcc removed from the copies sent; the identity encoding replaced
  const kept = fields.filter((f) => !dropped(f)).map((f) => header.subarray(f.start, f.end));
  const has = (key: string) => fields.some((f) => f.key === key);
  const added: string[] = [];
  if (!has('from')) added.push(`From: ${o.fromName ? `${phrase(o.fromName)} <${o.from}>` : o.from}`);
  if (!has('date')) added.push(`Date: ${formatDate(o.now)}`);
  if (!has('message-id')) added.push(`Message-ID: <${randomBytes(16).toString('base64url')}@${domainToASCII(o.from.slice(o.from.lastIndexOf('@') + 1)) || 'localhost'}>`); // RFC 5322 §3.6.4
  if (long) {
    if (!has('mime-version')) added.push('MIME-Version: 1.0'); // RFC 2045 §4
    if (!has('content-type')) added.push(`Content-Type: text/plain; charset=${charsetOf(body)}`); // RFC 2045 §5.1; the default us-ascii (§5.2) would be wrong for 8-bit text
    added.push('Content-Transfer-Encoding: quoted-printable'); // RFC 2045 §6.7
  }
  const last = kept.at(-1);
  const unterminated = last !== undefined && last[last.length - 1] !== LF; // a header section ending the input without its line end
  const head = Buffer.concat([...kept, Buffer.from((unterminated ? '\r\n' : '') + added.map((l) => `${l}\r\n`).join('') + '\r\n')]);
  const longField = longLine(head);
  if (longField) throw new SendmailError(EX_DATAERR, `header line ${longField.line} is ${longField.octets} octets, SMTP allows 998 (RFC 5321 §4.5.3.1.6, RFC 5322 §2.1.1); fold it; nothing was sent`);
  return { message: Buffer.concat([head, long ? encodeQuotedPrintable(body) : body]), headerSize: head.length, headerRecipients, quotedPrintable: long !== undefined };
}
