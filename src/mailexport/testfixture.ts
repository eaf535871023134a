// Test fixture for export and import: stores in temporary folders with one account,
// export to a file, and a comparable dump of an account's mail. Closing an account runs
// the store's consistency checker (test/setup.ts sets MAILCOVE_VERIFY_ON_CLOSE=1).
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { openStore, type Account, type Store } from '../store/index.ts';
import { exportMail, type ExportOptions, type ExportResult } from './index.ts';

export interface Fixture {
  dir: string; // temporary folder for archives and stores
  /** A new store with account "mjl". */
  account(): Promise<Account>;
  /** Exports into dir/name and returns the path. */
  exportFile(account: Account, o: ExportOptions, name: string): Promise<{ path: string; result: ExportResult }>;
  done(): Promise<void>;
}

export async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(`${tmpdir()}/mailcove-mailexport-`);
  const opened: Array<{ store: Store; account: Account }> = [];
  return {
    dir,
    async account() {
      const store = await openStore(await mkdtemp(`${dir}/store-`));
      await store.createAccount('mjl');
      const account = await store.openAccount('mjl');
      opened.push({ store, account });
      return account;
    },
    async exportFile(account, o, name) {
      const path = `${dir}/${name}`;
      const result = await exportMail(account, o, createWriteStream(path));
      return { path, result };
    },
    async done() {
      try {
        for (const { store, account } of opened) {
          await account.close();
          await store.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface DumpedMessage {
  data: string; // the bytes, as latin1 so that any octet compares exactly
  flags: string[];
  keywords: string[];
  internalDate: number; // ms
}

/** Every mailbox with its messages in UID order: what a round trip must keep. */
export async function dump(account: Account): Promise<Record<string, DumpedMessage[]>> {
  const out: Record<string, DumpedMessage[]> = {};
  for (const mb of (await account.listMailboxes()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const list: DumpedMessage[] = [];
    for (const m of await account.messageMeta(mb.name)) {
      const chunks: Buffer[] = [];
      for await (const c of (await account.openMessage(m.messageId)) as AsyncIterable<Buffer>) chunks.push(c);
      list.push({ data: Buffer.concat(chunks).toString('latin1'), flags: [...m.flags].sort(), keywords: [...m.keywords].sort(), internalDate: m.internalDate.getTime() });
    }
    out[mb.name] = list;
  }
  return out;
}

/** A test's skip option for the system tools it runs (tar, gzip, zip, unzip, python3): false when installed, else why it is skipped; in CI (CI=true) a missing tool is an error. */
export function needs(...commands: string[]): false | string {
  const missing = commands.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length === 0) return false;
  if (process.env['CI'] === 'true') throw new Error(`${missing.join(', ')} not installed (Debian packages; scripts/install-test-peers.sh)`);
  return `${missing.join(', ')} not installed`;
}
