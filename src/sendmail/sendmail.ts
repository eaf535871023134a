// `mailcove sendmail` from start to exit code: the submit config read first (so a bad one
// fails before input is consumed), the message read from stdin, prepared, its recipients
// gathered, submitted, and the outcome reported on stderr the way sendmail callers expect.
import { isAscii } from 'node:buffer';
import type { Envelope, SendResult } from '../smtpclient/index.ts';
import { loadSubmitConfig, type SubmitConfig } from './config.ts';
import { readMessage, toCrlf } from './input.ts';
import { addressesOf, prepareMessage } from './message.ts';
import { replyText, submit } from './submit.ts';
import { EX_DATAERR, EX_IOERR, EX_NOUSER, EX_OK, EX_SOFTWARE, EX_TEMPFAIL, EX_USAGE, SendmailError, type ExitCode } from './sysexits.ts';

export interface SendmailOptions {
  configPath: string;
  recipients: string[]; // the arguments; each may be a list ("a@x, b@y") or "Name <a@x>"
  extractRecipients: boolean; // -t: also the To, Cc and Bcc addresses (added to the arguments, as Postfix and msmtp do; sendmail 8 and Exim would drop the arguments' addresses instead)
  sender?: string; // -f: envelope sender; "" or "<>" is the null reverse-path
  fullName?: string; // -F: display name for an added From field
  ignoreDots: boolean; // -i: a line "." does not end the input
  notify?: string; // -N, RFC 3461 §4.1 NOTIFY
  ret?: 'FULL' | 'HDRS'; // -R, RFC 3461 §4.3
  envid?: string; // -V, RFC 3461 §4.4
  verbose: boolean; // -v: progress on stderr
  input: AsyncIterable<Buffer | string>;
  stderr: (line: string) => void;
  now?: Date;
}

const nonAscii = (s: string) => /[^\x00-\x7f]/.test(s);

/** addressesOf for what the caller wrote (an argument, -f): a problem is a usage error. */
function argumentAddresses(what: string, value: string): string[] {
  try {
    return addressesOf(value);
  } catch (e) {
    throw new SendmailError(EX_USAGE, `${what}: ${(e as Error).message}`);
  }
}

/** The envelope sender from -f: bare or in angle brackets; empty for the null reverse-path (RFC 5321 §4.5.5). */
function envelopeSender(s: string): string {
  const v = s.trim();
  if (v === '' || v === '<>') return '';
  const a = argumentAddresses('-f', v);
  if (a.length !== 1 || !a[0]!.includes('@')) throw new SendmailError(EX_USAGE, `-f ${JSON.stringify(s)}: not an address`);
  return a[0]!;
}

/** Arguments and, with -t, header addresses; bare local parts go to defaultDestination; duplicates once (domains are lower case already, local parts are case-sensitive, RFC 5321 §2.4). */
function envelopeRecipients(cfg: SubmitConfig, o: SendmailOptions, fromHeaders: string[]): string[] {
  const all: string[] = [];
  for (const arg of o.recipients) {
    const a = argumentAddresses(`recipient ${JSON.stringify(arg)}`, arg);
    if (a.length === 0) throw new SendmailError(EX_USAGE, `recipient ${JSON.stringify(arg)}: not an address`);
    all.push(...a);
  }
  all.push(...fromHeaders);
  const out = new Set<string>();
  for (const r of all) {
    if (r.includes('@')) out.add(r);
    else if (cfg.defaultDestination) out.add(cfg.defaultDestination);
    else throw new SendmailError(EX_NOUSER, `recipient ${JSON.stringify(r)} has no domain; set defaultDestination in ${cfg.path} to send such mail there`);
  }
  if (out.size === 0) throw new SendmailError(EX_USAGE, o.extractRecipients ? 'no recipients: none as arguments, none in To, Cc or Bcc' : 'no recipients: give them as arguments, or use -t to take them from To, Cc and Bcc');
  return [...out.values()];
}

/** The exit code and stderr lines for what the server answered; the message went to the accepted recipients. */
function outcome(r: SendResult): { code: ExitCode; lines: string[] } {
  const lines = r.rejected.map((x) => `recipient <${x.address}> refused: ${replyText(x.reply)}`);
  const refusedCode: ExitCode = r.rejected.some((x) => x.reply.code >= 500) ? EX_NOUSER : EX_TEMPFAIL;
  if (r.accepted.length === 0) return { code: refusedCode, lines: [...lines, 'message not sent'] };
  if (!r.data || r.data.code !== 250) {
    const code: ExitCode = r.data && r.data.code >= 500 ? EX_DATAERR : EX_TEMPFAIL;
    return { code, lines: [...lines, `message refused: ${r.data ? replyText(r.data) : 'no reply'}`] };
  }
  if (r.rejected.length) return { code: refusedCode, lines: [...lines, `message sent to the other ${r.accepted.length} recipient(s)`] };
  return { code: EX_OK, lines: [] };
}

/** Runs sendmail; problems are written with o.stderr, the result is the exit code. */
export async function sendmail(o: SendmailOptions): Promise<ExitCode> {
  try {
    const cfg = await loadSubmitConfig(o.configPath);
    let raw: Buffer;
    try {
      raw = await readMessage(o.input, { dotEnds: !o.ignoreDots });
    } catch (e) {
      if (e instanceof SendmailError) throw e;
      throw new SendmailError(EX_IOERR, `reading the message: ${(e as Error).message}`);
    }
    const prepared = prepareMessage(toCrlf(raw), { from: cfg.from, ...(o.fullName !== undefined ? { fromName: o.fullName } : {}), extractRecipients: o.extractRecipients, now: o.now ?? new Date() });
    const recipients = envelopeRecipients(cfg, o, prepared.headerRecipients);
    const mailFrom = o.sender !== undefined ? envelopeSender(o.sender) : cfg.from;
    const message = prepared.message;
    const envelope: Envelope = {
      mailFrom,
      recipients: recipients.map((address) => ({ address, ...(o.notify ? { notify: o.notify } : {}) })),
      size: message.length, // RFC 1870
      ...(isAscii(message) ? {} : { body: '8BITMIME' as const }), // RFC 6152 §3: only for 8-bit content
      smtputf8: nonAscii(mailFrom) || recipients.some(nonAscii) || !isAscii(message.subarray(0, prepared.headerSize)), // RFC 6531 §3.4, RFC 6532 §3
      ...(o.ret ? { ret: o.ret } : {}),
      ...(o.envid ? { envid: o.envid } : {}),
    };
    const trace = o.verbose ? o.stderr : () => {};
    if (prepared.quotedPrintable) trace('the body has a line over 998 octets: sending it quoted-printable (RFC 2045 §6.7)');
    const result = await submit(cfg, { envelope, message }, trace);
    const { code, lines } = outcome(result);
    for (const l of lines) o.stderr(l);
    if (code === EX_OK) trace(`sent to ${result.accepted.length} recipient(s): ${result.data ? replyText(result.data) : ''}`);
    return code;
  } catch (e) {
    if (e instanceof SendmailError) {
      o.stderr(e.message);
      return e.exitCode;
    }
    o.stderr(`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EX_SOFTWARE;
  }
}
