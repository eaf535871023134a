// Edits of domains.conf: applied to the YAML document so comments and layout survive,
// validated as a whole before anything is written, then written atomically (temp file,
// fsync, rename, fsync of the directory). Edits of one file are serialised in-process.
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, isScalar, type Document, type YAMLMap } from 'yaml';
import { logger } from '../log/index.ts';
import { parseDomains, type Config } from './load.ts';
import { parseYaml, ConfigError } from './problems.ts';
import { domainsWritten } from './dynamic.ts';
import { normalizeDomain } from './names.ts';
import { canonicalDestination } from './references.ts';
import type { DomainsConfig } from './domains.ts';

const log = logger('config');

/** Replaces a file so that readers see the old or the new content, never a mix, even after a crash. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o600); // config may hold secrets: private by default
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dh = await open(dir, 'r'); // the rename is durable only once the directory is synced
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

const queues = new Map<string, Promise<unknown>>();

function serialised<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const key = resolve(path);
  const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn);
  queues.set(key, run.catch(() => undefined));
  return run;
}

/** The helper every edit goes through: read the file fresh, change the document, validate, write. */
async function editDomains(cfg: Config, what: string, change: (doc: Document.Parsed, current: DomainsConfig) => void): Promise<DomainsConfig> {
  return serialised(cfg.paths.domains, async () => {
    const file = cfg.paths.domains;
    const y = parseYaml(file, await readFile(file, 'utf8'));
    if (y.problems.length) throw new ConfigError(y.problems);
    const before = parseDomains(file, String(y.doc));
    if (!before.ok) throw new ConfigError(before.problems); // fix the file first; an edit must not hide it
    change(y.doc, before.value);
    const text = String(y.doc);
    const after = parseDomains(file, text);
    if (!after.ok) throw new ConfigError(after.problems.map((p) => ({ ...p, message: `${p.message} (after ${what}; file not changed)` })));
    await writeFileAtomic(file, text);
    log.info({ path: file, edit: what }, 'domains.conf written');
    cfg.domains = after.value;
    domainsWritten(file, text, after.value);
    return after.value;
  });
}

function refuse(file: string, key: string, message: string): never {
  throw new ConfigError([{ file, key, message }]);
}

/** The map at a top-level key, created (in block style) when absent. */
function section(doc: Document.Parsed, key: 'domains' | 'accounts' | 'aliases'): YAMLMap {
  let m = doc.get(key, true);
  if (!isMap(m)) {
    m = doc.createNode({});
    doc.set(key, m);
  }
  const map = m as YAMLMap;
  map.flow = false; // '{}' in the file would otherwise make all entries inline
  return map;
}

/** The key as written in a map whose canonical form matches. */
function findKey(map: unknown, matches: (key: string) => boolean): string | undefined {
  if (!isMap(map)) return undefined;
  for (const p of map.items) if (isScalar(p.key) && matches(String(p.key.value))) return String(p.key.value);
  return undefined;
}

function used(cur: DomainsConfig, address: string): boolean {
  return cur.aliases[address] !== undefined || Object.values(cur.accounts).some((a) => a.destinations[address] !== undefined);
}

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

export async function addAddress(cfg: Config, account: string, address: string): Promise<DomainsConfig> {
  return editDomains(cfg, `adding address ${address}`, (doc, cur) => {
    if (!cur.accounts[account]) refuse(cfg.paths.domains, `accounts.${account}`, `no account ${JSON.stringify(account)}`);
    const c = canonicalDestination(cur.domains, cur.accounts[account].domain, address);
    if ('address' in c && used(cur, c.address)) refuse(cfg.paths.domains, `accounts.${account}.destinations`, `address ${JSON.stringify(c.address)} already in use`);
    const dest = doc.getIn(['accounts', account, 'destinations'], true);
    if (isMap(dest)) {
      dest.flow = false;
      dest.set(address, doc.createNode({}));
    } else doc.setIn(['accounts', account, 'destinations'], doc.createNode({ [address]: {} }));
  });
}

/** Removes an address from whichever account has it; an account keeps at least one. */
export async function removeAddress(cfg: Config, address: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing address ${address}`, (doc, cur) => {
    const wanted = canonicalDestination(cur.domains, undefined, address);
    if ('error' in wanted) refuse(cfg.paths.domains, '', wanted.error);
    for (const [name, acc] of Object.entries(cur.accounts)) {
      if (acc.destinations[wanted.address] === undefined) continue;
      const key = findKey(doc.getIn(['accounts', name, 'destinations'], true), (k) => {
        const c = canonicalDestination(cur.domains, acc.domain, k);
        return 'address' in c && c.address === wanted.address;
      });
      if (key !== undefined) doc.deleteIn(['accounts', name, 'destinations', key]);
      return;
    }
    refuse(cfg.paths.domains, '', `address ${JSON.stringify(address)} not configured for an account`);
  });
}

export interface NewDomain {
  name: string;
  localpartCatchallSeparator?: string | undefined;
  description?: string | undefined;
}

export async function addDomain(cfg: Config, d: NewDomain): Promise<DomainsConfig> {
  return editDomains(cfg, `adding domain ${d.name}`, (doc, cur) => {
    const n = normalizeDomain(d.name);
    if ('error' in n) refuse(cfg.paths.domains, `domains.${d.name}`, n.error);
    if (cur.domains[n.domain]) refuse(cfg.paths.domains, `domains.${d.name}`, `domain ${JSON.stringify(n.domain)} already exists`);
    const body = { ...(d.description ? { description: d.description } : {}), ...(d.localpartCatchallSeparator ? { localpartCatchallSeparator: d.localpartCatchallSeparator } : {}) };
    section(doc, 'domains').set(n.domain, doc.createNode(body));
  });
}

/** Removes a domain; refused while an account, address or alias still uses it. */
export async function removeDomain(cfg: Config, name: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing domain ${name}`, (doc, cur) => {
    const n = normalizeDomain(name);
    if ('error' in n || !cur.domains[n.domain]) refuse(cfg.paths.domains, `domains.${name}`, `no domain ${JSON.stringify(name)}`);
    const key = findKey(doc.get('domains', true), (k) => {
      const c = normalizeDomain(k);
      return 'domain' in c && c.domain === n.domain;
    });
    if (key !== undefined) doc.deleteIn(['domains', key]);
  });
}

export async function addAlias(cfg: Config, address: string, members: string[]): Promise<DomainsConfig> {
  return editDomains(cfg, `adding alias ${address}`, (doc, cur) => {
    const c = canonicalDestination(cur.domains, undefined, address);
    if ('address' in c && used(cur, c.address)) refuse(cfg.paths.domains, `aliases.${address}`, `address ${JSON.stringify(c.address)} already in use`);
    section(doc, 'aliases').set(address, doc.createNode({ members }));
  });
}

export async function removeAlias(cfg: Config, address: string): Promise<DomainsConfig> {
  return editDomains(cfg, `removing alias ${address}`, (doc, cur) => {
    const wanted = canonicalDestination(cur.domains, undefined, address);
    const key = 'address' in wanted && cur.aliases[wanted.address] ? findKey(doc.get('aliases', true), (k) => {
      const c = canonicalDestination(cur.domains, undefined, k);
      return 'address' in c && c.address === wanted.address;
    }) : undefined;
    if (key === undefined) refuse(cfg.paths.domains, `aliases.${address}`, `no alias ${JSON.stringify(address)}`);
    doc.deleteIn(['aliases', key]);
  });
}

/** Adds a DKIM selector to a domain and, with sign, to the selectors used for signing (RFC 6376 §3.1). */
export async function addDkimSelector(cfg: Config, domain: string, selector: string, privateKeyFile: string, sign: boolean): Promise<DomainsConfig> {
  return editDomains(cfg, `adding DKIM selector ${selector} to ${domain}`, (doc, cur) => {
    const n = normalizeDomain(domain);
    if ('error' in n || !cur.domains[n.domain]) refuse(cfg.paths.domains, `domains.${domain}`, `no domain ${JSON.stringify(domain)}`);
    if (cur.domains[n.domain]?.dkim?.selectors[selector]) refuse(cfg.paths.domains, `domains.${domain}.dkim.selectors.${selector}`, `selector ${JSON.stringify(selector)} exists`);
    const key = findKey(doc.get('domains', true), (k) => {
      const c = normalizeDomain(k);
      return 'domain' in c && c.domain === n.domain;
    })!;
    const d = doc.getIn(['domains', key], true);
    if (!isMap(d)) doc.setIn(['domains', key], doc.createNode({}));
    (doc.getIn(['domains', key], true) as YAMLMap).flow = false;
    if (!isMap(doc.getIn(['domains', key, 'dkim'], true))) doc.setIn(['domains', key, 'dkim'], doc.createNode({ selectors: {}, sign: [] }));
    if (!isMap(doc.getIn(['domains', key, 'dkim', 'selectors'], true))) doc.setIn(['domains', key, 'dkim', 'selectors'], doc.createNode({}));
    (doc.getIn(['domains', key, 'dkim'], true) as YAMLMap).flow = false;
    (doc.getIn(['domains', key, 'dkim', 'selectors'], true) as YAMLMap).flow = false;
    doc.setIn(['domains', key, 'dkim', 'selectors', selector], doc.createNode({ privateKeyFile }));
    if (sign) {
      const list = (cur.domains[n.domain]?.dkim?.sign ?? []).filter((s) => s !== selector);
      doc.setIn(['domains', key, 'dkim', 'sign'], doc.createNode([...list, selector]));
    }
  });
}
