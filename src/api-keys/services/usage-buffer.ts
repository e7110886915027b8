export interface KeyUsage {
  /** Epoch milliseconds. */
  lastUsedAt: number;
  uses: number;
}

/**
 * Uses of keys aggregated in memory between flushes: one entry per key, whatever the traffic, so
 * that verification never writes to the database.
 *
 * Recording allocates nothing per key: the counts and the last-use times are kept in two Maps of
 * small integers (times as milliseconds since the batch's first use), not as an object per key.
 * A gateway cycling 100,000 keys adds a key on nearly every verification, and objects kept until
 * the next flush outlive the young generation, which the garbage collector then copies and
 * promotes; the objects of the batch are made once, when it is drained.
 */
export class UsageBuffer {
  private uses = new Map<string, number>();
  /** Last use per key, in milliseconds since `base`. */
  private last = new Map<string, number>();
  /** The batch's first use (epoch milliseconds). */
  private base = 0;

  record(keyId: string, atMs: number): void {
    const uses = this.uses.get(keyId);
    if (uses === undefined) {
      if (this.uses.size === 0) this.base = atMs;
      this.uses.set(keyId, 1);
      this.last.set(keyId, atMs - this.base);
      return;
    }
    this.uses.set(keyId, uses + 1);
    const at = atMs - this.base;
    if (at > (this.last.get(keyId) ?? at)) this.last.set(keyId, at);
  }

  get size(): number {
    return this.uses.size;
  }

  /** Hands over everything recorded so far and starts a new batch. */
  drain(): Map<string, KeyUsage> {
    const batch = new Map<string, KeyUsage>();
    for (const [keyId, uses] of this.uses) batch.set(keyId, { uses, lastUsedAt: this.base + (this.last.get(keyId) ?? 0) });
    this.uses = new Map();
    this.last = new Map();
    return batch;
  }

  /** Puts a batch back after a failed write, merged with what arrived since. */
  restore(batch: Map<string, KeyUsage>): void {
    for (const [keyId, usage] of batch) {
      const uses = this.uses.get(keyId);
      if (uses === undefined) {
        if (this.uses.size === 0) this.base = usage.lastUsedAt;
        this.uses.set(keyId, usage.uses);
        this.last.set(keyId, usage.lastUsedAt - this.base);
        continue;
      }
      this.uses.set(keyId, uses + usage.uses);
      const at = usage.lastUsedAt - this.base;
      if (at > (this.last.get(keyId) ?? at)) this.last.set(keyId, at);
    }
  }
}
