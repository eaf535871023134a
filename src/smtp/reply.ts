// SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 2034, RFC 3463), and the
// typed error that carries one from a parser or handler to the session loop.

/** A protocol error carrying its reply; thrown by parsers and handlers, caught by the session loop. */
export class SmtpError extends Error {
  override name = 'SmtpError';
  readonly code: number; // RFC 5321 §4.2 reply code, e.g. 501
  readonly enhanced: string | undefined; // RFC 3463 class.subject.detail, e.g. '5.5.4'

  constructor(code: number, enhanced: string | undefined, text: string) {
    super(text);
    this.code = code;
    this.enhanced = enhanced;
  }
}

export function isSmtpError(e: unknown): e is SmtpError {
  return e instanceof SmtpError;
}

/** Reply text is printable US-ASCII (RFC 5321 §4.2: textstring = 1*(%d09 / %d32-126)); anything else becomes '?'. */
function clean(line: string): string {
  return line.replace(/[^\t\x20-\x7e]/g, '?');
}

/**
 * Formats a reply: "250 text" or a multi-line "250-a\r\n250 b" (RFC 5321 §4.2.1), each
 * line carrying the enhanced code when given (RFC 2034 §4). Line breaks inside a text
 * start new lines, so no client text can end a reply early.
 */
export function formatReply(code: number, enhanced: string | undefined, text: string | readonly string[]): Buffer {
  const lines = (typeof text === 'string' ? [text] : text).flatMap((t) => t.split(/\r\n|\r|\n/)).map(clean);
  if (lines.length === 0) lines.push('');
  const prefix = enhanced ? `${enhanced} ` : '';
  let out = '';
  lines.forEach((l, i) => {
    const sep = i === lines.length - 1 ? ' ' : '-';
    out += `${code}${sep}${prefix}${l}\r\n`;
  });
  return Buffer.from(out, 'latin1');
}
