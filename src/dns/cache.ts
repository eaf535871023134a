// The stub resolver's answer cache: keyed by (name, type), entries expire by TTL, and the
// least recently used entry is evicted when full. Holds positive answers and, for
// NXDOMAIN/NODATA, negative ones (RFC 2308).
export interface CacheEntry<V> {
  value: V;
  expiresAt: number; // ms since epoch
}

export class TtlCache<V> {
  readonly #max: number;
  readonly #map = new Map<string, CacheEntry<V>>(); // Map keeps insertion order: oldest first = LRU
  readonly #now: () => number;

  constructor(max: number, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  get size(): number { return this.#map.size; }

  /** The live entry for key, refreshed as most recently used; undefined when missing or expired. */
  get(key: string): CacheEntry<V> | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    this.#map.delete(key);
    if (e.expiresAt <= this.#now()) return undefined;
    this.#map.set(key, e);
    return e;
  }

  set(key: string, value: V, ttlSeconds: number): void {
    if (this.#max <= 0 || ttlSeconds <= 0) return; // TTL 0: use once, never cache (RFC 1035 §3.2.1)
    this.#map.delete(key);
    this.#map.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }

  clear(): void { this.#map.clear(); }
}
