// MAIL FROM and RCPT TO (RFC 5321 §4.1.1.2-3) with their extension parameters: SIZE,
// BODY, SMTPUTF8, DSN (RET/ENVID/NOTIFY/ORCPT), REQUIRETLS, FUTURERELEASE, AUTH=.
import { SmtpError, parseMailFrom, parseRcptTo } from '../smtp/index.ts';
import { maxHoldSeconds } from './commands.ts';
import { maySendAs, resolveRecipient } from './recipients.ts';
import type { Session } from './session.ts';
import { simulatedFailure } from './simulate.ts';

/** MAIL parameters accepted in this session: only what EHLO offered (RFC 5321 §4.1.1.11 -> 555). */
function mailExtensions(s: Session): Set<string> {
  if (!s.esmtp) return new Set();
  const e = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'REQUIRETLS']); // REQUIRETLS is offered only over TLS; without TLS it gets a clear 530 below instead of 555
  if (s.submission) for (const k of ['AUTH', 'HOLDFOR', 'HOLDUNTIL']) e.add(k); // RFC 4954 §5, RFC 4865
  return e;
}

export async function cmdMail(s: Session, args: string): Promise<void> {
  if (!s.ehlo) throw new SmtpError(503, '5.5.1', 'send EHLO first'); // RFC 5321 §4.1.4
  if (s.tx) throw new SmtpError(503, '5.5.1', 'a transaction is in progress; RSET first'); // RFC 5321 §4.1.4
  if (s.submission && !s.account) throw new SmtpError(530, '5.7.0', 'authentication required'); // RFC 4954 §6
  const { path, params } = parseMailFrom(args, { extensions: mailExtensions(s) });
  if (params.requireTLS && !s.tls) throw new SmtpError(530, '5.7.10', 'REQUIRETLS needs a TLS session'); // RFC 8689 §2: the option is only for TLS sessions; RFC 5248 5.7.10 encryption needed
  if (params.size !== undefined && params.size > s.ctx.limits.maxMessageSize) throw new SmtpError(552, '5.3.4', `message larger than the maximum of ${s.ctx.limits.maxMessageSize} bytes`); // RFC 1870 §6.1
  const hold = params.holdFor ?? (params.holdUntil ? Math.ceil((params.holdUntil.getTime() - Date.now()) / 1000) : undefined);
  if (hold !== undefined && hold > maxHoldSeconds) throw new SmtpError(501, '5.5.4', `hold longer than ${maxHoldSeconds} seconds`); // RFC 4865 §4
  if (s.ctx.rateLimits && !s.submission && !s.ctx.rateLimits.messages.canAdd(s.remoteIP)) throw new SmtpError(451, '4.7.0', 'too many messages from your network, try again later');
  const failure = s.ctx.localserve && s.submission && path ? simulatedFailure(path.localpart) : undefined;
  if (failure?.stage === 'mailfrom') throw await failure.error(s);
  if (s.submission && !s.ctx.localserve && path && !maySendAs(s.ctx.domains(), s.account!.name, path.address)) throw new SmtpError(550, '5.7.1', 'not an address of your account'); // RFC 3463 5.7.1; the null path is allowed (bounces)
  s.tx = { mailFrom: path, params, recipients: [] };
  s.reply(250, '2.1.0', 'sender OK');
}

export async function cmdRcpt(s: Session, args: string): Promise<void> {
  const tx = s.tx;
  if (!tx) throw new SmtpError(503, '5.5.1', 'send MAIL first'); // RFC 5321 §4.1.4
  if (tx.bdat) throw new SmtpError(503, '5.5.1', 'RCPT after BDAT'); // RFC 3030 §2
  const ext = new Set(s.esmtp ? ['NOTIFY', 'ORCPT'] : []); // RFC 3461 §4
  const { path, params } = parseRcptTo(args, { extensions: ext, smtputf8: tx.params.smtputf8 });
  if (tx.recipients.length >= s.ctx.limits.maxRecipients) throw new SmtpError(452, '4.5.3', 'too many recipients'); // RFC 5321 §4.5.3.1.10
  if (tx.recipients.some((r) => r.path.address === path.address)) {
    s.reply(250, '2.1.5', 'recipient OK (duplicate)'); // one delivery per address
    return;
  }
  const target = await resolveRecipient(s, path);
  tx.recipients.push({ path, params, target });
  s.reply(250, '2.1.5', 'recipient OK');
}
