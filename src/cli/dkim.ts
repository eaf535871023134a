// `mailcove config dkim gen`: a new DKIM key for a domain, written beside the config and
// added to domains.conf as a signing selector; prints the DNS record to publish.
import { addDkimKey, ConfigError, normalizeDomain, type Config } from '../config/index.ts';
import { generateDkimKey } from '../mailauth/index.ts';
import { CommandError } from './command.ts';

export async function generateDkim(config: Config, domain: string, selector: string, kind: 'rsa' | 'ed25519', bits: number): Promise<{ file: string; record: string }> {
  const n = normalizeDomain(domain);
  if ('error' in n) throw new CommandError(n.error);
  const key = await generateDkimKey(kind, bits);
  let file: string;
  try {
    ({ file } = await addDkimKey(config, n.domain, selector, kind, key.privateKeyPEM, true));
  } catch (e) {
    if (e instanceof ConfigError) throw new CommandError(e.message);
    throw e;
  }
  const strings = key.dnsRecord.match(/.{1,255}/g) ?? []; // RFC 1035 §3.3.14: a TXT character-string holds at most 255 octets; RFC 6376 §3.6.2.2 joins them
  return { file: `${config.paths.static.replace(/[^/]*$/, '')}${file}`, record: `${selector}._domainkey.${n.ascii}. TXT ${strings.map((x) => `"${x}"`).join(' ')}` };
}
