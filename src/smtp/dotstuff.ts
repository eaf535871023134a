// Dot-stuffing for sending a message with DATA (RFC 5321 §4.5.2): a "." is added before
// each line starting with ".", bare CR and bare LF are sent as CRLF (RFC 5321 §4.1.1.4,
// §2.3.8: a client sends CR and LF only as CRLF, so no receiver can be fooled by a
// smuggled end sequence), and the message is ended with CRLF.CRLF (after a CRLF when the
// message does not end with one). Streaming; for the SMTP client.
import { Transform } from 'node:stream';

const CRLF = Buffer.from('\r\n');
const DOT = Buffer.from('.');

export function dotStuffTransform(): Transform {
  let lineStart = true; // the next byte starts a line
  let heldCR = false; // the last chunk ended with a CR whose LF may come next
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: Buffer[] = [];
      const n = chunk.length;
      let i = 0;
      let run = 0; // start of the bytes copied unchanged
      if (heldCR && n > 0) {
        out.push(CRLF);
        heldCR = false;
        lineStart = true;
        if (chunk[0] === 10) i = run = 1;
      }
      let cr = -1; // next CR at or after i (n: none)
      let lf = -1; // next LF at or after i (n: none)
      while (i < n) {
        if (lineStart) {
          lineStart = false;
          if (chunk[i] === 0x2e) {
            out.push(chunk.subarray(run, i), DOT); // RFC 5321 §4.5.2
            run = i;
          }
        }
        if (cr < i) cr = next(chunk, 13, i);
        if (lf < i) lf = next(chunk, 10, i);
        if (lf < cr) { // bare LF
          out.push(chunk.subarray(run, lf), CRLF);
          i = run = lf + 1;
        } else if (cr === n) break;
        else if (cr + 1 === n) { // its LF may be in the next chunk
          out.push(chunk.subarray(run, cr));
          heldCR = true;
          i = run = n;
        } else if (lf === cr + 1) i = lf + 1; // CRLF: copied as is
        else { // bare CR
          out.push(chunk.subarray(run, cr), CRLF);
          i = run = cr + 1;
        }
        lineStart = !heldCR;
      }
      if (run < n) out.push(chunk.subarray(run));
      cb(null, Buffer.concat(out));
    },
    flush(cb) {
      cb(null, Buffer.from(heldCR ? '\r\n.\r\n' : lineStart ? '.\r\n' : '\r\n.\r\n'));
    },
  });
}

/** Position of the next byte b at or after from, or the buffer's length when there is none. */
function next(buf: Buffer, b: number, from: number): number {
  const at = buf.indexOf(b, from);
  return at < 0 ? buf.length : at;
}
