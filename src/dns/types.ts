// The resolver contract every mail check codes against: typed records per RR type, the
// DNSSEC "authentic" flag, TTLs, and typed failures that map onto SPF none/temperror.

/** IPv4 address in dotted-quad form. */
export type IPv4 = string;
/** IPv6 address in node's canonical (compressed) form. */
export type IPv6 = string;

export interface MxRecord {
  preference: number; // RFC 1035 §3.3.9: lower is preferred
  exchange: string; // lowercase, no trailing dot; '' for a null MX (RFC 7505 §3)
}

export interface TxtRecord {
  strings: Buffer[]; // RFC 1035 §3.3.14: the character-strings of one record, as sent
  text: string; // the strings concatenated without separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2), UTF-8 decoded
}

export interface TlsaRecord {
  usage: number; // RFC 6698 §2.1.1: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
  selector: number; // RFC 6698 §2.1.2: 0 full certificate, 1 SubjectPublicKeyInfo
  matchingType: number; // RFC 6698 §2.1.3: 0 exact, 1 SHA-256, 2 SHA-512
  data: Buffer; // certificate association data
}

export interface SrvRecord {
  priority: number; // RFC 2782
  weight: number;
  port: number;
  target: string; // lowercase, no trailing dot; '' for "." (service not available, RFC 2782)
}

export interface CaaRecord {
  flags: number; // RFC 8659 §4.1: bit 128 is issuer-critical
  tag: string;
  value: string;
}

/** What each supported RR type returns. Name-valued types return normalised names. */
export interface RecordMap {
  A: IPv4;
  AAAA: IPv6;
  MX: MxRecord;
  TXT: TxtRecord;
  CNAME: string;
  TLSA: TlsaRecord;
  PTR: string;
  NS: string;
  SRV: SrvRecord;
  CAA: CaaRecord;
}
export type RRType = keyof RecordMap;
export const rrTypes: readonly RRType[] = ['A', 'AAAA', 'MX', 'TXT', 'CNAME', 'TLSA', 'PTR', 'NS', 'SRV', 'CAA'];

/** The answer to one lookup. NODATA is `records: []`, never an error. */
export interface LookupResult<T> {
  records: T[];
  /**
   * True only when every response used (each step of a CNAME chain) had the AD bit set by
   * a validating resolver reached over a trusted path (RFC 4035 §3.2.3, RFC 6698 §4.1).
   */
  authentic: boolean;
  ttl: number; // seconds the answer may be cached: minimum over the RRset and CNAME chain
  name: string; // the name queried, normalised
  finalName: string; // the owner name after following CNAMEs (= name without a chain)
  cnames: string[]; // the CNAME targets followed, in order
}

/**
 * Why a lookup failed. Callers map `nxdomain` to "does not exist" (SPF `none`, RFC 7208
 * §4.3) and every other kind to a temporary error (SPF `temperror`, RFC 7208 §2.6.6) —
 * except `badname`, which is the caller's input, not the DNS.
 */
export type DnsErrorKind =
  | 'nxdomain' // RCODE 3: the name does not exist (RFC 1035 §4.1.1, RFC 8020)
  | 'servfail' // RCODE 2: the resolver could not answer, e.g. DNSSEC bogus (RFC 4035 §5.5)
  | 'refused' // RCODE 5, or another RCODE we cannot use (FORMERR, NOTIMP)
  | 'timeout' // no usable response from any server within the attempts
  | 'malformed' // responses could not be parsed, or broke a bound (CNAME chain, size)
  | 'notconfigured' // no resolver: hermetic mode (localserve without --resolver)
  | 'badname'; // the name is not a valid domain name (length, empty label, IDNA)

export class DnsError extends Error {
  readonly kind: DnsErrorKind;
  readonly qname: string;
  readonly qtype: string;
  /** For nxdomain from a server: seconds it may be cached (RFC 2308 §5), when an SOA said so. */
  negativeTtl?: number;
  constructor(kind: DnsErrorKind, qname: string, qtype: string, detail?: string) {
    super(`dns ${qtype} ${qname}: ${kind}${detail ? `: ${detail}` : ''}`);
    this.name = 'DnsError';
    this.kind = kind;
    this.qname = qname;
    this.qtype = qtype;
  }
  /** Whether a retry later may succeed (everything but nxdomain and badname). */
  get temporary(): boolean {
    return this.kind !== 'nxdomain' && this.kind !== 'badname';
  }
}

export function isDnsError(e: unknown, kind?: DnsErrorKind): e is DnsError {
  return e instanceof DnsError && (kind === undefined || e.kind === kind);
}

/** The resolver every DNS user takes. Names may be given with or without trailing dot, any case, U-labels. */
export interface Resolver {
  lookup<K extends RRType>(name: string, type: K): Promise<LookupResult<RecordMap[K]>>;
  lookupA(name: string): Promise<LookupResult<IPv4>>;
  lookupAAAA(name: string): Promise<LookupResult<IPv6>>;
  /** A and AAAA together: IPv6 first (RFC 6724 default preference); fails if either fails. */
  lookupIP(name: string): Promise<LookupResult<string>>;
  lookupMX(name: string): Promise<LookupResult<MxRecord>>;
  lookupTXT(name: string): Promise<LookupResult<TxtRecord>>;
  lookupCNAME(name: string): Promise<LookupResult<string>>;
  lookupTLSA(name: string): Promise<LookupResult<TlsaRecord>>;
  /** PTR records of an IP address (the reverse name is built here, RFC 1035 §3.5, RFC 3596 §2.5). */
  lookupPTR(ip: string): Promise<LookupResult<string>>;
  lookupNS(name: string): Promise<LookupResult<string>>;
  lookupSRV(name: string): Promise<LookupResult<SrvRecord>>;
  lookupCAA(name: string): Promise<LookupResult<CaaRecord>>;
}
