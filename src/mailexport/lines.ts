// Splits a byte stream into lines (LF-terminated) without holding a whole long line in
// memory: mbox conversion needs only the start of a line (for "From " and header names)
// and its end (for CRLF), so a line longer than the hold limit is passed on in pieces.

/** A piece of a line: the whole line, or part of one longer than the hold limit. */
export interface LinePiece {
  data: Buffer;
  start: boolean; // first piece of a line: holds the whole line or at least `hold` bytes of it
  end: boolean; // last piece of a line: ends with LF (or is the last bytes of the stream)
}

export class LineSplitter {
  readonly #hold: number;
  #partial: Buffer[] = [];
  #partialLength = 0;
  #lineStarted = false; // a piece of the current line was already passed on

  constructor(hold = 64 * 1024) {
    this.#hold = hold;
  }

  push(chunk: Buffer): LinePiece[] {
    const out: LinePiece[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        this.#keep(chunk.subarray(pos), out);
        break;
      }
      const tail = chunk.subarray(pos, nl + 1);
      pos = nl + 1;
      if (this.#partialLength === 0) out.push({ data: tail, start: !this.#lineStarted, end: true });
      else {
        out.push({ data: Buffer.concat([...this.#partial, tail]), start: !this.#lineStarted, end: true });
        this.#partial = [];
        this.#partialLength = 0;
      }
      this.#lineStarted = false;
    }
    return out;
  }

  /** The rest of the stream: a last line without LF. */
  end(): LinePiece[] {
    if (this.#partialLength === 0) return [];
    const data = Buffer.concat(this.#partial);
    this.#partial = [];
    this.#partialLength = 0;
    const start = !this.#lineStarted;
    this.#lineStarted = false;
    return [{ data, start, end: true }];
  }

  #keep(rest: Buffer, out: LinePiece[]): void {
    this.#partial.push(Buffer.from(rest)); // a copy: the caller may reuse its chunk
    this.#partialLength += rest.length;
    if (this.#partialLength < this.#hold) return;
    let data = Buffer.concat(this.#partial);
    // A CR is kept back so that a CRLF is never split over two pieces: conversions look at line ends only.
    const keepCR = data[data.length - 1] === 13;
    if (keepCR) data = data.subarray(0, data.length - 1);
    out.push({ data, start: !this.#lineStarted, end: false });
    this.#lineStarted = true;
    this.#partial = keepCR ? [Buffer.from([13])] : [];
    this.#partialLength = keepCR ? 1 : 0;
  }
}

/** Bare LF to CRLF, CRLF kept: maildir files are usually written with LF (as Dovecot and mutt do), the store keeps CRLF (RFC 5322 §2.1). */
export class LfToCrlf {
  #lastCR = false; // the previous chunk ended in CR

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, nl + 1)) {
      const cr = nl > 0 ? chunk[nl - 1] === 13 : this.#lastCR;
      if (cr) continue;
      out.push(chunk.subarray(from, nl), crlf);
      from = nl + 1;
    }
    if (from < chunk.length) out.push(from === 0 ? chunk : chunk.subarray(from));
    if (chunk.length > 0) this.#lastCR = chunk[chunk.length - 1] === 13;
    return out;
  }
}

const crlf = Buffer.from('\r\n');
