import { keepAnEighthFree } from '../../common/cache/drop-oldest.js';

export interface LimitDecision {
  allowed: boolean;
  /** Whole seconds until the window resets, when refused. */
  retryAfterSeconds: number;
}

/**
 * Counts events per key in fixed windows of `perSeconds`, in memory. Bounded: when more than
 * `maxKeys` keys are tracked, windows that have ended are dropped, then the windows nearest their
 * end, until an eighth of `maxKeys` is free.
 *
 * The map is kept in the order windows started (a key whose new window starts moves to the end), so
 * what goes first is what would end first: a key in constant use is never the one whose live window
 * is dropped. Each window keeps its own end, so a sweep started by a key with a short window does
 * not take the live windows of keys with longer ones.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { endsAt: number; count: number }>();

  constructor(
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one event for `key` and says whether it is within `limit` events per `perSeconds`. */
  hit(key: string, limit: number, perSeconds: number): LimitDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now >= window.endsAt) {
      if (window) this.windows.delete(key);
      else this.makeRoom(now);
      window = { endsAt: now + perSeconds * 1000, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= limit) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)) };
  }

  forget(key: string): void {
    this.windows.delete(key);
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, window] of this.windows) {
      if (now >= window.endsAt) this.windows.delete(key);
    }
    // The sweep reads every key. When it frees less than an eighth of `maxKeys`, the windows that
    // started first make up the rest, so the next sweep waits for that many new keys: windows ending
    // one by one as new keys come (one new client address a second, say) would otherwise sweep on every one.
    keepAnEighthFree(this.windows, this.maxKeys);
  }
}
