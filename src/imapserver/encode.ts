// Writing IMAP data (RFC 9051 §4): strings as quoted or literal, NIL, flag lists and
// mailbox names. Bytes stay bytes: a string with CR, LF, NUL or (without UTF-8 support
// on the connection) 8-bit bytes goes out as a literal.
import { encodeMutf7 } from './mutf7.ts';

const maxQuoted = 1000; // long values as literals keep lines short

/** RFC 9051 §4.3: a quoted string when its bytes allow, else a literal (`{n}` CRLF bytes). */
export function str(value: Buffer | string, utf8: boolean): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let quotable = b.length <= maxQuoted;
  let escapes = 0;
  for (let i = 0; quotable && i < b.length; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x0d || c === 0x0a || (c >= 0x80 && !utf8)) quotable = false;
    else if (c === 0x22 || c === 0x5c) escapes++;
  }
  if (!quotable) return Buffer.concat([Buffer.from(`{${b.length}}\r\n`, 'latin1'), b]);
  if (escapes === 0) return Buffer.concat([quoteByte, b, quoteByte]);
  const out = Buffer.alloc(b.length + escapes + 2);
  let o = 0;
  out[o++] = 0x22;
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) out[o++] = 0x5c;
    out[o++] = c;
  }
  out[o++] = 0x22;
  return out;
}
const quoteByte = Buffer.from('"');
const nilBytes = Buffer.from('NIL');

/** RFC 9051 §4.5 nstring. */
export function nstr(value: Buffer | string | null | undefined, utf8: boolean): Buffer {
  return value === null || value === undefined ? nilBytes : str(value, utf8);
}

/** A mailbox name for a response: UTF-8 for IMAP4rev2 or UTF8=ACCEPT sessions, modified UTF-7 for IMAP4rev1 ones (RFC 9051 §5.1, RFC 3501 §5.1.3). */
export function mailboxName(name: string, utf8: boolean): Buffer {
  return str(utf8 ? name : encodeMutf7(name), utf8);
}

/** RFC 9051 §9 flag-list. */
export function flagList(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/** Joins response pieces; strings are ASCII protocol text. */
export function concat(parts: readonly (Buffer | string)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}
