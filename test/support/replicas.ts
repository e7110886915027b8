import { authHeaders } from './auth.js';
import { httpRequest, type TestResponse } from './http.js';
import type { KeysmithInstance } from './instances.js';
import { poll } from './poll.js';
import { parsePrometheusText } from './prometheus-text.js';

/** Keysmith's API on one child-process instance, called with a bearer token. */
export class ReplicaApi {
  constructor(
    readonly instance: KeysmithInstance,
    private readonly token: string,
  ) {}

  get name(): string {
    return this.instance.name;
  }

  request(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    return httpRequest(this.instance.url, { method, url, payload, headers: { ...authHeaders(this.token), ...headers } });
  }

  async verify(key: string): Promise<{ valid: boolean; code?: string }> {
    const res = await this.request('POST', '/v1/api-keys/verify', { key });
    if (res.statusCode !== 200) throw new Error(`verify on ${this.name} answered ${res.statusCode}: ${res.body}`);
    return res.json();
  }

  /** The sum of a metric's samples (0 when it has none yet). */
  async metric(name: string): Promise<number> {
    const res = await httpRequest(this.instance.url, { method: 'GET', url: '/metrics' });
    return (parsePrometheusText(res.body).get(name)?.samples ?? []).reduce((sum, sample) => sum + sample.value, 0);
  }

  /** How many changes published elsewhere this instance has delivered to its caches, by what woke it. */
  async feedDeliveries(): Promise<Record<string, number>> {
    const res = await httpRequest(this.instance.url, { method: 'GET', url: '/metrics' });
    const counts: Record<string, number> = {};
    for (const sample of parsePrometheusText(res.body).get('keysmith_change_feed_delay_seconds')?.samples ?? []) {
      if (sample.name === 'keysmith_change_feed_delay_seconds_count') counts[sample.labels.signal] = sample.value;
    }
    return counts;
  }
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/**
 * Runs `change` (on some replica), then waits until `replica`'s feed has delivered at least one more
 * change than before and checks the key there once, right after: what the feed delivered is what
 * the replica answers. Returns that answer and the measured time from the change's response to the
 * delivery, as seen by the test (a figure for the log, not an assertion).
 */
export async function afterDelivery(
  replicas: ReplicaApi[],
  change: () => Promise<void>,
  check: (replica: ReplicaApi) => Promise<{ valid: boolean; code?: string }>,
): Promise<{ replica: string; answer: { valid: boolean; code?: string }; ms: number; signals: Record<string, number> }[]> {
  const before = await Promise.all(replicas.map((replica) => replica.feedDeliveries()));
  await change();
  const changedAt = performance.now();
  return Promise.all(
    replicas.map(async (replica, i) => {
      const after = await poll(() => replica.feedDeliveries(), (counts) => total(counts) > total(before[i]), 10_000);
      const ms = performance.now() - changedAt;
      const signals = Object.fromEntries(Object.entries(after).map(([signal, n]) => [signal, n - (before[i][signal] ?? 0)]));
      return { replica: replica.name, answer: await check(replica), ms, signals };
    }),
  );
}
