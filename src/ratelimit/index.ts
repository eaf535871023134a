// Rate and concurrency limits per IP class, as mox does them: an IPv4 address counts in
// its /32, /26 and /21, an IPv6 address in its /64, /48 and /32, each class with its own
// limit, so one host, a small network and a provider are limited separately.
// Fixed windows (current and previous bucket, weighted: an approximate sliding window);
// memory is bounded by pruning on window roll-over and a cap on keys per window.
import { isIP } from 'node:net';

export interface WindowLimit {
  windowMs: number;
  limits: readonly [number, number, number]; // per class, smallest class first
}

const maxKeys = 100_000; // per window; beyond it the oldest keys are dropped

/**
 * The three class keys of an IP: masked prefixes. IPv4-mapped IPv6 (::ffff:a.b.c.d, in any
 * spelling) counts as IPv4. A string that is no IP address is its own key in every class.
 */
export function ipClassKeys(ip: string): [string, string, string] {
  const addr = ip.replace(/%.*$/, ''); // RFC 4007 §11 zone index: not part of the address
  if (isIP(addr) === 4) return ipv4Keys(ipv4Number(addr));
  if (isIP(addr) !== 6) return [`?/${ip}`, `?/${ip}`, `?/${ip}`];
  const w = ipv6Words(addr);
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return ipv4Keys(((w[6]! << 16) | w[7]!) >>> 0); // RFC 4291 §2.5.5.2
  const prefix = (groups: number) => `6/${groups * 16}/${w.slice(0, groups).map((x) => x.toString(16)).join(':')}`;
  return [prefix(4), prefix(3), prefix(2)];
}

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
}

function ipv4Keys(n: number): [string, string, string] {
  const mask = (bits: number) => `4/${bits}/${(n & (~0 << (32 - bits))) >>> 0}`;
  return [mask(32), mask(26), mask(21)];
}

/** The eight 16-bit words of a valid IPv6 address, with "::" and a trailing dotted quad expanded (RFC 4291 §2.2). */
function ipv6Words(ip: string): number[] {
  let s = ip;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const n = ipv4Number(quad[1]!);
    s = `${s.slice(0, quad.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => parseInt(x || '0', 16));
}

class Window {
  readonly windowMs: number;
  readonly limits: readonly [number, number, number];
  #start = 0; // start of the current bucket
  #current = new Map<string, number>();
  #previous = new Map<string, number>();

  constructor(w: WindowLimit) {
    this.windowMs = w.windowMs;
    this.limits = w.limits;
  }

  #roll(now: number): void {
    if (now - this.#start < this.windowMs) return;
    const steps = Math.floor((now - this.#start) / this.windowMs);
    this.#previous = steps === 1 ? this.#current : new Map();
    this.#current = new Map();
    this.#start += steps * this.windowMs; // stays aligned to multiples of windowMs
  }

  /** Weighted count: all of the current bucket and the part of the previous one still inside the sliding window. */
  count(key: string, now: number): number {
    this.#roll(now);
    const weight = 1 - (now - this.#start) / this.windowMs;
    return (this.#current.get(key) ?? 0) + (this.#previous.get(key) ?? 0) * weight;
  }

  add(key: string, n: number, now: number): void {
    this.#roll(now);
    if (!this.#current.has(key) && this.#current.size >= maxKeys) {
      const oldest = this.#current.keys().next().value;
      if (oldest !== undefined) this.#current.delete(oldest);
    }
    this.#current.set(key, (this.#current.get(key) ?? 0) + n);
  }

  reset(key: string, now: number): void {
    this.#roll(now);
    this.#current.delete(key);
    this.#previous.delete(key);
  }
}

export class RateLimiter {
  readonly #windows: Window[];

  constructor(windows: readonly WindowLimit[]) {
    this.#windows = windows.map((w) => new Window(w));
  }

  /** Whether adding n (for ip, at time now) stays within every window and class; adds nothing. */
  canAdd(ip: string, n = 1, now = Date.now()): boolean {
    const keys = ipClassKeys(ip);
    return this.#windows.every((w) => keys.every((k, i) => w.count(k, now) + n <= w.limits[i]!));
  }

  /** Adds n if allowed; false (nothing added) if a limit would be exceeded. */
  add(ip: string, n = 1, now = Date.now()): boolean {
    if (!this.canAdd(ip, n, now)) return false;
    const keys = ipClassKeys(ip);
    for (const w of this.#windows) for (const k of keys) w.add(k, n, now);
    return true;
  }

  /** Forgets an IP's counts in its smallest class (/32 or /64), e.g. after a successful login. */
  reset(ip: string, now = Date.now()): void {
    const [own] = ipClassKeys(ip);
    for (const w of this.#windows) w.reset(own, now);
  }
}

/** Concurrent uses (connections) per IP class. */
export class ConcurrencyLimiter {
  readonly #limits: readonly [number, number, number];
  readonly #counts = new Map<string, number>();

  constructor(limits: readonly [number, number, number]) {
    this.#limits = limits;
  }

  /** Takes a slot for ip; false when any class is full. */
  acquire(ip: string): boolean {
    const keys = ipClassKeys(ip);
    if (keys.some((k, i) => (this.#counts.get(k) ?? 0) >= this.#limits[i]!)) return false;
    for (const k of keys) this.#counts.set(k, (this.#counts.get(k) ?? 0) + 1);
    return true;
  }

  release(ip: string): void {
    for (const k of ipClassKeys(ip)) {
      const n = (this.#counts.get(k) ?? 0) - 1;
      if (n <= 0) this.#counts.delete(k);
      else this.#counts.set(k, n);
    }
  }

  /** Slots held in ip's own class. */
  count(ip: string): number {
    return this.#counts.get(ipClassKeys(ip)[0]) ?? 0;
  }
}
