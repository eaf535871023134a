// Body and header byte decoding: Content-Transfer-Encoding (RFC 2045 §6) tolerant of the
// damage found in real mail, and charsets to text (iconv-lite through libmime, which adds
// the Japanese ISO-2022-JP/Shift_JIS/EUC-JP decoders iconv-lite lacks).
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { createDecodeStream, decode, normalizeCharset } from 'libmime/lib/charset.js';

const B64 = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) B64[c.charCodeAt(0)] = i;
// RFC 4648 §5 URL-safe alphabet too: some mailers emit it, and it has no other meaning here.
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;

/** Base64 to bytes, skipping characters outside the alphabet (RFC 2045 §6.8: "must be ignored"). */
export function decodeBase64(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.floor((src.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (const c of src) {
    if (c === 0x3d) {
      // RFC 2045 §6.8: "=" pads the end of a quantum; a new quantum may follow (concatenated
      // base64 from broken mailers), so only the partial bits are dropped.
      acc = 0;
      bits = 0;
      continue;
    }
    const v = B64[c] ?? -1;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57; // RFC 2045 §6.7 (1): lowercase accepted by a robust decoder
  return -1;
}

/** Quoted-printable to bytes (RFC 2045 §6.7); a malformed `=` is kept literally (§6.7 note 2). */
export function decodeQuotedPrintable(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  let lineStart = 0; // in out: where trailing-whitespace trimming must stop
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x3d) {
      const h = hexValue(src[i + 1] ?? -1);
      const l = hexValue(src[i + 2] ?? -1);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l; // RFC 2045 §6.7 (1)
        i += 2;
        lineStart = n;
        continue;
      }
      let j = i + 1;
      while (src[j] === 0x20 || src[j] === 0x09) j++; // transport padding before a soft break
      if (src[j] === 0x0d && src[j + 1] === 0x0a) j++;
      if (src[j] === 0x0a || j >= src.length) {
        i = j; // RFC 2045 §6.7 (5): soft line break
        lineStart = n;
        continue;
      }
      out[n++] = c;
      continue;
    }
    if (c === 0x0a || c === 0x0d) {
      // RFC 2045 §6.7 (3): trailing whitespace on an encoded line was added in transport.
      while (n > lineStart && (out[n - 1] === 0x20 || out[n - 1] === 0x09)) n--;
      out[n++] = c;
      lineStart = n;
      continue;
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/**
 * Undoes a Content-Transfer-Encoding. 7bit, 8bit, binary, absent and unrecognised values
 * return the same bytes (RFC 2045 §6.4: an unknown encoding cannot be undone, and IMAP
 * serves such bodies as they are).
 */
export function decodeTransfer(body: Buffer, encoding: string | null): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'base64':
      return decodeBase64(body); // RFC 2045 §6.8
    case 'quoted-printable':
      return decodeQuotedPrintable(body); // RFC 2045 §6.7
    default:
      return body;
  }
}

const supportedCache = new Map<string, boolean>();

/** Whether a charset label names a charset we decode (unknown ones and UTF-7 do not). */
export function isKnownCharset(charset: string): boolean {
  const key = charset.trim().toLowerCase();
  let known = supportedCache.get(key);
  if (known === undefined) {
    known = key !== '' && key.length < 64 && createDecodeStream(key).supported;
    if (supportedCache.size < 1000) supportedCache.set(key, known);
  }
  return known;
}

/** Raw bytes to text: UTF-8 when valid (RFC 6532 §3.2), else windows-1252 (8-bit garbage). */
export function decodeUtf8OrLegacy(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  return iconv.decode(bytes, 'windows-1252');
}

/**
 * Decodes bytes in a declared charset to a string. An unknown charset, or none, decodes
 * as UTF-8 when the bytes are valid UTF-8 and as windows-1252 otherwise: that is what
 * mislabelled 8-bit mail nearly always is. Never throws.
 */
export function decodeCharset(bytes: Buffer, charset: string | null): string {
  const cs = charset?.trim().toLowerCase() ?? '';
  if (cs === '' || cs === 'us-ascii' || cs === 'ascii' || cs === 'utf-8' || cs === 'utf8' || !isKnownCharset(cs)) {
    return decodeUtf8OrLegacy(bytes);
  }
  // Mailers label windows-1252 text as ISO-8859-1; the C1 controls it differs in never occur in text.
  if (cs === 'iso-8859-1' || cs === 'latin1' || cs === 'us-ascii') return iconv.decode(bytes, 'windows-1252');
  return decode(bytes, normalizeCharset(cs));
}
