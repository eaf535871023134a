// The host names a provider gets certificates for, from the config: the host name of each
// listener whose TLS uses the provider, and per domain autoconfig.<domain> and
// mta-sts.<domain> when such a listener serves autoconfig or MTA-STS over HTTPS.
import { domainToASCII } from 'node:url';
import type { DomainsConfig, StaticConfig } from '../config/index.ts';
import { isAcmeHostname } from './files.ts';

/** A host name as certificates and the data directory name it: lowercase A-labels, no trailing dot; undefined when it is none. */
export function acmeName(name: string): string | undefined {
  const ascii = domainToASCII(name.replace(/\.$/, '')).toLowerCase(); // RFC 5890 §2.3.2.1: A-labels in certificates (RFC 5280 §7.2)
  return isAcmeHostname(ascii) ? ascii : undefined;
}

export function acmeHostnames(st: StaticConfig, domains: DomainsConfig, provider: string): string[] {
  const names = new Set<string>();
  const add = (n: string) => {
    const a = acmeName(n);
    if (a) names.add(a);
  };
  const listeners = Object.values(st.listeners).filter((l) => l.tls?.acme === provider);
  for (const l of listeners) add(l.hostname ?? st.hostname);
  const autoconfig = listeners.some((l) => l.autoconfigHTTPS.enabled);
  const mtasts = listeners.some((l) => l.mtastsHTTPS.enabled);
  for (const [domain, d] of Object.entries(domains.domains)) {
    if (autoconfig) add(`autoconfig.${domain}`); // Thunderbird's autoconfig host
    if (mtasts && d.mtaSts) add(`mta-sts.${domain}`); // RFC 8461 §3.3: the policy host needs a valid certificate
  }
  return [...names];
}
