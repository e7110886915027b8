import { keepAnEighthFree } from '../../common/cache/drop-oldest.js';

export interface LimitDecision {
  allowed: boolean;
  /** Whole seconds until the window resets, when refused. */
  retryAfterSeconds: number;
}

/**
 * Counts events per key in fixed windows of `perSeconds`, in memory. Bounded: when more than
 * `maxKeys` keys are tracked, windows that have ended are dropped, then the oldest keys, until an
 * eighth of `maxKeys` is free.
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
    // The sweep reads every key. When it frees less than an eighth of `maxKeys`, the oldest keys
    // make up the rest, so the next sweep waits for that many new keys: windows ending one by one
    // as new keys come (one new client address a second, say) would otherwise sweep on every one.
    keepAnEighthFree(this.windows, this.maxKeys);
  }
}
