// BINARY (RFC 3516, RFC 9051 §6.4.5): undoing a part's Content-Transfer-Encoding over a
// stream of its bytes, chunk by chunk, with exactly the result of src/mime decodeTransfer
// on the whole body, so a large attachment is never held in memory.
import { decodeBase64, decodeQuotedPrintable, decodeTransfer } from '../../mime/index.ts';

/** The encodings BINARY can undo (RFC 2045 §6.1); any other is NO [UNKNOWN-CTE] (RFC 3516 §4.3). */
export function knownEncoding(encoding: string | null): boolean {
  const e = encoding?.trim().toLowerCase() ?? '7bit';
  return e === '7bit' || e === '8bit' || e === 'binary' || e === 'base64' || e === 'quoted-printable';
}

const maxCarry = 64 * 1024; // quoted-printable: a line without LF longer than this is cut where it is safe

const B64 = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') B64[c.charCodeAt(0)] = 1;

/**
 * Where base64 input can be cut so both halves decode as the whole would: after a quantum
 * of four alphabet characters or after "=" (decodeBase64 then holds no pending bits).
 */
function base64Cut(b: Buffer): number {
  let cut = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x3d) n = 0;
    else if (B64[c] === 1) n = (n + 1) & 3;
    else continue;
    if (n === 0) cut = i + 1;
  }
  return cut;
}

/**
 * Where quoted-printable input can be cut: after the last LF (decodeQuotedPrintable keeps no
 * state across a line break), or, in a long line, after a byte that is no whitespace, CR or
 * "=" and not the first byte after "=" (no escape, soft break or trailing space is split).
 */
function qpCut(b: Buffer, final: boolean): number {
  if (final) return b.length;
  const lf = b.lastIndexOf(0x0a);
  if (lf >= 0) return lf + 1;
  if (b.length < maxCarry) return 0;
  for (let p = b.length; p >= 2; p--) {
    const c = b[p - 1]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x3d && b[p - 2] !== 0x3d) return p;
  }
  return 0;
}

/** The decoded bytes of an encoded body stream (RFC 2045 §6.7, §6.8); identity encodings pass through. */
export async function* decodeStream(src: AsyncIterable<Buffer>, encoding: string | null): AsyncGenerator<Buffer> {
  const e = encoding?.trim().toLowerCase();
  if (e !== 'base64' && e !== 'quoted-printable') {
    yield* src;
    return;
  }
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of src) {
    const b = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const cut = e === 'base64' ? base64Cut(b) : qpCut(b, false);
    carry = Buffer.from(b.subarray(cut));
    if (cut > 0) {
      const out = e === 'base64' ? decodeBase64(b.subarray(0, cut)) : decodeQuotedPrintable(b.subarray(0, cut));
      if (out.length > 0) yield out;
    }
  }
  if (carry.length > 0) {
    const out = decodeTransfer(carry, e);
    if (out.length > 0) yield out;
  }
}

/** Bytes [start, end) of a stream; stops reading once `end` is reached. */
export async function* slice(src: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  if (end <= start) return;
  for await (const c of src) {
    const a = Math.max(start - pos, 0);
    const b = Math.min(end - pos, c.length);
    pos += c.length;
    if (b > a) yield a === 0 && b === c.length ? c : c.subarray(a, b);
    if (pos >= end) return;
  }
}

/** Length of a stream and whether [start, end) of it holds a NUL (RFC 3516 §4.3: then a literal8 is needed). */
export async function measure(src: AsyncIterable<Buffer>, start = 0, end = Infinity): Promise<{ size: number; nul: boolean }> {
  let size = 0;
  let nul = false;
  for await (const c of src) {
    if (!nul && size + c.length > start && size < end) nul = c.subarray(Math.max(start - size, 0), Math.min(end - size, c.length)).includes(0);
    size += c.length;
  }
  return { size, nul };
}
