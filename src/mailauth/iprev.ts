// iprev (RFC 8601 §3): the client IP's PTR names, confirmed by a forward lookup that
// returns the IP again. pass, fail (no confirmed name), temperror (DNS failed).
import { isIP } from 'node:net';
import { isDnsError, type Resolver } from '../dns/index.ts';

export interface IprevResult {
  result: 'pass' | 'fail' | 'temperror' | 'permerror' | 'none';
  hostname?: string; // the confirmed name
  authentic: boolean;
}

export async function iprev(resolver: Resolver, ip: string): Promise<IprevResult> {
  if (isIP(ip) === 0) return { result: 'permerror', authentic: false };
  try {
    const ptr = await resolver.lookupPTR(ip);
    for (const name of ptr.records.slice(0, 10)) { // RFC 8601 §3: a bounded number of names
      try {
        const forward = await (isIP(ip) === 4 ? resolver.lookupA(name) : resolver.lookupAAAA(name));
        if (forward.records.includes(ip)) return { result: 'pass', hostname: name, authentic: ptr.authentic && forward.authentic };
      } catch (e) {
        if (isDnsError(e) && e.temporary) return { result: 'temperror', authentic: false };
      }
    }
    return { result: 'fail', authentic: ptr.authentic };
  } catch (e) {
    if (isDnsError(e) && !e.temporary) return { result: 'fail', authentic: false };
    if (isDnsError(e)) return { result: 'temperror', authentic: false };
    throw e;
  }
}
