// Admin methods for domains: list, add, remove, settings (sub-addressing separators,
// description), the catch-all address, DKIM selectors with key generation, the DNS
// records a domain needs and the live check of them. Edits go through src/config's edit
// functions, as the CLI's do; DNS records come from src/dnsrecords.
import { dirname } from 'node:path';
import { z } from 'zod';
import { addAddress, addDkimKey, addDomain, domainOf, catchallSeparators, normalizeDomain, removeAddress, removeDomain, setDomainSettings, type Domain, type DomainsConfig } from '../config/index.ts';
import { checkRecords, domainRecords, zoneLines, type DnsRecordSpec, type RecordCheck } from '../dnsrecords/index.ts';
import { ApiError } from '../http/index.ts';
import { generateDkimKey } from '../mailauth/index.ts';
import { adminMethod, type AdminSurfaceDeps } from './method.ts';

const domainName = z.string().trim().min(1).max(253);
const separators = z.array(z.string().min(1).max(8)).max(10); // RFC 5233 separators are single characters in practice

export interface DomainSummary {
  name: string; // lowercase U-label, the key in domains.conf
  ascii: string; // A-label form, as in DNS
  description: string;
  separators: string[]; // sub-addressing (RFC 5233); [] when off
  accounts: number; // accounts with this as their domain
  addresses: number; // account addresses at the domain, the catch-all included
  aliases: number;
  dkimSelectors: number;
  catchall?: string; // the account receiving mail for unknown localparts
}

export interface DomainDetail extends DomainSummary {
  localpartCaseSensitive: boolean;
  dkim: Array<{ selector: string; privateKeyFile: string; hash: string; canonicalization: string; signing: boolean }>;
  addressList: Array<{ address: string; account?: string; alias?: string }>;
  dmarc?: { localpart: string; account: string; mailbox: string };
  tlsRpt?: { localpart: string; account: string; mailbox: string };
  mtaSts?: { policyID: string; mode: string };
}


function known(c: DomainsConfig, name: string): { name: string; ascii: string; domain: Domain } {
  const n = normalizeDomain(name);
  if ('error' in n) throw new ApiError('user:error', n.error);
  const domain = c.domains[n.domain];
  if (!domain) throw new ApiError('user:error', `no domain ${JSON.stringify(name)}`);
  return { name: n.domain, ascii: n.ascii, domain };
}

function summary(c: DomainsConfig, name: string, d: Domain): DomainSummary {
  const n = normalizeDomain(name);
  const accounts = Object.values(c.accounts);
  const catchall = Object.entries(c.accounts).find(([, a]) => a.destinations[`@${name}`] !== undefined)?.[0];
  return {
    name,
    ascii: 'ascii' in n ? n.ascii : name,
    description: d.description ?? '',
    separators: catchallSeparators(d),
    accounts: accounts.filter((a) => a.domain === name).length,
    addresses: accounts.reduce((sum, a) => sum + Object.keys(a.destinations).filter((x) => domainOf(x) === name).length, 0),
    aliases: Object.keys(c.aliases).filter((x) => domainOf(x) === name).length,
    dkimSelectors: Object.keys(d.dkim?.selectors ?? {}).length,
    ...(catchall !== undefined ? { catchall } : {}),
  };
}

/** The records a domain needs, from the live config (TLSA from the host's SMTP certificate keys). */
async function recordsOf(d: AdminSurfaceDeps, name: string): Promise<{ ascii: string; specs: DnsRecordSpec[] }> {
  const k = known(d.domains(), name);
  return domainRecords({ static: d.config.static, configDir: dirname(d.config.paths.static), dataDir: d.config.paths.dataDir, domains: d.domains(), name: k.name });
}

async function generateDkim(d: AdminSurfaceDeps, domain: string, selector: string, kind: 'rsa' | 'ed25519', sign: boolean): Promise<{ file: string; record: string }> {
  const k = known(d.domains(), domain);
  const key = await generateDkimKey(kind, 2048); // RFC 8301 §3.2: RSA of at least 1024 bits; 2048 is what receivers expect
  const { file } = await addDkimKey(d.config, k.name, selector, kind, key.privateKeyPEM, sign); // refusals are ConfigErrors: user errors
  return { file, record: key.dnsRecord };
}

export function domainMethods(d: AdminSurfaceDeps) {
  return {
    domains: adminMethod(z.object({}), (): DomainSummary[] => {
      const c = d.domains();
      return Object.entries(c.domains).map(([name, dom]) => summary(c, name, dom)).sort((a, b) => a.name.localeCompare(b.name));
    }),

    domain: adminMethod(z.object({ name: domainName }), ({ name }): DomainDetail => {
      const c = d.domains();
      const k = known(c, name);
      const dom = k.domain;
      const addressList: DomainDetail['addressList'] = [];
      for (const [account, a] of Object.entries(c.accounts)) for (const address of Object.keys(a.destinations)) if (domainOf(address) === k.name) addressList.push({ address, account });
      for (const address of Object.keys(c.aliases)) if (domainOf(address) === k.name) addressList.push({ address, alias: address });
      addressList.sort((a, b) => a.address.localeCompare(b.address));
      const sign = dom.dkim?.sign ?? [];
      return {
        ...summary(c, k.name, dom),
        localpartCaseSensitive: dom.localpartCaseSensitive,
        dkim: Object.entries(dom.dkim?.selectors ?? {}).map(([selector, s]) => ({ selector, privateKeyFile: s.privateKeyFile, hash: s.hash, canonicalization: s.canonicalization, signing: sign.includes(selector) })),
        addressList,
        ...(dom.dmarc ? { dmarc: dom.dmarc } : {}),
        ...(dom.tlsRpt ? { tlsRpt: dom.tlsRpt } : {}),
        ...(dom.mtaSts ? { mtaSts: { policyID: dom.mtaSts.policyID, mode: dom.mtaSts.mode } } : {}),
      };
    }),

    domainAdd: adminMethod(z.object({ name: domainName, description: z.string().max(1000).optional(), separators: separators.optional() }), async ({ name, description, separators: sep }) => {
      await addDomain(d.config, name, { description, localpartCatchallSeparator: sep });
      const n = normalizeDomain(name);
      return { name: 'domain' in n ? n.domain : name }; // as stored: the lowercase U-label
    }),

    domainRemove: adminMethod(z.object({ name: domainName }), async ({ name }) => {
      await removeDomain(d.config, name);
      return {};
    }),

    /** Absent fields stay; description '' and separators [] remove the setting (separators back to the default '+'). */
    domainSettings: adminMethod(z.object({ name: domainName, description: z.string().max(1000).optional(), separators: separators.optional() }), async ({ name, description, separators: sep }) => {
      await setDomainSettings(d.config, name, { description, localpartCatchallSeparator: sep === undefined ? undefined : sep.length ? sep : null });
      return {};
    }),

    /** The catch-all is the address '@domain' of an account (domains.conf destinations). */
    domainCatchallSet: adminMethod(z.object({ domain: domainName, account: z.string().min(1).max(64) }), async ({ domain, account }) => {
      const k = known(d.domains(), domain);
      await addAddress(d.config, account, `@${k.name}`);
      return {};
    }),

    domainCatchallRemove: adminMethod(z.object({ domain: domainName }), async ({ domain }) => {
      const k = known(d.domains(), domain);
      await removeAddress(d.config, `@${k.name}`);
      return {};
    }),

    /** A new key (RSA 2048 or ed25519, RFC 8463) under a new selector; signing with it starts at once when sign is set. */
    dkimGenerate: adminMethod(
      z.object({
        domain: domainName,
        selector: z.string().min(1).max(63), // its syntax (RFC 6376 §3.1) is checked by addDkimKey
        kind: z.enum(['rsa', 'ed25519']),
        sign: z.boolean(),
      }),
      async ({ domain, selector, kind, sign }) => generateDkim(d, domain, selector, kind, sign),
    ),

    /** The records to publish: zone-file lines to copy and each record with its purpose. */
    dnsRecords: adminMethod(z.object({ domain: domainName }), async ({ domain }): Promise<{ domain: string; hostname: string; zone: string; records: DnsRecordSpec[] }> => {
      const { ascii, specs } = await recordsOf(d, domain);
      return { domain: ascii, hostname: d.config.static.hostname, zone: [`; DNS records for ${ascii}, mail host ${d.config.static.hostname}`, ...zoneLines(specs), ''].join('\n'), records: specs };
    }),

    /** Looks each record up now: correct, missing, wrong (message says what is expected) or error (the DNS did not answer). */
    dnsCheck: adminMethod(z.object({ domain: domainName }), async ({ domain }): Promise<{ domain: string; results: RecordCheck[] }> => {
      const { ascii, specs } = await recordsOf(d, domain);
      return { domain: ascii, results: await checkRecords(d.resolver, specs) };
    }),
  };
}
