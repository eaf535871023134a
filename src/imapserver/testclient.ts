// A transcript client for the IMAP server's tests: sends raw command text and reads the
// responses up to the tagged one, with literals kept inline, so tests read like the RFC
// examples. Test-only.
import { connect as netConnect, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { ReceiveBuffer } from '../../test/receivebuffer.ts';

export class ImapTestClient {
  socket: Socket | TLSSocket;
  #send: ((d: Buffer) => void) | undefined;
  readonly #rx = new ReceiveBuffer();
  #tagCount = 0;
  greeting = '';

  private constructor(socket: Socket | TLSSocket, source: Readable = socket, send?: (d: Buffer) => void) {
    this.socket = socket;
    this.#send = send;
    this.#rx.attach(source);
  }

  /** A client over another stream: a TLS socket after STARTTLS, or an inflate stream after COMPRESS (with `send` compressing). */
  static async wrap(source: Readable, send?: (d: Buffer) => void): Promise<ImapTestClient> {
    return new ImapTestClient(source instanceof Socket ? source : (null as unknown as Socket), source, send);
  }

  get closed(): boolean {
    return this.#rx.closed;
  }

  /** Waits for more bytes; an error when the server closed, or after timeoutMs without any. */
  async #more(timeoutMs: number): Promise<void> {
    const unread = () => JSON.stringify(this.#rx.data.toString('latin1').slice(0, 500));
    if (this.closed) throw new Error(`connection closed; unread: ${unread()}`);
    const before = this.#rx.data.length;
    await this.#rx.wait(timeoutMs);
    if (this.#rx.data.length === before && !this.closed) throw new Error(`timeout waiting for the server; unread: ${unread()}`);
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
      const lf = this.#rx.data.indexOf(10);
      if (lf < 0) {
        await this.#more(timeoutMs);
        continue;
      }
      const text = this.#rx.data.subarray(0, lf + 1).toString('latin1');
      const m = /~?\{(\d+)\}\r\n$/.exec(text);
      if (!m) {
        this.#rx.data = this.#rx.data.subarray(lf + 1);
        return out + text.replace(/\r?\n$/, '');
      }
      const n = Number(m[1]);
      while (this.#rx.data.length < lf + 1 + n) await this.#more(timeoutMs);
      out += this.#rx.data.subarray(0, lf + 1 + n).toString('latin1');
      this.#rx.data = this.#rx.data.subarray(lf + 1 + n);
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
    while (!this.closed || this.#rx.data.indexOf(10) >= 0) {
      if (this.#rx.data.indexOf(10) >= 0) lines.push(await this.line());
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
