// The edits of domains.conf that the CLI and the admin page make: domains, accounts,
// addresses, aliases and their members, DKIM selectors. Each checks what it can name
// precisely (unknown domain, address in use, last address...) and refuses with that;
// editDomains (write.ts) then validates the whole file as loading does and writes it.
// New entries are written in canonical form (U-label domain, canonical localpart).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isMap, isScalar, isSeq, type Document, type YAMLMap } from 'yaml';
import { parseDomains, type Config } from './load.ts';
import { ConfigError } from './problems.ts';
import type { DomainsConfig } from './domains.ts';
import { editDomains, refuse, section, findKey } from './write.ts';
import { normalizeDomain } from './names.ts';
import { canonicalDestination } from './references.ts';

/** Who has a canonical address: `account "mjl"` or `alias "team@example.com"`; undefined when free. */
function ownerOf(cur: DomainsConfig, address: string): string | undefined {
  if (cur.aliases[address]) return `alias ${JSON.stringify(address)}`;
  const account = Object.entries(cur.accounts).find(([, a]) => a.destinations[address] !== undefined)?.[0];
  return account === undefined ? undefined : `account ${JSON.stringify(account)}`;
}

/** The domain of a canonical address ('local@domain' or '@domain'). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** The canonical form of a domain that must be configured. */
function configuredDomain(cfg: Config, cur: DomainsConfig, name: string): string {
  const n = normalizeDomain(name);
  if ('error' in n) refuse(cfg.paths.domains, `domains.${name}`, n.error);
  if (!cur.domains[n.domain]) refuse(cfg.paths.domains, `domains.${name}`, `no domain ${JSON.stringify(name)}`);
  return n.domain;
}

/** The key of a configured domain as written in the file (A-label, other case...). */
function domainKey(doc: Document.Parsed, domain: string): string | undefined {
  return findKey(doc.get('domains', true), (k) => {
    const c = normalizeDomain(k);
    return 'domain' in c && c.domain === domain;
  });
}

/** The canonical full address of an alias or member: 'local@domain' at a configured domain. */
function fullAddress(cfg: Config, cur: DomainsConfig, address: string, key: string, what: string): string {
  if (!address.includes('@')) refuse(cfg.paths.domains, key, `${what} ${JSON.stringify(address)}: not a full address, localpart@domain`);
  const c = canonicalDestination(cur.domains, undefined, address);
  if ('error' in c) refuse(cfg.paths.domains, key, `${what} ${JSON.stringify(address)}: ${c.error}`);
  if (c.address.startsWith('@')) refuse(cfg.paths.domains, key, `${what} ${JSON.stringify(address)}: needs a localpart; use an account address "@domain" for a catch-all`);
  return c.address;
}

/** The key of an alias as written in the file, by canonical address. */
function aliasKey(doc: Document.Parsed, cur: DomainsConfig, address: string): string | undefined {
  return findKey(doc.get('aliases', true), (k) => {
    const c = canonicalDestination(cur.domains, undefined, k);
    return 'address' in c && c.address === address;
  });
}

// Domains

export interface DomainOptions {
  localpartCatchallSeparator?: string | string[] | undefined; // RFC 5233 sub-addressing; default '+'
  description?: string | undefined;
}

/** Adds a domain, stored under its lowercase U-label. */
export async function addDomain(cfg: Config, name: string, o: DomainOptions = {}): Promise<DomainsConfig> {
  return editDomains(cfg, `adding domain ${name}`, (doc, cur) => {
    const n = normalizeDomain(name);
    if ('error' in n) refuse(cfg.paths.domains, `domains.${name}`, n.error);
    if (cur.domains[n.domain]) refuse(cfg.paths.domains, `domains.${name}`, `domain ${JSON.stringify(n.domain)} already exists`);
    const sep = o.localpartCatchallSeparator;
    const body = {
      ...(o.description ? { description: o.description } : {}),
      // A list of one is written as the plain string, as people write it by hand.
      ...(sep === undefined ? {} : { localpartCatchallSeparator: Array.isArray(sep) && sep.length === 1 ? sep[0] : sep }),
    };
    section(doc, 'domains').set(n.domain, doc.createNode(body));
  });
}

/**
 * Removes a domain. Refused while an account has it as its domain or an address or alias
 * is at it, listing every one: removing them silently would lose mail routing the admin
 * may not know about. DKIM key files of the domain are left in place.
 */
export async function removeDomain(cfg: Config, name: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing domain ${name}`, (doc, cur) => {
    const domain = configuredDomain(cfg, cur, name);
    const users: string[] = [];
    for (const [account, a] of Object.entries(cur.accounts)) {
      if (a.domain === domain) users.push(`account ${JSON.stringify(account)} (its domain)`);
      for (const address of Object.keys(a.destinations)) if (domainOf(address) === domain) users.push(`address ${JSON.stringify(address)} of account ${JSON.stringify(account)}`);
    }
    // Alias members are account addresses, listed above.
    for (const address of Object.keys(cur.aliases)) if (domainOf(address) === domain) users.push(`alias ${JSON.stringify(address)}`);
    if (users.length) refuse(cfg.paths.domains, `domains.${name}`, `domain ${JSON.stringify(domain)} is still used by ${users.join(', ')}; remove those first`);
    const key = domainKey(doc, domain);
    if (key !== undefined) doc.deleteIn(['domains', key]);
  });
}

/** Adds a DKIM selector to a domain and, with sign, to the selectors used for signing (RFC 6376 §3.1). */
export async function addDkimSelector(cfg: Config, domain: string, selector: string, privateKeyFile: string, sign: boolean): Promise<DomainsConfig> {
  return editDomains(cfg, `adding DKIM selector ${selector} to ${domain}`, (doc, cur) => {
    const canonical = configuredDomain(cfg, cur, domain);
    if (cur.domains[canonical]?.dkim?.selectors[selector]) refuse(cfg.paths.domains, `domains.${domain}.dkim.selectors.${selector}`, `selector ${JSON.stringify(selector)} exists`);
    const key = domainKey(doc, canonical)!;
    const d = doc.getIn(['domains', key], true);
    if (!isMap(d)) doc.setIn(['domains', key], doc.createNode({}));
    (doc.getIn(['domains', key], true) as YAMLMap).flow = false;
    if (!isMap(doc.getIn(['domains', key, 'dkim'], true))) doc.setIn(['domains', key, 'dkim'], doc.createNode({ selectors: {}, sign: [] }));
    if (!isMap(doc.getIn(['domains', key, 'dkim', 'selectors'], true))) doc.setIn(['domains', key, 'dkim', 'selectors'], doc.createNode({}));
    (doc.getIn(['domains', key, 'dkim'], true) as YAMLMap).flow = false;
    (doc.getIn(['domains', key, 'dkim', 'selectors'], true) as YAMLMap).flow = false;
    doc.setIn(['domains', key, 'dkim', 'selectors', selector], doc.createNode({ privateKeyFile }));
    if (sign) {
      const list = (cur.domains[canonical]?.dkim?.sign ?? []).filter((s) => s !== selector);
      doc.setIn(['domains', key, 'dkim', 'sign'], doc.createNode([...list, selector]));
    }
  });
}

/** RFC 6376 §3.1: a selector has sub-domain syntax (RFC 5321 §4.1.2). */
function isDkimSelector(s: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s);
}

/**
 * Writes a new DKIM private key beside the config, as dkim/SELECTOR.DOMAIN.KIND.privatekey.pkcs8.pem
 * (mode 0600, in a 0700 folder; an existing file is never overwritten). Returns the path
 * relative to the config directory, as domains.conf names it.
 */
export async function writeDkimKeyFile(configDir: string, selector: string, asciiDomain: string, kind: 'rsa' | 'ed25519', privateKeyPEM: string): Promise<string> {
  const file = join('dkim', `${selector}.${asciiDomain}.${kind}.privatekey.pkcs8.pem`);
  const path = join(configDir, file);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, privateKeyPEM, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') refuse(path, 'privateKeyFile', `key file ${file} exists already; choose another selector`);
    throw e;
  }
  return file;
}

/** A new DKIM key of a configured domain: the key file written, the selector added (and signing with it when sign). */
export async function addDkimKey(cfg: Config, domain: string, selector: string, kind: 'rsa' | 'ed25519', privateKeyPEM: string, sign: boolean): Promise<{ file: string; domains: DomainsConfig }> {
  if (!isDkimSelector(selector)) refuse(cfg.paths.domains, `domains.${domain}.dkim.selectors`, `invalid selector ${JSON.stringify(selector)}`);
  const parsed = parseDomains(cfg.paths.domains, await readFile(cfg.paths.domains, 'utf8')); // the file as it is now (another process may have edited it)
  if (!parsed.ok) throw new ConfigError(parsed.problems);
  const cur = parsed.value;
  const canonical = configuredDomain(cfg, cur, domain);
  if (cur.domains[canonical]?.dkim?.selectors[selector]) refuse(cfg.paths.domains, `domains.${domain}.dkim.selectors.${selector}`, `selector ${JSON.stringify(selector)} exists`);
  const n = normalizeDomain(canonical);
  const file = await writeDkimKeyFile(dirname(cfg.paths.static), selector, 'ascii' in n ? n.ascii : canonical, kind, privateKeyPEM);
  return { file, domains: await addDkimSelector(cfg, canonical, selector, file, sign) };
}

// Accounts and their addresses

export interface NewAccount {
  name: string;
  address: string; // 'local@domain', or a bare localpart with `domain`
  domain?: string | undefined; // the account's domain; default: the address's
  fullName?: string | undefined;
}

export async function addAccount(cfg: Config, a: NewAccount): Promise<DomainsConfig> {
  return editDomains(cfg, `adding account ${a.name}`, (doc, cur) => {
    if (cur.accounts[a.name]) refuse(cfg.paths.domains, `accounts.${a.name}`, `account ${JSON.stringify(a.name)} already exists`);
    const domain = a.domain ?? (a.address.includes('@') ? a.address.slice(a.address.lastIndexOf('@') + 1) : undefined);
    if (domain === undefined) refuse(cfg.paths.domains, `accounts.${a.name}`, `address ${JSON.stringify(a.address)} needs a domain`);
    const node = doc.createNode({ domain, ...(a.fullName ? { fullName: a.fullName } : {}), destinations: { [a.address]: {} } });
    section(doc, 'accounts').set(a.name, node);
  });
}

export async function removeAccount(cfg: Config, name: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing account ${name}`, (doc, cur) => {
    if (!cur.accounts[name]) refuse(cfg.paths.domains, `accounts.${name}`, `no account ${JSON.stringify(name)}`);
    doc.deleteIn(['accounts', name]);
  });
}

/** Settings of an account; null removes one (back to its default). */
export interface AccountSettings {
  fullName?: string | null;
  quotaBytes?: number | null; // 0 or null: no limit
  loginDisabled?: string | null; // the message shown when a login is refused
}

/** Sets or clears account settings (the account page's full name; the admin page's quota and login switch). */
export async function setAccountSettings(cfg: Config, name: string, settings: AccountSettings): Promise<DomainsConfig> {
  return editDomains(cfg, `changing account ${name}`, (doc, cur) => {
    if (!cur.accounts[name]) refuse(cfg.paths.domains, `accounts.${name}`, `no account ${JSON.stringify(name)}`);
    (doc.getIn(['accounts', name], true) as YAMLMap).flow = false;
    for (const [k, v] of Object.entries(settings)) {
      if (v === undefined) continue;
      if (v === null || v === '') doc.deleteIn(['accounts', name, k]);
      else doc.setIn(['accounts', name, k], v);
    }
  });
}

/** Settings of a domain; null removes one. */
export interface DomainSettings {
  description?: string | null;
  localpartCatchallSeparator?: string | string[] | null; // RFC 5233 sub-addressing
}

export async function setDomainSettings(cfg: Config, name: string, settings: DomainSettings): Promise<DomainsConfig> {
  return editDomains(cfg, `changing domain ${name}`, (doc, cur) => {
    const key = domainKey(doc, configuredDomain(cfg, cur, name))!;
    if (!isMap(doc.getIn(['domains', key], true))) doc.setIn(['domains', key], doc.createNode({}));
    (doc.getIn(['domains', key], true) as YAMLMap).flow = false;
    for (const [k, v] of Object.entries(settings)) {
      if (v === undefined) continue;
      if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) doc.deleteIn(['domains', key, k]);
      else doc.setIn(['domains', key, k], doc.createNode(Array.isArray(v) && v.length === 1 ? v[0] : v));
    }
  });
}

/**
 * Adds an address to an account: 'local@domain', a bare localpart at the account's
 * domain, or '@domain' as the domain's catch-all. Written as its canonical full address.
 */
export async function addAddress(cfg: Config, account: string, address: string): Promise<DomainsConfig> {
  return editDomains(cfg, `adding address ${address}`, (doc, cur) => {
    const acc = cur.accounts[account];
    if (!acc) refuse(cfg.paths.domains, `accounts.${account}`, `no account ${JSON.stringify(account)}`);
    const key = `accounts.${account}.destinations`;
    const c = canonicalDestination(cur.domains, acc.domain, address);
    if ('error' in c) refuse(cfg.paths.domains, key, `address ${JSON.stringify(address)}: ${c.error || 'no domain'}`);
    const owner = ownerOf(cur, c.address);
    if (owner) refuse(cfg.paths.domains, key, `address ${JSON.stringify(c.address)} already in use by ${owner}`);
    const dest = doc.getIn(['accounts', account, 'destinations'], true);
    if (isMap(dest)) {
      dest.flow = false;
      dest.set(c.address, doc.createNode({}));
    } else doc.setIn(['accounts', account, 'destinations'], doc.createNode({ [c.address]: {} }));
  });
}

/**
 * Removes an address from whichever account has it. Refused for an account's last address
 * (remove the account instead), for an alias's address, and while aliases list it as a member.
 */
export async function removeAddress(cfg: Config, address: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing address ${address}`, (doc, cur) => {
    const wanted = canonicalDestination(cur.domains, undefined, address);
    if ('error' in wanted) refuse(cfg.paths.domains, '', `address ${JSON.stringify(address)}: ${wanted.error || 'not a full address, localpart@domain'}`);
    if (cur.aliases[wanted.address]) refuse(cfg.paths.domains, `aliases.${address}`, `${JSON.stringify(wanted.address)} is an alias, not an account address; remove the alias instead`);
    const found = Object.entries(cur.accounts).find(([, a]) => a.destinations[wanted.address] !== undefined);
    if (!found) refuse(cfg.paths.domains, '', `address ${JSON.stringify(address)} not configured for an account`);
    const [name, acc] = found;
    if (Object.keys(acc.destinations).length === 1) refuse(cfg.paths.domains, `accounts.${name}.destinations`, `${JSON.stringify(wanted.address)} is the last address of account ${JSON.stringify(name)}; an account needs one (remove the account instead)`);
    const lists = Object.entries(cur.aliases).filter(([, al]) => al.members.includes(wanted.address)).map(([a]) => JSON.stringify(a));
    if (lists.length) refuse(cfg.paths.domains, `accounts.${name}.destinations`, `address ${JSON.stringify(wanted.address)} is a member of alias ${lists.join(', ')}; remove it from there first`);
    const key = findKey(doc.getIn(['accounts', name, 'destinations'], true), (k) => {
      const c = canonicalDestination(cur.domains, acc.domain, k);
      return 'address' in c && c.address === wanted.address;
    });
    if (key !== undefined) doc.deleteIn(['accounts', name, 'destinations', key]);
  });
}

// Aliases

export interface AliasOptions {
  postPublic?: boolean | undefined; // anyone may send to the alias, not only members
  listMembers?: boolean | undefined; // members can see the other members
  allowMsgFrom?: boolean | undefined; // members may send with the alias as From
}

/** Canonical members: full addresses of accounts, each once. */
function canonicalMembers(cfg: Config, cur: DomainsConfig, alias: string, members: readonly string[]): string[] {
  const key = `aliases.${alias}.members`;
  const out: string[] = [];
  for (const m of members) {
    const c = fullAddress(cfg, cur, m, key, 'member');
    // Members are local accounts: forwarding outside would break SPF/DMARC of the senders.
    if (!Object.values(cur.accounts).some((a) => a.destinations[c] !== undefined)) refuse(cfg.paths.domains, key, `member ${JSON.stringify(m)} is not an address of an account`);
    if (out.includes(c)) refuse(cfg.paths.domains, key, `member ${JSON.stringify(m)} listed twice`);
    out.push(c);
  }
  return out;
}

/** Adds an alias (a list when it has several members); flags are written only when set. */
export async function addAlias(cfg: Config, address: string, members: readonly string[], o: AliasOptions = {}): Promise<DomainsConfig> {
  return editDomains(cfg, `adding alias ${address}`, (doc, cur) => {
    const canonical = fullAddress(cfg, cur, address, `aliases.${address}`, 'alias');
    const owner = ownerOf(cur, canonical);
    if (owner) refuse(cfg.paths.domains, `aliases.${address}`, `address ${JSON.stringify(canonical)} already in use by ${owner}`);
    if (members.length === 0) refuse(cfg.paths.domains, `aliases.${address}`, 'an alias needs at least one member');
    const body = {
      members: canonicalMembers(cfg, cur, address, members),
      ...(o.postPublic ? { postPublic: true } : {}),
      ...(o.listMembers ? { listMembers: true } : {}),
      ...(o.allowMsgFrom ? { allowMsgFrom: true } : {}),
    };
    section(doc, 'aliases').set(canonical, doc.createNode(body));
  });
}

/** The key of an existing alias as written, refusing when there is none. */
function existingAlias(cfg: Config, doc: Document.Parsed, cur: DomainsConfig, address: string): { key: string; canonical: string } {
  const c = address.includes('@') ? canonicalDestination(cur.domains, undefined, address) : undefined;
  const key = c && 'address' in c && cur.aliases[c.address] ? aliasKey(doc, cur, c.address) : undefined;
  if (key === undefined || !c || !('address' in c)) refuse(cfg.paths.domains, `aliases.${address}`, `no alias ${JSON.stringify(address)}`);
  return { key, canonical: c.address };
}

export async function removeAlias(cfg: Config, address: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing alias ${address}`, (doc, cur) => {
    const { key } = existingAlias(cfg, doc, cur, address);
    doc.deleteIn(['aliases', key]);
  });
}

/** Appends members to an alias; refused for addresses already members. */
export async function aliasAddMembers(cfg: Config, address: string, members: readonly string[]): Promise<DomainsConfig> {
  return editDomains(cfg, `adding members to alias ${address}`, (doc, cur) => {
    const { key, canonical } = existingAlias(cfg, doc, cur, address);
    if (members.length === 0) refuse(cfg.paths.domains, `aliases.${address}.members`, 'no members given');
    const add = canonicalMembers(cfg, cur, address, members);
    const have = cur.aliases[canonical]?.members ?? [];
    const dup = add.filter((m) => have.includes(m));
    if (dup.length) refuse(cfg.paths.domains, `aliases.${address}.members`, `already a member: ${dup.map((m) => JSON.stringify(m)).join(', ')}`);
    const seq = doc.getIn(['aliases', key, 'members'], true);
    if (isSeq(seq)) for (const m of add) seq.add(doc.createNode(m)); // keeps the comments and style of the list
    else doc.setIn(['aliases', key, 'members'], doc.createNode([...have, ...add]));
  });
}

/** Removes members from an alias; refused for non-members and when none would be left. */
export async function aliasRemoveMembers(cfg: Config, address: string, members: readonly string[]): Promise<DomainsConfig> {
  return editDomains(cfg, `removing members from alias ${address}`, (doc, cur) => {
    const { key, canonical } = existingAlias(cfg, doc, cur, address);
    const mkey = `aliases.${address}.members`;
    if (members.length === 0) refuse(cfg.paths.domains, mkey, 'no members given');
    const have = cur.aliases[canonical]?.members ?? [];
    const drop = new Set<string>();
    for (const m of members) {
      const c = m.includes('@') ? canonicalDestination(cur.domains, undefined, m) : undefined;
      if (!c || !('address' in c) || !have.includes(c.address)) refuse(cfg.paths.domains, mkey, `${JSON.stringify(m)} is not a member of alias ${JSON.stringify(canonical)}`);
      drop.add(c.address);
    }
    // The schema requires a member; an empty alias would bounce everything sent to it.
    if (have.every((m) => drop.has(m))) refuse(cfg.paths.domains, mkey, `alias ${JSON.stringify(canonical)} would have no members left; remove the alias instead`);
    const seq = doc.getIn(['aliases', key, 'members'], true);
    if (!isSeq(seq)) return; // a valid file has the list
    for (let i = seq.items.length - 1; i >= 0; i--) {
      const item = seq.items[i];
      const c = isScalar(item) ? canonicalDestination(cur.domains, undefined, String(item.value)) : undefined;
      if (c && 'address' in c && drop.has(c.address)) seq.delete(i);
    }
  });
}
