// The receiving side of the protocol test clients: bytes from a stream (a socket, a TLS
// socket after STARTTLS, an inflate stream after COMPRESS) kept until the client takes
// them, with waiting for more. Test-only.
import type { Readable } from 'node:stream';

export class ReceiveBuffer {
  data: Buffer = Buffer.alloc(0);
  closed = false;
  #waiters: Array<() => void> = [];

  /** Starts taking bytes from a stream (also a second one, after STARTTLS). */
  attach(s: Readable): void {
    s.on('data', (d: Buffer) => {
      this.data = this.data.length === 0 ? d : Buffer.concat([this.data, d]);
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

  /** Resolves when bytes arrive, the stream closes, or `ms` pass (whichever comes first). */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(1, ms));
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** The bytes up to and including the next LF, removed; undefined when no full line is here. */
  takeLine(): Buffer | undefined {
    const lf = this.data.indexOf(10);
    if (lf < 0) return undefined;
    const line = this.data.subarray(0, lf + 1);
    this.data = this.data.subarray(lf + 1);
    return line;
  }
}
