// SOCKS5 CONNECT (RFC 1928) without authentication (method 0x00), for the SOCKS transport:
// delivery to the MX goes through a proxy, e.g. a host whose public IP is elsewhere.
import { connect, isIP, type Socket } from 'node:net';
import { once } from 'node:events';
import { Input } from '../conn/input.ts';

/** Connects to `proxy` (host:port) and asks it to connect to ip:port; resolves with the tunnelled socket. */
export async function socksConnect(proxy: string, ip: string, port: number, timeoutMs = 30_000): Promise<Socket> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(proxy);
  if (!m) throw new Error(`bad SOCKS proxy address ${proxy}`);
  const socket = connect({ host: m[1]!, port: Number(m[2]) });
  const timer = setTimeout(() => socket.destroy(new Error('SOCKS proxy timeout')), timeoutMs);
  const input = new Input(socket);
  const read = async (n: number): Promise<Buffer> => {
    const parts: Buffer[] = [];
    if (!(await input.bytes(n, (c) => void parts.push(c)))) throw new Error('SOCKS proxy closed the connection');
    return Buffer.concat(parts);
  };
  try {
    await once(socket, 'connect');
    socket.write(Buffer.from([5, 1, 0])); // RFC 1928 §3: version 5, one method: no authentication
    const method = await read(2);
    if (method[0] !== 5 || method[1] !== 0) throw new Error('SOCKS proxy refused the no-authentication method');
    const family = isIP(ip);
    if (family === 0) throw new Error(`SOCKS: ${ip} is not an IP address`);
    const addr = family === 4 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
    const portBytes = Buffer.from([port >> 8, port & 0xff]);
    socket.write(Buffer.concat([Buffer.from([5, 1, 0, family === 4 ? 1 : 4]), addr, portBytes])); // RFC 1928 §4: CONNECT
    const head = await read(4);
    if (head[0] !== 5) throw new Error('SOCKS: bad reply version');
    if (head[1] !== 0) throw new Error(`SOCKS: connect to ${ip}:${port} failed: ${replies[head[1]!] ?? `reply ${head[1]}`}`); // RFC 1928 §6
    const atyp = head[3];
    const rest = atyp === 1 ? 4 + 2 : atyp === 4 ? 16 + 2 : atyp === 3 ? (await read(1))[0]! + 2 : -1;
    if (rest < 0) throw new Error('SOCKS: bad address type in reply');
    await read(rest);
    const leftover = input.takeAll();
    input.replaceSocket(undefined);
    socket.pause();
    if (leftover.length > 0) socket.unshift(leftover); // the SMTP greeting may have come with the reply
    return socket;
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

const replies: Record<number, string> = {
  1: 'general SOCKS server failure', 2: 'connection not allowed by ruleset', 3: 'network unreachable', 4: 'host unreachable',
  5: 'connection refused', 6: 'TTL expired', 7: 'command not supported', 8: 'address type not supported',
};

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g: string) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}
