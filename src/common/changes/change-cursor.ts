/**
 * Where an instance stands in the change feed. Every number up to `from` is settled: delivered,
 * or a gap given up on. Rows above it are read again on each read until the gaps below them are
 * filled (a transaction that took a number and has not committed yet, on PostgreSQL) or are
 * older than `gapWaitMs` (a rolled-back transaction); each row is handed out once.
 */
export class ChangeCursor {
  private settled: number;
  private readonly delivered = new Set<number>();
  private readonly gapSeenAt = new Map<number, number>();

  constructor(
    start: number,
    private readonly gapWaitMs: number,
  ) {
    this.settled = start;
  }

  /** Read the rows with `seq > from`. */
  get from(): number {
    return this.settled;
  }

  /** Numbers read but held above a gap (diagnostics and tests). */
  get pending(): number {
    return this.delivered.size;
  }

  /** Takes the numbers just read (any order); returns those not handed out before, in order. */
  accept(seqs: number[], now: number): number[] {
    const fresh = [...new Set(seqs)].filter((seq) => seq > this.settled && !this.delivered.has(seq)).sort((a, b) => a - b);
    for (const seq of fresh) this.delivered.add(seq);
    this.advance(now);
    return fresh;
  }

  private advance(now: number): void {
    let top = this.settled;
    for (const seq of this.delivered) top = Math.max(top, seq);
    while (this.settled < top) {
      const next = this.settled + 1;
      if (!this.delivered.has(next)) {
        const seenAt = this.gapSeenAt.get(next) ?? now;
        this.gapSeenAt.set(next, seenAt);
        if (now - seenAt < this.gapWaitMs) break;
      }
      this.settled = next;
      this.delivered.delete(next);
      this.gapSeenAt.delete(next);
    }
  }
}
