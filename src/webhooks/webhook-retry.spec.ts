import { afterAttempt, isDelivered } from './webhook-retry.js';

const policy = { maxAttempts: 4, retryBaseMs: 500 };
const T = 1_000_000;

describe('webhook retry state machine (afterAttempt)', () => {
  it.each([200, 202, 204, 299])('a %i answer delivers', (status) => {
    expect(afterAttempt(1, { status, error: null }, policy, T)).toEqual({ kind: 'delivered' });
  });

  it.each([
    [199, null],
    [301, null],
    [404, null],
    [500, null],
    [null, 'TimeoutError'],
    [null, 'TypeError'],
  ])('status %s (error %s) does not deliver', (status, error) => {
    expect(isDelivered({ status, error })).toBe(false);
    expect(afterAttempt(1, { status, error }, policy, T).kind).toBe('retry');
  });

  it('schedules attempt n + 1 at the finish time plus retryBaseMs * 2^(n-1)', () => {
    const failed = { status: 500, error: null };
    expect(afterAttempt(1, failed, policy, T)).toEqual({ kind: 'retry', attempt: 2, at: T + 500 });
    expect(afterAttempt(2, failed, policy, T)).toEqual({ kind: 'retry', attempt: 3, at: T + 1_000 });
    expect(afterAttempt(3, failed, policy, T)).toEqual({ kind: 'retry', attempt: 4, at: T + 2_000 });
  });

  it('gives up once maxAttempts attempts failed, and delivers on the last one', () => {
    expect(afterAttempt(4, { status: 503, error: null }, policy, T)).toEqual({ kind: 'given-up' });
    expect(afterAttempt(4, { status: 204, error: null }, policy, T)).toEqual({ kind: 'delivered' });
    expect(afterAttempt(1, { status: 500, error: null }, { ...policy, maxAttempts: 1 }, T)).toEqual({ kind: 'given-up' });
  });
});
