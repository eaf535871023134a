// Header block reading (RFC 5322 §2.2): fields with raw value bytes and offsets, unfolding,
// and RFC 2047 encoded-word decoding for display (RFC 6532 raw UTF-8 and 8-bit fallback).
import { decodeBase64, decodeCharset, decodeUtf8OrLegacy, isKnownCharset } from './decode.ts';

/** One header field as found in the bytes. */
export interface HeaderField {
  name: string; // field name as written (case kept)
  key: string; // lowercased name, for lookups
  value: Buffer; // raw value: the bytes after the colon up to (not including) the final line break; folding NOT removed
  start: number; // offset of the field's first byte in the parsed buffer
  end: number; // offset after the field's final line break (exclusive)
}

function isFieldNameByte(c: number | undefined): boolean {
  return c !== undefined && c >= 33 && c <= 126 && c !== 0x3a; // RFC 5322 §3.6.8: printable US-ASCII except ":"
}

/**
 * Where the field name of a header line ends (the colon's index), or -1 when the line is
 * not a field. Whitespace before the colon is the obsolete form (RFC 5322 §4.5).
 */
export function fieldColon(line: Buffer): number {
  let i = 0;
  while (isFieldNameByte(line[i])) i++;
  if (i === 0) return -1;
  while (line[i] === 0x20 || line[i] === 0x09) i++; // RFC 5322 §4.5: WSP before ":"
  return line[i] === 0x3a ? i : -1;
}

/**
 * Splits a header block into fields. Stops at the first empty line (RFC 5322 §2.1), which
 * may be CRLF or a bare LF. Lines that are neither fields nor continuations are skipped
 * (best effort on damaged headers); a continuation before any field is dropped. Never throws.
 */
export function parseHeader(buf: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  let cur: { name: string; start: number; valueStart: number; valueEnd: number; end: number } | null = null;
  const flush = (): void => {
    if (cur) fields.push({ name: cur.name, key: cur.name.toLowerCase(), value: buf.subarray(cur.valueStart, cur.valueEnd), start: cur.start, end: cur.end });
    cur = null;
  };
  let pos = 0;
  while (pos < buf.length) {
    const lf = buf.indexOf(10, pos);
    const lineEnd = lf < 0 ? buf.length : lf + 1;
    let contentEnd = lf < 0 ? buf.length : lf;
    if (contentEnd > pos && buf[contentEnd - 1] === 0x0d) contentEnd--;
    if (contentEnd === pos) break; // RFC 5322 §2.1: the empty line ends the header
    const first = buf[pos];
    if (first === 0x20 || first === 0x09) {
      if (cur) {
        cur.valueEnd = contentEnd; // RFC 5322 §2.2.3: folded continuation
        cur.end = lineEnd;
      }
    } else {
      flush();
      const colon = fieldColon(buf.subarray(pos, contentEnd));
      if (colon > 0) {
        let nameEnd = pos;
        while (isFieldNameByte(buf[nameEnd])) nameEnd++;
        cur = { name: buf.toString('latin1', pos, nameEnd), start: pos, valueStart: pos + colon + 1, valueEnd: contentEnd, end: lineEnd };
      }
    }
    pos = lineEnd;
  }
  flush();
  return fields;
}

/**
 * Offset just after the empty line that ends the header block (RFC 5322 §2.1), found as
 * parseHeader finds it: the first line that is empty once a CR before its LF is dropped
 * (CRLF or bare LF). -1 when the buffer holds no such line yet.
 */
export function headerEnd(buf: Buffer): number {
  for (let pos = 0; pos < buf.length; ) {
    const lf = buf.indexOf(10, pos);
    if (lf < 0) return -1;
    if (lf === pos || (lf === pos + 1 && buf[pos] === 13)) return lf + 1;
    pos = lf + 1;
  }
  return -1;
}

/**
 * Unfolds a raw value (RFC 5322 §2.2.3: CRLF followed by WSP is removed) and trims it.
 * Bytes become text as UTF-8 when valid (RFC 6532), else windows-1252. Encoded words stay.
 */
export function unfold(value: Buffer): string {
  return decodeUtf8OrLegacy(value)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/[\r\n]+/g, ' ') // a stray bare line break inside a value (damaged input)
    .trim();
}

/** The unfolded raw value of the first field with this name, or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  const key = name.toLowerCase();
  const f = fields.find((x) => x.key === key);
  return f ? unfold(f.value) : null;
}

/** The unfolded raw values of all fields with this name, in header order. */
export function headerValues(fields: readonly HeaderField[], name: string): string[] {
  const key = name.toLowerCase();
  return fields.filter((x) => x.key === key).map((x) => unfold(x.value));
}

// RFC 2047 §2: =?charset?encoding?encoded-text?= ; the charset may carry *language (RFC 2231 §5).
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=/g;

function decodeQ(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out.push(0x20); // RFC 2047 §4.2 (2): "_" is a space
    else if (c === 0x3d && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16)); // RFC 2047 §4.2 (1)
      i += 2;
    } else out.push(c & 0xff);
  }
  return Buffer.from(out);
}

interface EncodedWord {
  start: number;
  end: number;
  charset: string;
  bytes: Buffer;
}

/**
 * Decodes RFC 2047 encoded words (B and Q, any charset libmime/iconv-lite knows) in a
 * header value for display. A Buffer is unfolded first. Whitespace between adjacent
 * encoded words is dropped (RFC 2047 §6.2), and adjacent words in one charset are decoded
 * together so a multibyte character split across words survives. Malformed words and
 * words in unknown charsets are left as they are. Never throws.
 */
export function decodeEncodedWords(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : unfold(raw);
  if (!text.includes('=?')) return text;
  const words: EncodedWord[] = [];
  for (const m of text.matchAll(ENCODED_WORD)) {
    const charset = m[1]!;
    if (!isKnownCharset(charset)) continue; // left as is
    const data = m[3]!;
    const bytes = m[2]!.toUpperCase() === 'B' ? decodeBase64(Buffer.from(data, 'latin1')) : decodeQ(data);
    words.push({ start: m.index, end: m.index + m[0].length, charset: charset.toLowerCase(), bytes });
  }
  if (words.length === 0) return text;
  const onlySpace = (from: number, to: number): boolean => /^[ \t\r\n]*$/.test(text.slice(from, to));
  let out = '';
  let pos = 0;
  for (let i = 0; i < words.length; ) {
    const w = words[i]!;
    out += text.slice(pos, w.start);
    const run: Buffer[] = [w.bytes];
    let end = w.end;
    let j = i + 1;
    while (j < words.length && words[j]!.charset === w.charset && onlySpace(end, words[j]!.start)) {
      run.push(words[j]!.bytes);
      end = words[j]!.end;
      j++;
    }
    out += decodeCharset(Buffer.concat(run), w.charset);
    pos = end;
    if (j < words.length && onlySpace(pos, words[j]!.start)) pos = words[j]!.start; // RFC 2047 §6.2
    i = j;
  }
  return out + text.slice(pos);
}
