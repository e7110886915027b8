import { dropOldestWhenFull } from './drop-oldest.js';

/**
 * A bounded map with a time-to-live; when full, the oldest eighth of its entries goes (Map
 * iteration order is insertion order; see dropOldestWhenFull). Hits do not re-insert: with entries
 * living at most a few seconds, recency adds little, and a delete + set on every hit makes V8's Map
 * rehash often (it halved verification throughput with a full cache). Time comes from the caller so tests can move it. A `ttlMs` or
 * `maxEntries` of 0 disables caching.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

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

  set(key: K, value: V): void {
    if (this.maxEntries <= 0 || this.ttlMs <= 0) return;
    this.entries.delete(key);
    dropOldestWhenFull(this.entries, this.maxEntries);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Removes every entry whose value matches; O(n), used on rare events (account changes). */
  deleteWhere(predicate: (value: V) => boolean): number {
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
    this.entries.clear();
  }
}
