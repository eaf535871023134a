// One DNS exchange with one server: UDP with response validation against spoofing
// (id, question, source address), or TCP with 2-byte length framing (RFC 1035 §4.2.2).
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';

export interface Server {
  host: string;
  port: number;
}

/** 'ip', 'ip:port', '[ipv6]:port' or a bare IPv6 address; port defaults to 53. */
export function parseServer(s: string): Server {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket?.[1]) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : 53 };
  if (isIPv6(s)) return { host: s, port: 53 };
  const m = /^([^:]+):(\d+)$/.exec(s);
  const server = m?.[1] && m[2] ? { host: m[1], port: Number(m[2]) } : { host: s, port: 53 };
  if (server.port < 1 || server.port > 65535) throw new Error(`bad DNS server port in ${JSON.stringify(s)}`);
  return server;
}

export interface Question {
  id: number;
  name: string; // normalised, no trailing dot
  type: string;
}

/** Outcome of one exchange: a validated response, no response in time, or only garbage. */
export type Exchange =
  | { kind: 'response'; packet: DecodedPacket }
  | { kind: 'timeout' }
  | { kind: 'malformed'; detail: string };

const MAX_TCP_RESPONSE = 65535; // RFC 1035 §4.2.2: the 2-byte length bounds it

function stripDot(n: string): string {
  return (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase();
}

/** Whether a decoded packet answers exactly our question (RFC 5452 §9.1: id and question must match). */
function answers(p: DecodedPacket, q: Question): boolean {
  const pq = p.questions?.[0];
  return p.flag_qr && p.id === q.id && p.questions?.length === 1 && pq !== undefined
    && stripDot(pq.name) === q.name && pq.type === q.type && (pq.class ?? 'IN') === 'IN';
}

/**
 * Send over UDP from a fresh socket (a random source port per query, RFC 5452 §4.5) and
 * wait for a response that matches; anything else is ignored, so a spoofed or stray
 * datagram cannot end the wait.
 */
export function exchangeUdp(server: Server, query: Buffer, q: Question, timeoutMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let garbage: string | undefined;
    let settled = false;
    const done = (r: Exchange): void => {
      if (settled) return; // a second matching datagram in the same tick must not close twice
      settled = true;
      clearTimeout(timer);
      sock.removeAllListeners('message');
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => done(garbage ? { kind: 'malformed', detail: garbage } : { kind: 'timeout' }), timeoutMs);
    sock.on('error', () => { /* ICMP unreachable and the like: keep waiting until the timeout, then try elsewhere */ });
    sock.on('message', (msg, rinfo) => {
      if (rinfo.address !== server.host || rinfo.port !== server.port) return; // RFC 5452 §9.1
      let p: DecodedPacket;
      try {
        p = dnsPacket.decode(msg);
      } catch (e) {
        garbage = `undecodable response: ${(e as Error).message}`;
        return;
      }
      if (answers(p, q)) done({ kind: 'response', packet: p });
    });
    sock.send(query, server.port, server.host, (err) => {
      if (err) garbage = `send: ${err.message}`;
    });
  });
}

/** Send over TCP (after a truncated UDP answer, RFC 7766 §5) and read one framed response. */
export function exchangeTcp(server: Server, query: Buffer, q: Question, timeoutMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const sock = connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (r: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
    sock.on('error', (e) => done({ kind: 'malformed', detail: `tcp: ${e.message}` }));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_TCP_RESPONSE + 2) return done({ kind: 'malformed', detail: 'tcp response too long' });
      if (buf.length < 2) return;
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) return;
      let p: DecodedPacket;
      try {
        p = dnsPacket.decode(buf.subarray(2, 2 + n));
      } catch (e) {
        return done({ kind: 'malformed', detail: `undecodable tcp response: ${(e as Error).message}` });
      }
      // Over TCP nobody can inject off-path, so a mismatch is a broken server, not spoofing.
      done(answers(p, q) ? { kind: 'response', packet: p } : { kind: 'malformed', detail: 'tcp response does not match the question' });
    });
    sock.on('end', () => done({ kind: 'malformed', detail: 'tcp connection closed before a full response' }));
  });
}
