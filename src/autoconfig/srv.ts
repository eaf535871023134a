// SRV record suggestions for mail clients (RFC 6186 §3, implicit TLS first per RFC 8314
// §5.1) and the autodiscover SRV: taken from the records src/dnsrecords computes for the
// domain, so the list an operator publishes and this one cannot differ.
import type { DomainsConfig, StaticConfig } from '../config/index.ts';
import { requiredRecords, type DnsRecordSpec } from '../dnsrecords/index.ts';

/**
 * The SRV records of a domain: _submissions._tcp, _submission._tcp, _imaps._tcp, _imap._tcp
 * (target "." for a service not offered, RFC 6186 §3, RFC 2782), the POP3 ones (not offered)
 * and _autodiscover._tcp. Throws DnsRecordsError for a domain not in domains.conf.
 */
export async function clientSrvRecords(o: { domain: string; domains: DomainsConfig; static: StaticConfig }): Promise<DnsRecordSpec[]> {
  const d = o.domains.domains[o.domain];
  let config = o.domains;
  if (d) {
    // Without the DKIM selectors requiredRecords reads no key files; the SRV records do not depend on them.
    const { dkim: _dkim, ...withoutDkim } = d;
    config = { ...o.domains, domains: { ...o.domains.domains, [o.domain]: withoutDkim } };
  }
  const records = await requiredRecords({ domain: o.domain, config, static: o.static, configDir: '' });
  return records.filter((r) => r.type === 'SRV');
}
