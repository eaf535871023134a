// Our resolver (src/dns) in the shape `mailauth` asks for: node:dns-style results and
// error codes. It also remembers which answers were DNSSEC-authentic, so that
// Authentication-Results can say which results rest on validated DNS.
import { isDnsError, type Resolver } from '../dns/index.ts';

type Answer = string[] | string[][] | Array<{ exchange: string; priority: number }>;

/** node:dns error codes for our error kinds (what mailauth's SPF/DKIM code tests for). */
const codes: Record<string, string> = { nxdomain: 'ENOTFOUND', servfail: 'ESERVFAIL', refused: 'EREFUSED', timeout: 'ETIMEOUT', malformed: 'EBADRESP', notconfigured: 'ECONNREFUSED', badname: 'EBADNAME' };

export function resolverAdapter(r: Resolver): { resolve: (name: string, type: string) => Promise<Answer>; authentic: (name: string, type: string) => boolean } {
  const seen = new Map<string, boolean>();
  const key = (name: string, type: string) => `${name.toLowerCase().replace(/\.$/, '')}/${type}`;
  async function resolve(name: string, type: string): Promise<Answer> {
    try {
      let out: Answer;
      let authentic: boolean;
      switch (type) {
        case 'TXT': { const x = await r.lookupTXT(name); authentic = x.authentic; out = x.records.map((t) => t.strings.map((s) => s.toString('utf8'))); break; }
        case 'MX': { const x = await r.lookupMX(name); authentic = x.authentic; out = x.records.map((m) => ({ exchange: m.exchange, priority: m.preference })); break; }
        case 'A': { const x = await r.lookupA(name); authentic = x.authentic; out = x.records; break; }
        case 'AAAA': { const x = await r.lookupAAAA(name); authentic = x.authentic; out = x.records; break; }
        case 'PTR': { const x = await r.lookup(name, 'PTR'); authentic = x.authentic; out = x.records; break; }
        case 'CNAME': { const x = await r.lookupCNAME(name); authentic = x.authentic; out = x.records; break; }
        default: throw Object.assign(new Error(`unsupported type ${type}`), { code: 'ENOTIMP' });
      }
      seen.set(key(name, type), authentic);
      if (out.length === 0) throw Object.assign(new Error(`no ${type} records for ${name}`), { code: 'ENODATA' }); // node:dns reports NODATA as an error
      return out;
    } catch (e) {
      if (isDnsError(e)) throw Object.assign(new Error(e.message), { code: codes[e.kind] ?? 'ESERVFAIL' });
      throw e;
    }
  }
  return { resolve, authentic: (name, type) => seen.get(key(name, type)) ?? false };
}
