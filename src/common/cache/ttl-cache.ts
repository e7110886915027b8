import { dropOldestWhenFull } from './drop-oldest.js';

/**
 * A bounded map with a time-to-live; when full, the oldest eighth of its entries goes (Map
 * iteration order is insertion order; see dropOldestWhenFull). Hits do not re-insert: with entries
 * living at most a few seconds, recency adds little, and a delete + set on every hit makes V8's Map
 * rehash often (it halved verification throughput with a full cache). Time comes from the caller so tests can move it. A `ttlMs` or
 * `maxEntries` of 0 disables caching.
 *
 * `getOrLoad` reads a missing key once however many callers ask for it at the same time: when an
 * entry of a busy key expires, fifty concurrent requests made fifty identical queries.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  /** The reads under way, by key; `delete`, `set`, `deleteWhere` and `clear` drop them, so what they answer is not kept. */
  private readonly loading = new Map<K, Promise<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * The value held for `key`; else `load()`'s, one read shared by every caller until it settles,
   * and kept unless the key was dropped or set while it ran (its answer may predate that change).
   * A failed read is kept by no one: each of its callers gets the error, and the next caller reads again.
   * With caching disabled every caller reads for itself.
   */
  getOrLoad(key: K, load: () => Promise<V>): V | Promise<V> {
    const held = this.get(key);
    if (held !== undefined) return held;
    if (!this.enabled) return load();
    const running = this.loading.get(key);
    if (running !== undefined) return running;
    const read = load().then(
      (value) => {
        if (this.loading.get(key) === read) {
          this.loading.delete(key);
          this.set(key, value);
        }
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) === read) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, read);
    return read;
  }

  set(key: K, value: V): void {
    this.loading.delete(key);
    if (!this.enabled) return;
    this.entries.delete(key);
    dropOldestWhenFull(this.entries, this.maxEntries);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  delete(key: K): void {
    this.loading.delete(key);
    this.entries.delete(key);
  }

  /** Removes every entry whose value matches; O(n), used on rare events (account changes). */
  deleteWhere(predicate: (value: V) => boolean): number {
    // A read under way has no value to judge yet: none of them is kept.
    this.loading.clear();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (predicate(entry.value)) {
        this.entries.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  clear(): void {
    this.loading.clear();
    this.entries.clear();
  }

  private get enabled(): boolean {
    return this.maxEntries > 0 && this.ttlMs > 0;
  }
}
