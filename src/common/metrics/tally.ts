import type { Counter } from 'prom-client';

/**
 * A counter for the per-request paths (verification, forward-auth, token exchange): `inc` adds
 * to a plain number kept per label set, and the sums reach the Prometheus counter when it is
 * scraped (its `collect`). prom-client's own `inc` hashes the labels on every call, a visible
 * share of a verification's CPU time. Label values must come from a small fixed set (codes,
 * outcomes), as for any counter.
 */
export class Tally<L extends string> {
  private readonly pending = new Map<string, { labels: Partial<Record<L, string>>; count: number }>();

  constructor(private readonly labelNames: readonly L[]) {}

  inc(labels: Partial<Record<L, string>>): void {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name] ?? ''}\u0000`;
    const entry = this.pending.get(key);
    if (entry) entry.count += 1;
    else this.pending.set(key, { labels: { ...labels }, count: 1 });
  }

  /** Adds what was counted since the last call to `counter` (its `collect` calls this). */
  flushTo(counter: Counter<L>): void {
    for (const entry of this.pending.values()) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}
