// DNS: the Resolver contract (typed records, DNSSEC authentic flag, typed errors) and its
// implementations: the stub resolver, the in-memory resolver for tests, the hermetic one.
export { DnsError, isDnsError, rrTypes } from './types.ts';
export type { Resolver, LookupResult, RecordMap, RRType, DnsErrorKind, MxRecord, TxtRecord, TlsaRecord, SrvRecord, CaaRecord, IPv4, IPv6 } from './types.ts';
export { normalizeName, reverseName } from './names.ts';
export { ResolverBase } from './base.ts';
export { NoResolver } from './none.ts';
export { StubResolver, type StubResolverOptions } from './stub.ts';
export { MemoryResolver, type RecordOptions } from './memory.ts';
export { resolverFromConfig, type ResolverConfig } from './factory.ts';
export { parseResolvConf, type ResolvConf } from './resolvconf.ts';
