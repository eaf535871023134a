// Reading the message sendmail is given on standard input, as bytes: to the end of input,
// or (sendmail's traditional rule, off with -i/-oi) to a line holding only ".", at most
// maxInputBytes. Line ends become CRLF, as SMTP needs (RFC 5321 §2.3.8).
import { EX_DATAERR, SendmailError } from './sysexits.ts';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');

/** The most standard input we read: the default SIZE of our server (limits.maxMessageSize); the server's own SIZE is checked after EHLO (RFC 1870). */
export const maxInputBytes = 100 * 1024 * 1024;

/** A line that ends the input without -i: "." alone, with or without a CR before its LF. */
function isDotLine(line: Buffer): boolean {
  return (line.length === 1 && line[0] === DOT) || (line.length === 2 && line[0] === DOT && line[1] === CR);
}

/**
 * Reads the input. With `dotEnds`, a line "." ends it (the line and whatever follows are not
 * part of the message, and the rest of the input is not read). More than `maxBytes` before
 * the end is a SendmailError (EX_DATAERR), and the rest is not read.
 */
export async function readMessage(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, o: { dotEnds: boolean; maxBytes?: number }): Promise<Buffer> {
  const maxBytes = o.maxBytes ?? maxInputBytes;
  const tooLarge = () => new SendmailError(EX_DATAERR, `the message is larger than ${maxBytes} bytes, the most sendmail reads; nothing was sent`);
  const parts: Buffer[] = [];
  let total = 0; // bytes in parts
  let lineStart = 0; // offset of the current line in the whole input
  let short: Buffer | undefined = Buffer.alloc(0); // the current line's bytes while it has at most 2, undefined once longer
  for await (const c of input) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    for (let pos = 0; pos <= chunk.length; ) {
      const lf = chunk.indexOf(LF, pos);
      const end = lf < 0 ? chunk.length : lf;
      if (short !== undefined) short = short.length + end - pos <= 2 ? Buffer.concat([short, chunk.subarray(pos, end)]) : undefined;
      if (lf < 0) break;
      if (o.dotEnds && short !== undefined && isDotLine(short)) {
        if (lineStart > maxBytes) throw tooLarge();
        return Buffer.concat([...parts, chunk]).subarray(0, lineStart);
      }
      short = Buffer.alloc(0);
      pos = lf + 1;
      lineStart = total + pos;
    }
    parts.push(chunk);
    total += chunk.length;
    if (total > maxBytes) throw tooLarge();
  }
  const all = Buffer.concat(parts, total);
  if (o.dotEnds && short !== undefined && short.length === 1 && short[0] === DOT) return all.subarray(0, lineStart); // "." as the last, unterminated line
  return all;
}

/**
 * Every line end becomes CRLF: a bare LF, and a bare CR too, as the DATA writer sends them
 * (src/smtp dotStuffTransform), so the bytes are the same with BDAT, which sends them as they
 * are (RFC 5321 §2.3.8: CR and LF only as CRLF). A final line without its line end gets one.
 */
export function toCrlf(message: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0; // start of the bytes not yet copied
  for (let i = 0; i < message.length; i++) {
    const c = message[i];
    if (c !== CR && c !== LF) continue;
    if (c === CR && message[i + 1] === LF) {
      i++; // CRLF: copied as is
      continue;
    }
    out.push(message.subarray(pos, i), CRLF);
    pos = i + 1;
  }
  out.push(message.subarray(pos));
  const last = message[message.length - 1];
  if (message.length > 0 && last !== LF && last !== CR) out.push(CRLF);
  return Buffer.concat(out);
}
