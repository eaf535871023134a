// A transcript client for the SMTP server's tests: sends raw lines and reads whole replies
// (multi-line included), so tests read like RFC examples. Test-only.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import assert from 'node:assert/strict';
import { ReceiveBuffer } from '../../test/receivebuffer.ts';

export interface Reply {
  code: number;
  lines: string[]; // text after "250-" / "250 "
  text: string; // lines joined with "\n"
}

export class SmtpTestClient {
  socket: Socket | TLSSocket;
  #rx = new ReceiveBuffer();

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.#rx.attach(socket);
  }

  get closed(): boolean {
    return this.#rx.closed;
  }

  static async connect(port: number, o: { tls?: ConnectionOptions } = {}): Promise<SmtpTestClient> {
    const socket = o.tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o.tls }) : netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(o.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new SmtpTestClient(socket);
  }

  /** Sends a line (CRLF added). */
  send(line: string | Buffer): void {
    this.socket.write(Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\r\n')]));
  }

  /** Sends bytes as they are. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads the next complete reply. */
  async reply(timeoutMs = 10_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    let code = 0;
    for (;;) {
      const raw = this.#rx.takeLine();
      if (raw) {
        const line = raw.toString('utf8').replace(/\r?\n$/, '');
        const m = /^(\d{3})([ -])(.*)$/.exec(line);
        assert.ok(m, `malformed reply line ${JSON.stringify(line)}`);
        code = Number(m[1]);
        lines.push(m[3]!);
        if (m[2] === ' ') return { code, lines, text: lines.join('\n') };
        continue;
      }
      if (this.closed) throw new Error(`connection closed; partial reply ${JSON.stringify(lines)}`);
      if (Date.now() > deadline) throw new Error(`no reply in ${timeoutMs} ms; partial ${JSON.stringify(lines)}`);
      await this.#rx.wait(deadline - Date.now());
    }
  }

  /** Reads a reply and checks its code (and text). */
  async expect(code: number, text?: RegExp): Promise<Reply> {
    const r = await this.reply();
    assert.equal(r.code, code, `expected ${code}, got ${r.code} ${r.text}`);
    if (text) assert.match(r.text, text);
    return r;
  }

  /** Sends a command and expects a reply. */
  async command(line: string | Buffer, code: number, text?: RegExp): Promise<Reply> {
    this.send(line);
    return this.expect(code, text);
  }

  /** One mail transaction: MAIL, RCPT for each recipient (each 250), DATA, the message, and the expected final reply. */
  async transaction(from: string, to: readonly string[], message: string | Buffer, code = 250, text?: RegExp): Promise<Reply> {
    await this.command(`MAIL FROM:<${from}>`, 250);
    for (const t of to) await this.command(`RCPT TO:<${t}>`, 250);
    await this.command('DATA', 354);
    this.write(Buffer.concat([Buffer.isBuffer(message) ? message : Buffer.from(message), Buffer.from('\r\n.\r\n')]));
    return this.expect(code, text);
  }

  /** STARTTLS and the TLS handshake over this connection. */
  async starttls(o: ConnectionOptions = {}): Promise<void> {
    await this.command('STARTTLS', 220);
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: 'localhost', ...o });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.#rx = new ReceiveBuffer(); // plaintext after STARTTLS is not read (RFC 3207 §4.2)
    this.#rx.attach(secure);
  }

  /** Waits until the server closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('server did not close');
      await this.#rx.wait(50);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
