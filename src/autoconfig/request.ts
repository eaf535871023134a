// Which domain and address a client's settings request is for: the host it asked (one of
// ours: the mail host name, a configured domain, or autoconfig./autodiscover. before one)
// and the address it gave, whose domain must be configured.
import { parseAddress, type DomainsConfig, type StaticConfig } from '../config/index.ts';
import { textReply, notFound, type Reply } from './reply.ts';
import { configuredDomain, prefixedDomain, serverHostnames, type ConfiguredDomain } from './settings.ts';
import { isXmlText } from './xml.ts';

export interface AutoconfigSources {
  static: () => StaticConfig; // called per request
  domains: () => DomainsConfig; // called per request: a reloaded domains.conf applies at once
}

export interface SettingsRequest {
  domain: ConfiguredDomain;
  address?: string; // 'localpart@domain' (localpart as given, domain as configured), when the client gave one
}

/** The configured domain a host name stands for: the domain itself or autoconfig./autodiscover. before it. */
function hostDomain(domains: DomainsConfig, host: string): ConfiguredDomain | undefined {
  return configuredDomain(domains, host) ?? prefixedDomain(domains, host, 'autoconfig.') ?? prefixedDomain(domains, host, 'autodiscover.');
}

/**
 * The request's domain and address, or the reply refusing it: 404 for a host that is not
 * ours and for a domain that is not configured (as if nothing were there), 400 for an
 * unusable address. Whether the address exists is not checked: these settings are the
 * same for everyone at the domain, and the answer must not reveal accounts.
 */
export function settingsRequest(o: AutoconfigSources, host: string, address: string | null | undefined): SettingsRequest | Reply {
  const domains = o.domains();
  const fromHost = hostDomain(domains, host);
  if (!fromHost && !serverHostnames(o.static()).has(host)) return notFound();
  if (address === null || address === undefined || address === '') return fromHost ? { domain: fromHost } : notFound(); // on the mail host name, only the address names the domain
  const a = parseAddress(address.trim());
  if ('error' in a || a.localpart === '' || !isXmlText(address)) return textReply(400, 'not an email address');
  const domain = configuredDomain(domains, a.domain);
  if (!domain) return notFound();
  return { domain, address: `${a.localpart}@${a.domain}` };
}
