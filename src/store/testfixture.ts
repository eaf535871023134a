// Test fixture for the store's tests: a store in a fresh temporary data directory with
// one account, and spool files to deliver from. Closing the account runs the
// consistency checker (test/setup.ts sets MAILCOVE_VERIFY_ON_CLOSE=1).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { openStore } from './store.ts';
import type { Account, Store } from './types.ts';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { isStoreError, type StoreErrorCode } from './errors.ts';

export interface Fixture {
  dataDir: string;
  store: Store;
  account: Account;
  /** Writes a spool file with these bytes and returns its path. */
  spool(data: string | Buffer): Promise<string>;
  /** Closes the account (verifying it) and the store, and removes the data directory. */
  done(): Promise<void>;
}

let spools = 0;

export async function fixture(options: { quota?: number } = {}): Promise<Fixture> {
  const dataDir = await mkdtemp(`${tmpdir()}/mailcove-store-`);
  const store = await openStore(dataDir);
  await store.createAccount('mjl', options);
  const account = await store.openAccount('mjl');
  return {
    dataDir,
    store,
    account,
    spool: async (data) => {
      const path = `${dataDir}/spool-${spools++}`;
      await writeFile(path, data);
      return path;
    },
    done: async () => {
      try {
        await account.close();
        await store.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export function message(subject: string, body = 'hello'): Buffer {
  return Buffer.from(`Subject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\n${body}\r\n`);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await once(stream, 'end');
  return Buffer.concat(chunks);
}

/** An assert.rejects validator: a StoreError with this code. */
export function failsWith(code: StoreErrorCode): (e: unknown) => boolean {
  return (e) => isStoreError(e, code);
}
