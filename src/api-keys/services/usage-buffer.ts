export interface KeyUsage {
  /** Epoch milliseconds. */
  lastUsedAt: number;
  uses: number;
}

/**
 * Uses of keys aggregated in memory between flushes: one entry per key, whatever the traffic, so
 * that verification never writes to the database. Times are epoch milliseconds: a verification
 * allocates no Date for it.
 */
export class UsageBuffer {
  private pending = new Map<string, KeyUsage>();

  record(keyId: string, atMs: number): void {
    const usage = this.pending.get(keyId);
    if (!usage) this.pending.set(keyId, { lastUsedAt: atMs, uses: 1 });
    else {
      usage.uses += 1;
      if (atMs > usage.lastUsedAt) usage.lastUsedAt = atMs;
    }
  }

  get size(): number {
    return this.pending.size;
  }

  /** Hands over everything recorded so far and starts a new batch. */
  drain(): Map<string, KeyUsage> {
    const batch = this.pending;
    this.pending = new Map();
    return batch;
  }

  /** Puts a batch back after a failed write, merged with what arrived since. */
  restore(batch: Map<string, KeyUsage>): void {
    for (const [keyId, usage] of batch) {
      const current = this.pending.get(keyId);
      if (!current) this.pending.set(keyId, usage);
      else {
        current.uses += usage.uses;
        if (usage.lastUsedAt > current.lastUsedAt) current.lastUsedAt = usage.lastUsedAt;
      }
    }
  }
}
