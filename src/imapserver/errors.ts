// The typed error of IMAP command handlers: the tagged status (NO or BAD), an optional
// response code (RFC 9051 §7.1) and human-readable text. BYE ends the connection.
export type ImapStatus = 'NO' | 'BAD' | 'BYE';

export class ImapError extends Error {
  override name = 'ImapError';
  readonly status: ImapStatus;
  /** Response code without brackets, e.g. "TRYCREATE", "BADCHARSET (UTF-8)", "MODIFIED 7,9". */
  readonly code: string | undefined;
  constructor(status: ImapStatus, code: string | undefined, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function isImapError(e: unknown): e is ImapError {
  return e instanceof ImapError;
}

/** A syntax error in the client's command: tagged BAD (RFC 9051 §7.1.5). */
export function bad(message: string, code?: string): ImapError {
  return new ImapError('BAD', code, message);
}

/** A well-formed command that cannot be done: tagged NO (RFC 9051 §7.1.2). */
export function no(code: string | undefined, message: string): ImapError {
  return new ImapError('NO', code, message);
}
