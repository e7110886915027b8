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
    return this.now === Clock.prototype.now ? Date.now() : this.now().getTime();
  }
}
