// One message's bytes while its FETCH response is built: byte ranges of the message file
// through the store (a small message is read once), header blocks (bounded, cached), and
// streams for large literals that are opened before any of the response is written.
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { mimeLimits, type MimePart } from '../../mime/index.ts';
import type { Account, MessageRow } from '../../store/index.ts';

const wholeFileLimit = 64 * 1024; // messages up to this size are read once, whole (one open for all items); larger ones by range

export class MessageBytes {
  readonly #store: Account;
  readonly #row: MessageRow;
  #whole: Buffer | undefined;
  readonly #headers = new Map<number, Buffer>();
  readonly #open: Readable[] = [];

  constructor(store: Account, row: MessageRow) {
    this.#store = store;
    this.#row = row;
  }

  /** Bytes [start, end) of the message file. */
  async read(start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    if (this.#row.size <= wholeFileLimit) {
      this.#whole ??= await buffer(await this.#store.openMessage(this.#row.messageId));
      return this.#whole.subarray(start, end);
    }
    return buffer(await this.#store.openMessage(this.#row.messageId, { start, end: end - 1 })); // ByteRange.end is inclusive
  }

  /**
   * A part's header block, at most as much of it as the indexer parsed (mimeLimits.maxHeaderBytes):
   * what its envelope and its HEADER.FIELDS come from.
   */
  async header(part: MimePart): Promise<Buffer> {
    let h = this.#headers.get(part.headerStart);
    if (!h) {
      h = await this.read(part.headerStart, Math.min(part.bodyStart, part.headerStart + mimeLimits.maxHeaderBytes));
      this.#headers.set(part.headerStart, h);
    }
    return h;
  }

  /** A stream of bytes [start, end) (non-empty), opened now; closed by close() unless read to its end. */
  async stream(start: number, end: number): Promise<Readable> {
    const r = await this.#store.openMessage(this.#row.messageId, { start, end: end - 1 });
    this.#open.push(r);
    return r;
  }

  /** Releases streams that were opened but not (fully) read. */
  close(): void {
    for (const r of this.#open) r.destroy();
    this.#open.length = 0;
  }
}
