import type { Counter } from 'prom-client';

/** The count of one label set of a Tally (see `Tally.cell`). */
export class TallyCell<L extends string> {
  count = 0;

  constructor(readonly labels: Readonly<Partial<Record<L, string>>>) {}

  inc(): void {
    this.count += 1;
  }
}

/**
 * A counter for the per-request paths (verification, forward-auth, token exchange): `inc` adds
 * to a plain number kept per label set, and the sums reach the Prometheus counter when it is
 * scraped (its `collect`). prom-client's own `inc` hashes the labels on every call, a visible
 * share of a verification's CPU time. Label values must come from a small fixed set (codes,
 * outcomes), as for any counter.
 */
export class Tally<L extends string> {
  private readonly pending = new Map<string, TallyCell<L>>();

  constructor(private readonly labelNames: readonly L[]) {}

  inc(labels: Partial<Record<L, string>>): void {
    this.cell(labels).inc();
  }

  /**
   * The cell of one label set, to keep: its `inc` is one addition, where `inc(labels)` first
   * finds the cell by its labels (for the label sets a request path counts every time).
   */
  cell(labels: Partial<Record<L, string>>): TallyCell<L> {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name] ?? ''}\u0000`;
    let cell = this.pending.get(key);
    if (!cell) {
      cell = new TallyCell<L>({ ...labels });
      this.pending.set(key, cell);
    }
    return cell;
  }

  /** Adds what was counted since the last call to `counter` (its `collect` calls this). */
  flushTo(counter: Counter<L>): void {
    for (const cell of this.pending.values()) {
      if (cell.count === 0) continue;
      counter.inc(cell.labels, cell.count);
      cell.count = 0;
    }
  }
}
