// Buffered reading from a connection for the SMTP and IMAP command loops: lines with a
// length limit, and raw bytes (SMTP DATA/BDAT, IMAP literals). Memory is bounded: the socket is paused while more
// than `highWater` bytes wait unread, so a client that pipelines without reading replies
// cannot make us buffer without limit.
import type { Readable } from 'node:stream';

const empty = Buffer.alloc(0);

export class Input {
  #buf: Buffer = empty;
  #ended = false;
  #wake: (() => void) | undefined;
  #socket: Readable;
  readonly #highWater: number;
  readonly #onData = (d: Buffer) => {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    if (this.#buf.length > this.#highWater) this.#socket.pause();
    this.#notify();
  };
  readonly #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };

  constructor(socket: Readable, highWater = 256 * 1024) {
    this.#highWater = highWater;
    this.#socket = socket;
    this.#listen(socket);
  }

  #listen(s: Readable): void {
    s.on('data', this.#onData);
    s.on('end', this.#onEnd);
    s.on('close', this.#onEnd);
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Bytes received and not yet taken. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Whether a complete line (a pipelined command) is waiting. */
  hasLine(): boolean {
    return this.#buf.indexOf(10) >= 0;
  }

  get ended(): boolean {
    return this.#ended && this.#buf.length === 0;
  }

  /** Waits until more bytes arrive; false once the peer closed and nothing is left. */
  async more(): Promise<boolean> {
    if (this.#ended) return false;
    this.#socket.resume();
    await new Promise<void>((resolve) => (this.#wake = resolve));
    return !this.#ended || this.#buf.length > 0;
  }

  /** Everything buffered, leaving nothing. */
  takeAll(): Buffer {
    const b = this.#buf;
    this.#buf = empty;
    return b;
  }

  /** Puts back bytes that belong to the next command (pipelined after DATA's end). */
  unshift(b: Buffer): void {
    if (b.length > 0) this.#buf = this.#buf.length === 0 ? b : Buffer.concat([b, this.#buf]);
  }

  /**
   * Reads one line without its CRLF (a bare LF also ends it; the command parser decides).
   * Returns undefined when the peer closed. Lines longer than `max` are consumed up to
   * their end and reported as { tooLong: true } so the loop can answer 500 and go on.
   */
  async line(max: number): Promise<Buffer | { tooLong: true } | undefined> {
    let skipping = false;
    for (;;) {
      const lf = this.#buf.indexOf(10);
      if (lf >= 0) {
        const line = this.#buf.subarray(0, lf > 0 && this.#buf[lf - 1] === 13 ? lf - 1 : lf);
        this.#buf = this.#buf.subarray(lf + 1);
        if (skipping || line.length > max) return { tooLong: true };
        return line;
      }
      if (this.#buf.length > max) {
        skipping = true; // discard the rest of an overlong line as it arrives
        this.#buf = empty;
      }
      if (!(await this.more())) return undefined;
    }
  }

  /**
   * Reads exactly `n` bytes, handing them to `sink` as they arrive (a literal goes to memory
   * or a file without being held twice). False when the peer closed first.
   */
  async bytes(n: number, sink: (chunk: Buffer) => void | Promise<void>): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.more())) return false;
      const take = Math.min(left, this.#buf.length);
      const chunk = this.#buf.subarray(0, take);
      this.#buf = this.#buf.subarray(take);
      left -= take;
      await sink(chunk);
    }
    return true;
  }

  /** Switches to a new source (STARTTLS, COMPRESS): undefined detaches from the old one before a handshake; buffered bytes are dropped (RFC 3207 §4.2, RFC 9051 §6.2.1), unless `keep`. */
  replaceSocket(s: Readable | undefined, keep = false): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    if (!keep) this.#buf = empty;
    if (!s) return;
    this.#socket = s;
    this.#listen(s);
  }
}
