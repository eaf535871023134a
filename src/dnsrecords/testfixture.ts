// A config directory for the tests of this folder (and the real-DNS test): a host with
// certificate files, DKIM keys (RSA and ed25519), DMARC and TLS reporting, MTA-STS,
// autoconfig and ACME; and a MemoryResolver holding exactly the records of some specs.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config/index.ts';
import { MemoryResolver } from '../dns/index.ts';
import { generateDkimKey } from '../mailauth/index.ts';
import { makeSelfSigned } from '../tls/index.ts';
import { parse, txtText } from './presentation.ts';
import type { DnsRecordSpec } from './types.ts';

export interface RecordsFixture {
  dir: string;
  staticPath: string;
  config: Config;
  cleanup(): Promise<void>;
}

export async function recordsFixture(o: { domain?: string; resolver?: string } = {}): Promise<RecordsFixture> {
  const domain = o.domain ?? 'example.mcove';
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-dnsrecords-'));
  await mkdir(join(dir, 'dkim'));
  await writeFile(join(dir, 'dkim', '2026a.pem'), (await generateDkimKey('rsa', 2048)).privateKeyPEM);
  await writeFile(join(dir, 'dkim', '2026e.pem'), (await generateDkimKey('ed25519')).privateKeyPEM);
  const cert = await makeSelfSigned({ names: [`mail.${domain}`] });
  await writeFile(join(dir, 'mail.crt.pem'), cert.certPEM);
  await writeFile(join(dir, 'mail.key.pem'), cert.keyPEM);
  await writeFile(join(dir, 'mailcove.conf'), `hostname: mail.${domain}
dataDir: data
${o.resolver ? `resolver: ['${o.resolver}']\n` : ''}acme:
  letsencrypt:
    directoryURL: https://acme-v02.api.letsencrypt.org/directory
    contactEmail: admin@example.mcove
listeners:
  public:
    ips: [127.0.0.1, 192.0.2.10, '2001:db8::10', 10.1.2.3]
    tls:
      keyCerts:
        - certFile: mail.crt.pem
          keyFile: mail.key.pem
    smtp: {}
    submissions: {}
    imaps: {}
    autoconfigHTTPS: {}
    mtastsHTTPS: {}
  web:
    ips: [127.0.0.2]
    tls:
      acme: letsencrypt
    accountHTTPS: {}
`);
  await writeFile(join(dir, 'domains.conf'), `domains:
  ${domain}:
    dkim:
      selectors:
        2026a:
          privateKeyFile: dkim/2026a.pem
        2026e:
          privateKeyFile: dkim/2026e.pem
      sign: [2026a]
    dmarc:
      localpart: dmarc-reports
      account: mjl
      mailbox: DMARC
    tlsRpt:
      localpart: tls-reports
      account: mjl
      mailbox: TLSRPT
    mtaSts:
      policyID: 20260101T000000
      mode: enforce
accounts:
  mjl:
    domain: ${domain}
    destinations:
      mjl@${domain}: {}
`);
  const staticPath = join(dir, 'mailcove.conf');
  return { dir, staticPath, config: await loadConfig(staticPath), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A resolver that has each spec's record, as if the operator published them all. */
export function publishedResolver(specs: readonly DnsRecordSpec[]): MemoryResolver {
  const r = new MemoryResolver();
  for (const s of specs) publish(r, s);
  return r;
}

export function publish(r: MemoryResolver, s: Pick<DnsRecordSpec, 'name' | 'type' | 'value'>): MemoryResolver {
  if (s.type === 'TXT') return r.addTXT(s.name, txtText(s.value));
  if (s.type === 'MX') return r.add(s.name, 'MX', [parse.mx(s.value)]);
  if (s.type === 'SRV') return r.add(s.name, 'SRV', [parse.srv(s.value)]);
  if (s.type === 'CAA') return r.add(s.name, 'CAA', [parse.caa(s.value)]);
  if (s.type === 'TLSA') return r.add(s.name, 'TLSA', [parse.tlsa(s.value)]);
  if (s.type === 'CNAME') return r.add(s.name, 'CNAME', [parse.name(s.value)]);
  return r.add(s.name, s.type, [s.value]);
}
