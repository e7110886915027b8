import { Injectable } from '@nestjs/common';

/**
 * The source of the current time. Inject it instead of calling `new Date()` so that tests can
 * move time forward (see test/support/test-clock.ts) without sleeping.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  /** Epoch milliseconds: `Date.now()`, without a Date, unless a subclass moves `now()` (test clocks do). */
  nowMs(): number {
    return this.isSystem ? Date.now() : this.now().getTime();
  }

  /**
   * The host's own clock, not one a test moves. Where instances must agree on a time (leases), the
   * database's clock is used instead of the system clock; a test clock stands in for both.
   */
  get isSystem(): boolean {
    return this.now === Clock.prototype.now;
  }
}
