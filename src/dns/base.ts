// The typed lookup methods of Resolver, written once on top of the one generic `lookup`
// that each implementation (stub, memory, none) provides.
import { reverseName } from './names.ts';
import type { CaaRecord, IPv4, IPv6, LookupResult, MxRecord, RecordMap, Resolver, RRType, SrvRecord, TlsaRecord, TxtRecord } from './types.ts';

export abstract class ResolverBase implements Resolver {
  abstract lookup<K extends RRType>(name: string, type: K): Promise<LookupResult<RecordMap[K]>>;

  lookupA(name: string): Promise<LookupResult<IPv4>> { return this.lookup(name, 'A'); }
  lookupAAAA(name: string): Promise<LookupResult<IPv6>> { return this.lookup(name, 'AAAA'); }
  lookupMX(name: string): Promise<LookupResult<MxRecord>> { return this.lookup(name, 'MX'); }
  lookupTXT(name: string): Promise<LookupResult<TxtRecord>> { return this.lookup(name, 'TXT'); }
  lookupCNAME(name: string): Promise<LookupResult<string>> { return this.lookup(name, 'CNAME'); }
  lookupTLSA(name: string): Promise<LookupResult<TlsaRecord>> { return this.lookup(name, 'TLSA'); }
  lookupPTR(ip: string): Promise<LookupResult<string>> { return this.lookup(reverseName(ip), 'PTR'); }
  lookupNS(name: string): Promise<LookupResult<string>> { return this.lookup(name, 'NS'); }
  lookupSRV(name: string): Promise<LookupResult<SrvRecord>> { return this.lookup(name, 'SRV'); }
  lookupCAA(name: string): Promise<LookupResult<CaaRecord>> { return this.lookup(name, 'CAA'); }

  async lookupIP(name: string): Promise<LookupResult<string>> {
    // Both queries are needed (SPF `a`, MX hosts): if either fails the caller cannot know
    // the full address set, so the failure is reported rather than a partial answer.
    const [v6, v4] = await Promise.all([this.lookup(name, 'AAAA'), this.lookup(name, 'A')]);
    return {
      records: [...v6.records, ...v4.records],
      authentic: v6.authentic && v4.authentic,
      ttl: Math.min(v6.ttl, v4.ttl),
      name: v4.name,
      finalName: v4.finalName,
      cnames: v4.cnames,
    };
  }
}
