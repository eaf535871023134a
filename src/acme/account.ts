// A provider's ACME account: its key (made once, 0600) and its registration (the account
// URL, RFC 8555 §7.3), registered on first use and kept in account.json beside the key.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { Client, type ClientOptions } from 'acme-client';
import { z } from 'zod';
import type { AcmeProvider } from '../config/index.ts';
import { logger } from '../log/index.ts';
import { acmePaths, ensureKey, readOptional, writeAcmeFile, type AcmePaths } from './files.ts';
import { trustDirectoryCA } from './transport.ts';

const log = logger('acme');

const registrationSchema = z.object({
  url: z.string().min(1), // the account URL, used as JWS "kid" (RFC 8555 §6.2)
  directoryURL: z.string().min(1), // the directory the account belongs to; another directory needs a new registration
  contact: z.array(z.string()), // mailto: URLs as registered (RFC 8555 §7.1.2)
  registered: z.string(), // ISO 8601 time of registration
});
export type AccountRegistration = z.infer<typeof registrationSchema>;

/** The registration in account.json's text, or why it is unusable. */
function parseRegistration(text: string): { reg: AccountRegistration } | { issues: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { issues: e instanceof Error ? e.message : String(e) };
  }
  const r = registrationSchema.safeParse(json);
  return r.success ? { reg: r.data } : { issues: r.error.issues };
}

export interface AccountOptions {
  provider: string;
  config: AcmeProvider;
  paths: AcmePaths;
  configDir: string; // for the EAB key file and directoryCAFile
  /** Polling of pending orders and challenges: first delay (acme-client's default: 5 s). */
  pollMinMs?: number;
}

/** A client acting as the provider's account: registered (or updated) now when needed. */
export async function accountClient(o: AccountOptions): Promise<Client> {
  const file = (p: string) => (isAbsolute(p) ? p : join(o.configDir, p));
  if (o.config.directoryCAFile) trustDirectoryCA(await readFile(file(o.config.directoryCAFile), 'utf8'));
  const accountKey = await ensureKey(o.paths.accountKey);
  const text = await readOptional(o.paths.account);
  let reg: AccountRegistration | undefined;
  if (text !== undefined) {
    const r = parseRegistration(text);
    if ('reg' in r) reg = r.reg;
    else log.warn({ file: o.paths.account, issues: r.issues }, 'ACME account registration unreadable, registering again'); // RFC 8555 §7.3.1: the same key finds the same account
  }
  const contact = [`mailto:${o.config.contactEmail}`];
  const known = reg !== undefined && reg.directoryURL === o.config.directoryURL;
  const eab = o.config.externalAccountBinding;
  const options: ClientOptions = {
    directoryUrl: o.config.directoryURL,
    accountKey,
    ...(known ? { accountUrl: reg!.url } : {}),
    ...(eab ? { externalAccountBinding: { kid: eab.keyID, hmacKey: (await readFile(file(eab.keyFile), 'utf8')).trim() } } : {}), // RFC 8555 §7.3.4
    ...(o.pollMinMs !== undefined ? { backoffMin: o.pollMinMs, backoffMax: Math.max(o.pollMinMs, 1000) } : {}),
  };
  const client = new Client(options);
  if (!known) {
    // RFC 8555 §7.3: an existing account for this key is returned as is. Configuring a provider is agreeing to its terms.
    await client.createAccount({ termsOfServiceAgreed: true, contact });
    await save(o, { url: client.getAccountUrl(), directoryURL: o.config.directoryURL, contact, registered: new Date().toISOString() });
    log.info({ provider: o.provider, account: client.getAccountUrl(), contact }, 'ACME account registered');
  } else if (reg!.contact.join(',') !== contact.join(',')) {
    await client.updateAccount({ contact }); // RFC 8555 §7.3.2
    await save(o, { ...reg!, contact });
    log.info({ provider: o.provider, contact }, 'ACME account contact updated');
  }
  return client;
}

function save(o: AccountOptions, reg: AccountRegistration): Promise<void> {
  return writeAcmeFile(o.paths.account, `${JSON.stringify(reg, null, 2)}\n`, 0o600);
}

/** The account URL registered for a provider in a data directory, if any (for a CAA accounturi, RFC 8657 §3). */
export async function registeredAccountURL(dataDir: string, provider: string): Promise<string | undefined> {
  const text = await readOptional(acmePaths(dataDir, provider).account);
  if (text === undefined) return undefined;
  const r = parseRegistration(text);
  return 'reg' in r ? r.reg.url : undefined;
}
