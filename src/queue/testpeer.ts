// A scripted SMTP server for the queue's tests: records each transaction's MAIL FROM and
// RCPT TO lines (with their parameters) and the message data, advertises the extensions a
// test asks for, and lets a test answer any command its own way. Test-only.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';

export interface PeerTransaction {
  mail: string; // the MAIL FROM line as sent
  rcpts: string[]; // RCPT TO lines the peer accepted
  data: Buffer; // unstuffed, without the final CRLF.CRLF
  connection: number;
}

export interface ScriptedPeer {
  port: number;
  connections: number;
  commands: string[];
  transactions: PeerTransaction[];
  close(): Promise<void>;
}

export interface PeerOptions {
  extensions?: string[]; // EHLO keywords after the greeting line; default PIPELINING, 8BITMIME, DSN, SMTPUTF8
  /** A reply for a command line (with its CRLF stripped), or undefined for the default. */
  reply?: (line: string, c: { connection: number; rcpts: number; transactions: number }) => string | undefined;
}

export async function scriptedPeer(o: PeerOptions = {}): Promise<ScriptedPeer> {
  const extensions = o.extensions ?? ['PIPELINING', '8BITMIME', 'DSN', 'SMTPUTF8'];
  const peer: ScriptedPeer = { port: 0, connections: 0, commands: [], transactions: [], close: async () => {} };
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const connection = ++peer.connections;
    let transactions = 0;
    let buf = Buffer.alloc(0);
    let inData = false;
    let mail = '';
    let rcpts: string[] = [];
    sock.write('220 peer.test ESMTP scripted\r\n');
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          const atStart = buf.subarray(0, 3).toString() === '.\r\n';
          if (end < 0 && !atStart) return;
          const raw = atStart ? Buffer.alloc(0) : buf.subarray(0, end);
          buf = buf.subarray(atStart ? 3 : end + 5);
          inData = false;
          const data = Buffer.from(raw.toString('latin1').replace(/^\./gm, ''), 'latin1'); // RFC 5321 §4.5.2 unstuffing
          peer.transactions.push({ mail, rcpts, data, connection });
          transactions++;
          sock.write(o.reply?.('.', { connection, rcpts: rcpts.length, transactions }) ?? '250 2.0.0 queued\r\n');
          rcpts = [];
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.subarray(0, i).toString('utf8');
        buf = buf.subarray(i + 2);
        peer.commands.push(line);
        const custom = o.reply?.(line, { connection, rcpts: rcpts.length, transactions });
        const verb = line.slice(0, 4).toUpperCase();
        if (custom !== undefined) {
          if (verb === 'MAIL' && custom.startsWith('2')) mail = line;
          if (verb === 'RCPT' && custom.startsWith('2')) rcpts.push(line);
          if (verb === 'DATA' && custom.startsWith('354')) inData = true;
          sock.write(custom);
          if (custom.startsWith('421')) sock.end();
          continue;
        }
        if (verb === 'EHLO') sock.write(['250-peer.test', ...extensions].map((e, k, a) => (k === a.length - 1 ? `250 ${e}` : k === 0 ? e : `250-${e}`)).join('\r\n') + '\r\n');
        else if (verb === 'HELO') sock.write('250 peer.test\r\n');
        else if (verb === 'MAIL') { mail = line; rcpts = []; sock.write('250 2.1.0 ok\r\n'); }
        else if (verb === 'RCPT') { rcpts.push(line); sock.write('250 2.1.5 ok\r\n'); }
        else if (verb === 'DATA') {
          if (rcpts.length === 0) sock.write('554 5.5.1 no valid recipients\r\n'); // RFC 5321 §3.3
          else { inData = true; sock.write('354 go on\r\n'); }
        } else if (verb === 'RSET') { rcpts = []; sock.write('250 2.0.0 ok\r\n'); }
        else if (verb === 'NOOP') sock.write('250 2.0.0 ok\r\n');
        else if (verb === 'QUIT') { sock.end('221 2.0.0 bye\r\n'); return; }
        else sock.write('502 5.5.1 not implemented\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  peer.port = (server.address() as AddressInfo).port;
  peer.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return peer;
}
