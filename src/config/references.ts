// Checks that zod cannot express: references between entries (an account's domain
// exists, an address belongs to one account or alias, DKIM sign names a selector...), and
// the normalisation of names into their canonical form. Issues carry the path as written.
import type { PathIssue } from './problems.ts';
import { catchallSeparators, type DomainsFile, type DomainsConfig, type Domain, type Account, type Alias } from './domains.ts';
import { tlsServices, type StaticConfig } from './static.ts';
import { normalizeDomain, parseAddress, canonicalLocalpart, localpartError, formatAddress } from './names.ts';

const dnsLabel = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/; // RFC 6376 §3.1: selectors are DNS labels (sub-domains)

export function checkDomains(f: DomainsFile): { issues: PathIssue[]; config: DomainsConfig } {
  const issues: PathIssue[] = [];
  const domains: Record<string, Domain> = {};
  const accounts: Record<string, Account> = {};
  const aliases: Record<string, Alias> = {};

  for (const [name, d] of Object.entries(f.domains)) {
    const n = normalizeDomain(name);
    if ('error' in n) {
      issues.push({ path: ['domains', name], message: n.error, keyNode: true });
      continue;
    }
    if (domains[n.domain]) issues.push({ path: ['domains', name], message: `domain ${JSON.stringify(n.domain)} configured twice`, keyNode: true });
    for (const sel of Object.keys(d.dkim?.selectors ?? {})) {
      if (!dnsLabel.test(sel) || sel.length > 63) issues.push({ path: ['domains', name, 'dkim', 'selectors', sel], message: 'selector must be a DNS label', keyNode: true });
    }
    d.dkim?.sign.forEach((sel, i) => {
      if (!d.dkim?.selectors[sel]) issues.push({ path: ['domains', name, 'dkim', 'sign', i], message: `DKIM selector ${JSON.stringify(sel)} not configured in domains.${name}.dkim.selectors` });
    });
    d.mtaSts?.mx.forEach((mx, i) => {
      const e = normalizeDomain(mx.startsWith('*.') ? mx.slice(2) : mx); // RFC 8461 §3.2: wildcard only as leftmost label
      if ('error' in e) issues.push({ path: ['domains', name, 'mtaSts', 'mx', i], message: e.error });
    });
    domains[n.domain] = d;
  }

  const domainOf = (name: string) => {
    const n = normalizeDomain(name);
    return 'error' in n ? undefined : domains[n.domain] ? n.domain : undefined;
  };
  // Every address once across accounts and aliases; remembers where it was first seen.
  const owner = new Map<string, string>();
  const claim = (address: string, path: (string | number)[], where: string) => {
    const prev = owner.get(address);
    if (prev) issues.push({ path, message: `address ${JSON.stringify(address)} already used by ${prev}`, keyNode: true });
    else owner.set(address, where);
  };

  for (const [name, a] of Object.entries(f.accounts)) {
    const accDomain = domainOf(a.domain);
    if (!accDomain) issues.push({ path: ['accounts', name, 'domain'], message: `domain ${JSON.stringify(a.domain)} not configured` });
    const destinations: Account['destinations'] = {};
    for (const [addr, dest] of Object.entries(a.destinations)) {
      const path = ['accounts', name, 'destinations', addr];
      const c = canonicalDestination(domains, accDomain, addr);
      if ('error' in c) {
        if (c.error) issues.push({ path, message: c.error, keyNode: true }); // '' when reported at accounts.<name>.domain
        continue;
      }
      const canonical = c.address;
      const sep = catchallSeparators(c.domain).find((x) => canonical.slice(0, canonical.lastIndexOf('@')).includes(x));
      if (sep) issues.push({ path, message: `localpart contains the catch-all separator ${JSON.stringify(sep)}; it could never be delivered to`, keyNode: true });
      claim(canonical, path, `account ${JSON.stringify(name)}`);
      destinations[canonical] = dest;
    }
    accounts[name] = { ...a, domain: accDomain ?? a.domain, destinations };
  }

  for (const [addr, al] of Object.entries(f.aliases)) {
    const path = ['aliases', addr];
    const c = addr.includes('@') ? canonicalDestination(domains, undefined, addr) : { error: 'an alias is a full address, localpart@domain' };
    if ('error' in c) { issues.push({ path, message: c.error, keyNode: true }); continue; }
    const canonical = c.address;
    if (canonical.startsWith('@')) { issues.push({ path, message: 'an alias needs a localpart; use a destination "@domain" for a catch-all', keyNode: true }); continue; }
    claim(canonical, path, `alias ${JSON.stringify(addr)}`);
    const members: string[] = [];
    al.members.forEach((m, i) => {
      const mc = m.includes('@') ? canonicalDestination(domains, undefined, m) : { error: 'not a full address' };
      if ('error' in mc) { issues.push({ path: ['aliases', addr, 'members', i], message: `member ${JSON.stringify(m)}: ${mc.error}` }); return; }
      // Members are local accounts: forwarding outside would break SPF/DMARC of the senders.
      const isAccount = !mc.address.startsWith('@') && Object.values(accounts).some((a) => a.destinations[mc.address] !== undefined);
      if (!isAccount) { issues.push({ path: ['aliases', addr, 'members', i], message: `member ${JSON.stringify(m)} is not an address of an account` }); return; }
      if (members.includes(mc.address)) { issues.push({ path: ['aliases', addr, 'members', i], message: `member ${JSON.stringify(m)} listed twice` }); return; }
      members.push(mc.address);
    });
    aliases[canonical] = { ...al, members };
  }

  for (const [name, d] of Object.entries(f.domains)) {
    for (const kind of ['dmarc', 'tlsRpt'] as const) {
      const r = d[kind];
      if (!r) continue;
      if (!accounts[r.account]) issues.push({ path: ['domains', name, kind, 'account'], message: `account ${JSON.stringify(r.account)} not configured` });
      const e = localpartError(r.localpart);
      if (e) issues.push({ path: ['domains', name, kind, 'localpart'], message: e });
    }
  }
  return { issues, config: { domains, accounts, aliases } };
}

/**
 * The canonical form of a destination key of an account: 'local@domain', a bare localpart
 * at the account's domain (as in mox), or '@domain' for a catch-all. The error is '' when
 * only the account's own domain is missing (reported once, at accounts.<name>.domain).
 */
export function canonicalDestination(domains: Record<string, Domain>, accountDomain: string | undefined, key: string): { address: string; domain: Domain } | { error: string } {
  if (!key.includes('@')) {
    const e = localpartError(key);
    if (e) return { error: e };
    const d = accountDomain === undefined ? undefined : domains[accountDomain];
    if (!d || accountDomain === undefined) return { error: '' };
    return { address: formatAddress({ localpart: canonicalLocalpart(key, d.localpartCaseSensitive), domain: accountDomain }), domain: d };
  }
  const p = parseAddress(key);
  if ('error' in p) return p;
  const d = domains[p.domain];
  if (!d) return { error: `domain ${JSON.stringify(p.domain)} not configured` };
  return { address: formatAddress({ localpart: canonicalLocalpart(p.localpart, d.localpartCaseSensitive), domain: p.domain }), domain: d };
}

/** Kind of traffic on a port: distinct kinds cannot share one; web services of one kind can. */
function portKind(service: string): string {
  if (service === 'metricsHTTP' || service.endsWith('HTTP')) return 'http';
  if (service.endsWith('HTTPS')) return 'https';
  return service;
}

export function checkStatic(s: StaticConfig): PathIssue[] {
  const issues: PathIssue[] = [];
  const h = normalizeDomain(s.hostname);
  if ('error' in h) issues.push({ path: ['hostname'], message: h.error });
  for (const [name, l] of Object.entries(s.listeners)) {
    if (l.hostname !== undefined) {
      const lh = normalizeDomain(l.hostname);
      if ('error' in lh) issues.push({ path: ['listeners', name, 'hostname'], message: lh.error });
    }
    if (l.tls?.acme !== undefined && !s.acme[l.tls.acme]) issues.push({ path: ['listeners', name, 'tls', 'acme'], message: `ACME provider ${JSON.stringify(l.tls.acme)} not configured in acme` });
    const byPort = new Map<number, { kind: string; service: string }>();
    for (const [service, v] of Object.entries(l)) {
      if (typeof v !== 'object' || v === null || !('enabled' in v) || !v.enabled) continue;
      if ((tlsServices as readonly string[]).includes(service) && !l.tls) issues.push({ path: ['listeners', name, service], message: `${service} needs tls on the listener`, keyNode: true });
      const kind = portKind(service);
      const prev = byPort.get(v.port);
      if (prev && (prev.kind !== kind || (kind !== 'http' && kind !== 'https'))) issues.push({ path: ['listeners', name, service, 'port'], message: `port ${v.port} already used by ${prev.service}` });
      else if (!prev) byPort.set(v.port, { kind, service });
    }
  }
  s.routes.forEach((r, i) => {
    if (!s.transports[r.transport]) issues.push({ path: ['routes', i, 'transport'], message: `transport ${JSON.stringify(r.transport)} not configured in transports` });
  });
  return issues;
}
