// The embedded store: accounts under <dataDir>/accounts/<name>/ (index.db + msg/), and
// the global auth database <dataDir>/auth.db. Accounts are opened once and shared by
// reference count; the last close runs the consistency checker in tests.
import { mkdir, readdir, rename, rm, access } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { logger } from '../log/index.ts';
import { SqliteAccount } from './account.ts';
import { Checkpointer } from './checkpointer.ts';
import { StoreError } from './errors.ts';
import { GroupCommit, fsyncDir, openCommitted } from './groupcommit.ts';
import { checkAccountName } from './names.ts';
import type { Account, AuthStore, QueueStore, Store, TlsPublicKey, WebSession, LoginAttempt } from './types.ts';
import { SqliteQueue } from './queue.ts';
import { TlsPublicKeys } from './tlspubkeys.ts';
import { WebSessions } from './websessions.ts';
import { LoginAttempts } from './loginattempts.ts';
import { verifyAccountDir } from './verify.ts';

const log = logger('store');

interface OpenAccount {
  account: Promise<SqliteAccount>;
  refs: number;
}

class SqliteAuth implements AuthStore {
  readonly #db: DatabaseSync;
  readonly #commit: GroupCommit;
  readonly #tlsPublicKeys: TlsPublicKeys;
  readonly #webSessions: WebSessions;
  readonly #loginAttempts: LoginAttempts;

  constructor(db: DatabaseSync, commit: GroupCommit) {
    this.#db = db;
    this.#commit = commit;
    this.#tlsPublicKeys = new TlsPublicKeys(db, commit);
    this.#webSessions = new WebSessions(db, commit);
    this.#loginAttempts = new LoginAttempts(db, commit);
  }

  async setCredentials(account: string, credentials: object): Promise<void> {
    const data = JSON.stringify(credentials);
    await this.#commit.write(() => void this.#db.prepare('INSERT INTO credentials (account, data) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET data = excluded.data').run(account, data));
  }

  async getCredentials(account: string): Promise<unknown> {
    const row = this.#db.prepare('SELECT data FROM credentials WHERE account = ?').get(account) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as unknown) : null;
  }

  async removeCredentials(account: string): Promise<void> {
    await this.#commit.write(() => void this.#db.prepare('DELETE FROM credentials WHERE account = ?').run(account));
  }

  async removeLogins(account: string): Promise<void> {
    await this.#commit.write(() => {
      for (const table of ['credentials', 'tls_public_keys', 'web_sessions']) this.#db.prepare(`DELETE FROM ${table} WHERE account = ?`).run(account);
    });
  }

  addTlsPublicKey(k: TlsPublicKey): Promise<void> { return this.#tlsPublicKeys.add(k); }
  getTlsPublicKey(fingerprint: string): Promise<TlsPublicKey | undefined> { return this.#tlsPublicKeys.get(fingerprint); }
  listTlsPublicKeys(account?: string): Promise<TlsPublicKey[]> { return this.#tlsPublicKeys.list(account); }
  removeTlsPublicKey(fingerprint: string): Promise<void> { return this.#tlsPublicKeys.remove(fingerprint); }
  addWebSession(s: WebSession): Promise<void> { return this.#webSessions.create(s); }
  getWebSession(idHash: string): Promise<WebSession | undefined> { return this.#webSessions.get(idHash); }
  touchWebSession(idHash: string, lastUsed: number): Promise<void> { return this.#webSessions.touch(idHash, lastUsed); }
  removeWebSession(idHash: string): Promise<void> { return this.#webSessions.remove(idHash); }
  removeOtherWebSessions(account: string, keepIdHash?: string): Promise<number> { return this.#webSessions.removeOthers(account, keepIdHash); }
  pruneWebSessions(idleBefore: number, createdBefore: number): Promise<number> { return this.#webSessions.prune(idleBefore, createdBefore); }
  addLoginAttempt(a: Omit<LoginAttempt, 'id'>): Promise<void> { return this.#loginAttempts.add(a); }
  listLoginAttempts(o: { account?: string; limit: number; before?: number }): Promise<LoginAttempt[]> { return this.#loginAttempts.list(o); }
  pruneLoginAttempts(before: number, maxRows: number): Promise<number> { return this.#loginAttempts.prune(before, maxRows); }
}

class SqliteStore implements Store {
  readonly auth: AuthStore;
  readonly queue: QueueStore;
  readonly #queue: SqliteQueue;
  readonly #accountsDir: string;
  readonly #authDb: DatabaseSync;
  readonly #authCommit: GroupCommit;
  readonly #checkpointer: Checkpointer;
  readonly #open = new Map<string, OpenAccount>();
  #closed = false;

  constructor(dataDir: string, authDb: DatabaseSync, authCommit: GroupCommit, checkpointer: Checkpointer, queue: SqliteQueue) {
    this.queue = this.#queue = queue;
    this.#accountsDir = `${dataDir}/accounts`;
    this.#authDb = authDb;
    this.#authCommit = authCommit;
    this.#checkpointer = checkpointer;
    this.auth = new SqliteAuth(authDb, authCommit);
  }

  async listAccounts(): Promise<string[]> {
    return (await readdir(this.#accountsDir)).filter((n) => !n.startsWith('.')).sort(); // dot names: half-created or half-removed accounts
  }

  /** Built in a temporary directory and renamed into place, so an account exists whole or not at all. */
  async createAccount(name: string, options: { quota?: number } = {}): Promise<void> {
    checkAccountName(name);
    this.#check();
    const dir = this.#dir(name);
    if (await exists(dir)) throw new StoreError('ALREADYEXISTS', `account ${name} exists`);
    const tmp = `${this.#accountsDir}/.new-${name}-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp);
    try {
      const a = await SqliteAccount.open(name, tmp, this.#checkpointer, async () => {});
      try {
        await a.initialize(options.quota ?? null);
      } finally {
        await a.shutdown();
      }
      await fsyncDir(tmp);
      if (await exists(dir)) throw new StoreError('ALREADYEXISTS', `account ${name} exists`);
      await rename(tmp, dir);
      await fsyncDir(this.#accountsDir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  async removeAccount(name: string): Promise<void> {
    checkAccountName(name);
    this.#check();
    if (this.#open.has(name)) throw new StoreError('INUSE', `account ${name} is open`);
    const dir = this.#dir(name);
    if (!(await exists(dir))) throw new StoreError('NONEXISTENT', `no account ${name}`);
    const doomed = `${this.#accountsDir}/.removed-${name}-${randomBytes(4).toString('hex')}`;
    await rename(dir, doomed); // the name is free (and durable so) before the slow recursive removal
    await fsyncDir(this.#accountsDir);
    await this.auth.removeOtherWebSessions(name); // a removed account's web sessions end with it
    await rm(doomed, { recursive: true, force: true });
  }

  async openAccount(name: string): Promise<Account> {
    checkAccountName(name);
    this.#check();
    let entry = this.#open.get(name);
    if (!entry) {
      const dir = this.#dir(name);
      const account = exists(`${dir}/index.db`).then((ok) => {
        if (!ok) throw new StoreError('NONEXISTENT', `no account ${name}`);
        return SqliteAccount.open(name, dir, this.#checkpointer, (a) => this.#release(a));
      });
      entry = { account, refs: 0 };
      this.#open.set(name, entry);
      account.catch(() => this.#open.delete(name));
    }
    entry.refs++;
    return entry.account;
  }

  async #release(a: SqliteAccount): Promise<void> {
    const entry = this.#open.get(a.name);
    if (!entry || (await entry.account) !== a) return; // already closed
    if (--entry.refs > 0) return;
    this.#open.delete(a.name);
    await closeAndVerify(a);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const open = [...this.#open.values()];
    this.#open.clear();
    const results = await Promise.allSettled(open.map(async (e) => closeAndVerify(await e.account)));
    await this.#queue.close();
    await this.#authCommit.close();
    await this.#checkpointer.release(this.#authDb.location() ?? '');
    this.#authDb.close();
    await this.#checkpointer.close();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #dir(name: string): string {
    return `${this.#accountsDir}/${name}`;
  }

  #check(): void {
    if (this.#closed) throw new StoreError('CLOSED', 'store is closed');
  }
}

/** Closes an account; in tests (MAILCOVE_VERIFY_ON_CLOSE=1) then checks its consistency. */
async function closeAndVerify(a: SqliteAccount): Promise<void> {
  await a.shutdown();
  if (process.env['MAILCOVE_VERIFY_ON_CLOSE'] !== '1') return;
  const report = await verifyAccountDir(a.dir, a.name);
  if (report.problems.length > 0) throw new StoreError('CORRUPT', `account ${a.name} is inconsistent:\n${report.problems.join('\n')}`);
}

/** Opens (creating if needed) the store in a data directory. */
export async function openStore(dataDir: string): Promise<Store> {
  const accountsDir = `${dataDir}/accounts`;
  await mkdir(accountsDir, { recursive: true });
  for (const n of await readdir(accountsDir)) {
    if (n.startsWith('.new-') || n.startsWith('.removed-')) {
      log.info({ dir: n }, 'removing an account directory left by an interrupted create or remove');
      await rm(`${accountsDir}/${n}`, { recursive: true, force: true });
    }
  }
  const checkpointer = new Checkpointer();
  const authPath = `${dataDir}/auth.db`;
  let authDb: DatabaseSync;
  let authCommit: GroupCommit;
  try {
    ({ db: authDb, commit: authCommit } = await openCommitted(authPath, 'auth', checkpointer));
  } catch (e) {
    await checkpointer.close();
    throw e;
  }
  let queue: SqliteQueue;
  try {
    queue = await SqliteQueue.open(dataDir, checkpointer);
  } catch (e) {
    await authCommit.close();
    authDb.close();
    await checkpointer.close();
    throw e;
  }
  return new SqliteStore(dataDir, authDb, authCommit, checkpointer, queue);
}

function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
