// `mailcove config dkim gen`: a new DKIM key for a domain, written beside the config and
// added to domains.conf as a signing selector; prints the DNS record to publish.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { addDkimSelector, normalizeDomain, type Config } from '../config/index.ts';
import { generateDkimKey } from '../mailauth/index.ts';
import { CommandError } from './command.ts';

export async function generateDkim(config: Config, domain: string, selector: string, kind: 'rsa' | 'ed25519', bits: number): Promise<{ file: string; record: string }> {
  const n = normalizeDomain(domain);
  if ('error' in n) throw new CommandError(n.error);
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(selector)) throw new CommandError(`invalid selector ${JSON.stringify(selector)}`); // RFC 6376 §3.1: sub-domain syntax
  if (!config.domains.domains[n.domain]) throw new CommandError(`no domain ${JSON.stringify(domain)} in domains.conf`);
  const key = await generateDkimKey(kind, bits);
  const relative = join('dkim', `${selector}.${n.ascii}.${kind}.privatekey.pkcs8.pem`);
  const path = join(dirname(config.paths.static), relative);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, key.privateKeyPEM, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    throw new CommandError(`writing ${path}: ${(e as Error).message}`);
  }
  await addDkimSelector(config, n.domain, selector, relative, true);
  const strings = key.dnsRecord.match(/.{1,255}/g) ?? []; // RFC 1035 §3.3.14: a TXT character-string holds at most 255 octets; RFC 6376 §3.6.2.2 joins them
  return { file: path, record: `${selector}._domainkey.${n.ascii}. TXT ${strings.map((x) => `"${x}"`).join(' ')}` };
}
