// What sendmail does to the message it is given: the header section found (a line that is
// not a header field ends it, as with a message that has no headers at all), Bcc fields
// removed, the -t recipients read from To, Cc and Bcc, and Date, Message-ID and From added
// when missing (RFC 5322 §3.6: Date and From are required, Message-ID should be there).
// Bytes stay bytes: fields are copied as found, the body is not looked at.
import { randomBytes } from 'node:crypto';
import { formatDate, parseAddressList, parseHeader } from '../mime/index.ts';

const LF = 0x0a;
const CR = 0x0d;

export interface PreparedMessage {
  message: Buffer; // CRLF line ends; Bcc removed; Date, Message-ID, From added when missing
  headerRecipients: string[]; // with extractRecipients: To, Cc and Bcc addresses, "local@domain" or a bare local part
}

/** A line that starts a header field: field name, optional WSP, colon (RFC 5322 §2.2, §3.6.8, obsolete WSP §4.5). */
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

/** A local part as it goes in a path: dot-atom as is, else a quoted string (RFC 5321 §4.1.2, RFC 6531 §3.3 for UTF-8). */
export function quoteLocalPart(local: string): string {
  if (/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10ffff}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10ffff}-]+)*$/u.test(local)) return local;
  return `"${local.replace(/["\\]/g, '\\$&')}"`;
}

/** The addresses of an address-list value or argument, "local@domain" or a bare local part; group markers dropped. */
export function addressesOf(value: Buffer | string): string[] {
  const out: string[] = [];
  for (const a of parseAddressList(value)) {
    if (a.host === null || a.mailbox === null) continue; // RFC 9051 §7.5.2 group markers
    out.push(a.host === '' ? a.mailbox : `${quoteLocalPart(a.mailbox)}@${a.host}`);
  }
  return out;
}

/** A display name as a phrase: atoms, a quoted string, or RFC 2047 encoded words for non-ASCII. */
function phrase(name: string): string {
  if (/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$/.test(name)) return name; // RFC 5322 §3.2.3 atext words
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/["\\]/g, '\\$&')}"`; // RFC 5322 §3.2.4
  const chars = [...name];
  const words: string[] = [];
  for (let i = 0; i < chars.length; i += 10) words.push(`=?utf-8?b?${Buffer.from(chars.slice(i, i + 10).join('')).toString('base64')}?=`); // RFC 2047 §2: at most 75 characters a word
  return words.join(' ');
}

/**
 * Prepares the message (already with CRLF line ends) for submission. `from` is the
 * configured address, for the From field and the Message-ID's domain.
 */
export function prepareMessage(raw: Buffer, o: { from: string; fromName?: string; extractRecipients: boolean; now: Date }): PreparedMessage {
  const { header, body } = splitHeader(raw);
  const fields = parseHeader(header);
  const headerRecipients: string[] = [];
  if (o.extractRecipients) {
    for (const f of fields) if (f.key === 'to' || f.key === 'cc' || f.key === 'bcc') headerRecipients.push(...addressesOf(f.value)); // todo: Resent-To/Cc/Bcc when Resent- fields are present (RFC 5322 §3.6.6)
  }
  const kept = fields.filter((f) => f.key !== 'bcc').map((f) => header.subarray(f.start, f.end)); // RFC 5322 §3.6.3: Bcc removed from the copies sent
  const has = (key: string) => fields.some((f) => f.key === key);
  const added: string[] = [];
  if (!has('from')) added.push(`From: ${o.fromName ? `${phrase(o.fromName)} <${o.from}>` : o.from}`);
  if (!has('date')) added.push(`Date: ${formatDate(o.now)}`);
  if (!has('message-id')) added.push(`Message-ID: <${randomBytes(16).toString('base64url')}@${o.from.slice(o.from.lastIndexOf('@') + 1)}>`); // RFC 5322 §3.6.4
  const last = kept.at(-1);
  const unterminated = last !== undefined && last[last.length - 1] !== LF; // a header section ending the input without its line end
  return {
    message: Buffer.concat([...kept, Buffer.from((unterminated ? '\r\n' : '') + added.map((l) => `${l}\r\n`).join('') + '\r\n'), body]),
    headerRecipients,
  };
}
