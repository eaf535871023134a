// Finding where mail to an address goes: an alias, an account's address, or an account's
// catch-all, after case folding and sub-addressing. Indexes are built once per config
// version (a DomainsConfig is never changed after validation; reloads make a new one).
import { catchallSeparators, type DomainsConfig, type Destination, type Alias } from './domains.ts';
import { canonicalLocalpart, parseAddress } from './names.ts';

export type AddressTarget =
  | { kind: 'account'; account: string; address: string; destination: Destination } // address: the destination key that matched
  | { kind: 'alias'; address: string; alias: Alias };

const indexes = new WeakMap<DomainsConfig, Map<string, AddressTarget>>();

function index(c: DomainsConfig): Map<string, AddressTarget> {
  let m = indexes.get(c);
  if (m) return m;
  m = new Map();
  for (const [account, a] of Object.entries(c.accounts)) for (const [address, destination] of Object.entries(a.destinations)) m.set(address, { kind: 'account', account, address, destination });
  for (const [address, alias] of Object.entries(c.aliases)) m.set(address, { kind: 'alias', address, alias });
  indexes.set(c, m);
  return m;
}

/**
 * Where mail for `address` is delivered, or undefined when nobody takes it. Tries the
 * address as given, then without the part from the catch-all separator on ("mjl+news"
 * -> "mjl", RFC 5233 sub-addressing), then the domain's catch-all destination "@domain".
 */
export function lookupAddress(c: DomainsConfig, address: string): AddressTarget | undefined {
  const p = parseAddress(address);
  if ('error' in p || p.localpart === '') return undefined;
  const d = c.domains[p.domain];
  if (!d) return undefined;
  const ix = index(c);
  const local = canonicalLocalpart(p.localpart, d.localpartCaseSensitive);
  const exact = ix.get(`${local}@${p.domain}`);
  if (exact) return exact;
  for (const sep of catchallSeparators(d)) {
    const cut = local.indexOf(sep);
    if (cut <= 0) continue;
    const base = ix.get(`${local.slice(0, cut)}@${p.domain}`);
    if (base) return base;
  }
  return ix.get(`@${p.domain}`);
}
