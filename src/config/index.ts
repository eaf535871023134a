// Public surface of src/config: loading and checking mailcove.conf + domains.conf, the
// live (reloading) domains config, atomic comment-keeping edits, localserve's config,
// and the generated reference (`mailcove config describe`).
export { loadConfig, checkConfig, parseStatic, parseDomains, domainsPath, configFilePath, type Config, type ConfigPaths } from './load.ts';
export { ConfigError, formatProblem, type ConfigProblem } from './problems.ts';
export type { StaticConfig, Listener, AcmeProvider, Transport, Route } from './static.ts';
export type { DomainsConfig, Domain, Account, Destination, Ruleset, Alias, DkimSelector } from './domains.ts';
export { catchallSeparators } from './domains.ts';
export { DynamicConfig, watchDomains, type DomainsListener, type WatchOptions } from './dynamic.ts';
export { writeFileAtomic } from './write.ts';
export { addDomain, removeDomain, addDkimSelector, addDkimKey, writeDkimKeyFile, domainOf, addAccount, removeAccount, addAddress, removeAddress, addAlias, removeAlias, aliasAddMembers, aliasRemoveMembers, setAccountSettings, setDomainSettings, type AccountSettings, type DomainSettings, type DomainOptions, type NewAccount, type AliasOptions } from './edit.ts';
export { localserveConfig, localserveOffsets, type LocalserveOptions } from './localserve.ts';
export { describeConfig } from './describe.ts';
export { normalizeDomain, parseAddress, type ConfigAddress } from './names.ts';
export { lookupAddress, type AddressTarget } from './lookup.ts';
