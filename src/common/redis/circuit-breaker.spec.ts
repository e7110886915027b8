import { CircuitBreaker } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    let now = 0;
    const breaker = new CircuitBreaker(() => now, 3, 1_000);
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.allows()).toBe(true);
    expect(breaker.isOpen).toBe(false);
    now += 1;
    expect(breaker.allows()).toBe(true);
  });

  it('opens after the threshold, skips calls while open, then lets one trial through', () => {
    let now = 0;
    const breaker = new CircuitBreaker(() => now, 3, 1_000);
    for (let i = 0; i < 3; i += 1) breaker.failure();
    expect(breaker.isOpen).toBe(true);
    expect(breaker.allows()).toBe(false);
    now = 999;
    expect(breaker.allows()).toBe(false);
    now = 1_000;
    expect(breaker.allows()).toBe(true);
    // While the trial runs, the others still skip.
    expect(breaker.allows()).toBe(false);
    breaker.success();
    expect(breaker.allows()).toBe(true);
    expect(breaker.isOpen).toBe(false);
  });

  it('a failed trial opens it again for the whole period', () => {
    let now = 0;
    const breaker = new CircuitBreaker(() => now, 2, 500);
    breaker.failure();
    breaker.failure();
    now = 500;
    expect(breaker.allows()).toBe(true);
    breaker.failure();
    now = 999;
    expect(breaker.allows()).toBe(false);
    now = 1_000;
    expect(breaker.allows()).toBe(true);
  });
});
