// Where mail for a domain goes: its MX hosts (RFC 5321 §5.1), null MX (RFC 7505), the
// implicit MX when the domain has none, and the addresses of a host in the order to try
// them, alternating IPv6/IPv4 between attempts and putting recently failed IPs last.
import { isIP } from 'node:net';
import { isDnsError, type Resolver } from '../dns/index.ts';

export interface MxHost {
  host: string; // lowercase A-label host name, or an IP address literal target
  preference: number;
}

export type MxLookup =
  | { kind: 'hosts'; hosts: MxHost[]; authentic: boolean }
  | { kind: 'nullmx' } // RFC 7505 §3: the domain accepts no mail
  | { kind: 'nodomain' } // NXDOMAIN: permanent
  | { kind: 'error'; message: string }; // temporary DNS failure

/** The MX hosts of a domain, preferred first, equal preferences shuffled (RFC 5321 §5.1). */
export async function lookupMx(resolver: Resolver, domain: string, random = Math.random): Promise<MxLookup> {
  let r;
  try {
    r = await resolver.lookupMX(domain);
  } catch (e) {
    if (isDnsError(e, 'nxdomain')) return { kind: 'nodomain' };
    return { kind: 'error', message: (e as Error).message };
  }
  if (r.records.length === 0) return { kind: 'hosts', hosts: [{ host: r.finalName, preference: 0 }], authentic: r.authentic }; // RFC 5321 §5.1: implicit MX (the name after CNAMEs)
  const real = r.records.filter((m) => m.exchange !== '');
  if (real.length === 0) return { kind: 'nullmx' }; // RFC 7505 §3: "." as the only exchange
  // RFC 7505 §3 forbids a null MX beside others; such a record is skipped and the real ones used.
  const keyed = real.map((m) => ({ host: m.exchange, preference: m.preference, k: random() }));
  keyed.sort((a, b) => a.preference - b.preference || a.k - b.k);
  return { kind: 'hosts', hosts: keyed.map(({ host, preference }) => ({ host, preference })), authentic: r.authentic };
}

/** Recently failed IPs (bounded), tried last while their failure is fresh. */
export class IpFailures {
  readonly #failed = new Map<string, number>();
  readonly #max: number;
  readonly #ttlMs: number;
  constructor(max = 10_000, ttlMs = 60 * 60_000) {
    this.#max = max;
    this.#ttlMs = ttlMs;
  }
  fail(ip: string, now = Date.now()): void {
    this.#failed.delete(ip);
    this.#failed.set(ip, now);
    if (this.#failed.size > this.#max) this.#failed.delete(this.#failed.keys().next().value!);
  }
  succeed(ip: string): void {
    this.#failed.delete(ip);
  }
  recent(ip: string, now = Date.now()): boolean {
    const t = this.#failed.get(ip);
    return t !== undefined && now - t < this.#ttlMs;
  }
}

export type IpLookup = { kind: 'ips'; ips: string[]; authentic: boolean } | { kind: 'error'; permanent: boolean; message: string };

/**
 * Addresses of an MX host in the order to try: IPv6 and IPv4 interleaved, starting with
 * IPv6 on even attempts and IPv4 on odd ones (so a broken family does not block every
 * retry), recently failed IPs last. One family failing to resolve is tolerated.
 */
export async function lookupHostIPs(resolver: Resolver, host: string, attempt: number, failures?: IpFailures): Promise<IpLookup> {
  if (isIP(host)) return { kind: 'ips', ips: [host], authentic: true };
  const [v6, v4] = await Promise.allSettled([resolver.lookupAAAA(host), resolver.lookupA(host)]);
  const six = v6.status === 'fulfilled' ? v6.value.records : [];
  const four = v4.status === 'fulfilled' ? v4.value.records : [];
  if (six.length + four.length === 0) {
    const errors = [v6, v4].flatMap((x) => (x.status === 'rejected' ? [x.reason as Error] : []));
    const permanent = errors.length > 0 ? errors.every((e) => isDnsError(e, 'nxdomain')) : true;
    return { kind: 'error', permanent, message: errors[0]?.message ?? `no addresses for ${host}` };
  }
  const [first, second] = attempt % 2 === 0 ? [six, four] : [four, six];
  const ips: string[] = [];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (first[i]) ips.push(first[i]!);
    if (second[i]) ips.push(second[i]!);
  }
  if (failures) ips.sort((a, b) => Number(failures.recent(a)) - Number(failures.recent(b))); // stable: order kept otherwise
  const authentic = (v6.status === 'fulfilled' ? v6.value.authentic : true) && (v4.status === 'fulfilled' ? v4.value.authentic : true);
  return { kind: 'ips', ips, authentic };
}
