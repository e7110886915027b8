import { dropOldestWhenFull } from '../../common/cache/drop-oldest.js';

export interface LimitDecision {
  allowed: boolean;
  /** Whole seconds until the window resets, when refused. */
  retryAfterSeconds: number;
}

/**
 * Counts events per key in fixed windows of `perSeconds`, in memory. Bounded: when more than
 * `maxKeys` keys are tracked, windows that have ended are dropped, then the oldest keys (an eighth of
 * `maxKeys` at a time, see dropOldestWhenFull).
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one event for `key` and says whether it is within `limit` events per `perSeconds`. */
  hit(key: string, limit: number, perSeconds: number): LimitDecision {
    const now = this.now();
    const windowMs = perSeconds * 1000;
    let window = this.windows.get(key);
    if (!window || now >= window.start + windowMs) {
      window = { start: now, count: 0 };
      if (!this.windows.has(key)) this.makeRoom(now, windowMs);
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= limit) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)) };
  }

  forget(key: string): void {
    this.windows.delete(key);
  }

  private makeRoom(now: number, windowMs: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, window] of this.windows) {
      if (now >= window.start + windowMs) this.windows.delete(key);
    }
    dropOldestWhenFull(this.windows, this.maxKeys);
  }
}
