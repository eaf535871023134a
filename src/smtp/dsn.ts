// Delivery status notifications: a multipart/report (RFC 6522) with a text part, the
// RFC 3464 delivery-status fields (RFC 6533 UTF-8 forms) and the returned message or its
// header (RFC 3461 RET), built as bytes. Relies on src/mime for header parsing and dates.
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { formatDate, headerEnd, parseHeader } from '../mime/index.ts';
import { xtextEncode } from './xtext.ts';

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded'; // RFC 3464 §2.3.3

/** One recipient's block of a DSN (RFC 3464 §2.3). */
export interface DsnRecipient {
  finalRecipient: string; // RFC 3464 §2.3.2: the address delivered to; written 'rfc822;' when ASCII, 'utf-8;' otherwise (RFC 6533 §3)
  originalRecipient?: string; // RFC 3464 §2.3.1: the ORCPT as recorded, 'rfc822;addr' or 'utf-8;addr', xtext already decoded (RFC 3461 §4.2)
  action: DsnAction; // RFC 3464 §2.3.3
  status: string; // RFC 3463 class.subject.detail, e.g. '5.1.1' (RFC 3464 §2.3.4)
  remoteMta?: string; // host name of the MX talked to (RFC 3464 §2.3.5, written 'dns; host')
  diagnostic?: string; // the remote SMTP reply as text, e.g. '550 5.1.1 no such user' (RFC 3464 §2.3.6, written 'smtp; ...')
  lastAttempt?: Date; // RFC 3464 §2.3.7
  willRetryUntil?: Date; // RFC 3464 §2.3.8; written only for action 'delayed'
}

/** Everything a DSN for one message says; all recipients of the message go into one DSN. */
export interface DsnInput {
  reportingMta: string; // our host name (RFC 3464 §2.2.2)
  from: string; // address for the DSN's From:, e.g. 'MAILER-DAEMON@host'; shown as 'Mail Delivery Subsystem'
  to: string; // the original envelope sender, never '' (no DSN to the null reverse-path, RFC 5321 §6.1)
  envid?: string; // ORIGINAL-ENVELOPE-ID as decoded from xtext (RFC 3461 §4.4, RFC 3464 §2.2.1)
  arrivalDate: Date; // RFC 3464 §2.2.5
  recipients: DsnRecipient[]; // at least one (RFC 3464 §2.1)
  original: Buffer; // the original message, header and body, as queued
  // RFC 3461 §4.3. FULL returns the whole message, and only in a DSN reporting a failure
  // ("in any 'failed' DSN"); delays and successes carry the header. Absent (the sender did
  // not say, and RFC 3461 §4.3 lets the MTA choose) means HDRS: the header identifies the
  // message, senders keep their own copy, and a bounce to a forged sender then carries no
  // body to spread. Postfix and Exim return a size-capped body instead; mox, like us, the header.
  ret?: 'FULL' | 'HDRS';
  messageIdDomain: string; // right-hand side of the DSN's Message-ID
  now?: Date; // the DSN's Date; default the current time
}

/** A composed DSN, ready for the queue, which sends it with MAIL FROM:<> (RFC 5321 §6.1, §4.5.5). */
export interface ComposedDsn {
  message: Buffer; // the whole message, CRLF line ends
  smtputf8: boolean; // RFC 6531: send with SMTPUTF8 (UTF-8 addresses or a returned UTF-8 header, RFC 6533)
  body: '7BIT' | '8BITMIME' | 'BINARYMIME'; // the BODY= it needs (RFC 6152, RFC 3030), as QueueInput.body
}

type TransferEncoding = '7bit' | '8bit' | 'binary' | 'quoted-printable';

const nonAscii = /[^\x00-\x7f]/;
const softWidth = 78; // RFC 5322 §2.1.1: lines SHOULD be at most 78 characters
const hardWidth = 998; // RFC 5322 §2.1.1: lines MUST be at most 998 octets (RFC 6532 §3.4: octets, also for UTF-8)
const textWidth = 76; // the human-readable part, wrapped for reading
const smtpReply = /^[2-5]\d\d(?:[ -]|$)/; // RFC 5321 §4.2: Reply-code, then SP or "-"

/**
 * Composes the DSN for one message. The original is copied into the report unchanged, so
 * its byte-exact content comes back to the sender, 8-bit and unterminated last lines included.
 * RET=FULL returns the whole message however large (RFC 3461 §4.3 asks for the entire
 * message); a DSN beyond the sender's SIZE limit then fails and, having the null
 * reverse-path, is dropped. todo: RFC 3461 §4.3, the queue may choose HDRS for huge originals.
 */
export function composeDsn(o: DsnInput): ComposedDsn {
  if (o.recipients.length === 0) throw new Error('composeDsn: a DSN needs at least one recipient'); // RFC 3464 §2.1
  if (o.to === '') throw new Error('composeDsn: no DSN to the null reverse-path'); // RFC 5321 §6.1
  const now = o.now ?? new Date();
  const header = headerBlock(o.original);
  // A returned header in UTF-8 makes it message/global(-headers) (RFC 6532 §3.7, RFC 6533 §6.3). 8-bit
  // bytes that are not UTF-8 are legacy mail, not RFC 6532: returned as 8bit message/rfc822,
  // not worth making the DSN undeliverable to a server without SMTPUTF8.
  const headerUtf8 = nonAscii.test(header.toString('latin1')) && isUtf8(header);
  const to = mailbox(o.to);
  const recipients = o.recipients.map((r) => ({
    ...r,
    final: mailbox(r.finalRecipient),
    original: r.originalRecipient === undefined ? null : typedAddress(r.originalRecipient),
  }));
  const smtputf8 = headerUtf8 || nonAscii.test(to) || nonAscii.test(mailbox(o.from)) || recipients.some((r) => nonAscii.test(r.final) || nonAscii.test(r.original?.address ?? '')); // RFC 6533 §3

  // Part 2: the machine-readable report (RFC 3464 §2.2, §2.3). Only with SMTPUTF8 may it hold
  // UTF-8 (message/global-delivery-status, RFC 6533 §4, §6.4); without, a UTF-8 reply text from a
  // remote server is not a reason to require SMTPUTF8 of the sender: its non-ASCII becomes '?'.
  const reportText = (s: string): string => (smtputf8 ? s : s.replace(/[^\x00-\x7f]/gu, '?'));
  const perMessage: string[] = [];
  if (o.envid !== undefined && o.envid !== '') perMessage.push(field('Original-Envelope-Id', envelopeId(o.envid))); // RFC 3464 §2.2.1
  perMessage.push(field('Reporting-MTA', `dns; ${hostName(o.reportingMta)}`)); // RFC 3464 §2.2.2
  perMessage.push(field('Arrival-Date', formatDate(o.arrivalDate))); // RFC 3464 §2.2.5
  const blocks = [perMessage.join('')];
  for (const r of recipients) {
    const f: string[] = [];
    if (r.original !== null) f.push(field('Original-Recipient', `${r.original.type}; ${r.original.address}`)); // RFC 3464 §2.3.1
    f.push(field('Final-Recipient', `${addressType(r.final)}; ${r.final}`)); // RFC 3464 §2.3.2, RFC 6533 §3
    f.push(field('Action', r.action)); // RFC 3464 §2.3.3
    f.push(field('Status', statusCode(r.status, r.action))); // RFC 3464 §2.3.4
    if (r.remoteMta !== undefined && r.remoteMta !== '') f.push(field('Remote-MTA', `dns; ${hostName(r.remoteMta)}`)); // RFC 3464 §2.3.5
    if (r.diagnostic !== undefined && r.diagnostic !== '') f.push(field('Diagnostic-Code', `${diagnosticType(r.diagnostic)}; ${reportText(clean(r.diagnostic))}`)); // RFC 3464 §2.3.6, RFC 6533 §6.2
    if (r.lastAttempt !== undefined) f.push(field('Last-Attempt-Date', formatDate(r.lastAttempt))); // RFC 3464 §2.3.7
    if (r.willRetryUntil !== undefined && r.action === 'delayed') f.push(field('Will-Retry-Until', formatDate(r.willRetryUntil))); // RFC 3464 §2.3.8: delayed DSNs only
    blocks.push(f.join(''));
  }
  const report = Buffer.from(blocks.join('\r\n'), 'utf8'); // RFC 3464 §2.1: blocks separated by an empty line
  const reportUtf8 = nonAscii.test(report.toString('latin1'));

  // Part 3: the whole message only for RET=FULL in a DSN reporting a failure (RFC 3461 §4.3).
  const full = (o.ret ?? 'HDRS') === 'FULL' && recipients.some((r) => r.action === 'failed');
  const returned = full ? o.original : header;
  const returnedEncoding = identityEncoding(returned); // RFC 2046 §5.2.1: message/rfc822 takes no other encoding

  // Part 1: the explanation for people, in UTF-8; quoted-printable keeps the DSN 7-bit
  // when nothing else needs 8-bit transport.
  const text = explanation(o, recipients, full, now);
  const textUtf8 = nonAscii.test(text);
  const textEncoding: TransferEncoding = !textUtf8 ? '7bit' : smtputf8 ? '8bit' : 'quoted-printable';
  const textBody = Buffer.from(textEncoding === 'quoted-printable' ? quotedPrintable(text) : text, 'utf8');

  const parts: Array<{ fields: string[]; body: Buffer }> = [
    {
      fields: ['Content-Type: text/plain; charset=utf-8', `Content-Transfer-Encoding: ${textEncoding}`, 'Content-Description: Notification'],
      body: textBody,
    },
    {
      fields: [
        `Content-Type: ${reportUtf8 ? 'message/global-delivery-status' : 'message/delivery-status'}`, // RFC 6533 §6.4, RFC 3464 §2.1
        `Content-Transfer-Encoding: ${reportUtf8 ? '8bit' : '7bit'}`,
        'Content-Description: Delivery report',
      ],
      body: report,
    },
    {
      fields: [
        `Content-Type: ${full ? (headerUtf8 ? 'message/global' : 'message/rfc822') : headerUtf8 ? 'message/global-headers' : 'text/rfc822-headers'}`, // RFC 6532 §3.7, RFC 6533 §6.3, RFC 6522 §4
        `Content-Transfer-Encoding: ${returnedEncoding}`,
        `Content-Description: ${full ? 'Undelivered message' : 'Message header'}`,
      ],
      body: returned,
    },
  ];

  const boundary = freshBoundary(parts.map((p) => p.body));
  const messageId = `<${randomBytes(12).toString('base64url')}@${hostName(o.messageIdDomain)}>`;
  const inReplyTo = originalMessageId(header, smtputf8);
  const top = [
    field('From', `Mail Delivery Subsystem <${mailbox(o.from)}>`),
    field('To', `<${to}>`),
    field('Subject', `Delivery Status Notification (${subject(recipients)})`),
    field('Date', formatDate(now)),
    field('Message-ID', messageId),
    ...(inReplyTo !== null ? [field('In-Reply-To', inReplyTo), field('References', inReplyTo)] : []), // threads it with the original
    field('Auto-Submitted', 'auto-replied'), // RFC 3834 §5: sent in response to a message
    field('MIME-Version', '1.0'),
    field('Content-Type', `multipart/report; report-type=delivery-status; boundary="${boundary}"`), // RFC 6522 §3; delivery-status for RFC 6533 reports too, as Postfix writes and report parsers expect
    '\r\n',
    'This is a delivery status notification in MIME format (RFC 3464).\r\n', // preamble, for readers without MIME
  ];
  const chunks: Buffer[] = [Buffer.from(top.join(''), 'utf8')];
  for (const p of parts) {
    // RFC 2046 §5.1.1: the CRLF before each delimiter belongs to the delimiter, so a body
    // without a final line break (an original without one) is returned exactly.
    chunks.push(Buffer.from(`\r\n--${boundary}\r\n${p.fields.map((f) => `${f}\r\n`).join('')}\r\n`, 'utf8'), p.body);
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'ascii'));
  const message = Buffer.concat(chunks);

  const encodings = [textEncoding, reportUtf8 ? '8bit' : '7bit', returnedEncoding];
  const eightBit = smtputf8 || encodings.includes('8bit'); // UTF-8 in the top header is 8-bit data too (RFC 6532 §3.4)
  const body = encodings.includes('binary') ? 'BINARYMIME' : eightBit ? '8BITMIME' : '7BIT';
  return { message, smtputf8, body };
}

/** The original's header fields without the empty line that ends them; all of it when it has no such line. */
function headerBlock(original: Buffer): Buffer {
  const end = headerEnd(original); // RFC 5322 §2.1, found as src/mime finds it
  if (end < 0) return original;
  const blank = end >= 2 && original[end - 2] === 0x0d ? 2 : 1;
  return original.subarray(0, end - blank);
}

/**
 * Text from outside (a remote reply, a recorded parameter) made safe as one field value:
 * line breaks become spaces (a multi-line SMTP reply reads as one line, RFC 3464 §2.3.6 takes
 * *text), other control characters '?', so no input can end a field or start another.
 */
function clean(s: string): string {
  return s
    .replace(/[\r\n]+|\t/g, ' ')
    .replace(/[\x00-\x1f\x7f-\x9f]/g, '?')
    .trim();
}

/**
 * An address as written in the DSN: control characters, never part of one, become '?'. A
 * U-label domain becomes its A-label when the local part is ASCII: the address is then
 * ASCII and needs no SMTPUTF8 (A-label: RFC 5890 §2.3.2.1).
 */
function mailbox(address: string): string {
  const a = address.replace(/[\x00-\x1f\x7f-\x9f]/g, '?').trim();
  const at = a.lastIndexOf('@'); // a quoted local part may hold '@', a domain never
  if (at < 0) return a;
  const local = a.slice(0, at);
  const domain = a.slice(at + 1);
  if (nonAscii.test(local) || !nonAscii.test(domain)) return a;
  const ascii = domainToASCII(domain);
  return ascii === '' ? a : `${local}@${ascii}`;
}

/** RFC 6533 §3: 'utf-8' for an address with non-ASCII, else RFC 3464's 'rfc822'. */
function addressType(address: string): 'rfc822' | 'utf-8' {
  return nonAscii.test(address) ? 'utf-8' : 'rfc822';
}

/**
 * A recorded ORCPT 'type;address'. The type is kept (RFC 3464 §2.3.1: the address as the
 * sender gave it), except that an 'rfc822' address holding UTF-8 can only be 'utf-8' (RFC 6533 §3).
 */
function typedAddress(orcpt: string): { type: string; address: string } {
  const semi = orcpt.indexOf(';');
  if (semi <= 0) return { type: 'unknown', address: mailbox(orcpt) }; // RFC 3464 §2.3.1: type not known
  const type = orcpt.slice(0, semi).trim().replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]/g, '?'); // RFC 3461 §4.2 addr-type: an atom
  const address = orcpt.slice(semi + 1).replace(/[\x00-\x1f\x7f-\x9f]/g, '?').trim();
  return { type: type.toLowerCase() === 'rfc822' && nonAscii.test(address) ? 'utf-8' : type, address };
}

/** A host name for a 'dns;' field (RFC 3464 §2.2.2): A-labels, since DNS names are ASCII. */
function hostName(host: string): string {
  const h = clean(host);
  if (!nonAscii.test(h)) return h;
  const ascii = domainToASCII(h);
  return ascii !== '' ? ascii : h.replace(/[^\x00-\x7f]/gu, '?');
}

/**
 * RFC 3464 §2.2.1 envelope-id is *text, and RFC 3461 §4.4 asks for printable US-ASCII; the
 * decoded value is written as is when it is, else in the xtext form the sender sent (RFC 3461
 * §4), which is printable and lossless, rather than with characters replaced.
 */
function envelopeId(envid: string): string {
  return /^[\x20-\x7e]*$/.test(envid) ? envid.trim() : xtextEncode(envid);
}

/** RFC 3463 §2 class.subject.detail; a malformed one is replaced by the action's generic code rather than written. */
function statusCode(status: string, action: DsnAction): string {
  const s = status.trim();
  if (/^[245]\.\d{1,3}\.\d{1,3}$/.test(s)) return s; // RFC 3463 §2
  return action === 'failed' ? '5.0.0' : action === 'delayed' ? '4.0.0' : '2.0.0';
}

/**
 * RFC 3464 §2.3.6: 'smtp' says the text is a reply from the Remote-MTA (RFC 5321 §4.2). A
 * failure of our own (no connection, no MX, TLS) is not one; it gets a private type, as
 * Postfix writes 'X-Postfix;', so report parsers do not take it for the remote's words.
 */
function diagnosticType(diagnostic: string): 'smtp' | 'X-Mailcove' {
  return smtpReply.test(diagnostic.trim()) ? 'smtp' : 'X-Mailcove';
}

/** The Message-ID of the original (RFC 5322 §3.6.4), if it has a usable one. */
function originalMessageId(header: Buffer, utf8: boolean): string | null {
  const f = parseHeader(header).find((x) => x.key === 'message-id');
  if (!f || !isUtf8(f.value)) return null; // legacy 8-bit: not something to copy into our header
  const m = /<[^<>\s]+>/.exec(f.value.toString('utf8'));
  if (!m || /[\x00-\x1f\x7f-\x9f]/.test(m[0]) || Buffer.byteLength(m[0]) > hardWidth - 20) return null;
  if (nonAscii.test(m[0]) && !utf8) return null; // RFC 6532 msg-id: only in a message sent with SMTPUTF8
  return m[0];
}

/** The Subject's summary: the most pressing action of any recipient. */
function subject(recipients: readonly { action: DsnAction }[]): string {
  const has = (a: DsnAction): boolean => recipients.some((r) => r.action === a);
  if (has('failed')) return 'Failure';
  if (has('delayed')) return 'Delay';
  if (has('relayed')) return 'Relayed'; // handed on without DSN support: delivery not confirmed (RFC 3464 §2.3.3)
  return 'Success';
}

/**
 * The identity Content-Transfer-Encoding that describes these bytes (RFC 2045 §2.7-§2.9):
 * 7bit, 8bit, or binary for NUL, a CR or LF outside CRLF, or a line over 998 octets. The
 * bytes are followed by the delimiter's CRLF, so an unterminated last line is a line.
 */
function identityEncoding(b: Buffer): '7bit' | '8bit' | 'binary' {
  let eightBit = false;
  let lineLength = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x0d && b[i + 1] === 0x0a) {
      i++;
      lineLength = 0;
      continue;
    }
    if (c === 0x00 || c === 0x0d || c === 0x0a || ++lineLength > hardWidth) return 'binary';
    if (c >= 0x80) eightBit = true;
  }
  return eightBit ? '8bit' : '7bit';
}

/** A boundary (RFC 2046 §5.1.1) found in none of the bodies; "=_" cannot occur in quoted-printable either. */
function freshBoundary(bodies: readonly Buffer[]): string {
  for (;;) {
    const boundary = `=_dsn_${randomBytes(18).toString('base64url')}`;
    if (!bodies.some((b) => b.includes(boundary))) return boundary;
  }
}

/**
 * One header field, CRLF-terminated, folded before spaces so lines stay within 78 octets
 * where the value allows (RFC 5322 §2.2.3). A run without spaces longer than 998 octets
 * is split with a CRLF and a space (only hostile input has one): the field then unfolds with
 * an added space, but no line exceeds the limit (RFC 5322 §2.1.1).
 */
function field(name: string, value: string): string {
  const lines: string[] = [];
  let line = '';
  for (const [word] of `${name}: ${value}`.matchAll(/ *[^ ]+| +$/g)) {
    if (line.trim() !== '' && word.startsWith(' ') && octets(line + word) > softWidth) {
      lines.push(line);
      line = word;
    } else line += word;
    while (octets(line) > hardWidth) {
      const cut = prefixWithin(line, hardWidth);
      lines.push(line.slice(0, cut));
      line = ` ${line.slice(cut)}`;
    }
  }
  lines.push(line);
  return `${lines.join('\r\n')}\r\n`;
}

function octets(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The longest prefix of s, in UTF-16 units and ending on a code point boundary, within max UTF-8 octets. */
function prefixWithin(s: string, max: number): number {
  let n = 0;
  let i = 0;
  for (const ch of s) {
    n += octets(ch);
    if (n > max) break;
    i += ch.length;
  }
  return i;
}

interface ReportedRecipient extends DsnRecipient {
  final: string;
  original: { type: string; address: string } | null;
}

const whatHappened: Record<DsnAction, string> = {
  failed: 'Delivery failed; the mail system will not try again.',
  delayed: 'Not delivered yet; the mail system keeps trying.',
  delivered: 'Delivered.',
  relayed: 'Passed on to a mail system that does not report delivery; whether it was delivered is not known.',
  expanded: 'Delivered to a mailing list or alias, which passes it on to its members.',
};

/** The human-readable part (RFC 6522 §3: first part; RFC 3464 §2: text for the sender). */
function explanation(o: DsnInput, recipients: readonly ReportedRecipient[], full: boolean, now: Date): string {
  const has = (a: DsnAction): boolean => recipients.some((r) => r.action === a);
  const out: string[] = [`This is the mail system at ${hostName(o.reportingMta)}.`, ''];
  const intro = has('failed')
    ? 'Your message could not be delivered to one or more of its recipients.'
    : has('delayed')
      ? 'Your message has not been delivered yet to one or more of its recipients. There is no need to send it again: the mail system keeps trying.'
      : 'This is the delivery report you asked for.';
  out.push(...wrap(intro, ''), '');
  for (const r of recipients) {
    out.push(...wrap(`<${r.final}>`, ''));
    if (r.original !== null && r.original.address !== r.final) out.push(...wrap(`(you addressed it to <${r.original.address}>)`, '  '));
    out.push(...wrap(`${whatHappened[r.action]} Status ${statusCode(r.status, r.action)}.`, '  '));
    const mta = r.remoteMta !== undefined && r.remoteMta !== '' ? hostName(r.remoteMta) : null;
    if (r.diagnostic !== undefined && r.diagnostic !== '') {
      const said = diagnosticType(r.diagnostic) === 'smtp' ? `The mail server${mta !== null ? ` ${mta}` : ''} replied:` : `Error${mta !== null ? ` with mail server ${mta}` : ''}:`;
      out.push(...wrap(`${said} ${clean(r.diagnostic)}`, '  '));
    } else if (mta !== null) out.push(...wrap(`Mail server: ${mta}.`, '  '));
    if (r.action === 'delayed') {
      const last = r.lastAttempt !== undefined ? ` Last attempt: ${formatDate(r.lastAttempt)}.` : '';
      const until = r.willRetryUntil !== undefined ? `Next attempts until ${formatDate(r.willRetryUntil)}; a failure notice follows if it cannot be delivered by then.` : 'A failure notice follows if it cannot be delivered.';
      out.push(...wrap(`${until}${last}`, '  '));
    }
    out.push('');
  }
  out.push(...wrap(`Message received ${formatDate(o.arrivalDate)}; report made ${formatDate(now)}. ${full ? 'Your message is attached.' : 'The header of your message is attached.'}`, ''));
  return `${out.join('\r\n')}\r\n`;
}

/** Word-wraps text to lines of about 76 characters, continuation lines indented; words over 200 characters are split. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const long of text.split(' ').filter((w) => w !== '')) {
    const chars = Array.from(long);
    for (let i = 0; i < chars.length; i += 200) {
      const word = chars.slice(i, i + 200).join('');
      if (line !== '' && indent.length + line.length + 1 + word.length > textWidth) {
        lines.push(indent + line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text with CRLF line ends: encoded lines of at most 76 characters. */
function quotedPrintable(text: string): string {
  return text
    .split('\r\n')
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      let out = '';
      let current = '';
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        const literal = (b >= 0x21 && b <= 0x7e && b !== 0x3d) || ((b === 0x20 || b === 0x09) && i < bytes.length - 1); // rules 2 and 3: no trailing space
        const token = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
        if (current.length + token.length > 75) {
          out += `${current}=\r\n`; // rule 5: soft line break
          current = '';
        }
        current += token;
      }
      return out + current;
    })
    .join('\r\n');
}
