import type { UsageCounted } from './key-index.js';

export interface KeyUsage {
  /** Epoch milliseconds. */
  lastUsedAt: number;
  uses: number;
}

/**
 * Uses of keys aggregated in memory between flushes, so that verification never writes to the
 * database.
 *
 * A use is counted on the key's record itself (`UsageCounted`: its count, and its last use in
 * milliseconds since the batch's first use, both small integers), and a record is listed once per
 * batch, at its first use: counting looks nothing up and allocates nothing. A gateway cycling
 * 100,000 keys adds a key to the batch on nearly every verification; a Map of them cost about
 * 1.5 µs a verification in a profile of such a run, and an object per key, kept until the next
 * flush, outlives the young generation. The batch's Map is made once, when it is drained. Two
 * records of one key (the index's and a query's) are merged there.
 */
export class UsageBuffer {
  private pending: UsageCounted[] = [];
  /** The batch's first use (epoch milliseconds). */
  private base = 0;
  /** Uses put back after a failed write, merged into the next batch. */
  private restored = new Map<string, KeyUsage>();

  record(key: UsageCounted, atMs: number): void {
    if (!key.uses) {
      if (this.pending.length === 0) this.base = atMs;
      key.uses = 1;
      key.lastUse = atMs - this.base;
      this.pending.push(key);
      return;
    }
    key.uses += 1;
    const at = atMs - this.base;
    if (at > (key.lastUse ?? at)) key.lastUse = at;
  }

  /** Keys with uses to write (a key counted on two records counts twice). */
  get size(): number {
    return this.pending.length + this.restored.size;
  }

  /** Hands over everything recorded so far and starts a new batch. */
  drain(): Map<string, KeyUsage> {
    const batch = this.restored;
    this.restored = new Map();
    for (const key of this.pending) {
      merge(batch, key.id, key.uses ?? 0, this.base + (key.lastUse ?? 0));
      key.uses = 0;
    }
    this.pending = [];
    return batch;
  }

  /** Puts a batch back after a failed write, merged with what arrives since. */
  restore(batch: Map<string, KeyUsage>): void {
    for (const [keyId, usage] of batch) merge(this.restored, keyId, usage.uses, usage.lastUsedAt);
  }
}

function merge(batch: Map<string, KeyUsage>, keyId: string, uses: number, lastUsedAt: number): void {
  const current = batch.get(keyId);
  if (!current) batch.set(keyId, { uses, lastUsedAt });
  else {
    current.uses += uses;
    if (lastUsedAt > current.lastUsedAt) current.lastUsedAt = lastUsedAt;
  }
}
