// DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030 §2): the message streams into a spool
// file, then goes to delivery (MX) or submission. The reply comes only after the whole
// message was read, and a 250 only after the store or queue made it durable.
import { DataReader, SmtpError } from '../smtp/index.ts';
import type { Session } from './session.ts';
import { Spool } from './spool.ts';
import { finishMessage } from './finish.ts';

export async function cmdData(s: Session, args: string): Promise<void> {
  if (args.trim() !== '') throw new SmtpError(501, '5.5.4', 'DATA takes no parameters'); // RFC 5321 §4.1.1.4
  const tx = s.tx;
  if (!tx) throw new SmtpError(503, '5.5.1', 'send MAIL first'); // RFC 5321 §4.1.4
  if (tx.bdat) throw new SmtpError(503, '5.5.1', 'DATA after BDAT'); // RFC 3030 §2: no mixing in one transaction
  if (tx.params.body === 'BINARYMIME') throw new SmtpError(503, '5.5.1', 'BODY=BINARYMIME needs BDAT'); // RFC 3030 §3
  if (tx.recipients.length === 0) throw new SmtpError(554, '5.5.1', 'no valid recipients'); // RFC 5321 §3.3 / RFC 2920 §3.1
  s.reply(354, undefined, 'end data with <CR><LF>.<CR><LF>');
  await s.flush();
  const spool = await Spool.create(s.ctx.spoolDir);
  try {
    const reader = new DataReader({ maxSize: s.ctx.limits.maxMessageSize });
    s.receiving(true);
    for (;;) {
      const input = s.input.takeAll();
      if (input.length === 0) {
        if (!(await s.input.more())) { s.closing = true; return; } // connection lost mid-message: nothing was acknowledged
        continue;
      }
      const r = reader.push(input);
      if (r.chunks.length > 0 && !reader.error) await spool.write(r.chunks);
      if (r.consumed < input.length) s.input.unshift(input.subarray(r.consumed)); // pipelined commands after the message
      if (r.done) break;
    }
    s.receiving(false);
    if (reader.error) throw reader.error;
    await spool.finish();
    await finishMessage(s, tx, spool);
  } finally {
    s.tx = undefined; // RFC 5321 §4.1.1.4: the transaction ends with the reply to DATA
    await spool.discard();
  }
}

const bdatArgs = /^(\d{1,18})(?: +(LAST))? *$/i; // RFC 3030 §2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]

export async function cmdBdat(s: Session, args: string): Promise<void> {
  const m = bdatArgs.exec(args);
  if (!m) throw new SmtpError(501, '5.5.4', 'syntax: BDAT <size> [LAST]');
  const size = Number(m[1]);
  const last = m[2] !== undefined;
  const tx = s.tx;
  // RFC 3030 §2/§4: the chunk's bytes follow the command whatever the answer; they are read (and dropped) before refusing, or they would be taken as commands.
  const refuse = !s.esmtp ? new SmtpError(503, '5.5.1', 'send EHLO first')
    : !tx ? new SmtpError(503, '5.5.1', 'send MAIL first')
    : tx.recipients.length === 0 ? new SmtpError(554, '5.5.1', 'no valid recipients')
    : tx.bdat?.failed;
  if (refuse || !tx) {
    await readChunk(s, size, undefined);
    throw refuse ?? new SmtpError(503, '5.5.1', 'send MAIL first');
  }
  tx.bdat ??= { spool: await Spool.create(s.ctx.spoolDir), failed: undefined };
  const bdat = tx.bdat;
  if (bdat.spool.size + size > s.ctx.limits.maxMessageSize) bdat.failed = new SmtpError(552, '5.3.4', `message larger than the maximum of ${s.ctx.limits.maxMessageSize} bytes`); // RFC 1870 §6; RFC 3030 §2
  if (!(await readChunk(s, size, bdat.failed ? undefined : bdat.spool))) return;
  if (bdat.failed) {
    await s.resetTransaction(); // RFC 3030 §2: after an error the client sends no more chunks of this message
    throw bdat.failed;
  }
  if (!last) {
    s.reply(250, '2.0.0', `${size} octets received`);
    return;
  }
  try {
    await bdat.spool.finish();
    await finishMessage(s, tx, bdat.spool);
  } finally {
    await s.resetTransaction();
  }
}

/** Reads exactly `size` bytes into the spool (or drops them); false if the connection ended first. */
async function readChunk(s: Session, size: number, spool: Spool | undefined): Promise<boolean> {
  let left = size;
  s.receiving(true);
  while (left > 0) {
    let input = s.input.takeAll();
    if (input.length === 0) {
      if (!(await s.input.more())) { s.closing = true; return false; }
      continue;
    }
    if (input.length > left) {
      s.input.unshift(input.subarray(left));
      input = input.subarray(0, left);
    }
    left -= input.length;
    if (spool) await spool.write([input]);
  }
  s.receiving(false);
  return true;
}
