// The SMTP client protocol (RFC 5321) for outbound delivery and smarthosts: greeting, EHLO
// with HELO fallback (§3.2), STARTTLS (RFC 3207), AUTH PLAIN/LOGIN (RFC 4954), and a mail
// transaction with PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152),
// SMTPUTF8 (RFC 6531), DSN parameters (RFC 3461), REQUIRETLS (RFC 8689) and CHUNKING/BDAT
// (RFC 3030). Replies keep their enhanced status codes (RFC 3463). Which host to connect to
// and which TLS policy applies is the caller's (MX, MTA-STS, DANE): this is the wire.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Input } from '../conn/input.ts';
import { dotStuffTransform, orcptParam, xtextEncode } from '../smtp/index.ts';

/** One SMTP reply (RFC 5321 §4.2). */
export interface Reply {
  code: number;
  enhanced: string | undefined; // RFC 3463 "x.y.z", when the server sent one
  lines: string[]; // text of each line, code and enhanced code removed
}

export type SmtpClientErrorKind = 'reply' | 'timeout' | 'closed' | 'protocol' | 'tls' | 'unsupported';

/** A failed step: a 4xx/5xx reply, or a connection problem (always temporary). */
export class SmtpClientError extends Error {
  override name = 'SmtpClientError';
  readonly kind: SmtpClientErrorKind;
  readonly reply: Reply | undefined;
  constructor(kind: SmtpClientErrorKind, message: string, reply?: Reply) {
    super(message);
    this.kind = kind;
    this.reply = reply;
  }

  /** Whether trying again later cannot help (a 5xx reply, or something the peer will never support). */
  get permanent(): boolean {
    return (this.kind === 'reply' && (this.reply?.code ?? 0) >= 500) || this.kind === 'unsupported';
  }
}

export interface Envelope {
  mailFrom: string; // '' for the null reverse-path
  recipients: Array<{ address: string; notify?: string; orcpt?: string /* decoded 'type;address' */ }>;
  size?: number; // RFC 1870 SIZE=, when known
  body?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  smtputf8?: boolean; // the envelope or message needs SMTPUTF8 (RFC 6531 §3.4)
  ret?: 'FULL' | 'HDRS'; // RFC 3461 §4.3
  envid?: string; // RFC 3461 §4.4
  requireTLS?: boolean; // RFC 8689 §4.1: only with REQUIRETLS advertised
}

export interface RecipientResult {
  address: string;
  reply: Reply;
}

export interface SendResult {
  accepted: RecipientResult[];
  rejected: RecipientResult[];
  /** The reply to the end of DATA (or the last BDAT); undefined when no recipient was accepted. */
  data: Reply | undefined;
}

const maxReplyLine = 4096;
const maxReplyLines = 100;

export class SmtpClient {
  #socket: Socket | TLSSocket;
  #input: Input;
  readonly timeoutMs: number;
  greeting!: Reply;
  /** EHLO keywords (upper case) and their parameters; empty after HELO. */
  extensions = new Map<string, string>();
  esmtp = false;
  tls: TLSSocket | undefined;

  private constructor(socket: Socket | TLSSocket, timeoutMs: number) {
    this.#socket = socket;
    this.#input = new Input(socket);
    this.timeoutMs = timeoutMs;
    if ('encrypted' in socket) this.tls = socket as TLSSocket;
    socket.on('error', () => {}); // errors surface as closed reads or failed writes
  }

  /** Connects (implicit TLS when `tls` is given, RFC 8314) and reads the greeting; a non-220 greeting is an error. */
  static async connect(o: { host: string; port: number; localAddress?: string; timeoutMs?: number; connectTimeoutMs?: number; tls?: ConnectionOptions; socket?: Socket }): Promise<SmtpClient> {
    const timeoutMs = o.timeoutMs ?? 5 * 60_000; // RFC 5321 §4.5.3.2.1: 5 minutes for the greeting
    const local = o.localAddress ? { localAddress: o.localAddress } : {};
    // `socket`: already connected (through a SOCKS proxy); TLS, when asked, runs over it.
    const socket = o.tls ? tlsConnect({ ...(o.socket ? { socket: o.socket } : { host: o.host, port: o.port, ...local }), ...o.tls }) : o.socket ?? netConnect({ host: o.host, port: o.port, ...local });
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), o.connectTimeoutMs ?? timeoutMs);
    try {
      if (o.tls || !o.socket) await once(socket, o.tls ? 'secureConnect' : 'connect');
    } catch (e) {
      throw new SmtpClientError(o.tls ? 'tls' : 'closed', `connecting to ${o.host}:${o.port}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const c = new SmtpClient(socket, timeoutMs);
    c.greeting = await c.#read();
    if (c.greeting.code !== 220) {
      c.close();
      throw new SmtpClientError('reply', `greeting: ${c.greeting.code} ${c.greeting.lines.join(' ')}`, c.greeting); // RFC 5321 §3.1
    }
    return c;
  }

  #write(text: string | Buffer): void {
    this.#socket.write(text);
  }

  /** Reads one (possibly multi-line) reply. */
  async #read(timeoutMs = this.timeoutMs): Promise<Reply> {
    const lines: string[] = [];
    let code = 0;
    const timer = setTimeout(() => this.#socket.destroy(), timeoutMs);
    try {
      for (;;) {
        const line = await this.#input.line(maxReplyLine);
        if (line === undefined) throw new SmtpClientError('closed', 'connection closed by the server');
        if (!Buffer.isBuffer(line)) throw new SmtpClientError('protocol', 'reply line too long');
        const text = line.toString('utf8');
        const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(text);
        if (!m) throw new SmtpClientError('protocol', `malformed reply line: ${JSON.stringify(text.slice(0, 100))}`); // RFC 5321 §4.2
        const c = Number(m[1]);
        if (code !== 0 && c !== code) throw new SmtpClientError('protocol', 'reply lines with different codes'); // RFC 5321 §4.2.1
        code = c;
        lines.push(m[3]!);
        if (lines.length > maxReplyLines) throw new SmtpClientError('protocol', 'reply too long');
        if (m[2] !== '-') break;
      }
    } finally {
      clearTimeout(timer);
    }
    // RFC 3463 §2: "class.subject.detail" first on each line; kept from the first line, removed from all.
    const em = /^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)/.exec(lines[0] ?? '');
    const enhanced = em && Number(em[1]) === Math.floor(code / 100) ? `${em[1]}.${em[2]}.${em[3]}` : undefined;
    return { code, enhanced, lines: enhanced ? lines.map((l) => l.replace(/^[245]\.\d{1,3}\.\d{1,3} ?/, '')) : lines };
  }

  /** Sends a command and reads its reply, an error unless the code is in `ok`. */
  /** `what` names the command in an error (default its first word); give it for lines that carry secrets. */
  async command(line: string, ok: (code: number) => boolean = (c) => c >= 200 && c < 400, what = line.split(' ')[0]): Promise<Reply> {
    this.#write(`${line}\r\n`);
    const r = await this.#read();
    if (!ok(r.code)) throw new SmtpClientError('reply', `${what}: ${r.code}${r.enhanced ? ` ${r.enhanced}` : ''} ${r.lines.join(' ')}`, r);
    return r;
  }

  /** EHLO, or HELO when the server does not know EHLO (RFC 5321 §3.2: a 5xx to EHLO). */
  async hello(name: string): Promise<void> {
    this.#write(`EHLO ${name}\r\n`);
    const r = await this.#read();
    if (r.code === 250) {
      this.esmtp = true;
      this.extensions = new Map(r.lines.slice(1).map((l) => {
        const [k, ...rest] = l.split(' ');
        return [k!.toUpperCase(), rest.join(' ')];
      }));
      return;
    }
    if (r.code < 500) throw new SmtpClientError('reply', `EHLO: ${r.code} ${r.lines.join(' ')}`, r);
    await this.command(`HELO ${name}`, (c) => c === 250);
    this.esmtp = false;
    this.extensions = new Map();
  }

  has(extension: string): boolean {
    return this.extensions.has(extension.toUpperCase());
  }

  /** STARTTLS (RFC 3207) and the EHLO after it (§4.2: everything learned before is forgotten). */
  async starttls(name: string, options: ConnectionOptions): Promise<void> {
    await this.command('STARTTLS', (c) => c === 220);
    this.#input.replaceSocket(undefined);
    const secure = tlsConnect({ socket: this.#socket as Socket, ...options });
    secure.on('error', () => {});
    // A server that answers 220 and then never completes the handshake must not hold the connection forever (RFC 5321 §4.5.3.2: every wait has a limit).
    const timer = setTimeout(() => secure.destroy(new Error(`no handshake within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    try {
      await once(secure, 'secureConnect');
    } catch (e) {
      this.#socket.destroy();
      throw new SmtpClientError('tls', `TLS handshake: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    this.#socket = secure;
    this.tls = secure;
    this.#input = new Input(secure);
    this.extensions = new Map();
    await this.hello(name);
  }

  /** AUTH PLAIN (RFC 4616) with an initial response, or LOGIN when only that is offered (RFC 4954). */
  async auth(username: string, password: string): Promise<void> {
    const mechs = (this.extensions.get('AUTH') ?? '').toUpperCase().split(' ');
    if (mechs.includes('PLAIN')) {
      await this.command(`AUTH PLAIN ${Buffer.from(`\0${username}\0${password}`).toString('base64')}`, (c) => c === 235, 'AUTH PLAIN');
      return;
    }
    if (mechs.includes('LOGIN')) {
      await this.command('AUTH LOGIN', (c) => c === 334);
      await this.command(Buffer.from(username).toString('base64'), (c) => c === 334, 'AUTH LOGIN username');
      await this.command(Buffer.from(password).toString('base64'), (c) => c === 235, 'AUTH LOGIN password'); // never the password itself in an error
      return;
    }
    throw new SmtpClientError('unsupported', 'the server offers neither AUTH PLAIN nor AUTH LOGIN');
  }

  /** The MAIL FROM parameters the envelope needs; an extension it needs and the server lacks is an error. */
  #mailParams(e: Envelope): string {
    const p: string[] = [];
    const need = (ext: string, why: string) => {
      if (!this.has(ext)) throw new SmtpClientError('unsupported', `${why}, but the server does not offer ${ext}`);
    };
    if (e.size !== undefined && this.has('SIZE')) {
      const max = Number(this.extensions.get('SIZE'));
      if (max > 0 && e.size > max) throw new SmtpClientError('unsupported', `message of ${e.size} octets is larger than the server's SIZE ${max}`); // RFC 1870 §6
      p.push(`SIZE=${e.size}`);
    }
    if (e.body === '8BITMIME') {
      need('8BITMIME', 'the message is 8-bit'); // RFC 6152 §3 (downgrading is not done)
      p.push('BODY=8BITMIME');
    } else if (e.body === 'BINARYMIME') {
      need('BINARYMIME', 'the message is binary');
      need('CHUNKING', 'BINARYMIME needs BDAT'); // RFC 3030 §3
      p.push('BODY=BINARYMIME');
    }
    if (e.smtputf8) {
      need('SMTPUTF8', 'the message needs SMTPUTF8'); // RFC 6531 §3.2
      p.push('SMTPUTF8');
    }
    if (e.ret || e.envid) need('DSN', 'DSN parameters were given'); // RFC 3461 §4
    if (e.ret) p.push(`RET=${e.ret}`);
    if (e.envid) p.push(`ENVID=${xtextEncode(e.envid)}`);
    if (e.requireTLS) {
      need('REQUIRETLS', 'the message requires TLS'); // RFC 8689 §4.1
      p.push('REQUIRETLS');
    }
    return p.length ? ' ' + p.join(' ') : '';
  }

  /**
   * One mail transaction. With PIPELINING, MAIL, every RCPT and DATA go in one write
   * (RFC 2920 §3.1: DATA ends the group); replies are read in order. Recipients the server
   * refuses are reported, not thrown; the message goes if any recipient was accepted.
   */
  async send(e: Envelope, message: Buffer | (() => Readable)): Promise<SendResult> {
    const mail = `MAIL FROM:<${e.mailFrom}>${this.#mailParams(e)}`;
    const rcpts = e.recipients.map((r) => {
      const params: string[] = [];
      if ((r.notify || r.orcpt) && !this.has('DSN')) {
        // RFC 3461 §4.1: without DSN at the next hop the parameters are dropped (the queue sends a relayed DSN itself).
      } else {
        if (r.notify) params.push(`NOTIFY=${r.notify}`);
        if (r.orcpt) params.push(`ORCPT=${orcptParam(r.orcpt)}`); // kept decoded; encoded here
      }
      return `RCPT TO:<${r.address}>${params.length ? ' ' + params.join(' ') : ''}`;
    });
    const chunking = e.body === 'BINARYMIME' || (this.has('CHUNKING') && Buffer.isBuffer(message));
    const pipelining = this.has('PIPELINING');
    const accepted: RecipientResult[] = [];
    const rejected: RecipientResult[] = [];
    let mailReply: Reply;
    let dataStart: Reply | undefined;
    if (pipelining) {
      this.#write([mail, ...rcpts, ...(chunking ? [] : ['DATA'])].map((l) => `${l}\r\n`).join(''));
      mailReply = await this.#read();
      for (let i = 0; i < rcpts.length; i++) {
        const r = await this.#read();
        (r.code === 250 || r.code === 251 ? accepted : rejected).push({ address: e.recipients[i]!.address, reply: r });
      }
      if (!chunking) dataStart = await this.#read();
    } else {
      this.#write(`${mail}\r\n`);
      mailReply = await this.#read();
      if (mailReply.code === 250) {
        for (let i = 0; i < rcpts.length; i++) {
          this.#write(`${rcpts[i]}\r\n`);
          const r = await this.#read();
          (r.code === 250 || r.code === 251 ? accepted : rejected).push({ address: e.recipients[i]!.address, reply: r });
        }
        if (!chunking && accepted.length > 0) {
          this.#write('DATA\r\n');
          dataStart = await this.#read();
        }
      }
    }
    if (mailReply.code !== 250) {
      if (dataStart?.code === 354) await this.#endData(Buffer.alloc(0)); // a pipelined DATA was accepted anyway: end it empty, then reset
      await this.reset();
      throw new SmtpClientError('reply', `MAIL FROM: ${mailReply.code} ${mailReply.lines.join(' ')}`, mailReply);
    }
    if (accepted.length === 0) {
      if (dataStart?.code === 354) await this.#endData(Buffer.alloc(0));
      await this.reset();
      return { accepted, rejected, data: undefined };
    }
    let data: Reply;
    if (chunking) data = await this.#bdat(message);
    else {
      if (dataStart?.code !== 354) {
        await this.reset();
        throw new SmtpClientError('reply', `DATA: ${dataStart?.code} ${dataStart?.lines.join(' ')}`, dataStart);
      }
      data = await this.#endData(message);
    }
    return { accepted, rejected, data };
  }

  /** Sends the dot-stuffed message, ended with CRLF "." CRLF by the stuffer (RFC 5321 §4.5.2), and returns the final reply. */
  async #endData(message: Buffer | (() => Readable)): Promise<Reply> {
    const source = Buffer.isBuffer(message) ? Readable.from([message]) : message();
    const stuffer = dotStuffTransform();
    source.on('error', (e) => stuffer.destroy(e));
    source.pipe(stuffer);
    for await (const chunk of stuffer as AsyncIterable<Buffer>) {
      if (chunk.length > 0 && !this.#socket.write(chunk)) await once(this.#socket, 'drain');
    }
    return this.#read(this.timeoutMs * 2); // RFC 5321 §4.5.3.2.6: 10 minutes for the reply to the end of data
  }

  /** BDAT (RFC 3030): the message in one chunk when in memory, else one chunk per piece the stream gives; LAST on the final one. */
  async #bdat(message: Buffer | (() => Readable)): Promise<Reply> {
    const chunks: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(message) ? [message] : (message() as AsyncIterable<Buffer>);
    let pending: Buffer | undefined;
    for await (const c of chunks) {
      if (pending) {
        this.#write(`BDAT ${pending.length}\r\n`);
        this.#write(pending);
        const r = await this.#read();
        if (r.code !== 250) throw new SmtpClientError('reply', `BDAT: ${r.code} ${r.lines.join(' ')}`, r);
      }
      pending = c;
    }
    pending ??= Buffer.alloc(0);
    this.#write(`BDAT ${pending.length} LAST\r\n`);
    this.#write(pending);
    return this.#read(this.timeoutMs * 2); // as for the end of DATA
  }

  /** RSET (RFC 5321 §4.1.1.5), ignoring its reply code. */
  async reset(): Promise<void> {
    await this.command('RSET', () => true).catch(() => {});
  }

  async quit(): Promise<void> {
    await this.command('QUIT', () => true).catch(() => {});
    this.close();
  }

  close(): void {
    this.#socket.destroy();
  }
}
