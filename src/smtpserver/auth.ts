// AUTH (RFC 4954) on the submission services: the SASL exchange over 334 challenges,
// with every client mistake answered as a protocol error and the session kept usable.
import { SmtpError } from '../smtp/index.ts';
import { isLoopback } from '../conn/address.ts';
import { isBase64, isSaslError, loginContext, maxResponseLine, offeredMechanisms, recordLogin, startSasl, type LoginResult } from '../sasl/index.ts';
import { clientKeyFingerprint } from '../tls/index.ts';
import type { Session } from './session.ts';


/** Plaintext AUTH without TLS only in localserve over loopback (issue 3); elsewhere AUTH waits for TLS (RFC 8314 §3, RFC 4954 §4). */
function authAllowed(s: Session): boolean {
  return !!s.tls || (!!s.ctx.localserve && isLoopback(s.remoteIP));
}


export function authMechanisms(s: Session): string[] {
  if (!s.submission || !authAllowed(s)) return [];
  return offeredMechanisms({ tls: !!s.tls, allowPlaintext: true, external: !!(s.tls && clientKeyFingerprint(s.tls.socket)) });
}

function saslContext(s: Session): ReturnType<typeof loginContext> {
  return loginContext({ store: s.ctx.store, domains: s.ctx.domains(), hostname: s.listener.hostname, ...(s.tls ? { tls: s.tls } : {}) });
}


/** A client's base64 response (RFC 4954 §4): "=" is an empty initial response, "*" cancels. */
function decodeResponse(line: string): Buffer {
  if (line === '*') throw new SmtpError(501, '5.0.0', 'authentication cancelled'); // RFC 4954 §4
  if (!isBase64(line)) throw new SmtpError(501, '5.5.2', 'invalid base64'); // RFC 4954 §4
  return Buffer.from(line, 'base64');
}

export async function cmdAuth(s: Session, args: string): Promise<void> {
  if (!s.submission) throw new SmtpError(502, '5.5.1', 'AUTH not offered here'); // MX: no AUTH
  if (!s.esmtp) throw new SmtpError(503, '5.5.1', 'send EHLO first');
  if (s.account) throw new SmtpError(503, '5.5.1', 'already authenticated'); // RFC 4954 §4
  if (s.tx) throw new SmtpError(503, '5.5.1', 'AUTH not allowed during a transaction'); // RFC 4954 §4
  if (!authAllowed(s)) throw new SmtpError(530, '5.7.0', 'must issue a STARTTLS command first'); // RFC 3207 §4
  const m = /^([A-Za-z0-9_-]{1,20})(?: (\S+))? *$/.exec(args); // RFC 4954 §4: AUTH mechanism [initial-response]
  if (!m) throw new SmtpError(501, '5.5.4', 'syntax: AUTH mechanism [initial-response]');
  const mechanism = m[1]!.toUpperCase();
  if (!authMechanisms(s).includes(mechanism)) throw new SmtpError(504, '5.5.4', 'mechanism not supported'); // RFC 4954 §4
  const context = saslContext(s);
  const record = (result: LoginResult) => recordLogin(s.ctx.store, { ...context.tried, ip: s.remoteIP, protocol: 'submission', mechanism, result, tls: s.tls?.version ?? '' });
  if (!s.ctx.authFailures.allowed(s.remoteIP)) {
    record('ratelimited');
    throw new SmtpError(454, '4.7.0', 'too many failed logins from your network, try again later');
  }
  let response = m[2] === undefined ? undefined : m[2] === '=' ? Buffer.alloc(0) : decodeResponse(m[2]);
  try {
    const exchange = startSasl(mechanism, context);
    for (;;) {
      const step = await exchange.step(response);
      if (step.kind === 'success') {
        if (step.data) {
          // RFC 4954 §4: additional data with success goes in a 334, answered with an empty line.
          const ack = await challenge(s, step.data);
          if (ack.length !== 0) throw new SmtpError(501, '5.5.2', 'expected an empty response');
        }
        const disabled = s.ctx.domains().accounts[step.account]?.loginDisabled;
        if (disabled) {
          record('disabled');
          throw new SmtpError(525, '5.7.13', `login disabled: ${disabled}`); // RFC 4954 §6
        }
        s.ctx.authFailures.succeeded(s.remoteIP);
        record('ok');
        s.account = { name: step.account, username: step.username };
        s.log.info({ account: step.account, mechanism }, 'authenticated');
        s.reply(235, '2.7.0', 'authentication successful'); // RFC 4954 §6
        return;
      }
      response = await challenge(s, step.data);
    }
  } catch (e) {
    if (isSaslError(e)) {
      s.log.info({ mechanism, kind: e.kind, msg: e.message }, 'authentication failed');
      if (e.kind === 'malformed') {
        record('malformed');
        throw new SmtpError(501, '5.5.2', `malformed ${mechanism} message`);
      }
      if (e.kind === 'unsupported') throw new SmtpError(504, '5.5.4', e.message);
      if (e.kind === 'temporary') throw new SmtpError(454, '4.7.0', 'temporary authentication failure'); // RFC 4954 §6
      if (e.kind === 'aborted') throw new SmtpError(501, '5.0.0', 'authentication cancelled');
      record('badauth');
      await s.ctx.authFailures.failed(s.remoteIP);
      throw new SmtpError(535, '5.7.8', 'authentication credentials invalid'); // RFC 4954 §6
    }
    if (e instanceof SmtpError && e.code === 501) await s.ctx.authFailures.failed(s.remoteIP);
    throw e;
  }
}

/** Sends a 334 challenge and reads the client's base64 line. */
async function challenge(s: Session, data: Buffer): Promise<Buffer> {
  s.reply(334, undefined, data.toString('base64'));
  await s.flush();
  const line = await s.input.line(maxResponseLine);
  if (line === undefined) {
    s.closing = true;
    throw new SmtpError(421, '4.4.2', 'connection closed during authentication');
  }
  if (!Buffer.isBuffer(line)) throw new SmtpError(500, '5.5.6', 'authentication line too long'); // RFC 4954 §4
  return decodeResponse(line.toString('latin1').trim());
}
