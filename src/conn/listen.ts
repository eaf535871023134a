// Where a server listens: an IP and port. '::' is IPv6 only, so that a listener can list
// both 0.0.0.0 and :: (Linux would otherwise bind :: to IPv4 too, and 0.0.0.0 then fails
// with EADDRINUSE); mailcove.conf says so.
import type { ListenOptions } from 'node:net';

export function listenOn(ip: string, port: number): ListenOptions {
  return { host: ip, port, ...(ip === '::' ? { ipv6Only: true } : {}) };
}
