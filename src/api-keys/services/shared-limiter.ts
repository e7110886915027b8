import type { SharedWindowCounter } from '../../common/redis/redis-window-counter.js';
import type { FixedWindowLimiter, LimitDecision } from './fixed-window-limiter.js';

/** While the shared counter cannot be reached: count on this replica alone (open) or refuse (closed). */
export type LimitFallback = 'open' | 'closed';

/**
 * A fixed-window limit counted by every replica together when a shared counter (Redis) is
 * configured, otherwise by this process alone. The window starts at its first event, as in
 * FixedWindowLimiter. When the shared counter fails (unreachable, slower than its timeout, breaker
 * open), `fallback` decides: `open` counts on this replica alone (N replicas then allow up to N
 * times the limit), `closed` refuses the event.
 */
export class SharedLimiter {
  constructor(
    private readonly name: string,
    private readonly local: FixedWindowLimiter,
    private readonly shared: SharedWindowCounter | null,
    private readonly fallback: LimitFallback,
    private readonly onFallback: () => void = () => undefined,
  ) {}

  async hit(key: string, limit: number, perSeconds: number): Promise<LimitDecision> {
    if (!this.shared?.enabled) return this.local.hit(key, limit, perSeconds);
    const counted = await this.shared.increment(`keysmith:limit:${this.name}:${perSeconds}:${key}`, perSeconds * 1000);
    if (counted) {
      if (counted.count <= limit) return { allowed: true, retryAfterSeconds: 0 };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(counted.resetInMs / 1000)) };
    }
    this.onFallback();
    if (this.fallback === 'open') return this.local.hit(key, limit, perSeconds);
    return { allowed: false, retryAfterSeconds: 1 };
  }
}
