// DMARC identifier alignment (RFC 7489 §3.1), relaxed mode: the organisational domains
// (from the public suffix list, as mailauth computes them) of the From domain and of a
// verified SPF or DKIM domain are the same.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tools = require('mailauth/lib/tools.js') as { getAlignment: (from: string, domains: Array<string | { domain: string }>, strict?: boolean) => { domain: string } | false | undefined };

export function dmarcAligned(fromDomain: string, spfDomains: readonly string[], dkimDomains: readonly string[]): boolean {
  if (fromDomain === '') return false;
  return [...spfDomains, ...dkimDomains].some((d) => !!tools.getAlignment(fromDomain, [d], false));
}
