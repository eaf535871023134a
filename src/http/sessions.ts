// Server-side web sessions: a random 128-bit id in a path-scoped cookie (HttpOnly,
// SameSite=Strict, Secure over HTTPS) and a separate CSRF token the frontend sends as a
// header. Sessions end after idle time or a maximum age, are extended on use, and live in
// auth.db for accounts (surviving restarts) or in memory (admin).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthStore, WebSession } from '../store/index.ts';

/** Where sessions are kept; ids arrive here only as hashes. */
export interface SessionBackend {
  add(s: WebSession): Promise<void>;
  get(idHash: string): Promise<WebSession | undefined>;
  touch(idHash: string, lastUsed: number): Promise<void>;
  remove(idHash: string): Promise<void>;
  removeOthers(account: string, keepIdHash?: string): Promise<number>;
  prune(idleBefore: number, createdBefore: number): Promise<number>;
}

/** Sessions of one surface in auth.db. removeOthers spans surfaces: a password change ends webmail sessions too. */
export function storeSessionBackend(auth: AuthStore, surface: string): SessionBackend {
  return {
    add: (s) => auth.addWebSession({ ...s, surface }),
    get: async (h) => {
      const s = await auth.getWebSession(h);
      return s?.surface === surface ? s : undefined;
    },
    touch: (h, t) => auth.touchWebSession(h, t),
    remove: (h) => auth.removeWebSession(h),
    removeOthers: (a, keep) => auth.removeOtherWebSessions(a, keep),
    prune: (idle, created) => auth.pruneWebSessions(idle, created),
  };
}

/** Sessions in memory, for the admin page: a restart asks the admin to log in again, which is acceptable for one person. */
export function memorySessionBackend(): SessionBackend {
  const m = new Map<string, WebSession>();
  const removeWhere = (f: (s: WebSession) => boolean) => {
    let n = 0;
    for (const [h, s] of m) if (f(s) && m.delete(h)) n++;
    return n;
  };
  return {
    add: async (s) => void m.set(s.idHash, { ...s }),
    get: async (h) => m.get(h),
    touch: async (h, t) => {
      const s = m.get(h);
      if (s) s.lastUsed = t;
    },
    remove: async (h) => void m.delete(h),
    removeOthers: async (a, keep) => removeWhere((s) => s.account === a && s.idHash !== keep),
    prune: async (idle, created) => removeWhere((s) => s.lastUsed < idle || s.created < created),
  };
}

/** A live session as the API layer sees it. */
export interface Session {
  id: string; // the cookie value; never stored
  account: string; // account name, or 'admin'
  csrfToken: string;
}

export const defaultIdleMs = 24 * 3600_000;
export const defaultMaxMs = 30 * 24 * 3600_000;
const touchIntervalMs = 60_000; // extend at most once a minute: no database write per request
const pruneIntervalMs = 3600_000;

const hashId = (id: string) => createHash('sha256').update(id).digest('base64url');
const randomToken = () => randomBytes(16).toString('base64url'); // 128 bits

export class Sessions {
  readonly cookieName: string;
  readonly #backend: SessionBackend;
  readonly #idleMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;
  #lastPrune = 0;

  constructor(o: { cookieName: string; backend: SessionBackend; idleMs?: number; maxMs?: number; now?: () => number }) {
    this.cookieName = o.cookieName;
    this.#backend = o.backend;
    this.#idleMs = o.idleMs ?? defaultIdleMs;
    this.#maxMs = o.maxMs ?? defaultMaxMs;
    this.#now = o.now ?? Date.now;
  }

  async create(account: string): Promise<Session> {
    const now = this.#now();
    if (now - this.#lastPrune > pruneIntervalMs) {
      this.#lastPrune = now;
      await this.#backend.prune(now - this.#idleMs, now - this.#maxMs);
    }
    const s: Session = { id: randomToken(), account, csrfToken: randomToken() };
    await this.#backend.add({ idHash: hashId(s.id), surface: '', account, csrfToken: s.csrfToken, created: now, lastUsed: now });
    return s;
  }

  /** The live session with this id, extended; undefined when unknown, idle too long or too old (then removed). */
  async lookup(id: string): Promise<Session | undefined> {
    const h = hashId(id);
    const s = await this.#backend.get(h);
    if (!s) return undefined;
    const now = this.#now();
    if (now - s.lastUsed > this.#idleMs || now - s.created > this.#maxMs) {
      await this.#backend.remove(h);
      return undefined;
    }
    if (now - s.lastUsed > touchIntervalMs) await this.#backend.touch(h, now);
    return { id, account: s.account, csrfToken: s.csrfToken };
  }

  async end(id: string): Promise<void> {
    await this.#backend.remove(hashId(id));
  }

  /** Ends all the account's sessions except keepSessionId (the one changing the password); returns how many ended. */
  async invalidateOtherSessions(account: string, keepSessionId?: string): Promise<number> {
    return this.#backend.removeOthers(account, keepSessionId === undefined ? undefined : hashId(keepSessionId));
  }

  /** The session id from a Cookie header (RFC 6265 §5.4), if it has this surface's cookie. */
  idFromCookie(header: string | undefined): string | undefined {
    for (const pair of (header ?? '').split(';')) {
      const i = pair.indexOf('=');
      if (i > 0 && pair.slice(0, i).trim() === this.cookieName) {
        const v = pair.slice(i + 1).trim();
        if (/^[A-Za-z0-9_-]{22}$/.test(v)) return v;
      }
    }
    return undefined;
  }

  /** Set-Cookie value for a new session (RFC 6265 §4.1; SameSite per RFC 6265bis). */
  setCookie(s: Session, path: string, secure: boolean): string {
    return `${this.cookieName}=${s.id}; Path=${path}; Max-Age=${Math.floor(this.#maxMs / 1000)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }

  /** Set-Cookie value that removes the cookie (RFC 6265 §3.1: expiry in the past). */
  clearCookie(path: string, secure: boolean): string {
    return `${this.cookieName}=; Path=${path}; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(s: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(s.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
