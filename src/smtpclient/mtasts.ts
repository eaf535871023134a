// MTA-STS (RFC 8461): the _mta-sts TXT record and policy parsers, MX host matching, the
// policy fetch over HTTPS (names resolved through our Resolver, never the system's), and
// the policy cache with refresh that the queue consults before delivering to a domain.
import { request } from 'node:https';
import { getCACertificates, type TLSSocket } from 'node:tls';
import { isIPv6, type LookupFunction } from 'node:net';
import { DnsError, normalizeName, type Resolver } from '../dns/index.ts';

// ---- The TXT record (RFC 8461 §3.1) ----

const stsId = /^id=([A-Za-z0-9]{1,32})$/; // RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT)
const stsExtension = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}=[\x21-\x3a\x3c\x3e-\x7e]+$/; // RFC 8461 §3.1: sts-ext-name "=" sts-ext-value

/**
 * Parses an `_mta-sts` TXT record, e.g. `v=STSv1; id=20160831085700Z;`. Extension fields
 * are allowed and ignored. A second id field makes the record invalid: the grammar does not
 * forbid it, but there is no telling which policy version the domain means.
 */
export function parseMtaStsRecord(txt: string): { id: string } | { error: string } {
  const parts = txt.split(';'); // RFC 8461 §3.1: sts-sep = *WSP ";" *WSP
  if (parts[0]?.replace(/[ \t]+$/, '') !== 'v=STSv1') return { error: 'record does not start with "v=STSv1;"' }; // %s: case-sensitive
  if (parts.length < 2) return { error: 'record has no fields after the version' };
  if (parts.at(-1)!.trim() === '') parts.pop(); // RFC 8461 §3.1: [sts-sep] at the end
  let id: string | undefined;
  for (const raw of parts.slice(1)) {
    const field = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (field === '') return { error: 'empty field (two separators in a row)' };
    const m = stsId.exec(field);
    if (m) {
      if (id !== undefined) return { error: 'more than one id field' };
      id = m[1]!;
    } else if (field.startsWith('id=')) return { error: `invalid id ${JSON.stringify(field.slice(3))}: 1 to 32 letters and digits required` };
    else if (!stsExtension.test(field)) return { error: `invalid field ${JSON.stringify(field)}` };
  }
  if (id === undefined) return { error: 'record has no id field' }; // RFC 8461 §3.1: id is required
  return { id };
}

/**
 * Whether a TXT record is an MTA-STS record at all. RFC 8461 §3.1 discards records that
 * do not begin with "v=STSv1;"; we also count "v=STSv1 ;" (sts-sep allows WSP before the
 * ";"), so such a record takes part in the "exactly one" rule and is then parsed.
 */
function isStsRecord(text: string): boolean {
  return /^v=STSv1[ \t]*;/.test(text);
}

// ---- The policy (RFC 8461 §3.2) ----

export interface MtaStsPolicy {
  mode: 'enforce' | 'testing' | 'none'; // RFC 8461 §5: enforce fails delivery to non-matching/unauthenticated MX hosts, testing only reports, none is "no policy"
  mx: string[]; // RFC 8461 §4.1: patterns, lowercase; "*.example.com" matches one left-most label
  maxAge: number; // seconds the policy may be cached from its fetch, at most 31557600
}

export const maxPolicyAge = 31_557_600; // RFC 8461 §3.2: max_age maximum (one year)
const modes: ReadonlySet<string> = new Set(['enforce', 'testing', 'none']); // RFC 8461 §3.2: sts-policy-mode-value, case-sensitive
const policyField = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*)$/; // RFC 8461 §3.2: name sts-policy-field-delim value
const ldhLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/; // RFC 5321 §4.1.2: sub-domain = Let-dig [Ldh-str]

/** An mx pattern: ["*."] Domain (RFC 8461 §3.2 sts-policy-mx-value, Domain of RFC 5321 §4.1.2), lowercased. */
function mxPattern(value: string): string | undefined {
  const v = value.toLowerCase();
  const domain = v.startsWith('*.') ? v.slice(2) : v;
  if (domain.length === 0 || domain.length > 253 || !domain.split('.').every((l) => ldhLabel.test(l))) return undefined;
  return v;
}

/**
 * Parses a policy body. Lines end in CRLF or LF (RFC 8461 §3.2 sts-policy-term). Field
 * names and the version and mode values are case-sensitive (%s in the grammar), so "Mode:"
 * is an unknown field, ignored like every unknown field (RFC 8461 §3.2).
 *
 * Two leniencies, both only able to turn a would-be "no policy" into the policy the domain
 * obviously meant: the version line may come anywhere, not only first, and empty lines
 * are skipped. A repeated version, mode or max_age is an error: there is no telling which
 * the domain means.
 */
export function parsePolicy(text: string): MtaStsPolicy | { error: string } {
  const lines = text.split(/\r?\n/);
  let version: string | undefined;
  let mode: MtaStsPolicy['mode'] | undefined;
  let maxAge: number | undefined;
  const mx: string[] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/[ \t]+$/, ''); // RFC 8461 §3.2: *WSP after each field
    if (line === '') continue;
    const m = policyField.exec(line);
    if (!m) return { error: `line ${i + 1}: not a "key: value" field: ${JSON.stringify(line.slice(0, 100))}` };
    const key = m[1]!;
    const value = m[2]!;
    switch (key) {
      case 'version':
        if (version !== undefined) return { error: `line ${i + 1}: second version field` };
        if (value !== 'STSv1') return { error: `line ${i + 1}: version ${JSON.stringify(value)}, expected STSv1` }; // RFC 8461 §3.2
        version = value;
        break;
      case 'mode':
        if (mode !== undefined) return { error: `line ${i + 1}: second mode field` };
        if (!modes.has(value)) return { error: `line ${i + 1}: mode ${JSON.stringify(value)}, expected enforce, testing or none` };
        mode = value as MtaStsPolicy['mode'];
        break;
      case 'max_age':
        if (maxAge !== undefined) return { error: `line ${i + 1}: second max_age field` };
        if (!/^\d{1,10}$/.test(value)) return { error: `line ${i + 1}: max_age ${JSON.stringify(value)} is not 1 to 10 digits` }; // RFC 8461 §3.2: 1*10(DIGIT)
        maxAge = Number(value);
        if (maxAge > maxPolicyAge) return { error: `line ${i + 1}: max_age ${maxAge} is more than ${maxPolicyAge}` };
        break;
      case 'mx': {
        const p = mxPattern(value);
        if (p === undefined) return { error: `line ${i + 1}: mx ${JSON.stringify(value)} is not a host name or "*." and a host name` };
        mx.push(p); // RFC 8461 §3.2: may be repeated
        break;
      }
      default: // RFC 8461 §3.2: unknown fields are ignored
    }
  }
  if (version === undefined) return { error: 'no "version: STSv1" field' };
  if (mode === undefined) return { error: 'no mode field' };
  if (maxAge === undefined) return { error: 'no max_age field' };
  if (mx.length === 0 && mode !== 'none') return { error: `no mx field, required with mode ${mode}` }; // RFC 8461 §3.2
  return { mode, mx, maxAge };
}

function hostName(host: string): string {
  return (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
}

/**
 * Whether an MX host is allowed by the policy's mx patterns (RFC 8461 §4.1): equal ignoring
 * case, or "*.example.com" for exactly one more label ("mail.example.com", not
 * "example.com", not "a.mail.example.com"). The mode is not looked at.
 */
export function policyMatchesHost(policy: MtaStsPolicy, host: string): boolean {
  const h = hostName(host);
  return policy.mx.some((pattern) => {
    const p = hostName(pattern);
    if (!p.startsWith('*.')) return h === p;
    const suffix = p.slice(1); // ".example.com"
    return h.length > suffix.length && h.endsWith(suffix) && !h.slice(0, -suffix.length).includes('.');
  });
}

// ---- Fetching the policy (RFC 8461 §3.3) ----

/** RFC 8460 §4.3.2 result types for a policy that could not be had, for TLS reporting. */
export type StsFailure = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

export interface FetchOptions {
  resolver: Resolver; // resolves mta-sts.<domain>; the system resolver is never used
  ca?: string[]; // extra trusted CA certificates (PEM), added to the default ones; for tests
  port?: number; // test only: HTTPS port instead of 443
  timeoutMs?: number; // for the whole fetch, DNS to end of body; default 60 s (RFC 8461 §3.3)
}

export const maxPolicySize = 64 * 1024; // RFC 8461 §3.3: suggested maximum policy size
const defaultFetchTimeoutMs = 60_000; // RFC 8461 §3.3: suggested timeout

/** A `lookup` for node:net that answers from our Resolver (IPv6 first, as lookupIP orders them). */
function resolverLookup(resolver: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver.lookupIP(hostname).then(
      (r) => {
        const want = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const addresses = r.records.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 })).filter((a) => want === 0 || a.family === want);
        const first = addresses[0];
        if (!first) {
          callback(Object.assign(new Error(`no ${want ? `IPv${want} ` : ''}address records for ${hostname}`), { code: 'ENOTFOUND' }), '');
        } else if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e)), ''),
    );
  };
}

/**
 * GETs https://mta-sts.<domain>/.well-known/mta-sts.txt and parses it (RFC 8461 §3.3).
 * The certificate must be valid for mta-sts.<domain> and chain to a trusted CA; redirects
 * are not followed (a 3xx is an error); only a 200 with Content-Type text/plain (RFC 8461
 * §3.2) and a body of at most 64 KiB is read. No HTTP cache is involved (RFC 8461 §3.3).
 *
 * Failures carry their RFC 8460 result type: certificate problems are sts-webpki-invalid,
 * a body that does not parse as a policy is sts-policy-invalid, and everything else (DNS,
 * connection, status, media type, size, timeout) is sts-policy-fetch-error.
 */
export function fetchPolicy(domain: string, o: FetchOptions): Promise<{ policy: MtaStsPolicy; text: string } | { error: string; failure: StsFailure }> {
  let host: string;
  try {
    host = normalizeName(`mta-sts.${normalizeName(domain)}`); // RFC 8461 §3.3: the Policy Host, A-labels
  } catch (e) {
    return Promise.resolve({ error: `policy host for ${JSON.stringify(domain)}: ${(e as Error).message}`, failure: 'sts-policy-fetch-error' });
  }
  const path = '/.well-known/mta-sts.txt'; // RFC 8461 §3.2
  const url = `https://${host}${o.port !== undefined ? `:${o.port}` : ''}${path}`;
  const timeoutMs = o.timeoutMs ?? defaultFetchTimeoutMs;
  return new Promise((resolve) => {
    let done = false;
    let socket: TLSSocket | undefined;
    const finish = (r: { policy: MtaStsPolicy; text: string } | { error: string; failure: StsFailure }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const fail = (failure: StsFailure, message: string) => finish({ error: `fetching MTA-STS policy ${url}: ${message}`, failure });
    const timer = setTimeout(() => fail('sts-policy-fetch-error', `no complete response within ${timeoutMs} ms`), timeoutMs);
    const req = request(
      {
        host,
        port: o.port ?? 443,
        path,
        method: 'GET',
        lookup: resolverLookup(o.resolver),
        servername: host, // SNI, and the name the certificate must be valid for (RFC 8461 §3.3, RFC 6125 DNS-ID)
        rejectUnauthorized: true,
        ...(o.ca ? { ca: [...getCACertificates('default'), ...o.ca] } : {}), // `ca` replaces the defaults, so they are added back
        agent: false, // one connection per fetch: policies are cached, a kept-alive connection would not be used again
        headers: { accept: 'text/plain' },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) return fail('sts-policy-fetch-error', `HTTP ${status} redirect${res.headers.location ? ` to ${res.headers.location}` : ''} not followed (RFC 8461 §3.3)`);
        if (status !== 200) return fail('sts-policy-fetch-error', `HTTP status ${status}, expected 200`);
        const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(); // parameters (charset) allowed
        if (mediaType !== 'text/plain') return fail('sts-policy-fetch-error', `Content-Type ${JSON.stringify(res.headers['content-type'] ?? '')}, expected text/plain (RFC 8461 §3.2)`);
        const length = Number(res.headers['content-length'] ?? 0);
        if (length > maxPolicySize) return fail('sts-policy-fetch-error', `Content-Length ${length} is more than the ${maxPolicySize} bytes allowed`);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxPolicySize) return fail('sts-policy-fetch-error', `policy body larger than the ${maxPolicySize} bytes allowed`);
          chunks.push(chunk);
        });
        res.on('error', (e) => fail('sts-policy-fetch-error', `reading the response: ${e.message}`));
        res.on('close', () => {
          if (!res.complete) fail('sts-policy-fetch-error', 'connection closed before the end of the response');
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const policy = parsePolicy(text);
          if ('error' in policy) return fail('sts-policy-invalid', `invalid policy: ${policy.error}`);
          finish({ policy, text });
        });
      },
    );
    req.on('socket', (s) => { socket = s as TLSSocket; });
    req.on('error', (e) => {
      // Node sets authorizationError before it ends a connection whose certificate chain or
      // name did not verify; other TLS and socket errors leave it null.
      if (socket?.authorizationError) return fail('sts-webpki-invalid', `certificate of ${host} not valid: ${e.message}`);
      if (e instanceof DnsError) return fail('sts-policy-fetch-error', `looking up ${host}: ${e.message}`);
      fail('sts-policy-fetch-error', e.message);
    });
    req.end();
  });
}

// ---- The policy cache (RFC 8461 §3.3, §5.1) ----

export interface CachedPolicy {
  id: string; // the _mta-sts record id the policy was fetched under (RFC 8461 §3.1)
  policy: MtaStsPolicy;
  fetched: number; // ms since epoch of the fetch
  expires: number; // fetched + maxAge * 1000: the policy applies until then (RFC 8461 §3.2 max_age)
}

/** Where policies are kept between deliveries; the queue database implements it. */
export interface MtaStsPolicyStorage {
  get(domain: string): Promise<CachedPolicy | undefined>; // domain: lowercase A-labels, no trailing dot
  put(domain: string, p: CachedPolicy): Promise<void>;
}

/** Storage in a Map, for tests. */
export class MemoryPolicyStorage implements MtaStsPolicyStorage {
  readonly policies: Map<string, CachedPolicy>;
  constructor(entries: Iterable<[string, CachedPolicy]> = []) {
    this.policies = new Map(entries);
  }
  async get(domain: string): Promise<CachedPolicy | undefined> { return this.policies.get(domain); }
  async put(domain: string, p: CachedPolicy): Promise<void> { this.policies.set(domain, p); }
}

/**
 * Failed fetches per domain and record id, so a failing Policy Host is not asked again
 * within five minutes for the same id (RFC 8461 §3.3 SHOULD): otherwise every queued message
 * for the domain would wait up to the fetch timeout. Kept in memory, one per process.
 */
export class StsFetchBackoff {
  readonly #failed = new Map<string, { at: number; failure: StsFailure }>(); // "domain id" → last failure
  readonly intervalMs: number;
  constructor(intervalMs = 5 * 60_000) {
    this.intervalMs = intervalMs;
  }

  /** The failure of a fetch for this domain and id within the interval, if any. */
  recent(domain: string, id: string, now: number): StsFailure | undefined {
    const f = this.#failed.get(`${domain} ${id}`);
    return f && now - f.at < this.intervalMs ? f.failure : undefined;
  }

  note(domain: string, id: string, failure: StsFailure, now: number): void {
    this.#failed.set(`${domain} ${id}`, { at: now, failure });
    if (this.#failed.size > 10_000) for (const [k, f] of this.#failed) if (now - f.at >= this.intervalMs) this.#failed.delete(k);
  }

  /** A fetch succeeded: the id is no longer failing. */
  clear(domain: string, id: string): void {
    this.#failed.delete(`${domain} ${id}`);
  }
}

/** The policy to apply to one delivery, and how it was arrived at. */
export type PolicyLookup = {
  policy: MtaStsPolicy | undefined; // undefined: deliver as if the domain had no MTA-STS (RFC 8461 §3.3, §5.1)
  id?: string; // the id of the policy returned
  fromCache: boolean;
  failure?: StsFailure; // a fetch was tried and failed (RFC 8460 §4.3.2), whether or not a cached policy was used instead
  temporary?: boolean; // the _mta-sts lookup failed temporarily, so a newer policy may exist: no permanent failure on this answer (RFC 8461 §5.1 step 3)
};

export interface ResolveOptions extends FetchOptions {
  storage: MtaStsPolicyStorage;
  now?: () => number; // ms since epoch; default Date.now
  refresh?: boolean; // fetch even when the record id equals the cached policy's (proactive refresh, see refreshDue)
  backoff?: StsFetchBackoff; // when given, fetches that failed recently are not repeated (RFC 8461 §3.3)
}

/**
 * The MTA-STS policy for a recipient domain (RFC 8461 §3, §5.1):
 * - look up TXT _mta-sts.<domain>; non-STSv1 records are ignored, and anything but exactly
 *   one valid STSv1 record means "no record" (RFC 8461 §3.1);
 * - no record: the unexpired cached policy still applies, else there is no policy (RFC
 *   8461 §3.1: a missing record alone does not remove a cached policy);
 * - the record's id equals that of the unexpired cached policy: the cached policy;
 * - otherwise fetch; a fetched policy is stored and applies; a failed fetch leaves the
 *   unexpired cached policy, else no policy (RFC 8461 §3.3), with the failure reported;
 * - a temporary DNS error: the unexpired cached policy, else no policy, marked temporary.
 * A failed fetch is not temporary in this sense: RFC 8461 §3.3 has delivery go on without
 * the policy, so no caller should defer because of it.
 * An expired cached policy is never used.
 */
export async function resolvePolicy(domain: string, o: ResolveOptions): Promise<PolicyLookup> {
  const now = (o.now ?? Date.now)();
  let d: string;
  try {
    d = normalizeName(domain);
    if (d === '') throw new DnsError('badname', domain, 'TXT', 'the root');
  } catch {
    return { policy: undefined, fromCache: false }; // not a domain name: nothing to look up
  }
  const stored = await o.storage.get(d);
  const cached = stored && stored.expires > now ? stored : undefined; // RFC 8461 §5.1: time since fetch within max_age
  const cachedOrNone = (extra: Partial<PolicyLookup> = {}): PolicyLookup =>
    cached ? { policy: cached.policy, id: cached.id, fromCache: true, ...extra } : { policy: undefined, fromCache: false, ...extra };

  let id: string | undefined;
  try {
    const txt = await o.resolver.lookupTXT(`_mta-sts.${d}`); // RFC 8461 §3.1; CNAMEs are followed by the resolver
    const sts = txt.records.filter((r) => isStsRecord(r.text));
    if (sts.length === 1) {
      const r = parseMtaStsRecord(sts[0]!.text);
      if ('id' in r) id = r.id;
    }
  } catch (e) {
    if (e instanceof DnsError && e.temporary) return cachedOrNone({ temporary: true });
    if (!(e instanceof DnsError)) throw e;
    // nxdomain (or a name the DNS cannot hold): no record
  }
  if (id === undefined) return cachedOrNone();
  if (cached && cached.id === id && !o.refresh) return cachedOrNone();

  const recent = o.backoff?.recent(d, id, now);
  if (recent) return cachedOrNone({ failure: recent });
  const fetched = await fetchPolicy(d, o);
  if ('error' in fetched) {
    o.backoff?.note(d, id, fetched.failure, now);
    return cachedOrNone({ failure: fetched.failure });
  }
  o.backoff?.clear(d, id);
  await o.storage.put(d, { id, policy: fetched.policy, fetched: now, expires: now + fetched.policy.maxAge * 1000 });
  return { policy: fetched.policy, id, fromCache: false };
}

/**
 * Whether a cached policy should be fetched again now, before it expires, so that an
 * attacker blocking the fetch at the moment it is needed cannot strip the policy (RFC 8461
 * §3.3 suggests refreshing daily; §10.2). Policies with a max_age under two days are
 * refreshed at half their age. The queue calls resolvePolicy with `refresh: true` for these.
 */
export function refreshDue(cached: CachedPolicy, now: number, intervalMs = 24 * 60 * 60_000): boolean {
  return now < cached.expires && now >= cached.fetched + Math.min(intervalMs, (cached.expires - cached.fetched) / 2);
}
