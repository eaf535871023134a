// The incremental, line-oriented MIME indexer: bytes in (any chunking), part tree with
// absolute byte offsets out. Only header blocks are buffered (bounded); bodies are
// scanned line by line for boundaries and line counts. Never throws on malformed input.
import { createReadStream } from 'node:fs';
import { decodeEncodedWords, fieldColon, headerValue, parseHeader } from './header.ts';
import { parseStructuredValue } from './params.ts';
import type { MessageIndex, MimeDefect, MimePart } from './types.ts';

export const mimeLimits = {
  maxHeaderBytes: 1 << 20, // a header block beyond this is cut and the part marked
  maxDepth: 100, // deeper multiparts and messages are indexed as leaves
  maxParts: 10_000, // parts beyond this stay in their parent's body
  lineHead: 1024, // bytes of each body line kept for boundary matching (RFC 2046 §5.1.1 allows 70)
};

/** A part still being read: its node plus the scanning state. */
interface OpenPart {
  node: MimePart;
  depth: number;
  inHeader: boolean;
  header: Buffer[]; // header block bytes so far (bounded by maxHeaderBytes)
  headerBytes: number;
  bodyLF: number; // LF count of the input before bodyStart
  delimiter: Buffer | null; // multipart: "--" + boundary (RFC 2046 §5.1.1)
  closed: boolean; // multipart: close delimiter seen, the rest is epilogue
  digest: boolean; // multipart/digest: children default to message/rfc822 (RFC 2046 §5.1.5)
}

function newPart(headerStart: number): MimePart {
  return {
    headerStart, bodyStart: headerStart, end: headerStart, type: 'text', subtype: 'plain', params: [],
    id: null, description: null, descriptionText: null, encoding: null, md5: null, disposition: null,
    language: null, location: null, size: 0, lines: 0, children: [], defects: [],
  };
}

function addDefect(node: MimePart, d: MimeDefect): void {
  if (!node.defects.includes(d)) node.defects.push(d);
}

function isSpaceOnly(b: Buffer, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0x20 && b[i] !== 0x09) return false;
  return true;
}

export class MimeIndexer {
  #stack: OpenPart[] = [];
  #root: MimePart;
  #parts = 1;
  #pos = 0; // bytes consumed
  #lf = 0; // LF bytes consumed (complete lines)
  #lastByte = -1;
  // The line being read.
  #lineStart = 0;
  #head: Buffer[] = [];
  #headLen = 0;
  #lineCap = 0;
  #crBeforeLF = false;
  // The previous complete line: the CRLF before a boundary belongs to the boundary.
  #prevStart = -1;
  #prevEol = 0;
  #ended = false;

  constructor() {
    this.#root = newPart(0);
    this.#stack.push(this.#open(this.#root, 0, false));
    this.#lineCap = this.#capFor();
  }

  #open(node: MimePart, depth: number, digestChild: boolean): OpenPart {
    if (digestChild) {
      node.type = 'message';
      node.subtype = 'rfc822';
    }
    return { node, depth, inHeader: true, header: [], headerBytes: 0, bodyLF: 0, delimiter: null, closed: false, digest: false };
  }

  #top(): OpenPart {
    return this.#stack[this.#stack.length - 1]!;
  }

  /** Bytes of the current line to keep: the whole header line (bounded), or a body line's head. */
  #capFor(): number {
    const top = this.#top();
    if (top.inHeader) return Math.max(mimeLimits.lineHead, mimeLimits.maxHeaderBytes - top.headerBytes);
    return mimeLimits.lineHead;
  }

  write(chunk: Buffer): void {
    if (this.#ended) throw new Error('MimeIndexer: write after end');
    let i = 0;
    while (i < chunk.length) {
      const lf = chunk.indexOf(10, i);
      const segEnd = lf < 0 ? chunk.length : lf + 1;
      this.#keep(chunk, i, segEnd);
      if (lf < 0) {
        this.#pos += segEnd - i;
        break;
      }
      this.#crBeforeLF = lf > i ? chunk[lf - 1] === 0x0d : this.#crBeforeLF;
      this.#pos += segEnd - i;
      this.#lastByte = 10;
      this.#line(true);
      i = segEnd;
    }
    if (chunk.length > 0 && chunk[chunk.length - 1] !== 10) {
      this.#lastByte = chunk[chunk.length - 1]!;
      this.#crBeforeLF = this.#lastByte === 0x0d;
    }
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    const room = this.#lineCap - this.#headLen;
    if (room <= 0) return;
    const seg = chunk.subarray(from, Math.min(to, from + room));
    this.#head.push(Buffer.from(seg)); // copied: the caller may reuse its chunk
    this.#headLen += seg.length;
  }

  /** Processes the line ending at #pos. */
  #line(terminated: boolean): void {
    const start = this.#lineStart;
    const length = this.#pos - start;
    const eol = terminated ? (this.#crBeforeLF ? 2 : 1) : 0;
    const bytes = this.#head.length === 1 ? this.#head[0]! : Buffer.concat(this.#head, this.#headLen);
    const truncated = this.#headLen < length;
    const contentLen = length - eol;
    const content = truncated ? bytes : bytes.subarray(0, contentLen);
    this.#dispatch(start, length, eol, bytes, content, truncated);
    if (terminated) this.#lf++;
    this.#prevStart = start;
    this.#prevEol = eol;
    this.#lineStart = this.#pos;
    this.#head = [];
    this.#headLen = 0;
    this.#crBeforeLF = false;
    this.#lineCap = this.#capFor();
  }

  #dispatch(start: number, length: number, eol: number, bytes: Buffer, content: Buffer, truncated: boolean): void {
    // Boundaries first, in every state: an enclosing boundary ends headers and bodies alike.
    if (content[0] === 0x2d && content[1] === 0x2d && !truncated) {
      for (let k = this.#stack.length - 1; k >= 0; k--) {
        const p = this.#stack[k]!;
        if (!p.delimiter || p.inHeader) continue;
        const d = p.delimiter;
        if (content.length < d.length || content.compare(d, 0, d.length, 0, d.length) !== 0) continue;
        let rest = d.length;
        const close = content[rest] === 0x2d && content[rest + 1] === 0x2d; // RFC 2046 §5.1.1 close-delimiter
        if (close) rest += 2;
        if (!isSpaceOnly(content, rest)) continue; // RFC 2046 §5.1.1: only transport padding may follow
        this.#boundary(k, close, start, length);
        return;
      }
    }
    // A line may be handed to a new innermost part (header ended without an empty line).
    for (let guard = 0; guard <= mimeLimits.maxDepth + 1; guard++) {
      const top = this.#top();
      if (!top.inHeader) return; // body line: counted by #lf, nothing else to do
      if (content.length === 0 && !truncated) {
        this.#endHeader(top, start + length, this.#lf + (eol > 0 ? 1 : 0)); // RFC 5322 §2.1: empty line
        return;
      }
      const first = content[0]!;
      const isField = first === 0x20 || first === 0x09 || fieldColon(content.subarray(0, Math.min(content.length, 1000))) > 0;
      if (isField) {
        this.#appendHeader(top, bytes);
        return;
      }
      // Not a header line: the header ended without its empty line; this line is body.
      addDefect(top.node, 'missing-header-separator');
      this.#endHeader(top, start, this.#lf);
    }
  }

  #appendHeader(p: OpenPart, bytes: Buffer): void {
    const room = mimeLimits.maxHeaderBytes - p.headerBytes;
    if (bytes.length > room) addDefect(p.node, 'header-truncated');
    if (room <= 0) return;
    const b = bytes.length > room ? bytes.subarray(0, room) : bytes;
    p.header.push(b);
    p.headerBytes += b.length;
  }

  /** The header of p ends; its body starts at bodyStart. Decides what the body holds. */
  #endHeader(p: OpenPart, bodyStart: number, bodyLF: number): void {
    p.inHeader = false;
    p.node.bodyStart = bodyStart;
    p.bodyLF = bodyLF;
    const parent = this.#stack.length > 1 ? this.#stack[this.#stack.length - 2]! : null;
    applyHeader(p.node, Buffer.concat(p.header, p.headerBytes), parent?.digest ?? false);
    p.header = [];
    const n = p.node;
    if (n.type === 'multipart') {
      const boundary = n.params.find((x) => x.name === 'boundary')?.value ?? '';
      if (boundary === '' || boundary.length + 4 > mimeLimits.lineHead) addDefect(n, 'missing-boundary-param');
      else if (p.depth >= mimeLimits.maxDepth) addDefect(n, 'too-deep');
      else {
        p.delimiter = Buffer.from('--' + boundary, 'utf8');
        p.digest = n.subtype === 'digest';
      }
    } else if (n.type === 'message' && (n.subtype === 'rfc822' || n.subtype === 'global')) {
      // RFC 2046 §5.2.1: only identity encodings; an encoded message (seen with global) is a leaf.
      const identity = n.encoding === null || n.encoding === '7bit' || n.encoding === '8bit' || n.encoding === 'binary';
      if (!identity) return;
      if (p.depth >= mimeLimits.maxDepth) return addDefect(n, 'too-deep');
      if (this.#parts >= mimeLimits.maxParts) return addDefect(n, 'too-many-parts');
      const child = newPart(bodyStart);
      n.children.push(child);
      this.#parts++;
      const cp = this.#open(child, p.depth + 1, false);
      cp.bodyLF = bodyLF;
      this.#stack.push(cp);
    }
  }

  /** A delimiter line of the multipart at stack index k. */
  #boundary(k: number, close: boolean, start: number, length: number): void {
    const mp = this.#stack[k]!;
    // RFC 2046 §5.1.1: the line break before the delimiter belongs to it.
    const end = this.#prevStart >= 0 ? start - this.#prevEol : start;
    const lfAtEnd = this.#lf - (this.#prevEol > 0 ? 1 : 0);
    const lastIsLF = end === this.#prevStart; // previous line empty: the body ends just after an LF
    while (this.#stack.length - 1 > k) {
      const q = this.#top();
      if (q.inHeader) this.#finishHeaderAt(q, end); // the CRLF belongs to the delimiter
      else this.#close(this.#stack.pop()!, end, lfAtEnd, lastIsLF);
    }
    if (close) {
      mp.closed = true;
      return;
    }
    if (mp.closed) return; // RFC 2046 §5.1.1: after the close delimiter everything is epilogue
    if (this.#parts >= mimeLimits.maxParts) return addDefect(mp.node, 'too-many-parts');
    const child = newPart(start + length);
    mp.node.children.push(child);
    this.#parts++;
    this.#stack.push(this.#open(child, mp.depth + 1, mp.digest));
  }

  /** The innermost part q, whose header never ended: the header runs to `at`, the body is empty. Pops q. */
  #finishHeaderAt(q: OpenPart, at: number): void {
    if (q.headerBytes > 0 || q.node === this.#root) addDefect(q.node, 'header-unterminated');
    this.#endHeader(q, at, this.#lf);
    // #endHeader may have opened an encapsulated message; it is empty too.
    while (this.#top() !== q) {
      const c = this.#stack.pop()!;
      if (c.inHeader) {
        c.inHeader = false;
        applyHeader(c.node, Buffer.alloc(0), false);
        c.node.bodyStart = at;
      }
      this.#close(c, at, this.#lf, false);
    }
    this.#close(this.#stack.pop()!, at, this.#lf, false);
  }

  #close(q: OpenPart, end: number, lfAtEnd: number, lastIsLF: boolean): void {
    const n = q.node;
    if (end < n.headerStart) return collapse(n, end); // "--b CRLF --b": an empty part squeezed between delimiters
    // RFC 2046 §5.1.1: in "H: v CRLF CRLF --b" the second CRLF is the delimiter's, so the
    // part has no body and its header block ends before it.
    n.bodyStart = Math.max(n.headerStart, Math.min(n.bodyStart, end));
    n.end = Math.max(end, n.bodyStart);
    end = n.end;
    const inner = n.children[0];
    if (n.type === 'message' && inner && inner.headerStart > n.bodyStart) collapse(inner, n.bodyStart); // the body was given back to the delimiter
    n.size = end - n.bodyStart;
    n.lines = n.size === 0 ? 0 : Math.max(0, lfAtEnd - q.bodyLF) + (lastIsLF ? 0 : 1);
    if (q.delimiter) {
      if (n.children.length === 0) addDefect(n, 'no-parts');
      else if (!q.closed) addDefect(n, 'missing-close-boundary');
    }
  }

  /** Finishes the input and returns the index. */
  end(): MessageIndex {
    if (this.#ended) throw new Error('MimeIndexer: end called twice');
    if (this.#pos > this.#lineStart) this.#line(false);
    this.#ended = true;
    const size = this.#pos;
    const lastIsLF = this.#lastByte === 10;
    while (this.#stack.length > 0) {
      const q = this.#top();
      if (q.inHeader) this.#finishHeaderAt(q, size);
      else this.#close(this.#stack.pop()!, size, this.#lf, lastIsLF);
    }
    return { version: 1, size, root: this.#root, parts: this.#parts };
  }
}

/** Moves an empty subtree to offset `at`: it lay only in bytes that turned out to be a delimiter's CRLF. */
function collapse(p: MimePart, at: number): void {
  p.headerStart = p.bodyStart = p.end = at;
  p.size = p.lines = 0;
  for (const c of p.children) collapse(c, at);
}

/** Fills a node's MIME fields from its header block (RFC 2045, RFC 2183). */
function applyHeader(n: MimePart, header: Buffer, digestChild: boolean): void {
  const fields = parseHeader(header);
  const ct = headerValue(fields, 'content-type');
  if (ct !== null) {
    const v = parseStructuredValue(ct);
    const m = /^([!#$%&'*+\-.^_`|~0-9a-z]+)\/([!#$%&'*+\-.^_`|~0-9a-z]+)$/.exec(v.value); // RFC 2045 §5.1 tokens
    if (m) {
      n.type = m[1]!;
      n.subtype = m[2]!;
      n.params = v.params;
    } else {
      addDefect(n, 'bad-content-type'); // RFC 2045 §5.2: default to text/plain; charset=us-ascii
      n.type = 'text';
      n.subtype = 'plain';
    }
  } else if (digestChild) {
    n.type = 'message'; // RFC 2046 §5.1.5
    n.subtype = 'rfc822';
  }
  if (n.type === 'text' && !n.params.some((p) => p.name === 'charset') && ct === null) n.params = [{ name: 'charset', value: 'us-ascii' }]; // RFC 2045 §5.2
  n.id = headerValue(fields, 'content-id');
  n.description = headerValue(fields, 'content-description');
  n.descriptionText = n.description === null ? null : decodeEncodedWords(n.description);
  const cte = headerValue(fields, 'content-transfer-encoding');
  n.encoding = cte === null ? null : parseStructuredValue(cte).value || null;
  n.md5 = headerValue(fields, 'content-md5');
  const cd = headerValue(fields, 'content-disposition');
  if (cd !== null) {
    const v = parseStructuredValue(cd);
    if (v.value !== '') n.disposition = { type: v.value, params: v.params };
  }
  const lang = headerValue(fields, 'content-language');
  if (lang !== null) {
    const tags = lang.replace(/\([^)]*\)/g, ' ').split(/[\s,]+/).filter((t) => t !== ''); // RFC 3282 §2
    if (tags.length > 0) n.language = tags;
  }
  n.location = headerValue(fields, 'content-location');
}

/** Indexes a whole message held in memory. */
export function parseMessage(buf: Buffer): MessageIndex {
  const ix = new MimeIndexer();
  ix.write(buf);
  return ix.end();
}

/** Indexes a message file by streaming it in 64 KiB chunks; only header blocks are buffered. */
export async function indexMessageFile(path: string): Promise<MessageIndex> {
  const ix = new MimeIndexer();
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) ix.write(chunk as Buffer);
  return ix.end();
}
