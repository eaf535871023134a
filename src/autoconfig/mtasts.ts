// The MTA-STS policy of a domain (RFC 8461 §3.2), served at
// https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3) for domains whose
// domains.conf entry has mtaSts. The _mta-sts TXT record announcing it comes from src/dnsrecords.
import type { Domain, StaticConfig } from '../config/index.ts';
import { normalizeName } from '../dns/index.ts';
import { notFound, type Reply } from './reply.ts';
import type { AutoconfigSources } from './request.ts';
import { prefixedDomain } from './settings.ts';

/**
 * The policy text: version, mode, the mx patterns (our host name, the MX target src/dnsrecords
 * publishes, then the configured extra patterns) and max_age, as CRLF-separated
 * "key: value" lines (RFC 8461 §3.2).
 */
export function mtaStsPolicy(st: StaticConfig, mtaSts: NonNullable<Domain['mtaSts']>): string {
  const mx = [...new Set([normalizeName(st.hostname), ...mtaSts.mx.map((p) => p.toLowerCase())])]; // RFC 8461 §3.2: mx may repeat, one pattern per line
  const lines = [
    'version: STSv1', // RFC 8461 §3.2: first field
    `mode: ${mtaSts.mode}`, // RFC 8461 §5
    ...mx.map((p) => `mx: ${p}`),
    `max_age: ${mtaSts.maxAgeSeconds}`, // seconds, at most 31557600 (the config schema keeps it so)
  ];
  return lines.map((l) => `${l}\r\n`).join('');
}

/** The policy for a request on `host` (mta-sts.<domain>), or 404. */
export function mtaStsReply(o: AutoconfigSources, host: string): Reply {
  const d = prefixedDomain(o.domains(), host, 'mta-sts.'); // RFC 8461 §3.3: the policy host
  if (!d?.config.mtaSts) return notFound();
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: mtaStsPolicy(o.static(), d.config.mtaSts) }; // RFC 8461 §3.3: media type text/plain
}
