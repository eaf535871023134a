// Reading what a search needs of a message's content, through the stored MIME index: the
// header block (bounded), and the decoded text of the parts (transfer encoding, then
// charset; never the raw base64) scanned part by part for the BODY and TEXT strings, so
// memory is bounded by one part, not by the message or the mailbox.
import { buffer } from 'node:stream/consumers';
import { decodePartText, htmlToText, mimeLimits, parseHeader, type MessageIndex, type MimePart } from '../../mime/index.ts';
import type { Account } from '../../store/index.ts';
import type { ContentNeeds } from './keys.ts';
import { HeaderFacts, headerText, type TextFacts } from './match.ts';

/** Bytes [start, end) of one message. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

/** Octets of one part's body that are decoded and searched: a huge text part is searched in its first 10 MiB. */
export const maxTextPart = 10 * 1024 * 1024;

/**
 * Small ranges (header blocks, short text parts) of messages, shared by all sessions: message
 * content never changes, so a repeated SEARCH reads no files. Bounded by bytes, least
 * recently used first out.
 */
class RangeCache {
  readonly #max: number;
  #bytes = 0;
  readonly #entries = new Map<string, Buffer>();

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  get(key: string): Buffer | undefined {
    const b = this.#entries.get(key);
    if (b) {
      this.#entries.delete(key); // re-insert: most recently used last
      this.#entries.set(key, b);
    }
    return b;
  }

  set(key: string, b: Buffer): void {
    if (b.length > this.#max / 64) return;
    this.#entries.set(key, b);
    this.#bytes += b.length;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.#max) break;
      this.#entries.delete(k);
      this.#bytes -= v.length;
    }
  }
}

const rangeCache = new RangeCache(32 * 1024 * 1024);
const cachedRange = 64 * 1024; // ranges up to this size are cached

export function storeReader(store: Account, messageId: string): ReadRange {
  return async (start, end) => {
    if (end <= start) return Buffer.alloc(0);
    const small = end - start <= cachedRange;
    const key = `${store.name}\0${messageId}\0${start}\0${end}`;
    const hit = small ? rangeCache.get(key) : undefined;
    if (hit) return hit;
    const b = await buffer(await store.openMessage(messageId, { start, end: end - 1 }));
    if (small) rangeCache.set(key, b);
    return b;
  };
}

async function readHeaderBlock(read: ReadRange, p: MimePart): Promise<Buffer> {
  return read(p.headerStart, Math.min(p.bodyStart, p.headerStart + mimeLimits.maxHeaderBytes));
}

/** The message's own header block (headerStart..bodyStart of the root). */
export async function readHeader(read: ReadRange, index: MessageIndex): Promise<HeaderFacts> {
  return new HeaderFacts(parseHeader(await readHeaderBlock(read, index.root)));
}

/**
 * Which of the BODY and TEXT strings (lowercased) the message contains. BODY looks in the
 * decoded text of text/* parts and in the headers of nested messages (they are body text
 * of the outer message); TEXT also in the message's header and every MIME part header
 * (RFC 9051 §6.4.4: "in the header (including MIME header fields) or body"). HTML is
 * searched as written and as the text it shows, so an entity (&uuml;) or a tag between
 * words does not hide a string. Stops reading once every string was found.
 */
export async function scanText(read: ReadRange, index: MessageIndex, needs: ContentNeeds, header: HeaderFacts | undefined): Promise<TextFacts> {
  const body = new Set<string>();
  const text = new Set<string>();
  const done = (): boolean => body.size === needs.body.length && text.size === needs.text.length;
  const look = (hay: string, isBody: boolean): void => {
    for (const n of needs.text) if (!text.has(n) && hay.includes(n)) text.add(n);
    if (isBody) for (const n of needs.body) if (!body.has(n) && hay.includes(n)) body.add(n);
  };
  if (needs.text.length > 0) look(header ? header.text : headerText(parseHeader(await readHeaderBlock(read, index.root))), false);
  const walk = async (p: MimePart, inMessage: boolean): Promise<void> => {
    if (done()) return;
    if (p !== index.root && (needs.text.length > 0 || (inMessage && needs.body.length > 0))) {
      look(headerText(parseHeader(await readHeaderBlock(read, p))), inMessage);
    }
    if (p.children.length > 0) {
      for (const c of p.children) await walk(c, p.type === 'message');
      return;
    }
    if (p.type !== 'text' || done()) return; // images, attachments, defective multiparts: no text to search
    const decoded = decodePartText(await read(p.bodyStart, Math.min(p.end, p.bodyStart + maxTextPart)), p);
    look(decoded.toLowerCase(), true);
    if (p.subtype === 'html' && !done()) look(htmlToText(decoded).toLowerCase(), true);
  };
  await walk(index.root, false);
  return { body, text };
}
