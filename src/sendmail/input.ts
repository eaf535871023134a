// Reading the message sendmail is given on standard input, as bytes: to the end of input,
// or (sendmail's traditional rule, off with -i/-oi) to a line holding only ".". Line ends
// become CRLF, as SMTP needs (RFC 5321 §2.3.8).

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/** A line that ends the input without -i: "." alone, with or without a CR before its LF. */
function isDotLine(line: Buffer): boolean {
  return (line.length === 1 && line[0] === DOT) || (line.length === 2 && line[0] === DOT && line[1] === CR);
}

/**
 * Reads the input. With `dotEnds`, a line "." ends it (the line and whatever follows are not
 * part of the message, and the rest of the input is not read).
 */
export async function readMessage(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, o: { dotEnds: boolean }): Promise<Buffer> {
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
      if (o.dotEnds && short !== undefined && isDotLine(short)) return Buffer.concat([...parts, chunk]).subarray(0, lineStart);
      short = Buffer.alloc(0);
      pos = lf + 1;
      lineStart = total + pos;
    }
    parts.push(chunk);
    total += chunk.length;
  }
  const all = Buffer.concat(parts, total);
  if (o.dotEnds && short !== undefined && short.length === 1 && short[0] === DOT) return all.subarray(0, lineStart); // "." as the last, unterminated line
  return all;
}

/** Bare LFs become CRLF; a final line without its line end gets one. Other bytes are kept as they are. */
export function toCrlf(message: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (let lf = message.indexOf(LF); lf >= 0; lf = message.indexOf(LF, lf + 1)) {
    if (lf > 0 && message[lf - 1] === CR) continue;
    out.push(message.subarray(pos, lf), Buffer.from('\r\n'));
    pos = lf + 1;
  }
  out.push(message.subarray(pos));
  if (message.length > 0 && message[message.length - 1] !== LF) out.push(Buffer.from(message[message.length - 1] === CR ? '\n' : '\r\n'));
  return Buffer.concat(out);
}
