import type { Clock } from '../../../common/time/clock.js';

export type Sleep = (ms: number) => Promise<void>;

/** Real waiting, cut short when `signal` aborts (shutdown); tests pass a sleep that moves their clock instead. */
export function realSleep(signal: AbortSignal): Sleep {
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}

/**
 * Spaces requests at least `1 / ratePerSecond` apart, and spreads `count` of them over
 * `spreadMs` when that gives wider spacing. Time comes from the injected clock.
 */
export class Pacer {
  private nextAt: number | null = null;
  readonly spacingMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly sleep: Sleep,
    ratePerSecond: number,
    count: number,
    spreadMs: number,
  ) {
    this.spacingMs = Math.max(1000 / ratePerSecond, count > 0 ? spreadMs / count : 0);
  }

  /** Resolves when the next request may go. */
  async turn(): Promise<void> {
    const now = this.clock.nowMs();
    if (this.nextAt !== null && this.nextAt > now) await this.sleep(this.nextAt - now);
    this.nextAt = Math.max(this.nextAt ?? now, now) + this.spacingMs;
  }
}
