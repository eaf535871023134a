// Dot-stuffing for sending a message with DATA (RFC 5321 §4.5.2): a "." is added before
// each line starting with ".", and the message is ended with CRLF.CRLF (after a CRLF
// when the message does not end with one). Streaming; for the SMTP client.
import { Transform } from 'node:stream';

export function dotStuffTransform(): Transform {
  let lineStart = true;
  let lastTwo = Buffer.from('\r\n');
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: Buffer[] = [];
      let from = 0;
      if (lineStart && chunk[0] === 0x2e) out.push(Buffer.from('.'));
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) {
        if (chunk[i + 1] === 0x2e) {
          out.push(chunk.subarray(from, i + 1), Buffer.from('.'));
          from = i + 1;
        }
      }
      out.push(chunk.subarray(from));
      if (chunk.length > 0) {
        lineStart = chunk[chunk.length - 1] === 10;
        lastTwo = Buffer.concat([lastTwo, chunk]).subarray(-2);
      }
      cb(null, Buffer.concat(out));
    },
    flush(cb) {
      cb(null, Buffer.from(lastTwo.equals(Buffer.from('\r\n')) ? '.\r\n' : '\r\n.\r\n'));
    },
  });
}
