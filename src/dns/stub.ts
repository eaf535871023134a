// The stub resolver: asks recursive resolvers (from resolv.conf or given) over UDP with
// EDNS0 and the DO bit, falls back to TCP on truncation, reads the AD bit as "authentic",
// follows CNAMEs, and caches answers and NXDOMAIN/NODATA by TTL.
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { logger } from '../log/index.ts';
import { counter } from '../metrics/index.ts';
import { ResolverBase } from './base.ts';
import { TtlCache } from './cache.ts';
import { normalizeName } from './names.ts';
import { convertAnswer, wireName } from './records.ts';
import { readResolvConf } from './resolvconf.ts';
import { exchangeTcp, exchangeUdp, parseServer, type Exchange, type Server } from './transport.ts';
import { DnsError, type LookupResult, type RecordMap, type RRType } from './types.ts';

export interface StubResolverOptions {
  servers?: string[]; // 'ip', 'ip:port', '[ipv6]:port'; default: nameservers of resolvConfPath
  timeoutMs?: number; // per attempt; default from resolv.conf (5 s)
  attempts?: number; // rounds over all servers; default from resolv.conf (2)
  rotate?: boolean; // spread queries over servers; default from resolv.conf
  resolvConfPath?: string; // default /etc/resolv.conf
  cacheSize?: number; // entries; 0 disables caching; default 10000
  maxTtl?: number; // seconds an answer is cached at most; default 86400
  now?: () => number; // clock for the cache (tests)
}

const UDP_PAYLOAD_SIZE = 1232; // RFC 9715 / DNS flag day 2020: avoids IP fragmentation
const MAX_CNAME_CHAIN = 8; // bound on CNAME steps followed (as in common resolvers)
const NEGATIVE_TTL_CAP = 3 * 3600; // RFC 2308 §5: negative answers cached for at most hours

const log = logger('dns');
const queries = counter('mailcove_dns_queries_total', 'DNS queries sent by the stub resolver, by type and outcome', ['type', 'result']);

type Cached = { ok: true; result: LookupResult<unknown> } | { ok: false; error: DnsError };

/** What one response said about one (name, type), before CNAMEs outside it are chased. */
interface Step {
  records: unknown[];
  cnames: string[]; // targets followed inside this response
  finalName: string;
  ttl: number;
  authentic: boolean;
  danglingCname: boolean; // the chain ended at a CNAME whose target's data was not included
}

export class StubResolver extends ResolverBase {
  readonly servers: readonly Server[];
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #rotate: boolean;
  readonly #maxTtl: number;
  readonly #cache: TtlCache<Cached>;
  readonly #inflight = new Map<string, Promise<LookupResult<unknown>>>();
  #next = 0;
  /** Queries sent on the wire (UDP and TCP), for tests and diagnostics. */
  sent = 0;

  constructor(opts: StubResolverOptions = {}) {
    super();
    const conf = opts.servers && opts.timeoutMs && opts.attempts ? undefined : readResolvConf(opts.resolvConfPath);
    this.servers = (opts.servers ?? conf?.servers ?? []).map(parseServer);
    this.#timeoutMs = opts.timeoutMs ?? conf?.timeoutMs ?? 5000;
    this.#attempts = Math.max(1, opts.attempts ?? conf?.attempts ?? 2);
    this.#rotate = opts.rotate ?? conf?.rotate ?? false;
    this.#maxTtl = opts.maxTtl ?? 86400;
    this.#cache = new TtlCache<Cached>(opts.cacheSize ?? 10000, opts.now);
  }

  override async lookup<K extends RRType>(name: string, type: K): Promise<LookupResult<RecordMap[K]>> {
    const qname = normalizeName(name, type);
    const key = `${qname}/${type}`;
    const hit = this.#cache.get(key);
    if (hit) {
      if (!hit.value.ok) throw hit.value.error;
      return hit.value.result as LookupResult<RecordMap[K]>;
    }
    // Concurrent lookups of the same (name, type) share one query.
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#resolve(qname, type).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return (await p) as LookupResult<RecordMap[K]>;
  }

  async #resolve(qname: string, type: RRType): Promise<LookupResult<unknown>> {
    const key = `${qname}/${type}`;
    const result: LookupResult<unknown> = { records: [], authentic: true, ttl: this.#maxTtl, name: qname, finalName: qname, cnames: [] };
    let current = qname;
    for (;;) {
      let step: Step;
      try {
        step = await this.#step(current, type, qname);
      } catch (e) {
        if (e instanceof DnsError && e.kind === 'nxdomain' && e.negativeTtl !== undefined) {
          const error = new DnsError('nxdomain', qname, type, current === qname ? undefined : `via CNAME ${current}`);
          this.#cache.set(key, { ok: false, error }, Math.min(e.negativeTtl, result.ttl));
          throw error;
        }
        throw e;
      }
      result.records = step.records;
      result.cnames.push(...step.cnames);
      result.finalName = step.finalName;
      result.ttl = Math.min(result.ttl, step.ttl);
      result.authentic &&= step.authentic; // RFC 6698 §4.1: every step of the chain must be secure
      if (!step.danglingCname) break;
      if (result.cnames.length > MAX_CNAME_CHAIN) throw new DnsError('malformed', qname, type, 'CNAME chain too long');
      current = step.finalName;
    }
    this.#cache.set(key, { ok: true, result }, result.ttl);
    return result;
  }

  /** Ask the servers about one name and read what the response says (following in-response CNAMEs). */
  async #step(name: string, type: RRType, origName: string): Promise<Step> {
    const p = await this.#query(name, type);
    const rcode = (p as DecodedPacket & { rcode?: string }).rcode;
    if (rcode === 'NXDOMAIN') {
      const err = new DnsError('nxdomain', origName, type);
      err.negativeTtl = this.#negativeTtl(p); // RFC 2308 §5
      throw err;
    }
    const answers = p.answers ?? [];
    const step: Step = { records: [], cnames: [], finalName: name, ttl: this.#maxTtl, authentic: p.flag_ad, danglingCname: false };
    for (;;) {
      const owned = answers.filter((a) => wireName(a.name) === step.finalName);
      const matching = owned.filter((a) => a.type === type);
      if (matching.length > 0) {
        for (const a of matching) {
          const r = convertAnswer(a, type);
          if (r !== undefined) step.records.push(r);
          step.ttl = Math.min(step.ttl, ttlOf(a));
        }
        return step;
      }
      const cname = type === 'CNAME' ? undefined : owned.find((a) => a.type === 'CNAME');
      if (!cname || cname.type !== 'CNAME') break;
      if (step.cnames.length >= MAX_CNAME_CHAIN) throw new DnsError('malformed', origName, type, 'CNAME chain too long');
      step.finalName = wireName(cname.data);
      step.cnames.push(step.finalName);
      step.ttl = Math.min(step.ttl, ttlOf(cname));
    }
    if (step.cnames.length > 0) {
      // A recursive resolver normally includes the whole chain; if it stopped at a CNAME
      // and says nothing about the target (no SOA), ask about the target ourselves.
      const soa = (p.authorities ?? []).some((a) => a.type === 'SOA');
      if (!soa) {
        step.danglingCname = true;
        return step;
      }
    }
    step.ttl = Math.min(step.ttl, this.#negativeTtl(p) ?? 0); // NODATA: cache only with an SOA (RFC 2308 §5)
    return step;
  }

  #negativeTtl(p: DecodedPacket): number | undefined {
    const soa = (p.authorities ?? []).find((a) => a.type === 'SOA');
    if (!soa || soa.type !== 'SOA') return undefined;
    return Math.min(ttlOf(soa), soa.data.minimum ?? 0, NEGATIVE_TTL_CAP, this.#maxTtl); // RFC 2308 §5: min(SOA TTL, MINIMUM)
  }

  /** One question to the servers: rounds of attempts, next server on timeout, TCP on TC. */
  async #query(name: string, type: RRType): Promise<DecodedPacket> {
    if (this.servers.length === 0) throw new DnsError('notconfigured', name, type, 'no DNS servers configured');
    const start = this.#rotate ? this.#next++ % this.servers.length : 0;
    const answered = new Set<number>(); // servers that gave a definite failure: not asked again
    let lastError: DnsError = new DnsError('timeout', name, type);
    for (let round = 0; round < this.#attempts; round++) {
      for (let i = 0; i < this.servers.length; i++) {
        const idx = (start + i) % this.servers.length;
        const server = this.servers[idx];
        if (!server || answered.has(idx)) continue;
        const id = randomInt(0, 65536); // RFC 5452 §9.2: unpredictable ids
        const q = { id, name, type };
        const packet = dnsPacket.encode({
          type: 'query',
          id,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ type, name, class: 'IN' }],
          additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD_SIZE, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] }], // RFC 6891 §6.1, RFC 3225 §3: DO asks for AD
        });
        this.sent++;
        let ex: Exchange = await exchangeUdp(server, packet, q, this.#timeoutMs);
        if (ex.kind === 'response' && ex.packet.flag_tc) {
          this.sent++;
          ex = await exchangeTcp(server, packet, q, this.#timeoutMs); // RFC 7766 §5: retry truncated answers over TCP
        }
        if (ex.kind === 'timeout') {
          queries.inc({ type, result: 'timeout' });
          lastError = new DnsError('timeout', name, type, `no response from ${server.host}:${server.port}`);
          continue;
        }
        if (ex.kind === 'malformed') {
          queries.inc({ type, result: 'malformed' });
          lastError = new DnsError('malformed', name, type, ex.detail);
          continue;
        }
        const rcode = (ex.packet as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
        queries.inc({ type, result: rcode.toLowerCase() });
        if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return ex.packet;
        // SERVFAIL (e.g. DNSSEC bogus, RFC 4035 §5.5) or a refusal: another server may do better.
        answered.add(idx);
        lastError = new DnsError(rcode === 'SERVFAIL' ? 'servfail' : 'refused', name, type, `${rcode} from ${server.host}:${server.port}`);
      }
    }
    log.debug({ name, type, err: lastError.message }, 'dns lookup failed');
    throw lastError;
  }
}

function ttlOf(a: Answer): number {
  return 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0;
}
