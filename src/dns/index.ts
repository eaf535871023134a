// DNS: the Resolver contract (typed records, DNSSEC authentic flag, typed errors) and its
// implementations. Only NoResolver exists so far; the stub and memory resolvers are todo.
export { DnsError, isDnsError, rrTypes } from './types.ts';
export type { Resolver, LookupResult, RecordMap, RRType, DnsErrorKind, MxRecord, TxtRecord, TlsaRecord, SrvRecord, CaaRecord, IPv4, IPv6 } from './types.ts';
export { normalizeName, reverseName } from './names.ts';
export { ResolverBase } from './base.ts';
export { NoResolver } from './none.ts';
