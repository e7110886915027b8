/** What one attempt came to: the receiver's status, or the name of the error that stopped it. */
export interface AttemptResult {
  status: number | null;
  error: string | null;
}

export interface RetryPolicy {
  maxAttempts: number;
  retryBaseMs: number;
}

/** After an attempt: delivered, another attempt at `at` (epoch ms), or given up. */
export type NextStep = { kind: 'delivered' } | { kind: 'retry'; attempt: number; at: number } | { kind: 'given-up' };

/** A 2xx answer delivers; anything else (another status, a timeout, a refused connection) does not. */
export function isDelivered(result: AttemptResult): boolean {
  return result.status !== null && result.status >= 200 && result.status < 300;
}

/**
 * The retry state machine of one delivery. Attempt n (from 1) that failed is followed by attempt
 * n + 1 at `sentAt + retryBaseMs * 2^(n-1)`, until `maxAttempts` attempts were made. The delay runs
 * from when the failed attempt finished, on the injected clock.
 */
export function afterAttempt(attempt: number, result: AttemptResult, policy: RetryPolicy, finishedAtMs: number): NextStep {
  if (isDelivered(result)) return { kind: 'delivered' };
  if (attempt >= policy.maxAttempts) return { kind: 'given-up' };
  return { kind: 'retry', attempt: attempt + 1, at: finishedAtMs + policy.retryBaseMs * 2 ** (attempt - 1) };
}
