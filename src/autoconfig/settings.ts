// What a mail client needs to reach this server, from the static config: the IMAP and
// submission endpoints (implicit TLS first, RFC 8314 §5.1), whether a challenge-response
// login is offered, and which host names and domains are ours (for the host checks).
import type { IncomingMessage } from 'node:http';
import { normalizeDomain, type Domain, type DomainsConfig, type StaticConfig } from '../config/index.ts';
import { normalizeName } from '../dns/index.ts';
import { offeredMechanisms } from '../sasl/index.ts';

/** Implicit TLS (RFC 8314 §3.2) or STARTTLS (RFC 3207 for SMTP, RFC 9051 §6.2.1 for IMAP). Never cleartext (RFC 8314 §4.1). */
export type Security = 'tls' | 'starttls';

export interface Endpoint {
  host: string; // A-labels, lowercase, no trailing dot
  port: number;
  security: Security;
}

export interface ClientSettings {
  imap: Endpoint[]; // preferred first: implicit TLS before STARTTLS (RFC 8314 §5.1)
  submission: Endpoint[]; // likewise
  cramMD5: boolean; // CRAM-MD5 (RFC 2195) is offered: what Thunderbird's "password-encrypted" and Apple's EmailAuthCRAMMD5 use, so the password is not sent
}

type Service = 'imaps' | 'imap' | 'submissions' | 'submission';

// Per protocol, the services in order of preference (RFC 8314 §5.1: implicit TLS first).
const imapServices: Array<[Service, Security]> = [['imaps', 'tls'], ['imap', 'starttls']];
const submissionServices: Array<[Service, Security]> = [['submissions', 'tls'], ['submission', 'starttls']];

/**
 * The endpoints of the first listener serving each service (RFC 6186 §3 SRV records name the
 * same). A listener without TLS is skipped: its IMAP or submission would be cleartext, which
 * we do not suggest (RFC 8314 §4.1).
 * todo: src/dnsrecords (serving) does not skip it, so its _imap/_submission SRV records can name
 * another listener than this; it should take its endpoints from here.
 */
export function clientSettings(st: StaticConfig): ClientSettings {
  const endpoints = (list: Array<[Service, Security]>): Endpoint[] => {
    const out: Endpoint[] = [];
    for (const [service, security] of list) {
      const l = Object.values(st.listeners).find((x) => x[service].enabled && x.tls !== undefined);
      if (l) out.push({ host: normalizeName(l.hostname ?? st.hostname), port: l[service].port, security });
    }
    return out;
  };
  // The mechanisms our IMAP and SMTP servers offer over TLS (src/sasl decides for both).
  const cramMD5 = offeredMechanisms({ tls: true, allowPlaintext: true, external: false }).includes('CRAM-MD5');
  return { imap: endpoints(imapServices), submission: endpoints(submissionServices), cramMD5 };
}

/** The host names this server answers as: its hostname and the listeners' (A-labels). */
export function serverHostnames(st: StaticConfig): Set<string> {
  return new Set([st.hostname, ...Object.values(st.listeners).flatMap((l) => (l.hostname ? [l.hostname] : []))].map((h) => normalizeName(h)));
}

/** The Host header's name without port or IPv6 brackets, lowercased, as src/http routes by it. */
export function requestHost(req: IncomingMessage): string {
  return (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export interface ConfiguredDomain {
  domain: string; // key in domains.conf: lowercase U-label
  ascii: string; // A-labels
  config: Domain;
}

/** The configured domain a name (A- or U-labels) is, or undefined. */
export function configuredDomain(domains: DomainsConfig, name: string): ConfiguredDomain | undefined {
  const n = normalizeDomain(name);
  if ('error' in n) return undefined;
  const config = Object.hasOwn(domains.domains, n.domain) ? domains.domains[n.domain] : undefined;
  return config ? { domain: n.domain, ascii: n.ascii, config } : undefined;
}

/** The configured domain below a prefix label: 'autoconfig.example.com' with prefix 'autoconfig.' is example.com. */
export function prefixedDomain(domains: DomainsConfig, host: string, prefix: string): ConfiguredDomain | undefined {
  return host.startsWith(prefix) ? configuredDomain(domains, host.slice(prefix.length)) : undefined;
}
