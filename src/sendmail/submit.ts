// Submitting one message to the configured server with our SMTP client: TCP, TLS from the
// start (RFC 8314) or STARTTLS (RFC 3207), the server's key checked against the pin when
// one is set, login (RFC 4954) with SASL EXTERNAL for a client certificate or
// SCRAM-SHA-256(-PLUS) (src/sasl scramClient) / PLAIN / LOGIN (SmtpClient.auth) for a
// password, then the mail transaction (SmtpClient.send: pipelining, DATA or BDAT). Failures
// become SendmailErrors with the sysexits code and the server's reply.
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import { SmtpClient, SmtpClientError, type Envelope, type Reply, type SendResult } from '../smtpclient/index.ts';
import { isSaslError, scramClient } from '../sasl/index.ts';
import { channelBinding, describeTls, publicKeyFingerprint } from '../tls/index.ts';
import type { SubmitConfig } from './config.ts';
import { EX_DATAERR, EX_NOPERM, EX_PROTOCOL, EX_TEMPFAIL, EX_UNAVAILABLE, SendmailError, type ExitCode } from './sysexits.ts';

const connectTimeoutMs = 30_000; // TCP connect and each TLS handshake; replies: SmtpClient's RFC 5321 §4.5.3.2 timeouts

export function replyText(r: Reply): string {
  return `${r.code}${r.enhanced ? ` ${r.enhanced}` : ''} ${r.lines.join(' / ')}`.trimEnd();
}

/** The error for a failed step; `permanent` is the exit code for a 5xx reply. Only reply text goes in the message, never what we sent. */
function stepFailed(e: unknown, step: string, permanent: ExitCode): SendmailError {
  if (e instanceof SendmailError) return e;
  if (!(e instanceof SmtpClientError)) throw e;
  if (e.kind === 'reply' && e.reply) return new SendmailError(e.reply.code >= 500 ? permanent : EX_TEMPFAIL, `${step}: the server replied ${replyText(e.reply)}`);
  if (e.kind === 'tls') return new SendmailError(EX_UNAVAILABLE, `${step}: ${e.message}`);
  if (e.kind === 'protocol') return new SendmailError(EX_PROTOCOL, `${step}: ${e.message}`);
  if (e.kind === 'unsupported') return new SendmailError(/SIZE/.test(e.message) ? EX_DATAERR : EX_UNAVAILABLE, `${step}: ${e.message}`);
  return new SendmailError(EX_TEMPFAIL, `${step}: ${e.message}`); // closed, timeout
}

/** Sends one command of a login and reads its reply; a code outside `ok` fails with the reply. */
async function authStep(c: SmtpClient, line: string, mechanism: string, ok: number[]): Promise<Reply> {
  try {
    return await c.command(line, (code) => ok.includes(code));
  } catch (e) {
    throw stepFailed(e, `login with ${mechanism}`, EX_NOPERM);
  }
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** Ends a login exchange we will not finish (RFC 4954 §4: "*" cancels) and reports why. */
async function cancelLogin(c: SmtpClient, mechanism: string, why: string): Promise<never> {
  await c.command('*', () => true).catch(() => {});
  throw new SendmailError(EX_PROTOCOL, `login with ${mechanism}: ${why}`);
}

/** SCRAM-SHA-256 (RFC 7677, RFC 5802 §5), with channel binding for -PLUS; the server must prove it knows the credentials. */
async function scram(c: SmtpClient, mechanism: string, username: string, password: string, binding: { type: 'tls-exporter' | 'tls-unique'; data: Buffer } | 'could' | undefined): Promise<void> {
  const client = scramClient({ hash: 'sha256', username, password, ...(binding === 'could' ? { couldBind: true } : binding ? { channelBinding: binding } : {}) });
  const first = await authStep(c, `AUTH ${mechanism} ${b64(client.first())}`, mechanism, [334]);
  let clientFinal: string;
  try {
    clientFinal = await client.final(Buffer.from(first.lines[0] ?? '', 'base64')); // checks that the server's nonce extends ours, the salt and the count (RFC 5802 §5.1)
  } catch (e) {
    if (!isSaslError(e)) throw e;
    return cancelLogin(c, mechanism, e.message);
  }
  const last = await authStep(c, b64(clientFinal), mechanism, [334]); // server-final comes as a challenge, answered with an empty line (RFC 4954 §4)
  let verified: boolean;
  try {
    verified = client.verify(Buffer.from(last.lines[0] ?? '', 'base64'));
  } catch (e) {
    if (!isSaslError(e)) throw e;
    return cancelLogin(c, mechanism, e.message);
  }
  if (!verified) return cancelLogin(c, mechanism, 'wrong server signature; this server does not know the password'); // RFC 5802 §9
  await authStep(c, '', mechanism, [235]);
}

/** Logs in with the configured credentials and the best mechanism the server offers; returns the mechanism. */
async function authenticate(c: SmtpClient, cfg: SubmitConfig): Promise<string> {
  const offered = new Set((c.extensions.get('AUTH') ?? '').toUpperCase().split(' ').filter((m) => m !== ''));
  const list = [...offered].join(' ') || 'none';
  if (cfg.clientCert) {
    if (!offered.has('EXTERNAL')) throw new SendmailError(EX_UNAVAILABLE, `login: the server does not offer AUTH EXTERNAL for the client certificate (offered: ${list})`);
    await authStep(c, 'AUTH EXTERNAL =', 'EXTERNAL', [235]); // RFC 4422 Appendix A; empty authzid: the identity of the key
    return 'EXTERNAL';
  }
  const password = cfg.password!;
  const exporter = c.tls && channelBinding(c.tls, 'tls-exporter', 'client'); // RFC 9266 (TLS 1.3)
  const unique = c.tls && !exporter ? channelBinding(c.tls, 'tls-unique', 'client') : undefined; // RFC 5929 (TLS 1.2)
  const cb = exporter ? { type: 'tls-exporter' as const, data: exporter } : unique ? { type: 'tls-unique' as const, data: unique } : undefined;
  if (cb && offered.has('SCRAM-SHA-256-PLUS')) {
    await scram(c, 'SCRAM-SHA-256-PLUS', cfg.username, password, cb);
    return 'SCRAM-SHA-256-PLUS';
  }
  if (offered.has('SCRAM-SHA-256')) {
    await scram(c, 'SCRAM-SHA-256', cfg.username, password, cb ? 'could' : undefined); // RFC 5802 §6: "y", we could bind but no -PLUS was offered
    return 'SCRAM-SHA-256';
  }
  if (offered.has('PLAIN') || offered.has('LOGIN')) {
    try {
      await c.auth(cfg.username, password); // RFC 4616 PLAIN, else LOGIN; the credentials never go in an error
    } catch (e) {
      throw stepFailed(e, `login with ${offered.has('PLAIN') ? 'PLAIN' : 'LOGIN'}`, EX_NOPERM);
    }
    return offered.has('PLAIN') ? 'PLAIN' : 'LOGIN';
  }
  throw new SendmailError(EX_UNAVAILABLE, `login: the server offers no mechanism we use: SCRAM-SHA-256(-PLUS), PLAIN, LOGIN (offered: ${list})`);
}

/** With a pin, the server's public key must be the pinned one; without, node:tls verified the chain and name already. */
function checkPin(c: SmtpClient, cfg: SubmitConfig): void {
  if (!cfg.pin) return;
  const cert = c.tls?.getPeerX509Certificate();
  const fingerprint = cert ? publicKeyFingerprint(cert) : 'none';
  if (fingerprint !== cfg.pin) throw new SendmailError(EX_UNAVAILABLE, `TLS: the server's public key ${fingerprint} is not the pinned tlsPublicKey ${cfg.pin}`);
}

function tlsHint(cfg: SubmitConfig): string {
  return cfg.pin ? '' : '; for a self-signed certificate set tlsCAFile, or tlsPublicKey (a wrong pin shows the right one)';
}

export interface Submission {
  envelope: Envelope;
  message: Buffer;
}

/** Connects, logs in and sends; returns per-recipient results and the reply to the message. */
export async function submit(cfg: SubmitConfig, s: Submission, trace: (line: string) => void = () => {}): Promise<SendResult> {
  const tls: ConnectionOptions = {
    host: cfg.host, // for the name check when connecting to an IP address
    ...(cfg.serverName ? { servername: cfg.serverName } : {}),
    minVersion: 'TLSv1.2', // RFC 8996
    ...(cfg.ca ? { ca: cfg.ca } : {}),
    ...(cfg.pin ? { rejectUnauthorized: false } : {}), // the pin is checked instead
    ...(cfg.clientCert ? { key: cfg.clientCert.keyPEM, cert: cfg.clientCert.certPEM } : {}),
  };
  const where = `${cfg.host}:${cfg.port}`;
  const socket = netConnect({ host: cfg.host, port: cfg.port });
  socket.on('error', () => {}); // reported by the reads of the client
  const timer = setTimeout(() => socket.destroy(new Error('timeout')), connectTimeoutMs);
  try {
    await once(socket, 'connect');
  } catch (e) {
    throw new SendmailError(EX_TEMPFAIL, `connecting to ${where}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  let c: SmtpClient;
  try {
    c = await SmtpClient.connect({ host: cfg.host, port: cfg.port, socket, connectTimeoutMs, ...(cfg.tls === 'submissions' ? { tls } : {}) });
  } catch (e) {
    socket.destroy();
    if (e instanceof SmtpClientError && e.kind === 'tls') throw new SendmailError(EX_UNAVAILABLE, `TLS with ${where}: ${e.message.replace(`connecting to ${where}: `, '')}${tlsHint(cfg)}`);
    throw stepFailed(e, `greeting of ${where}`, EX_UNAVAILABLE);
  }
  try {
    if (cfg.tls === 'submissions') checkPin(c, cfg);
    const ehlo = cfg.ehloName ?? hostname();
    try {
      await c.hello(ehlo);
      if (cfg.tls === 'starttls') {
        if (!c.has('STARTTLS')) throw new SendmailError(EX_UNAVAILABLE, `${where} does not offer STARTTLS`);
        let timedOut = false;
        const limit = 2 * connectTimeoutMs; // handshake and EHLO reply, under SmtpClient's own limit (which reports a TLS failure): a stall is temporary (75)
        const handshake = setTimeout(() => {
          timedOut = true;
          socket.destroy();
        }, limit);
        try {
          await c.starttls(ehlo, tls);
        } catch (e) {
          if (timedOut) throw new SendmailError(EX_TEMPFAIL, `STARTTLS with ${where}: no handshake and EHLO reply within ${limit / 1000} s`);
          throw e;
        } finally {
          clearTimeout(handshake);
        }
        checkPin(c, cfg);
      }
    } catch (e) {
      if (e instanceof SmtpClientError && e.kind === 'tls') throw new SendmailError(EX_UNAVAILABLE, `STARTTLS with ${where}: ${e.message}${tlsHint(cfg)}`);
      throw stepFailed(e, `greeting of ${where}`, EX_UNAVAILABLE);
    }
    trace(`connected to ${where}${c.tls ? ` with ${describeTls(c.tls)}` : ' without TLS'}`);
    trace(`logged in with ${await authenticate(c, cfg)}`);
    let result: SendResult;
    try {
      result = await c.send(s.envelope, s.message);
    } catch (e) {
      const sender = e instanceof SmtpClientError && e.message.startsWith('MAIL FROM');
      throw stepFailed(e, sender ? `sender <${s.envelope.mailFrom}>` : 'sending', sender ? EX_NOPERM : EX_UNAVAILABLE);
    }
    await c.quit();
    return result;
  } finally {
    c.close();
  }
}
