import { Clock } from '../../src/common/time/clock.js';

/** A clock the tests move forward instead of sleeping. Starts at the real time. */
export class TestClock extends Clock {
  private offsetMs = 0;

  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  advanceDays(days: number): void {
    this.advance(days * 24 * 60 * 60 * 1000);
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
