// The DNS records a domain needs, derived from the config alone: MX, SPF, DKIM, DMARC,
// TLSRPT, MTA-STS, autoconfig and SRV (RFC 6186), CAA and TLSA. Keys and certificates are
// read from the files the config names; nothing here queries the DNS.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BlockList, isIPv6 } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { normalizeDomain, type DomainsConfig, type Listener, type StaticConfig } from '../config/index.ts';
import { normalizeName } from '../dns/index.ts';
import { dkimRecordForKey } from '../mailauth/index.ts';
import { hostKeySpki, registeredAccountURL } from '../acme/index.ts';
import { absolute, txtValue } from './presentation.ts';
import { DnsRecordsError, type DnsRecordSpec } from './types.ts';

export interface RequiredRecordsInput {
  domain: string; // key in domains.conf: lowercase U-label
  config: DomainsConfig;
  static: StaticConfig;
  configDir: string; // relative file names in the config are relative to this
  tlsaSpki?: Buffer[]; // DER SubjectPublicKeyInfo of the host's SMTP certificate keys (see hostKeySpkis)
  acmeAccounts?: Record<string, string>; // ACME account URL by provider name, when registered (CAA accounturi)
}

const MX_PREFERENCE = 10;

// Addresses never published for the host: a listener on them is not what the internet reaches.
const unpublished = new BlockList();
unpublished.addSubnet('0.0.0.0', 8, 'ipv4'); // RFC 791 "this network", incl. unspecified
unpublished.addSubnet('10.0.0.0', 8, 'ipv4'); // RFC 1918
unpublished.addSubnet('100.64.0.0', 10, 'ipv4'); // RFC 6598 shared address space (CGNAT)
unpublished.addSubnet('127.0.0.0', 8, 'ipv4'); // RFC 1122 loopback
unpublished.addSubnet('169.254.0.0', 16, 'ipv4'); // RFC 3927 link-local
unpublished.addSubnet('172.16.0.0', 12, 'ipv4'); // RFC 1918
unpublished.addSubnet('192.168.0.0', 16, 'ipv4'); // RFC 1918
unpublished.addAddress('::', 'ipv6'); // unspecified
unpublished.addAddress('::1', 'ipv6'); // loopback
unpublished.addSubnet('fc00::', 7, 'ipv6'); // RFC 4193 unique local
unpublished.addSubnet('fe80::', 10, 'ipv6'); // RFC 4291 link-local

// ACME directory hosts and the CAA issuer domain their CA checks (RFC 8659 §4.2). A
// provider not listed gets no CAA record: a guessed issuer would block issuance.
const caaIssuers: Array<[RegExp, string]> = [
  [/(^|\.)letsencrypt\.org$/, 'letsencrypt.org'],
  [/(^|\.)buypass\.com$/, 'buypass.com'],
  [/(^|\.)zerossl\.com$/, 'sectigo.com'],
  [/(^|\.)pki\.goog$/, 'pki.goog'],
];

/** A reporting address as a mailto: URI for DMARC rua (RFC 7489 §6.4) and TLSRPT rua (RFC 8460 §3). */
function mailto(localpart: string, asciiDomain: string): string {
  // RFC 6068 §2: percent-encode outside a safe set; ',' and '!' must be encoded in DMARC URIs (RFC 7489 §6.2).
  const lp = [...Buffer.from(localpart, 'utf8')].map((c) => (/[A-Za-z0-9._~+-]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `%${c.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  return `mailto:${lp}@${asciiDomain}`;
}

function enabled(l: Listener, service: 'smtp' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'autoconfigHTTPS'): boolean {
  return l[service].enabled;
}

/** The first listener serving a service, with the host name it serves under. */
function serving(st: StaticConfig, service: Parameters<typeof enabled>[1]): { host: string; port: number } | undefined {
  for (const l of Object.values(st.listeners)) if (enabled(l, service)) return { host: normalizeName(l.hostname ?? st.hostname), port: l[service].port };
  return undefined;
}

/** The DKIM TXT value of a selector's key file. */
async function dkimValue(configDir: string, file: string): Promise<string> {
  const path = isAbsolute(file) ? file : join(configDir, file);
  try {
    return dkimRecordForKey(await readFile(path, 'utf8'));
  } catch (e) {
    throw new DnsRecordsError(`DKIM key ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Every record the domain needs, in the order an operator would create them. */
export async function requiredRecords(o: RequiredRecordsInput): Promise<DnsRecordSpec[]> {
  const d = o.config.domains[o.domain];
  if (!d) throw new DnsRecordsError(`no domain ${JSON.stringify(o.domain)} in domains.conf`);
  const dom = normalizeName(o.domain); // A-labels
  const host = normalizeName(o.static.hostname);
  const specs: DnsRecordSpec[] = [];
  const add = (name: string, type: DnsRecordSpec['type'], value: string, match: DnsRecordSpec['match'], purpose: string) => specs.push({ name, type, value, match, purpose });

  add(dom, 'MX', `${MX_PREFERENCE} ${absolute(host)}`, 'mx', `MX: incoming mail for ${dom} is delivered to ${host} (RFC 5321 §5.1)`);
  const ips = new Set(Object.values(o.static.listeners).filter((l) => l.smtp.enabled && normalizeName(l.hostname ?? o.static.hostname) === host).flatMap((l) => l.ips));
  for (const ip of ips) {
    const v6 = isIPv6(ip);
    if (unpublished.check(ip, v6 ? 'ipv6' : 'ipv4')) continue;
    add(host, v6 ? 'AAAA' : 'A', ip, 'address', `Address of the mail host, from the listener config (RFC 5321 §5.1: the MX target needs A/AAAA)`);
  }

  // SPF: ~all for the domain, because DMARC p=reject below already makes receivers reject
  // unaligned mail, while -all makes some receivers reject forwarded mail at SMTP time,
  // before DKIM could have saved it via DMARC (RFC 7489 §10.1). The host name only sends
  // its own DSNs and is never forwarded, so it can be strict (RFC 7208 §2.3 HELO identity).
  add(dom, 'TXT', txtValue('v=spf1 mx ~all'), 'spf', `SPF: the domain's MX hosts send its mail; softfail otherwise, DMARC enforces (RFC 7208, RFC 7489 §10.1)`);
  if (host !== dom) add(host, 'TXT', txtValue('v=spf1 a -all'), 'spf', `SPF for the host name: EHLO and DSNs of ${host} come from its own address (RFC 7208 §2.3)`);

  for (const [selector, sel] of Object.entries(d.dkim?.selectors ?? {})) {
    add(`${selector.toLowerCase()}._domainkey.${dom}`, 'TXT', txtValue(await dkimValue(o.configDir, sel.privateKeyFile)), 'dkim', `DKIM selector ${selector}${d.dkim?.sign.includes(selector) ? ', signing' : ', not signing (kept for rotation)'} (RFC 6376 §3.6.2)`);
  }

  const rua = d.dmarc ? `; rua=${mailto(d.dmarc.localpart, dom)}` : '';
  add(`_dmarc.${dom}`, 'TXT', txtValue(`v=DMARC1; p=reject${rua}`), 'dmarc', `DMARC: reject mail whose From is this domain without aligned SPF/DKIM${rua ? ', aggregate reports to the DMARC address' : ''} (RFC 7489 §6.3)`);

  if (d.tlsRpt) add(`_smtp._tls.${dom}`, 'TXT', txtValue(`v=TLSRPTv1; rua=${mailto(d.tlsRpt.localpart, dom)}`), 'tlsrpt', `TLSRPT: senders report TLS failures (MTA-STS) for this domain (RFC 8460 §3)`);
  // The host's TLSRPT record is shared by all domains: it takes the first domain in
  // domains.conf with TLS reporting, so every domain's list asks for the same record.
  const reporting = Object.entries(o.config.domains).find(([, x]) => x.tlsRpt);
  if (reporting && host !== dom) add(`_smtp._tls.${host}`, 'TXT', txtValue(`v=TLSRPTv1; rua=${mailto(reporting[1].tlsRpt!.localpart, normalizeName(reporting[0]))}`), 'tlsrpt', `TLSRPT for the host name: senders report DANE failures of ${host} (RFC 8460 §3)`);

  if (d.mtaSts) {
    add(`_mta-sts.${dom}`, 'TXT', txtValue(`v=STSv1; id=${d.mtaSts.policyID}`), 'mtasts', `MTA-STS: a policy (mode ${d.mtaSts.mode}) is at https://mta-sts.${dom}/.well-known/mta-sts.txt; change id when it changes (RFC 8461 §3.1)`);
    add(`mta-sts.${dom}`, 'CNAME', absolute(host), 'cname', `MTA-STS policy host, served by this server (RFC 8461 §3.3)`);
  }

  const autoconfig = serving(o.static, 'autoconfigHTTPS');
  if (autoconfig) {
    add(`autoconfig.${dom}`, 'CNAME', absolute(autoconfig.host), 'cname', `Autoconfig for Thunderbird and others at https://autoconfig.${dom}/mail/config-v1.1.xml`);
    add(`_autodiscover._tcp.${dom}`, 'SRV', `0 1 ${autoconfig.port} ${absolute(autoconfig.host)}`, 'srv', 'Autodiscover for Microsoft clients (MS-OXDSCLI §3.1.5.2)'); // the SRV target must not be a CNAME (RFC 2782), so the host, not autoconfig.<domain>
  }

  // RFC 6186 §3: where clients submit and read mail. Implicit TLS sorts before STARTTLS
  // (RFC 6186 §3.4, RFC 8314 §5.1); a service we do not offer gets target "." so clients
  // do not try it (RFC 2782: "decidedly not available").
  const srvs: Array<[string, Parameters<typeof enabled>[1] | undefined, number, string, string]> = [
    ['_submissions._tcp', 'submissions', 0, 'Message submission over implicit TLS', 'RFC 6186 §3.1, RFC 8314 §5.1'],
    ['_submission._tcp', 'submission', 10, 'Message submission with STARTTLS', 'RFC 6186 §3.1'],
    ['_imaps._tcp', 'imaps', 0, 'IMAP over implicit TLS', 'RFC 6186 §3.2, RFC 8314 §5.1'],
    ['_imap._tcp', 'imap', 10, 'IMAP with STARTTLS', 'RFC 6186 §3.2'],
    ['_pop3s._tcp', undefined, 0, 'POP3 over implicit TLS', 'RFC 6186 §3.3'],
    ['_pop3._tcp', undefined, 0, 'POP3', 'RFC 6186 §3.3'],
  ];
  for (const [label, service, priority, what, rfc] of srvs) {
    const s = service ? serving(o.static, service) : undefined;
    if (s) add(`${label}.${dom}`, 'SRV', `${priority} 1 ${s.port} ${absolute(s.host)}`, 'srv', `SRV: ${what} (${rfc})`);
    else add(`${label}.${dom}`, 'SRV', '0 0 0 .', 'srv', `SRV: ${what} is not offered: target "." (${rfc}, RFC 2782)`);
  }

  // CAA: the CA of each ACME provider, bound to our ACME account when it is registered (RFC 8657 §3).
  const issuers = new Map<string, string>();
  for (const l of Object.values(o.static.listeners)) {
    const provider = l.tls?.acme !== undefined ? o.static.acme[l.tls.acme] : undefined;
    if (!provider) continue;
    const directoryHost = new URL(provider.directoryURL).hostname.toLowerCase();
    const issuer = caaIssuers.find(([re]) => re.test(directoryHost))?.[1];
    const account = o.acmeAccounts?.[l.tls!.acme!];
    if (issuer) issuers.set(`${issuer}${account ? `; accounturi=${account}` : ''}`, issuer);
  }
  for (const [value, issuer] of issuers) add(dom, 'CAA', `0 issue "${value}"`, 'caa', `CAA: ${issuer} may issue certificates for the domain and its names${value.includes('accounturi') ? ', for our ACME account only (RFC 8657 §3)' : ''} (RFC 8659 §4.2)`);

  for (const spki of o.tlsaSpki ?? []) {
    add(`_25._tcp.${host}`, 'TLSA', `3 1 1 ${createHash('sha256').update(spki).digest('hex')}`, 'tlsa', 'DANE for incoming SMTP: DANE-EE, SHA-256 of the key of the host certificate (RFC 7672 §3.1.1, RFC 6698)');
  }
  return specs;
}

/**
 * DER SubjectPublicKeyInfo of the keys the host's SMTP listeners present for its name:
 * from keyCerts files (the certificate matching the host name, else the first, as SNI
 * chooses), and the kept self-signed certificate once the server made it. Deduplicated.
 */
export async function hostKeySpkis(o: { static: StaticConfig; configDir: string; dataDir: string }): Promise<Buffer[]> {
  const host = normalizeName(o.static.hostname);
  const out = new Map<string, Buffer>();
  for (const l of Object.values(o.static.listeners)) {
    if (!l.smtp.enabled || !l.tls || normalizeName(l.hostname ?? o.static.hostname) !== host) continue;
    let certs: X509Certificate[] = [];
    if (l.tls.keyCerts) {
      for (const kc of l.tls.keyCerts) {
        const path = isAbsolute(kc.certFile) ? kc.certFile : join(o.configDir, kc.certFile);
        try {
          certs.push(new X509Certificate(await readFile(path)));
        } catch (e) {
          throw new DnsRecordsError(`certificate ${path}: ${(e as Error).message}`, { cause: e });
        }
      }
      const forHost = certs.find((c) => c.checkHost(host) !== undefined) ?? certs[0];
      certs = forHost ? [forHost] : [];
    } else if (l.tls.selfSigned) {
      try {
        certs = [new X509Certificate(await readFile(join(o.dataDir, 'tls', `selfsigned-${o.static.hostname.toLowerCase()}.crt.pem`)))]; // as src/tls/listener.ts keeps it
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DnsRecordsError(`self-signed certificate: ${(e as Error).message}`, { cause: e });
      }
    } else if (l.tls.acme !== undefined) {
      // ACME certificates keep one key per host across renewals, so the TLSA record stays valid (RFC 7671 §8.1).
      const spki = await hostKeySpki({ dataDir: o.dataDir, provider: l.tls.acme, name: host });
      out.set(spki.toString('hex'), spki);
    }
    for (const c of certs) {
      const spki = c.publicKey.export({ type: 'spki', format: 'der' });
      out.set(spki.toString('hex'), spki);
    }
  }
  return [...out.values()];
}

/**
 * The records of a configured domain, by any spelling of its name (U-label, A-label, any
 * case): what `config dnsrecords`, `config dnscheck`, quickstart and the admin page show.
 * TLSA records come from the host's SMTP certificate keys.
 */
export async function domainRecords(o: { static: StaticConfig; configDir: string; dataDir: string; domains: DomainsConfig; name: string; tlsa?: boolean }): Promise<{ domain: string; ascii: string; specs: DnsRecordSpec[] }> {
  const n = normalizeDomain(o.name);
  if ('error' in n) throw new DnsRecordsError(n.error);
  if (!o.domains.domains[n.domain]) throw new DnsRecordsError(`no domain ${JSON.stringify(o.name)} in domains.conf`);
  const tlsaSpki = o.tlsa === false ? [] : await hostKeySpkis(o); // tlsa false: certificate files that do not exist yet
  const acmeAccounts: Record<string, string> = {};
  for (const provider of Object.keys(o.static.acme)) {
    const url = await registeredAccountURL(o.dataDir, provider);
    if (url) acmeAccounts[provider] = url;
  }
  return { domain: n.domain, ascii: n.ascii, specs: await requiredRecords({ domain: n.domain, config: o.domains, static: o.static, configDir: o.configDir, tlsaSpki, acmeAccounts }) };
}
