// LOGIN (RFC 9051 §6.2.3) and AUTHENTICATE (RFC 9051 §6.2.2, SASL-IR RFC 4959): the SASL
// exchange over "+" continuations, failures answered NO [AUTHENTICATIONFAILED] after the
// shared failed-login delay, and every client mistake a BAD that keeps the session usable.
import { isBase64, isSaslError, loginContext, maxResponseLine, recordLogin, startSasl, type LoginResult } from '../sasl/index.ts';
import { ImapError, bad, no } from './errors.ts';
import { capabilities, imapMechanisms, plaintextAllowed } from './any.ts';
import type { CommandSpec, Session } from './session.ts';



/** Runs an exchange to its end; throws ImapError for failures. */
async function authenticate(s: Session, mechanism: string, first: Buffer | undefined, interactive: boolean, shownMechanism = mechanism): Promise<{ account: string; username: string }> {
  const context = loginContext({ store: s.ctx.store, domains: s.ctx.domains(), hostname: s.listener.hostname, ...(s.tls ? { tls: s.tls } : {}) });
  const record = (result: LoginResult) => recordLogin(s.ctx.store, { ...context.tried, ip: s.remoteIP, protocol: 'imap', mechanism: shownMechanism, result, tls: s.tls?.version ?? '' });
  if (!s.ctx.authFailures.allowed(s.remoteIP)) {
    record('ratelimited');
    throw no('UNAVAILABLE', 'too many failed logins from your network, try again later'); // RFC 5530 §3
  }
  let response = first;
  try {
    const ex = startSasl(mechanism, context);
    for (;;) {
      const step = await ex.step(response);
      if (step.kind === 'success') {
        // RFC 9051 §6.2.2: additional data with success goes in a continuation, answered with an empty line.
        if (step.data && interactive && (await challenge(s, step.data)).length !== 0) throw bad('expected an empty response');
        const disabled = s.ctx.domains().accounts[step.account]?.loginDisabled;
        if (disabled) {
          record('disabled');
          throw no('AUTHORIZATIONFAILED', `login disabled: ${disabled}`); // RFC 5530 §3
        }
        s.ctx.authFailures.succeeded(s.remoteIP);
        record('ok');
        return { account: step.account, username: step.username };
      }
      if (!interactive) throw bad('unexpected challenge');
      response = await challenge(s, step.data);
    }
  } catch (e) {
    if (isSaslError(e)) {
      s.log.info({ mechanism, kind: e.kind, msg: e.message }, 'authentication failed');
      if (e.kind === 'malformed') {
        record('malformed');
        await s.ctx.authFailures.failed(s.remoteIP);
        throw bad(`malformed ${mechanism} message`);
      }
      if (e.kind === 'unsupported') throw no('CANNOT', e.message);
      if (e.kind === 'temporary') throw no('UNAVAILABLE', 'temporary authentication failure'); // RFC 5530 §3
      if (e.kind === 'aborted') throw bad('authentication cancelled');
      record('badauth');
      await s.ctx.authFailures.failed(s.remoteIP);
      throw no('AUTHENTICATIONFAILED', 'invalid credentials'); // RFC 5530 §3
    }
    throw e;
  }
}

/** Sends a "+" challenge and reads the client's base64 line; "*" cancels (RFC 9051 §6.2.2). */
async function challenge(s: Session, data: Buffer): Promise<Buffer> {
  await s.continuation(data.toString('base64'));
  const line = await s.input.line(maxResponseLine);
  if (line === undefined) throw new ImapError('BYE', undefined, 'connection closed during authentication');
  if (!Buffer.isBuffer(line)) throw bad('authentication line too long');
  const text = line.toString('latin1').trim();
  if (text === '*') throw bad('authentication cancelled'); // RFC 9051 §6.2.2
  if (!isBase64(text)) throw bad('invalid base64');
  return Buffer.from(text, 'base64');
}

async function loggedIn(s: Session, who: { account: string; username: string }): Promise<{ code: string; text: string }> {
  if (s.state === 'auth') {
    if (who.account !== s.account?.name) throw no('AUTHORIZATIONFAILED', 'already logged in as another account'); // RFC 5530 §3
  } else await s.login(who.account, who.username);
  s.preauth = false;
  return { code: `CAPABILITY ${capabilities(s)}`, text: 'logged in' }; // RFC 9051 §6.2.2: capabilities may change at login
}

export const authCommands: Record<string, CommandSpec> = {
  LOGIN: {
    states: ['notauth'],
    async run(s, p) {
      p.sp();
      const user = p.astring();
      p.sp();
      const pass = p.astring();
      p.end();
      if (!plaintextAllowed(s)) throw no('PRIVACYREQUIRED', 'LOGIN needs TLS: use STARTTLS first'); // RFC 9051 §6.2.3, RFC 5530 §3
      if (user.includes(0) || pass.includes(0)) throw bad('NUL in user name or password');
      // The PLAIN mechanism checks the password exactly as AUTHENTICATE PLAIN would (RFC 4616 message: "\0user\0pass").
      const who = await authenticate(s, 'PLAIN', Buffer.concat([Buffer.from([0]), user, Buffer.from([0]), pass]), false, 'LOGIN');
      return loggedIn(s, who);
    },
  },
  AUTHENTICATE: {
    states: ['notauth', 'auth'],
    async run(s, p) {
      if (s.state === 'auth' && !s.preauth) throw bad('already authenticated'); // RFC 9051 §6.2.2
      p.sp();
      const mechanism = p.atom('a mechanism').toUpperCase();
      let first: Buffer | undefined;
      if (p.take(' ')) {
        // RFC 4959 §3: the initial response, "=" for an empty one.
        const ir = p.atom('an initial response');
        if (ir === '=') first = Buffer.alloc(0);
        else if (!isBase64(ir)) throw bad('invalid base64 initial response');
        else first = Buffer.from(ir, 'base64');
      }
      p.end();
      if (!imapMechanisms(s).includes(mechanism)) {
        if (!plaintextAllowed(s) && ['PLAIN', 'LOGIN'].includes(mechanism)) throw no('PRIVACYREQUIRED', 'this mechanism needs TLS: use STARTTLS first');
        throw no('CANNOT', `mechanism ${mechanism} not supported`); // RFC 9051 §6.2.2
      }
      const who = await authenticate(s, mechanism, first, true);
      return loggedIn(s, who);
    },
  },
};

