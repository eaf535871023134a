// The DATA reader (RFC 5321 §4.1.1.4, §4.5.2): turns the bytes after "354" into the
// message, ending only at CRLF.CRLF. Bare CR and the "SMTP smuggling" end sequences
// (LF.LF, CRLF.LF, LF.CRLF, CR.CR) are refused, because other servers may take them as
// the end and a second message could be hidden in the first. Bare LF elsewhere is
// normalised to CRLF. Streaming with a small carry state: any chunking gives the same result.
import { SmtpError } from './reply.ts';

const CRLF = Buffer.from('\r\n');

// Where the reader is, between bytes.
const TEXT = 0; // inside a line
const LINESTART = 1; // at the start of a line
const DOT = 2; // after a "." at the start of a line
const DOTCR = 3; // after "." CR at the start of a line
const CR = 4; // after a CR inside a line (its LF may come in the next push)
type State = typeof TEXT | typeof LINESTART | typeof DOT | typeof DOTCR | typeof CR;

export class DataReader {
  readonly #maxSize: number;
  #state: State = LINESTART; // the line after DATA starts after the command's CRLF
  #bareLF = false; // the current line started after a bare LF
  #size = 0;
  #error: SmtpError | undefined;
  #done = false;

  constructor(o: { maxSize: number }) {
    this.#maxSize = o.maxSize;
  }

  /** Message bytes emitted so far (after unstuffing and normalising). */
  get size(): number {
    return this.#size;
  }

  /** Set once the message is refused; the reader still consumes up to CRLF.CRLF but emits nothing more. */
  get error(): SmtpError | undefined {
    return this.#error;
  }

  #fail(what: string): void {
    this.#error ??= new SmtpError(500, '5.5.2', `${what} in message; lines must end with CRLF and the message with CRLF.CRLF`); // RFC 5321 §2.3.8, §4.1.1.4
  }

  /**
   * Consumes input up to and including the terminating CRLF.CRLF; returns how many bytes
   * belong to the message phase (the rest is pipelined commands), the message bytes
   * found (dot-unstuffed, line ends normalised), and whether the end was reached.
   */
  push(input: Buffer): { consumed: number; chunks: Buffer[]; done: boolean } {
    if (this.#done) return { consumed: 0, chunks: [], done: true };
    const chunks: Buffer[] = [];
    const emit = (b: Buffer) => {
      if (b.length === 0 || this.#error) return;
      this.#size += b.length;
      if (this.#size > this.#maxSize) {
        this.#error = new SmtpError(552, '5.3.4', `message larger than the maximum of ${this.#maxSize} bytes`); // RFC 1870 §6.3
        return;
      }
      chunks.push(b);
    };
    let i = 0;
    let run = 0; // start of input bytes copied unchanged to the output
    const n = input.length;
    let nextCR = -1; // position of the next CR at or after i (n: none); searched once per CR, not once per line
    while (i < n) {
      switch (this.#state) {
        case LINESTART:
          if (input[i] === 0x2e) {
            emit(input.subarray(run, i));
            i++;
            run = i; // RFC 5321 §4.5.2: the leading dot is removed
            this.#state = DOT;
          } else this.#state = TEXT;
          break;
        case DOT: {
          const c = input[i];
          if (c === 13) {
            i++;
            this.#state = DOTCR;
          } else if (c === 10) {
            this.#fail(this.#bareLF ? 'LF.LF' : 'CRLF.LF');
            i++;
            run = i;
            this.#bareLF = true;
            this.#state = LINESTART;
          } else this.#state = TEXT; // a dot-stuffed line: its first dot is gone, the rest is text
          break;
        }
        case DOTCR:
          if (input[i] === 10) {
            i++;
            if (!this.#bareLF) {
              this.#done = true;
              return { consumed: i, chunks, done: true };
            }
            this.#fail('LF.CRLF');
            run = i;
            this.#bareLF = false;
            this.#state = LINESTART;
          } else {
            this.#fail(input[i] === 0x2e || input[i] === 13 ? 'CR.CR' : 'bare CR');
            run = i;
            this.#state = TEXT;
          }
          break;
        case CR:
          if (input[i] === 10) {
            emit(CRLF);
            i++;
            run = i;
            this.#bareLF = false;
            this.#state = LINESTART;
          } else {
            this.#fail(input[i] === 0x2e ? 'CR.CR' : 'bare CR');
            run = i;
            this.#state = TEXT;
          }
          break;
        case TEXT: {
          const lf = input.indexOf(10, i);
          const end = lf < 0 ? n : lf;
          if (nextCR < i) {
            nextCR = input.indexOf(13, i);
            if (nextCR < 0) nextCR = n;
          }
          const cr = nextCR;
          if (cr < end - 1) {
            this.#fail(input[cr + 1] === 0x2e ? 'CR.CR' : 'bare CR');
            i = cr + 1;
            break;
          }
          if (lf < 0) {
            if (input[n - 1] === 13) {
              emit(input.subarray(run, n - 1)); // the CR's LF may be in the next push
              this.#state = CR;
            } else emit(input.subarray(run, n));
            i = n;
            run = n;
            break;
          }
          if (lf > i && input[lf - 1] === 13) {
            this.#bareLF = false; // CRLF: the run goes on through it
          } else {
            emit(input.subarray(run, lf)); // bare LF: normalised to CRLF (RFC 5321 §2.3.8 leniency)
            emit(CRLF);
            run = lf + 1;
            this.#bareLF = true;
          }
          i = lf + 1;
          this.#state = LINESTART;
          break;
        }
      }
    }
    if (this.#state !== CR && this.#state !== DOT && this.#state !== DOTCR) emit(input.subarray(run, n));
    return { consumed: n, chunks, done: false };
  }
}
