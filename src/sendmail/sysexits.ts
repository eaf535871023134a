// Exit codes of `mailcove sendmail`, as sendmail and the programs that call it use them
// (BSD sysexits.h), and the error that carries one to the command's boundary.

export const EX_OK = 0;
export const EX_USAGE = 64; // bad arguments, or no recipients
export const EX_DATAERR = 65; // the message was refused for its content (end of DATA, SIZE)
export const EX_NOUSER = 67; // a recipient was refused permanently
export const EX_UNAVAILABLE = 69; // the server cannot be used: TLS failure, key pin mismatch, missing extension
export const EX_SOFTWARE = 70; // a bug
export const EX_IOERR = 74; // reading the message failed
export const EX_TEMPFAIL = 75; // try again later: connection failure, timeout, 4xx reply
export const EX_PROTOCOL = 76; // the server's replies do not follow SMTP
export const EX_NOPERM = 77; // login or sender address refused
export const EX_CONFIG = 78; // the submit config file is missing, unreadable or wrong

export type ExitCode = typeof EX_OK | typeof EX_USAGE | typeof EX_DATAERR | typeof EX_NOUSER | typeof EX_UNAVAILABLE | typeof EX_SOFTWARE | typeof EX_IOERR | typeof EX_TEMPFAIL | typeof EX_PROTOCOL | typeof EX_NOPERM | typeof EX_CONFIG;

/** A failure to report on stderr with its exit code; the message includes the server's reply when there was one. */
export class SendmailError extends Error {
  override name = 'SendmailError';
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}
