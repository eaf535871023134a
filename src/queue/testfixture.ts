// A running queue with its control socket, for the control socket's and the queue CLI's
// tests: a localserve directory (config in DIR/config, data in DIR/data, so that
// `--dir DIR` finds it), the store, a Queue that delivers only into the localserve account,
// and the socket at <dataDir>/ctl. Test-only.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainToASCII } from 'node:url';
import { localserveConfig, type Config } from '../config/index.ts';
import { MemoryResolver } from '../dns/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { AccountCache } from '../smtpserver/index.ts';
import { Queue } from './queue.ts';
import { controlSocketPath, startControl, type RunningControl } from './control.ts';

export const localAccount = 'mailcove';
const day = 24 * 3600_000;

export interface ControlFixture {
  dir: string; // the localserve directory
  config: Config;
  store: Store;
  queue: Queue;
  path: string; // the control socket
  control: RunningControl;
  /** Queues a held message (next attempt in a day unless given); returns its recipient (queue entry) ids. */
  add(o: { from: string; to: string[]; account?: string; data?: string | Buffer; nextAttempt?: Date; held?: boolean }): Promise<number[]>;
  done(): Promise<void>;
}

let spools = 0;

export async function controlFixture(): Promise<ControlFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-ctl-'));
  const config = await localserveConfig({ dir, ip: '127.0.0.1', basePort: 1000 }); // nothing listens: only the files
  const store = await openStore(config.paths.dataDir);
  await store.createAccount(localAccount);
  const accounts = new AccountCache(store, 0);
  const queue = Queue.start({ store, static: config.static, configDir: join(dir, 'config'), domains: () => config.domains, resolver: new MemoryResolver(), accounts, localserve: { account: localAccount, timeoutMs: 200 } });
  const path = controlSocketPath(config.paths.dataDir);
  const control = await startControl({ path, queue });
  return {
    dir, config, store, queue, path, control,
    async add(o) {
      const spool = join(dir, `spool-${spools++}`);
      await writeFile(spool, o.data ?? `From: <${o.from}>\r\nTo: <${o.to[0]}>\r\nSubject: queued\r\n\r\nHello\r\n`);
      const m = await store.queue.add({
        account: o.account ?? localAccount, mailFrom: o.from, smtputf8: false, body: '8BITMIME', requireTLS: null,
        recipients: o.to.map((address) => ({ address, domain: domainToASCII(address.slice(address.lastIndexOf('@') + 1)) })), // the queue keeps A-labels
        spoolPath: spool, nextAttempt: o.nextAttempt ?? new Date(Date.now() + day), extra: {}, held: o.held ?? true,
      });
      await rm(spool);
      return m.recipients.map((r) => r.id);
    },
    async done() {
      try {
        await control.close();
        await queue.stop();
        await accounts.close();
        await store.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
