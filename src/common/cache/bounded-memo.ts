/**
 * Remembers `compute(key)` for keys asked often, on paths where computing costs more than a Map
 * lookup (a verification's parse of a token's scope claim, the ISO string of a key's expiry).
 * Bounded: when `maxEntries` are held it empties and starts again, which keeps it a plain Map with
 * no bookkeeping per hit. `compute` must be pure, and what it returns must not be changed by callers.
 */
export class BoundedMemo<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    private readonly maxEntries: number,
    private readonly compute: (key: K) => V,
  ) {}

  get(key: K): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      value = this.compute(key);
      this.entries.set(key, value);
    }
    return value;
  }
}
