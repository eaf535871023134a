// A running IMAP server for this folder's tests: config and data in a temp directory,
// accounts with a known password, imap (STARTTLS) and imaps on free loopback ports.
// Test-only.
import type { Config, DynamicConfig } from '../config/index.ts';
import type { Account, Store } from '../store/index.ts';
import { authFailureLimiter } from '../sasl/index.ts';
import { loopbackStatic, serverDir } from '../../test/serverdir.ts';
import type { ImapContext } from './context.ts';
import { startImap, type RunningImap } from './start.ts';
import { ImapTestClient } from './testclient.ts';

export const testPassword = 'test1234 secret';

export const staticText = loopbackStatic('imap', 'imaps');

export const domainsText = `domains:
  example.com: {}
accounts:
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
  other:
    domain: example.com
    destinations:
      other@example.com: {}
`;

export interface ImapFixture {
  dir: string;
  config: Config;
  store: Store;
  domains: DynamicConfig;
  imap: RunningImap;
  port(service: 'imap' | 'imaps'): number;
  /** A connected client; with `login`, logged in (LOGIN over plain loopback: the fixture runs as localserve unless told otherwise). */
  connect(o?: { login?: string; service?: 'imap' | 'imaps' }): Promise<ImapTestClient>;
  /** An open store account for setting up and checking state directly. */
  account(name?: string): Promise<Account>;
  /** Appends a message to a mailbox through the store. */
  deliver(mailbox: string, message: string | Buffer, o?: { account?: string; flags?: string[]; keywords?: string[]; internalDate?: Date }): Promise<number>;
  done(): Promise<void>;
}

export async function imapFixture(o: { domains?: string; static?: string; localserve?: boolean; context?: Partial<ImapContext> } = {}): Promise<ImapFixture> {
  const sd = await serverDir({ prefix: 'mailcove-imap-', static: o.static ?? staticText, domains: o.domains ?? domainsText, password: testPassword });
  const { dir, config, store, domains } = sd;
  const imap = await startImap({
    config,
    store,
    domains,
    localserve: o.localserve ?? true,
    authFailures: authFailureLimiter({ delayMs: 0 }),
    ports: { imap: 0, imaps: 0 },
    ...(o.context ? { context: o.context } : {}),
  });
  const open = new Map<string, Account>();
  const clients: ImapTestClient[] = [];
  const f: ImapFixture = {
    dir,
    config,
    store,
    domains,
    imap,
    port: (service) => imap.addresses.find((a) => a.service === service)!.port,
    async connect(c = {}) {
      const service = c.service ?? 'imap';
      const client = await ImapTestClient.connect(f.port(service), service === 'imaps' ? { tls: {} } : {});
      clients.push(client);
      if (c.login) {
        const r = await client.run(`LOGIN ${c.login} "${testPassword}"`);
        if (!r.tagged.startsWith('OK')) throw new Error(`login failed: ${r.all.join('\n')}`);
      }
      return client;
    },
    async account(name = 'mjl') {
      let a = open.get(name);
      if (!a) {
        a = await store.openAccount(name);
        open.set(name, a);
      }
      return a;
    },
    async deliver(mailbox, message, d = {}) {
      const a = await f.account(d.account);
      const data = Buffer.isBuffer(message) ? message : Buffer.from(message.replace(/\r?\n/g, '\r\n'));
      const added = await a.append(mailbox, { data, ...(d.flags ? { flags: d.flags } : {}), ...(d.keywords ? { keywords: d.keywords } : {}), ...(d.internalDate ? { internalDate: d.internalDate } : {}) });
      return added.uid;
    },
    async done() {
      for (const c of clients) c.close();
      await imap.close(1000);
      for (const a of open.values()) await a.close();
      await sd.remove();
    },
  };
  return f;
}
