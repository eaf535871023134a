// A server's configuration and data in a temp directory for protocol tests: mailcove.conf
// and domains.conf written, the store opened, every account of domains.conf created with
// one known password, domains.conf watched. Shared by the SMTP and IMAP fixtures.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, watchDomains, type Config, type DynamicConfig } from '../src/config/index.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { deriveCredentials } from '../src/sasl/index.ts';

/** mailcove.conf for the protocol fixtures: one loopback listener with a self-signed certificate serving `services`. */
export function loopbackStatic(...services: string[]): string {
  return `dataDir: data\nhostname: mail.example.com\nlisteners:\n  local:\n    ips: [127.0.0.1]\n    tls: { selfSigned: true }\n${services.map((x) => `    ${x}: {}\n`).join('')}`;
}

export interface ServerDir {
  dir: string;
  config: Config;
  store: Store;
  domains: DynamicConfig;
  /** Stops watching, closes the store and removes the directory. */
  remove(): Promise<void>;
}

export async function serverDir(o: { prefix: string; static: string; domains: string; password: string }): Promise<ServerDir> {
  const dir = await mkdtemp(join(tmpdir(), o.prefix));
  await writeFile(join(dir, 'mailcove.conf'), o.static);
  await writeFile(join(dir, 'domains.conf'), o.domains);
  const config = await loadConfig(join(dir, 'mailcove.conf'));
  const store = await openStore(config.paths.dataDir);
  const domains = watchDomains(config);
  const creds = await deriveCredentials(o.password);
  for (const name of Object.keys(config.domains.accounts)) {
    await store.createAccount(name);
    await store.auth.setCredentials(name, creds);
  }
  return {
    dir, config, store, domains,
    async remove() {
      domains.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
