// A transcript client for the IMAP server's tests: sends raw command text and reads the
// responses up to the tagged one, with literals kept inline, so tests read like the RFC
// examples. Test-only.
import { connect as netConnect, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';

export class ImapTestClient {
  socket: Socket | TLSSocket;
  #send: ((d: Buffer) => void) | undefined;
  #buf = Buffer.alloc(0);
  #waiters: Array<() => void> = [];
  closed = false;
  #tagCount = 0;
  greeting = '';

  private constructor(socket: Socket | TLSSocket, source: Readable = socket, send?: (d: Buffer) => void) {
    this.socket = socket;
    this.#send = send;
    this.#attach(source);
  }

  /** A client over another stream: a TLS socket after STARTTLS, or an inflate stream after COMPRESS (with `send` compressing). */
  static async wrap(source: Readable, send?: (d: Buffer) => void): Promise<ImapTestClient> {
    return new ImapTestClient(source instanceof Socket ? source : (null as unknown as Socket), source, send);
  }

  #attach(s: Readable): void {
    s.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    s.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    s.on('error', () => {});
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  async #more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buf.toString('latin1'))}`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting for the server; unread: ${JSON.stringify(this.#buf.toString('latin1').slice(0, 500))}`)), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  static async connect(port: number, o: { tls?: ConnectionOptions; greeting?: boolean } = {}): Promise<ImapTestClient> {
    const socket = o.tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o.tls }) : netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(o.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new ImapTestClient(socket);
    if (o.greeting !== false) c.greeting = await c.line();
    return c;
  }

  /** Sends bytes as they are. */
  write(data: string | Buffer): void {
    if (this.#send) this.#send(Buffer.isBuffer(data) ? data : Buffer.from(data));
    else this.socket.write(data);
  }

  /** Reads one response line; a literal inside it is kept inline (`{n}\r\n` and its bytes), as latin1 text. */
  async line(timeoutMs = 5000): Promise<string> {
    let out = '';
    for (;;) {
      const lf = this.#buf.indexOf(10);
      if (lf < 0) {
        await this.#more(timeoutMs);
        continue;
      }
      const text = this.#buf.subarray(0, lf + 1).toString('latin1');
      const m = /~?\{(\d+)\}\r\n$/.exec(text);
      if (!m) {
        this.#buf = this.#buf.subarray(lf + 1);
        return out + text.replace(/\r?\n$/, '');
      }
      const n = Number(m[1]);
      while (this.#buf.length < lf + 1 + n) await this.#more(timeoutMs);
      out += this.#buf.subarray(0, lf + 1 + n).toString('latin1');
      this.#buf = this.#buf.subarray(lf + 1 + n);
    }
  }

  /** Lines until (and including) the one starting with `tag `. */
  async until(tag: string, timeoutMs = 5000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      lines.push(l);
      if (l.startsWith(`${tag} `)) return lines;
    }
  }

  /**
   * Sends one command (tag included in `text`, CRLF added) and returns its responses. Synchronizing
   * literals in the text (`{n}` at a line end) wait for the server's "+" before their bytes go.
   */
  async command(text: string | Buffer, timeoutMs = 5000): Promise<string[]> {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
    const tag = b.subarray(0, b.indexOf(0x20)).toString('latin1');
    const lines: string[] = [];
    let rest = Buffer.concat([b, Buffer.from('\r\n')]);
    for (;;) {
      const m = /\{(\d+)\}\r\n/.exec(rest.toString('latin1'));
      if (!m) break;
      const cut = m.index + m[0].length;
      this.write(rest.subarray(0, cut));
      rest = rest.subarray(cut);
      for (;;) {
        const l = await this.line(timeoutMs);
        lines.push(l);
        if (l.startsWith('+')) break;
        if (l.startsWith(`${tag} `)) return lines; // refused before the literal
      }
    }
    this.write(rest);
    return [...lines.filter((l) => !l.startsWith('+')), ...(await this.until(tag, timeoutMs))];
  }

  /** A fresh tag. */
  tag(): string {
    return `t${++this.#tagCount}`;
  }

  /** Sends with a fresh tag and returns [responses, tagged line]. */
  async run(command: string, timeoutMs = 5000): Promise<{ untagged: string[]; tagged: string; all: string[] }> {
    const tag = this.tag();
    const all = await this.command(`${tag} ${command}`, timeoutMs);
    return { untagged: all.slice(0, -1), tagged: all[all.length - 1]!.slice(tag.length + 1), all };
  }

  /** Waits until the peer closes; the lines it sent before. */
  async closedByServer(timeoutMs = 5000): Promise<string[]> {
    const lines: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!this.closed || this.#buf.indexOf(10) >= 0) {
      if (this.#buf.indexOf(10) >= 0) lines.push(await this.line());
      else await this.#more(Math.max(1, deadline - Date.now())).catch((e: unknown) => {
        if (!this.closed) throw e;
      });
    }
    return lines;
  }

  close(): void {
    this.socket?.destroy();
  }
}
