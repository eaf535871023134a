// One SMTP connection: the command loop (read a line, look the verb up in the command
// table, run the handler, reply) and the session state the handlers share. Replies are
// queued and written when no further pipelined command is waiting (RFC 2920 §3), so a
// pipelined group gets its replies in order and in one write.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { SmtpError, formatReply, isSmtpError, parseCommand, type MailParams, type RcptParams, type SmtpPath } from '../smtp/index.ts';
import { countTlsConnection, countUncaughtError, counter, histogram } from '../metrics/index.ts';
import { logger, newCid, withCid } from '../log/index.ts';
import type { ListenerContext, SmtpContext } from './context.ts';
import type { TlsConfig } from '../tls/index.ts';
import { Input } from '../conn/input.ts';
import { normalizeIP } from '../conn/address.ts';
import { serverHandshake } from '../conn/starttls.ts';
import type { Spool } from './spool.ts';
import type { RecipientTarget } from './recipients.ts';
import { commands } from './commands.ts';

const log = logger('smtpserver');
const commandCount = counter('mailcove_smtp_commands_total', 'SMTP commands by verb and result class.', ['service', 'verb', 'result']);
const commandSeconds = histogram<'service' | 'verb'>('mailcove_smtp_command_duration_seconds', 'Time from an SMTP command to its reply (DATA/BDAT: with the message transfer and delivery).', ['service', 'verb']);

/** An accepted RCPT TO: the path, its DSN parameters and where it goes. */
export interface Recipient {
  path: SmtpPath;
  params: RcptParams;
  target: RecipientTarget;
}

/** A mail transaction (RFC 5321 §3.3): from MAIL to the end of DATA/BDAT LAST or RSET. */
export interface Transaction {
  mailFrom: SmtpPath | null; // null: the null reverse-path "<>"
  params: MailParams;
  recipients: Recipient[];
  bdat?: { spool: Spool; failed: SmtpError | undefined }; // RFC 3030: chunks received so far
}

export interface TlsState {
  socket: TLSSocket;
  version: string; // 'TLSv1.3' | 'TLSv1.2': chooses the SCRAM-PLUS channel binding (RFC 9266)
}

export class Session {
  readonly cid: string;
  readonly log: Logger;
  readonly ctx: SmtpContext;
  readonly listener: ListenerContext;
  readonly remoteIP: string;
  socket: Socket | TLSSocket;
  readonly input: Input;
  tls: TlsState | undefined;
  ehlo: string | undefined; // EHLO/HELO argument, once greeted
  esmtp = false; // EHLO (not HELO): extensions allowed
  account: { name: string; username: string } | undefined; // after AUTH (RFC 4954)
  tx: Transaction | undefined;
  errors = 0;
  messages = 0; // transactions that reached the end of DATA/BDAT: makes per-message ids
  readonly #raw: Socket | TLSSocket; // the accepted socket: it sees all traffic, also under STARTTLS, so idle timeouts are kept on it
  closing = false;
  #out: Buffer[] = [];

  constructor(ctx: SmtpContext, listener: ListenerContext, socket: Socket | TLSSocket, tls: TlsState | undefined) {
    this.ctx = ctx;
    this.listener = listener;
    this.socket = socket;
    this.#raw = socket;
    this.tls = tls;
    if (tls) countTlsConnection(listener.service === 'smtp' ? 'smtp' : 'submission', tls.version);
    this.cid = newCid();
    this.remoteIP = normalizeIP(socket.remoteAddress ?? '');
    this.log = withCid(log, this.cid, { service: listener.service, remote: this.remoteIP });
    this.input = new Input(socket);
  }

  get submission(): boolean {
    return this.listener.service !== 'smtp';
  }

  /** The metrics protocol label of this session. */
  get protocol(): 'smtp' | 'submission' {
    return this.submission ? 'submission' : 'smtp';
  }

  /** A new id for the message now being finished: the connection id and its count (Received "id", logs, the 250 reply). */
  messageId(): string {
    return `${this.cid}.${++this.messages}`;
  }

  /** Queues a reply; written at the next flush. */
  reply(code: number, enhanced: string | undefined, text: string | readonly string[]): void {
    this.#out.push(formatReply(code, enhanced, text));
  }

  /** Writes queued replies; resolves when the socket took them (backpressure). */
  async flush(): Promise<void> {
    if (this.#out.length === 0 || this.socket.destroyed) return;
    const data = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out);
    this.#out = [];
    if (!this.socket.write(data)) await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Replies, then ends the connection (421 and QUIT). */
  async close(code: number, enhanced: string | undefined, text: string): Promise<void> {
    this.reply(code, enhanced, text);
    this.closing = true;
    await this.flush();
    this.socket.end();
  }

  /** The command loop; never rejects. */
  async run(greeting: { code: number; enhanced: string | undefined; text: string }): Promise<void> {
    this.#raw.setTimeout(this.ctx.timeouts.commandMs, () => {
      this.log.info('timeout');
      void this.close(421, '4.4.2', `${this.listener.hostname} timeout, closing connection`).catch(() => {}); // RFC 5321 §4.5.3.2
      this.socket.destroySoon();
    });
    try {
      this.reply(greeting.code, greeting.enhanced, greeting.text);
      if (greeting.code !== 220) {
        await this.close(greeting.code, greeting.enhanced, greeting.text).catch(() => {});
        return;
      }
      while (!this.closing && !this.socket.destroyed) {
        if (!this.input.hasLine()) await this.flush(); // RFC 2920 §3.1: no reply held back while waiting for input
        const line = await this.input.line(this.ctx.limits.maxCommandLine);
        if (line === undefined) break;
        await this.#command(line);
      }
      await this.flush();
    } catch (e) {
      if (!this.socket.destroyed) {
        countUncaughtError(this.protocol);
        this.log.error({ err: e }, 'unexpected error in session');
      }
    } finally {
      this.socket.destroySoon();
      await this.tx?.bdat?.spool.discard();
    }
  }

  async #command(line: Buffer | { tooLong: true }): Promise<void> {
    let verb = '?';
    const started = performance.now();
    try {
      if (!Buffer.isBuffer(line)) throw new SmtpError(500, '5.5.2', 'line too long'); // RFC 5321 §4.5.3.1.4 / §4.2.4
      const cmd = parseCommand(line);
      verb = cmd.verb;
      const handler = commands[verb];
      if (!handler) throw new SmtpError(500, '5.5.1', 'unknown command'); // RFC 5321 §4.2.4
      await handler(this, cmd.args);
      commandCount.inc({ service: this.listener.service, verb, result: 'ok' });
      commandSeconds.observe({ service: this.listener.service, verb }, (performance.now() - started) / 1000);
    } catch (e) {
      if (!isSmtpError(e)) {
        if (this.socket.destroyed) throw e;
        // A bug or an unusable store: counted and logged with its stack, and it ends this command only (STYLE.md).
        countUncaughtError(this.protocol);
        this.log.error({ err: e, verb }, 'unexpected error in command');
        await this.resetTransaction().catch(() => {});
        this.reply(451, '4.3.0', 'internal error, try again later'); // RFC 3463 4.3.0: mail system temporary failure
        return;
      }
      commandCount.inc({ service: this.listener.service, verb: commands[verb] ? verb : 'other', result: String(e.code)[0] ?? '?' });
      this.log.info({ verb, code: e.code, enhanced: e.enhanced, msg: e.message }, 'command refused');
      if (e.code >= 500 && ++this.errors > this.ctx.limits.maxErrors) {
        await this.close(421, '4.7.0', 'too many errors, closing connection');
        return;
      }
      if (e.code === 421) {
        await this.close(e.code, e.enhanced, e.message);
        return;
      }
      this.reply(e.code, e.enhanced, e.message);
    }
  }

  /** Ends the transaction (RSET, EHLO, STARTTLS, after DATA), removing a partly received BDAT message. */
  async resetTransaction(): Promise<void> {
    const spool = this.tx?.bdat?.spool;
    this.tx = undefined;
    await spool?.discard();
  }

  /** Runs the TLS handshake on the connection (STARTTLS); a failed handshake ends the session. */
  async startTls(config: TlsConfig): Promise<void> {
    this.input.replaceSocket(undefined);
    const secure = await serverHandshake(this.socket, config.serverOptions());
    if (secure instanceof Error) {
      this.log.info({ err: secure.message }, 'tls handshake failed');
      this.closing = true;
      return;
    }
    secure.on('error', (e) => this.log.debug({ err: e.message }, 'tls socket error'));
    this.socket = secure;
    this.input.replaceSocket(secure);
    this.tls = tlsState(secure);
    countTlsConnection(this.listener.service === 'smtp' ? 'smtp' : 'submission', this.tls.version);
  }

  /** Sets a longer idle timeout while a message streams in, and back. */
  receiving(on: boolean): void {
    this.#raw.setTimeout(on ? this.ctx.timeouts.dataMs : this.ctx.timeouts.commandMs);
  }

  /** Waits before an answer that tells an attacker something (unknown user, failed login). */
  async delay(ms: number): Promise<void> {
    if (ms > 0) await sleep(ms);
  }
}

export function tlsState(socket: TLSSocket): TlsState {
  return { socket, version: socket.getProtocol() ?? '' };
}

