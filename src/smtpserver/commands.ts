// The SMTP command table (RFC 5321 §4.1.1 and the extensions' commands) and the small
// commands; MAIL/RCPT are in transaction.ts, DATA/BDAT in data.ts, AUTH in auth.ts.
import { SmtpError, parseHelo } from '../smtp/index.ts';
import type { Session } from './session.ts';
import { cmdMail, cmdRcpt } from './transaction.ts';
import { cmdBdat, cmdData } from './data.ts';
import { cmdAuth, authMechanisms } from './auth.ts';

export type CommandHandler = (s: Session, args: string) => Promise<void>;

export const commands: Record<string, CommandHandler> = {
  EHLO: cmdEhlo, // RFC 5321 §4.1.1.1
  HELO: cmdHelo, // RFC 5321 §4.1.1.1
  MAIL: cmdMail, // RFC 5321 §4.1.1.2
  RCPT: cmdRcpt, // RFC 5321 §4.1.1.3
  DATA: cmdData, // RFC 5321 §4.1.1.4
  BDAT: cmdBdat, // RFC 3030 §2
  RSET: cmdRset, // RFC 5321 §4.1.1.5
  VRFY: cmdVrfy, // RFC 5321 §4.1.1.6
  EXPN: cmdVrfy, // RFC 5321 §4.1.1.7
  HELP: cmdHelp, // RFC 5321 §4.1.1.8
  NOOP: cmdNoop, // RFC 5321 §4.1.1.9
  QUIT: cmdQuit, // RFC 5321 §4.1.1.10
  STARTTLS: cmdStarttls, // RFC 3207 §4
  AUTH: cmdAuth, // RFC 4954 §4
};

/** FUTURERELEASE limits (RFC 4865 §3): the longest hold we accept. */
export const maxHoldSeconds = 7 * 24 * 3600;

/** The EHLO keywords for this session, each with its RFC. */
export function extensions(s: Session): string[] {
  const l = s.ctx.limits;
  const ext = [
    'PIPELINING', // RFC 2920
    `SIZE ${l.maxMessageSize}`, // RFC 1870
    '8BITMIME', // RFC 6152
    'SMTPUTF8', // RFC 6531
    'ENHANCEDSTATUSCODES', // RFC 2034
  ];
  if (s.listener.tls && !s.tls && s.listener.service !== 'submissions') ext.push('STARTTLS'); // RFC 3207
  if (s.tls) ext.push('REQUIRETLS'); // RFC 8689 §2: only offered over TLS
  ext.push(
    'CHUNKING', // RFC 3030
    'BINARYMIME', // RFC 3030
    'DSN', // RFC 3461
    `LIMITS RCPTMAX=${l.maxRecipients}`, // RFC 9422
  );
  if (s.submission) {
    const mechs = authMechanisms(s);
    if (mechs.length > 0) ext.push(`AUTH ${mechs.join(' ')}`); // RFC 4954 §3
    const until = new Date(Date.now() + maxHoldSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    ext.push(`FUTURERELEASE ${maxHoldSeconds} ${until}`); // RFC 4865 §3
  }
  return ext;
}

async function cmdEhlo(s: Session, args: string): Promise<void> {
  const name = parseHelo(args);
  await s.resetTransaction(); // RFC 5321 §4.1.4: EHLO resets the transaction (and drops a partial BDAT message)
  s.ehlo = name;
  s.esmtp = true;
  s.reply(250, undefined, [`${s.listener.hostname} greets ${name}`, ...extensions(s)]);
}

async function cmdHelo(s: Session, args: string): Promise<void> {
  const name = parseHelo(args);
  await s.resetTransaction(); // RFC 5321 §4.1.4
  s.ehlo = name;
  s.esmtp = false; // no extensions after HELO (RFC 5321 §4.1.1.1)
  s.reply(250, undefined, s.listener.hostname);
}

async function cmdRset(s: Session, args: string): Promise<void> {
  if (args.trim() !== '') throw new SmtpError(501, '5.5.4', 'RSET takes no parameters'); // RFC 5321 §4.1.1.5
  await s.resetTransaction();
  s.reply(250, '2.0.0', 'OK');
}

async function cmdNoop(s: Session): Promise<void> {
  s.reply(250, '2.0.0', 'OK'); // RFC 5321 §4.1.1.9: the parameter is ignored
}

async function cmdQuit(s: Session, args: string): Promise<void> {
  if (args.trim() !== '') throw new SmtpError(501, '5.5.4', 'QUIT takes no parameters'); // RFC 5321 §4.1.1.10
  await s.close(221, '2.0.0', `${s.listener.hostname} closing connection`);
}

/** VRFY/EXPN would let anyone harvest addresses; 252 is the RFC's answer for "not telling" (RFC 5321 §3.5.3, §7.3). */
async function cmdVrfy(s: Session): Promise<void> {
  s.reply(252, '2.5.0', 'cannot verify the user, but will take a message for this address');
}

async function cmdHelp(s: Session): Promise<void> {
  s.reply(214, '2.0.0', ['Mailcove; commands:', Object.keys(commands).join(' '), 'see RFC 5321']);
}

async function cmdStarttls(s: Session, args: string): Promise<void> {
  if (args.trim() !== '') throw new SmtpError(501, '5.5.4', 'STARTTLS takes no parameters'); // RFC 3207 §4
  const tls = s.listener.tls;
  if (!tls || s.listener.service === 'submissions') throw new SmtpError(502, '5.5.1', 'STARTTLS not offered');
  if (s.tls) throw new SmtpError(503, '5.5.1', 'already using TLS');
  // RFC 3207 §4.2: plaintext sent after STARTTLS must not be acted on (command injection, CVE-2011-0411).
  s.input.takeAll();
  s.reply(220, '2.0.0', 'ready to start TLS');
  await s.flush();
  await s.startTls(tls);
  // RFC 3207 §4.2: the session starts over: forget EHLO, AUTH and any transaction.
  s.ehlo = undefined;
  s.esmtp = false;
  s.account = undefined;
  await s.resetTransaction();
}
