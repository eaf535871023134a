// Open accounts shared by the sessions: an account is opened on first delivery and kept
// open while mail keeps coming (closing and reopening per message would cost a database
// open, a checkpoint and a close each time). Idle accounts are closed after a while.
import type { Account, Store } from '../store/index.ts';

export class AccountCache {
  readonly #store: Store;
  readonly #idleMs: number;
  readonly #open = new Map<string, { account: Promise<Account>; timer: NodeJS.Timeout | undefined; users: number }>();

  constructor(store: Store, idleMs = 60_000) {
    this.#store = store;
    this.#idleMs = idleMs;
  }

  /** Runs fn with the account open; it stays open for idleMs after its last use. */
  async with<T>(name: string, fn: (a: Account) => Promise<T>): Promise<T> {
    let e = this.#open.get(name);
    if (!e) {
      e = { account: this.#store.openAccount(name), timer: undefined, users: 0 };
      this.#open.set(name, e);
      e.account.catch(() => this.#open.delete(name));
    }
    const entry = e;
    entry.users++;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    try {
      return await fn(await entry.account);
    } finally {
      if (--entry.users === 0) {
        entry.timer = setTimeout(() => void this.#close(name), this.#idleMs);
        entry.timer.unref();
      }
    }
  }

  async #close(name: string): Promise<void> {
    const e = this.#open.get(name);
    if (!e || e.users > 0) return;
    this.#open.delete(name);
    await (await e.account).close();
  }

  /** Closes every account (server shutdown). */
  async close(): Promise<void> {
    const entries = [...this.#open.values()];
    this.#open.clear();
    for (const e of entries) if (e.timer) clearTimeout(e.timer);
    await Promise.allSettled(entries.map(async (e) => (await e.account).close()));
  }
}
